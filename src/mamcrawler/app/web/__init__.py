"""The local HTTP API, the status board it serves and the dashboard page."""
