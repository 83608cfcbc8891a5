"""The ``mamcrawler`` command: one click group; each sub-command lives in its own module.

Every command turns ``MamcrawlerError`` into a clear message and a non-zero exit, never
a traceback. Imports click and the ``app.cli_*`` command modules."""

from __future__ import annotations

import click

from mamcrawler import __version__
from mamcrawler.app.cli.policy import policy
from mamcrawler.app.cli.replay import replay
from mamcrawler.app.cli.run import run
from mamcrawler.app.cli.simulate import explain, simulate


@click.group()
@click.version_option(__version__, prog_name="mamcrawler")
def main() -> None:
    """mamcrawler: facts → YAML policies → audited decisions → actions."""


main.add_command(policy)
main.add_command(simulate)
main.add_command(explain)
main.add_command(run)
main.add_command(replay)
