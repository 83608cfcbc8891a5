"""Adapters: one sub-package per outside service; each translates its errors at the edge."""
