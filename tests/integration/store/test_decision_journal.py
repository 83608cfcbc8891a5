"""The decision journal in the store, on real SQLite and real PostgreSQL: records are kept
once (an id seen again is skipped), paged newest first with a cursor and filters, the
report counts dry-run and live apart from the day counts, retention removes old records,
and a JSONL export with a truncated line imports everything else."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from postgres import available, fresh_database, postgres_server

from mamcrawler.engine.actions import BuyVip
from mamcrawler.engine.records import DecisionRecord
from mamcrawler.store import Database, sqlite_url
from mamcrawler.store.decisions import DecisionFilter, DecisionStore, iter_jsonl

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
pytestmark = pytest.mark.integration


def record(n: int, *, at: datetime = NOW, outcome: str = "planned", points: int = 0) -> DecisionRecord:
    return DecisionRecord(
        decision_id=f"d{n:06d}",
        policy_hash="p" * 8,
        decided_at=at,
        subject_kind="book",
        subject_id=f"book {n % 3}|author",
        outcome=outcome,  # type: ignore[arg-type]
        reason="vip_at_risk_renewal" if points else "wanted",
        rule_id="vip.renew" if points else "free_first.take",
        actions=(BuyVip(weeks=4, cost_points=points),) if points else (),
    )


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str | None]:
    if not available():
        yield None
        return
    with postgres_server() as server_url:
        yield server_url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, pg_server: str | None) -> Iterator[DecisionStore]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "d.sqlite")
    elif pg_server is None:
        pytest.skip("PostgreSQL binaries are not installed")
    else:
        url = fresh_database(pg_server, f"dj{abs(hash(request.node.name)) % 10**9}")
    db = Database(url)
    yield DecisionStore(db)
    db.dispose()


def test_kept_once_paged_and_filtered(store: DecisionStore) -> None:
    assert store.append([record(n) for n in range(7)], dry_run=False) == 7
    assert store.append([record(n) for n in range(9)], dry_run=False) == 2  # ids seen before are skipped
    first, cursor = store.page(limit=4)
    assert [r.decision_id for _, r in first] == ["d000008", "d000007", "d000006", "d000005"]
    rest, end = store.page(before=cursor, limit=10)
    assert len(rest) == 5 and end is None
    mine, _ = store.page(DecisionFilter(subject="book 1|author"))
    assert {r.subject_id for _, r in mine} == {"book 1|author"} and len(mine) == 3
    assert store.latest_reason(["book 1|author"])["book 1|author"].decision_id == "d000007"


def test_report_counts_dry_run_and_live_apart(store: DecisionStore) -> None:
    store.append([record(1, points=52_500), record(2)], dry_run=False)
    store.append([record(3, points=52_500), record(4), record(5, outcome="guarded")], dry_run=True)
    report = store.report(now=NOW, days=30)
    assert report["live"]["decisions"] == 2 and report["dry_run"]["decisions"] == 3
    assert report["live"]["points_planned_by_purpose"] == {"BuyVip": 52_500}
    assert report["dry_run"]["points_planned_by_purpose"] == {"BuyVip": 52_500}
    assert report["dry_run"]["guards_that_bit"] == {"wanted": 1}
    live, _ = store.page(DecisionFilter(dry_run=False))
    assert {r.decision_id for _, r in live} == {"d000001", "d000002"}


def test_retention_removes_old_records_and_their_counts(store: DecisionStore) -> None:
    store.append([record(1, at=NOW - timedelta(days=400)), record(2, at=NOW - timedelta(days=10))], dry_run=False)
    assert store.prune(now=NOW, keep_days=365) == 1
    assert store.count() == 1
    assert store.report(now=NOW, days=3650)["live"]["decisions"] == 1


def test_a_truncated_jsonl_line_loses_only_itself(store: DecisionStore, tmp_path: Path) -> None:
    export = tmp_path / "decisions.jsonl"
    lines = [record(n).to_json() for n in range(5)]
    export.write_text("\n".join(lines[:4]) + "\n" + lines[4][: len(lines[4]) // 2], encoding="utf-8")
    export.write_text(export.read_text() + "\n\n" + record(9).to_json() + "\n", encoding="utf-8")
    assert sum(1 for r in iter_jsonl(export) if r is not None) == 5
    assert store.import_jsonl(export) == (5, 1)
    assert store.import_jsonl(tmp_path / "missing.jsonl") == (0, 0)
