"""Sensors: adapters → facts, one module per source. A failing or unconfigured source
becomes a FactGap; sensors never write to a service."""
