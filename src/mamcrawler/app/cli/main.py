"""The ``mamcrawler`` command: one click group; each sub-command lives in its own module.

Every command turns ``MamcrawlerError`` into a clear message and a non-zero exit, never
a traceback. Imports click and the ``app.cli_*`` command modules."""

from __future__ import annotations

from typing import Any

import click

from mamcrawler import __version__
from mamcrawler.app.cli.apikey import apikey
from mamcrawler.app.cli.journal import journal
from mamcrawler.app.cli.policy import policy
from mamcrawler.app.cli.replay import replay
from mamcrawler.app.cli.run import run
from mamcrawler.app.cli.simulate import explain, simulate
from mamcrawler.errors import CriticalBlock, MamcrawlerError


class Commands(click.Group):
    """The group; a ``MamcrawlerError`` no command handled is a message and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CriticalBlock as err:
            click.echo(f"critical: {err}", err=True)
            ctx.exit(1)
        except MamcrawlerError as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(1)


@click.group(cls=Commands)
@click.version_option(__version__, prog_name="mamcrawler")
def main() -> None:
    """mamcrawler: facts → YAML policies → audited decisions → actions."""


main.add_command(policy)
main.add_command(simulate)
main.add_command(explain)
main.add_command(run)
main.add_command(replay)
main.add_command(journal)
main.add_command(apikey)
