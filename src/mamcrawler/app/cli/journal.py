"""``mamcrawler journal open|settle``: a person's view of, and word on, open journal entries.

``open`` lists the entries still open (``intent`` left by a crash, ``sent_unconfirmed``
purchases whose answer proved nothing). ``settle ID applied|not_applied`` closes one —
when the person has checked the tracker's bonus history themselves — committing the
memory the outcome implies (counters, bought release, lifted doubt) in the same
transaction. Nothing is sent to any service. Imports click, ``store``, ``actuators``
and ``app.runtime.settings``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from mamcrawler.actuators.reconcile import settle_by_person
from mamcrawler.app.runtime.settings import load_settings
from mamcrawler.errors import MamcrawlerError
from mamcrawler.store import ActionJournal, Database, StateStore

_env_file = click.option(
    "--env-file", type=click.Path(dir_okay=False, path_type=Path), default=Path(".env"), show_default=True
)


@click.group()
def journal() -> None:
    """Inspect and settle open action-journal entries."""


def _stores(env_file: Path) -> tuple[Database, ActionJournal, StateStore]:
    db = Database(load_settings(env_file).database_url)
    return db, ActionJournal(db), StateStore(db)


@journal.command("open")
@_env_file
def open_entries(env_file: Path) -> None:
    """List the entries still open."""
    try:
        db, entries, _ = _stores(env_file)
    except MamcrawlerError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    with db:
        rows = entries.unfinished()
    for entry in rows:
        click.echo(f"{entry.id}\t{entry.status}\t{entry.key}\t{entry.action.type}\t{entry.error or ''}")
    if not rows:
        click.echo("no open journal entries")


@journal.command("settle")
@click.argument("entry_id", type=int)
@click.argument("verdict", type=click.Choice(["applied", "not_applied"]))
@_env_file
def settle(entry_id: int, verdict: str, env_file: Path) -> None:
    """Settle open entry ENTRY_ID: the purchase was applied, or it was not (then it may be decided again)."""
    try:
        db, entries, state = _stores(env_file)
        with db:
            entry = settle_by_person(
                entries, state, entry_id, applied=verdict == "applied", clock=lambda: datetime.now(UTC)
            )
    except MamcrawlerError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    click.echo(f"journal entry {entry.id} ({entry.key}) settled: {entry.status}")
