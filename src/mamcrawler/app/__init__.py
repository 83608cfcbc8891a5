"""The application layer: settings, CLI, simulator runner, daemon, HTTP API (DESIGN.md)."""
