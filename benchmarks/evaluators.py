"""Benchmark: the reference evaluator and durable-rules side by side on the same rows and
rules (the default policy's torrent rules over 10,000 torrent rows), as a stratum of
``decide`` sees them first (every flag set) and as the next stratum sees them (the same
rows, new flags: durable reuses the facts' own values it encoded). Prints rows/s for each
and the ratio. Run: .venv/bin/python benchmarks/evaluators.py"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from mamcrawler.engine import ReferenceEvaluator, load_policy
from mamcrawler.engine.rules.durable import DurableEvaluator
from mamcrawler.engine.world.derive import build_world
from mamcrawler.facts import Account, FactSnapshot, PausedBy, Torrent, TorrentState

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def main() -> None:
    rng = random.Random(7)
    policy = load_policy("policies")
    torrents = tuple(
        Torrent(
            hash=f"{i:040x}",
            name=f"t{i}",
            state=rng.choice(list(TorrentState)),
            progress=1.0 if rng.random() < 0.8 else 0.4,
            seeding_seconds=rng.randrange(0, 10**6),
            stalled_seconds=rng.choice([0, 3600]),
            points_per_hour=rng.choice([None, 0.0, 1.0]),
            uploaded_30d_bytes=rng.choice([None, 0, 10]),
            paused_by=rng.choice(list(PausedBy)),
            book_key=f"b{i % 5000}",
        )
        for i in range(10_000)
    )
    account = Account(
        ratio=0.95,
        uploaded_bytes=95,
        downloaded_bytes=100,
        bonus_points=9000,
        vip_until=NOW + timedelta(days=30),
        unsatisfied_count=0,
        unsatisfied_limit=150,
    )
    world = build_world(policy, FactSnapshot(taken_at=NOW, account=account, torrents=torrents), NOW)
    rules = [r for r in policy.rules if r.subject.value == "torrent"]
    flags = [r.flag for r in policy.rules if r.flag]
    first = {**world.shared, **{f"flags.{f}": True for f in flags}}
    later = {**world.shared, **{f"flags.{f}": False for f in flags}}
    strata = {
        "first": [r.with_shared(first) for r in world.torrent_rows],
        "next": [r.with_shared(later) for r in world.torrent_rows],
    }
    evaluators = (ReferenceEvaluator(), DurableEvaluator())
    for stratum, rows in strata.items():
        results = {}
        for evaluator in evaluators:
            if stratum == "first":
                evaluator.match(rules, rows[:100])  # warm up (durable compiles its ruleset once)
            start = time.perf_counter()
            fired = evaluator.match(rules, rows)
            seconds = time.perf_counter() - start
            results[evaluator.name] = (seconds, fired)
            print(
                f"{stratum:>5} {evaluator.name:>9}: {len(rows):,} rows × {len(rules)} rules in {seconds:.3f} s "
                f"= {len(rows) / seconds:,.0f} rows/s, {len(fired)} matches"
            )
        ref, dur = results["reference"], results["durable"]
        assert ref[1] == dur[1], "evaluators disagree"
        print(f"      reference is {dur[0] / ref[0]:.1f}× faster than durable-rules (same {len(ref[1])} matches)")


if __name__ == "__main__":
    main()
