"""``mamcrawler simulate`` and ``mamcrawler explain`` (placeholder until written)."""

from __future__ import annotations

import click


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
def simulate(scenario: str) -> None:
    """Run the dry-run simulator on SCENARIO."""
    raise click.ClickException("not written yet")


@click.command()
@click.argument("decision_id")
def explain(decision_id: str) -> None:
    """Explain one decision from a journal."""
    raise click.ClickException("not written yet")
