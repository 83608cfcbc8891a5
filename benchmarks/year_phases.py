"""Where the simulator's year goes (figures printed, nothing asserted): the year benchmark
of ``benchmarks/decide.py`` with wall-clock timers wrapped around the phases of a tick —
the world moving on, its snapshot, and inside ``decide()`` the world's rows (torrents,
candidates, library), evaluation, planning and records. Timers nest: a phase's time
includes the phases inside it. The timers add a little time of their own.

Run: ``.venv/bin/python benchmarks/year_phases.py [DAYS]`` (365 by default).
Imports ``engine``, ``sim`` and the sibling benchmark ``decide``."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decide import year_scenario

from mamcrawler.engine import load_policy
from mamcrawler.engine.world import candidates, derive, torrent_rows
from mamcrawler.sim import run
from mamcrawler.sim.executor import SimExecutor
from mamcrawler.sim.world import World

SPENT: dict[str, float] = {}


def timed(owner: Any, name: str, label: str) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            SPENT[label] = SPENT.get(label, 0.0) + time.perf_counter() - t0

    setattr(owner, name, wrapper)


def main() -> None:
    days = int(sys.argv[1]) if len(sys.argv) > 1 else 365
    decide_module = importlib.import_module("mamcrawler.engine.decide")
    phases = (
        (decide_module, "_decide", "decide()"),
        (decide_module, "build_world", "  world's rows"),
        (torrent_rows.TorrentRows, "_build", "    torrent rows"),
        (torrent_rows.TorrentRows, "classes", "    torrent classes"),
        (candidates, "build_candidates", "    candidate rows"),
        (derive, "library_work", "    library rows"),
        (decide_module, "evaluate_layers", "  evaluation"),
        (decide_module, "plan", "  planning"),
        (decide_module, "record_for", "  records"),
        (World, "advance", "world moves on"),
        (World, "snapshot", "world's snapshot"),
        (SimExecutor, "apply", "actions applied"),
    )
    for owner, name, label in phases:
        timed(owner, name, label)
    scenario = year_scenario().model_copy(update={"duration": timedelta(days=days)})
    t0 = time.perf_counter()
    result = run.simulate(scenario, load_policy("policies"), keep_batches=False)
    wall = time.perf_counter() - t0
    print(f"simulator: {days} days at hourly ticks with 500 torrents: {wall:.1f} s ({result.summary.ticks} ticks)")
    for _, _, label in phases:
        seconds = SPENT.get(label, 0.0)
        print(f"  {label:22} {seconds:7.1f} s  {seconds / wall:6.1%}")


if __name__ == "__main__":
    main()
