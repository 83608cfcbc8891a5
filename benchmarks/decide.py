"""Benchmarks for the decision core and the simulator (figures printed, nothing asserted).

1. ``decide()`` on one deterministic snapshot of 10,000 torrents, 5,000 library items and
   2,000 releases (goal ≤ 1 s with each evaluator, ≤ 300 MB peak), the reference and the
   durable-rules evaluator (the daemon's default) side by side: a first cycle under a
   freshly loaded policy (every cache cold) and the next cycle (the same values again, as
   new objects); peak RSS of the process and the peak Python allocation of one first
   cycle (tracemalloc, measured in a separate run).
2. The simulator playing a year at hourly ticks with 500 torrents (goal ≤ 30 s).

Run: ``.venv/bin/python benchmarks/decide.py`` (``--skip-year`` for the first part only).
Imports ``engine``, ``facts`` and ``actuators``."""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from mamcrawler.engine import DecisionBatch, decide, load_policy
from mamcrawler.engine.rules.evaluators import evaluator_named
from mamcrawler.facts import (
    Account,
    FactSnapshot,
    FreeKind,
    LibraryItem,
    Release,
    Torrent,
    TorrentState,
    UserClass,
    Want,
    WantSource,
)
from mamcrawler.sim.run import simulate
from mamcrawler.sim.scenario import AccountSpec, Rates, ReleaseSpec, Scenario, TimelineEntry, TorrentSpec

GIB = 1024**3
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
STATES = (TorrentState.SEEDING,) * 8 + (
    TorrentState.DOWNLOADING,
    TorrentState.STALLED_UPLOAD,
    TorrentState.PAUSED_UPLOAD,
)


def rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def big_snapshot(torrents: int = 10_000, library: int = 5_000, releases: int = 2_000) -> FactSnapshot:
    rng = random.Random(2026)
    items = tuple(
        LibraryItem(
            id=f"abs-{i}",
            book_key=f"book {i}|author {i % 700}",
            title=f"Book {i}",
            authors=(f"Author {i % 700}",),
            series=f"Series {i % 400}" if i % 3 else None,
            series_number=float(i % 12 + 1),
            bitrate_kbps=rng.choice((64, 96, 128, 192)),
            abridged=rng.random() < 0.05,
            single_file=rng.random() < 0.8,
            seeders=rng.randint(0, 40),
            torrent_hash=f"{i:040x}",
        )
        for i in range(library)
    )
    tor = tuple(
        Torrent(
            hash=f"{i:040x}",
            name=f"Torrent {i}",
            state=(state := rng.choice(STATES)),
            progress=0.4 if state is TorrentState.DOWNLOADING else 1.0,
            size_bytes=rng.randint(200, 2000) * 1024**2,
            seeding_seconds=rng.randint(0, 3000) * 3600,
            stalled_seconds=3600 if state is TorrentState.STALLED_UPLOAD else 0,
            seeders=rng.randint(0, 50),
            leechers=rng.randint(0, 5),
            points_per_hour=rng.choice((0.0, 1.0, 2.5)),
            uploaded_30d_bytes=rng.choice((0, 10 * 1024**2)),
            added_by_mamcrawler=rng.random() < 0.5,
            free=rng.random() < 0.3,
            book_key=f"book {i}|author {i % 700}" if i < library else f"other {i}|x",
        )
        for i in range(torrents)
    )
    rel = []
    for j in range(releases):
        # a third are editions of owned books, a third by library authors, a third wanted
        if j % 3 == 0:
            key, author = f"book {j}|author {j % 700}", f"Author {j % 700}"
        elif j % 3 == 1:
            key, author = f"new {j}|author {j % 700}", f"Author {j % 700}"
        else:
            key, author = f"wanted {j // 2}|someone {j}", f"Someone {j}"
        rel.append(
            Release(
                id=f"r{j}",
                tracker_id=100_000 + j,
                book_key=key,
                title=key.split("|")[0],
                authors=(author,),
                bitrate_kbps=rng.choice((48, 64, 96, 128, 192)),
                abridged=rng.random() < 0.1,
                single_file=rng.random() < 0.8,
                size_bytes=rng.randint(200, 2000) * 1024**2,
                seeders=rng.randint(0, 60),
                leechers=rng.randint(0, 8),
                free=rng.choice((FreeKind.NONE, FreeKind.NONE, FreeKind.SITE_FREELEECH)),
            )
        )
    wants = tuple(
        Want(book_key=r.book_key, title=r.title, authors=r.authors, source=WantSource.WISHLIST)
        for r in rel
        if r.book_key.startswith("wanted")
    )
    return FactSnapshot(
        taken_at=NOW,
        account=Account(
            user_class=UserClass.VIP,
            ratio=1.8,
            uploaded_bytes=1800 * GIB,
            downloaded_bytes=1000 * GIB,
            bonus_points=70_000,
            wedges=2,
            vip_until=NOW + timedelta(days=40),
            unsatisfied_count=20,
            unsatisfied_limit=150,
        ),
        releases=tuple(rel),
        torrents=tor,
        library=items,
        wants=wants,
    )


def _cycles(name: str, first: FactSnapshot, again: FactSnapshot) -> tuple[float, float, DecisionBatch]:
    """decide() with a freshly loaded policy on ``first`` (the first cycle: every cache
    of the policy cold, durable's rulesets registered) and then on ``again`` (the next
    cycle: the same values re-read as new objects, as a daemon's sensors hand them over)."""
    policy = load_policy("policies")
    evaluator = evaluator_named(name)
    t0 = time.perf_counter()
    batch = decide(policy, first, now=NOW, evaluator=evaluator)
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    decide(policy, again, now=NOW, evaluator=evaluator)
    return first_s, time.perf_counter() - t0, batch


def bench_decide() -> None:
    t0 = time.perf_counter()
    snapshot = big_snapshot()
    built = time.perf_counter() - t0
    again = big_snapshot()
    rss_before = rss_mib()
    ref_first, ref_next, batch = _cycles("reference", snapshot, again)
    rss_after = rss_mib()
    tracemalloc.start()
    decide(load_policy("policies"), snapshot, now=NOW)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dur_first, dur_next, same = _cycles("durable", snapshot, again)
    agree = "same records" if same.records == batch.records else "RECORDS DIFFER"
    print("decide() on 10,000 torrents / 5,000 library items / 2,000 releases (goal ≤ 1 s with each evaluator)")
    print(f"  snapshot built in      {built:8.2f} s (not part of decide)")
    print("                         first cycle   next cycle   (next: same values as new objects)")
    print(f"  reference              {ref_first:8.2f} s   {ref_next:8.2f} s")
    print(
        f"  durable-rules          {dur_first:8.2f} s   {dur_next:8.2f} s   "
        f"({dur_first / ref_first:.1f}× / {dur_next / ref_next:.1f}× reference; {agree})"
    )
    print(f"  peak RSS of process    {rss_after:8.1f} MiB (before decide: {rss_before:.1f} MiB; goal ≤ 300 MB)")
    print(f"  tracemalloc peak       {traced_peak / 1024**2:8.1f} MiB (Python allocations during one first cycle)")
    print(f"  records / actions      {len(batch.records):8d} / {len(batch.actions)}")


def year_scenario(torrents: int = 500) -> Scenario:
    rng = random.Random(7)
    specs = tuple(
        TorrentSpec(
            name=f"Seed {i:03d}",
            book_key=f"seed {i}|x",
            size_gib=round(rng.uniform(0.2, 1.5), 2),
            seed_hours=rng.randint(100, 5000),
            leechers=rng.randint(0, 4),
            seeders=rng.randint(1, 40),
        )
        for i in range(torrents)
    )
    wanted = tuple(
        TimelineEntry(
            at=timedelta(days=d),
            release=ReleaseSpec(
                id=f"y{d}", title=f"Year Book {d}", authors=("Y",), bitrate_kbps=128, free="site_freeleech"
            ),
        )
        for d in range(5, 360, 7)
    )
    wants = tuple(
        Want(book_key=f"year book {d}|y", title=f"Year Book {d}", source=WantSource.WISHLIST) for d in range(5, 360, 7)
    )
    return Scenario(
        name="a year, 500 torrents",
        seed=1,
        start=datetime(2026, 1, 1, tzinfo=UTC),
        duration=timedelta(days=365),
        tick=timedelta(hours=1),
        rates=Rates(points_per_seed_hour=0.05, stall_chance_per_hour=0.0005),
        account=AccountSpec(uploaded_gib=5000, downloaded_gib=2500, bonus_points=30_000, vip_days=60),
        torrents=specs,
        wants=wants,
        timeline=wanted,
    )


def bench_year() -> None:
    policy = load_policy("policies")
    scenario = year_scenario()
    t0 = time.perf_counter()
    result = simulate(scenario, policy, keep_batches=False)
    wall = time.perf_counter() - t0
    s = result.summary
    print("simulator: a year at hourly ticks with 500 torrents")
    print(
        f"  wall time              {wall:8.2f} s   (goal ≤ 30 s; {s.ticks} ticks, {wall / s.ticks * 1000:.2f} ms/tick)"
    )
    print(f"  peak RSS of process    {rss_mib():8.1f} MiB")
    print(
        f"  outcome                ratio {s.final_ratio:.2f}, VIP min {s.min_vip_days:.1f} d, "
        f"{sum(s.downloads.values())} downloads, {len(result.purchases)} purchases"
    )


def machine_speed() -> None:
    """A plain Python loop, timed: this machine's speed has been seen to vary two- to
    three-fold between sessions, so a figure here is only comparable with another one
    taken beside the same calibration (or side by side: ``benchmarks/against.py``)."""
    t0 = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    print(f"machine: a 10-million-step Python loop takes {time.perf_counter() - t0:.2f} s (calibration)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-year", action="store_true")
    args = parser.parse_args()
    machine_speed()
    bench_decide()
    if not args.skip_year:
        bench_year()


if __name__ == "__main__":
    main()
