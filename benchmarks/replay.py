"""Benchmarks for recording cycles and replaying them (figures printed, nothing asserted).

1. A simulated week at hourly ticks with 500 torrents (the year benchmark's world): every
   cycle recorded as the daemon records it; bytes stored per cycle and per day, record
   time per cycle, read-back rate, and replay rate (cycles re-decided per second) with the
   reference and the durable-rules evaluator side by side.
2. The 10k-torrent snapshot of ``benchmarks/decide.py`` recorded for a few cycles in which
   one torrent in ten moves: bytes per cycle when most facts are unchanged, and replay rate.

Run: ``.venv/bin/python benchmarks/replay.py`` (``--skip-big`` for the first part only).
Imports ``engine``, ``sim``, ``store`` and the sibling benchmark ``decide``."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decide import NOW, big_snapshot, year_scenario
from sqlalchemy import select

from mamcrawler.engine import Policy, decide, load_policy
from mamcrawler.engine.rules.evaluators import evaluator_named
from mamcrawler.facts import FactSnapshot
from mamcrawler.sim.replay import replay
from mamcrawler.sim.world import World
from mamcrawler.store import Database, Recorder, RecordReader, sizes_by_day
from mamcrawler.store.recorded import CycleEntry


def record(db: Database, policy: Policy, snapshots: list[FactSnapshot]) -> float:
    recorder = Recorder(db, retention_days=3650)
    spent = 0.0
    for snapshot in snapshots:
        batch = decide(policy, snapshot, now=snapshot.taken_at)
        t0 = time.perf_counter()
        recorder.record(policy, snapshot, batch, evaluator="reference")
        spent += time.perf_counter() - t0
    return spent


def report(title: str, db: Database, policy: Policy, cycles: int, record_s: float, db_file: Path) -> None:
    days = sizes_by_day(db, NOW - timedelta(days=3650))
    stored = sum(d.bytes for d in days)
    print(title)
    print(f"  cycles recorded        {cycles:8d}")
    print(f"  bytes per cycle        {stored / cycles:8,.0f} B (manifest + decisions + new blobs, compressed)")
    if len(days) > 1:
        print(f"  bytes per day          {stored / len(days):8,.0f} B at this cadence")
    db.dispose()  # checkpoint the WAL into the file before measuring it
    print(f"  SQLite file            {db_file.stat().st_size / cycles:8,.0f} B per cycle (pages and indexes included)")
    if len(days) == 1 and cycles > 1:
        with db.session() as s:
            sizes = list(s.scalars(select(CycleEntry.new_bytes).order_by(CycleEntry.id)))
        print(f"  first cycle            {sizes[0]:8,} B (every fact new)")
        print(f"  each later cycle       {sum(sizes[1:]) / (cycles - 1):8,.0f} B on average")
    print(f"  record time            {record_s / cycles * 1000:8.1f} ms per cycle")
    t0 = time.perf_counter()
    recorded = list(RecordReader(db).cycles(NOW - timedelta(days=3650)))
    read_s = time.perf_counter() - t0
    print(f"  read back              {len(recorded) / read_s:8.1f} cycles/s (blobs shared between cycles parsed once)")
    for name in ("reference", "durable"):
        t0 = time.perf_counter()
        result = replay(recorded, policy, evaluator=evaluator_named(name))
        wall = time.perf_counter() - t0
        same = "no difference" if not result.changes and not result.id_mismatches else f"{len(result.changes)} DIFFER"
        print(f"  replay ({name:9})    {result.cycles / wall:8.2f} cycles/s re-decided ({wall:.2f} s; {same})")


def bench_week(policy: Policy) -> None:
    scenario = year_scenario()
    world = World(scenario)
    snapshots = []
    for i in range(24 * 7):
        now = scenario.start + i * scenario.tick
        world.advance(now)
        snapshots.append(world.snapshot(now))
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "store.sqlite"
        with Database(f"sqlite:///{db_file}") as db:
            spent = record(db, policy, snapshots)
            report("a simulated week, hourly cycles, 500 torrents", db, policy, len(snapshots), spent, db_file)


def bench_big(policy: Policy, cycles: int = 4) -> None:
    base = big_snapshot()
    snapshots = []
    torrents = list(base.torrents)
    for i in range(cycles):
        moved = [
            t.model_copy(update={"uploaded_bytes": t.uploaded_bytes + (i + 1) * 1024**2}) if n % 10 == i % 10 else t
            for n, t in enumerate(torrents)
        ]
        snapshots.append(base.model_copy(update={"taken_at": NOW + timedelta(minutes=5 * i), "torrents": tuple(moved)}))
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "store.sqlite"
        with Database(f"sqlite:///{db_file}") as db:
            spent = record(db, policy, snapshots)
            report(
                "10,000 torrents / 5,000 items / 2,000 releases, one torrent in ten moving per cycle",
                db,
                policy,
                cycles,
                spent,
                db_file,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    policy = load_policy("policies")
    bench_week(policy)
    if not args.skip_big:
        bench_big(policy)


if __name__ == "__main__":
    main()
