"""The ``mamcrawler`` console script. It takes SIGTERM/SIGINT before importing anything
heavy, so a stop that arrives while the program is still loading ends it cleanly (exit 0)
instead of killing it half-started; ``run`` then installs its own handler, and every
other command gets the default behaviour back. Imports the standard library."""

from __future__ import annotations

import signal
import sys
import threading

STOP_REQUESTED = threading.Event()


def _early_stop(signum: int, _frame: object) -> None:
    STOP_REQUESTED.set()


def restore_default_signals() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL if sig == signal.SIGTERM else signal.default_int_handler)


def main() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _early_stop)
    from mamcrawler.app.cli.main import main as command  # the heavy imports

    if STOP_REQUESTED.is_set():
        sys.exit(0)
    if len(sys.argv) < 2 or sys.argv[1] != "run":
        restore_default_signals()
    command()
