"""``mamcrawler policy check|test|schema`` (placeholder until written)."""

from __future__ import annotations

import click


@click.group()
def policy() -> None:
    """Validate, test and describe policy files."""
