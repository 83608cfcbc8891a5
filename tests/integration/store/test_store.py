"""The store on real SQLite and real PostgreSQL: the journal's write-ahead lifecycle and
idempotency, state and lists surviving a reopen (a restart), aware timestamps."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from postgres import available, fresh_database, postgres_server

from mamcrawler.engine.actions import AddTorrent, BuyPersonalFreeleech
from mamcrawler.errors import JournalError
from mamcrawler.facts import Memory
from mamcrawler.store import VIP_PENDING, ActionJournal, Database, StateStore, sqlite_url
from tool_checks import missing

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
BUY = BuyPersonalFreeleech(release_id="r1", tracker_id=7, method="points", cost_points=50000)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str | None]:
    if not available():
        yield None
        return
    with postgres_server() as server_url:
        yield server_url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path, pg_server: str | None) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "store.sqlite")
    if pg_server is None:
        missing("PostgreSQL (initdb, postgres)")
    return fresh_database(pg_server, f"t{abs(hash(request.node.name)) % 10**9}")


@pytest.fixture
def open_db(url: str) -> Iterator[Callable[[], Database]]:
    opened: list[Database] = []

    def factory() -> Database:
        opened.append(Database(url))
        return opened[-1]

    yield factory
    for db in opened:
        db.dispose()


def test_intent_is_durable_and_a_key_is_never_opened_twice(open_db: Callable[[], Database]) -> None:
    db = open_db()
    journal = ActionJournal(db)
    entry = journal.open(BUY, key="pfl:r1", decision_id="d1", policy_hash="p", dry_run=False, now=NOW)
    assert entry is not None and entry.status == "intent"
    db.dispose()
    # "restart": a new connection sees the open intent and refuses to open the key again
    again = ActionJournal(open_db())
    assert [e.key for e in again.unfinished()] == ["pfl:r1"]
    assert again.open(BUY, key="pfl:r1", decision_id="d2", policy_hash="p", dry_run=False, now=NOW) is None
    again.finish(entry.id, "applied", now=NOW, outcome={"seedbonus": 10000})
    assert again.unfinished() == []
    assert again.open(BUY, key="pfl:r1", decision_id="d3", policy_hash="p", dry_run=False, now=NOW) is None
    assert again.get("pfl:r1").outcome == {"seedbonus": 10000}  # type: ignore[union-attr]


def test_failed_entries_may_be_retried_and_illegal_transitions_raise(open_db: Callable[[], Database]) -> None:
    journal = ActionJournal(open_db())
    entry = journal.open(BUY, key="k", decision_id="d", policy_hash="p", dry_run=False, now=NOW)
    assert entry is not None
    journal.finish(entry.id, "failed", now=NOW, error="Not enough bonus")
    retry = journal.open(BUY, key="k", decision_id="d2", policy_hash="p", dry_run=False, now=NOW)
    assert retry is not None and retry.attempts == 2
    with pytest.raises(JournalError):
        journal.finish(entry.id, "intent", now=NOW)  # type: ignore[arg-type]
    other = AddTorrent(release_id="r2", book_key="b", source="tracker", free=True)
    with pytest.raises(JournalError, match="reused"):
        journal.open(other, key="k", decision_id="d", policy_hash="p", dry_run=False, now=NOW)


def test_dry_run_entries_are_journalled_but_never_open(open_db: Callable[[], Database]) -> None:
    journal = ActionJournal(open_db())
    entry = journal.open(BUY, key="k", decision_id="d", policy_hash="p", dry_run=True, now=NOW)
    assert entry is not None and entry.status == "planned_dry_run"
    assert journal.unfinished() == []


def test_memory_and_lists_survive_a_restart_and_counters_reset_daily(open_db: Callable[[], Database]) -> None:
    state = StateStore(open_db())
    memory = Memory(downloads_frozen=True, frozen_torrent_hashes=("a" * 40,), downloads_today=3)
    state.save_memory(memory, today="2026-11-25", now=NOW)
    assert state.add_to_list(VIP_PENDING, "r1", {"book_key": "b"}, now=NOW)
    assert not state.add_to_list(VIP_PENDING, "r1", {"book_key": "b"}, now=NOW)
    reopened = StateStore(open_db())
    assert reopened.memory(today="2026-11-25") == memory
    tomorrow = reopened.memory(today="2026-11-26")
    assert tomorrow.downloads_today == 0 and tomorrow.downloads_frozen is True
    assert [i["key"] for i in reopened.list_items(VIP_PENDING)] == ["r1"]
    reopened.put("when", (NOW + timedelta(hours=1)).isoformat(), now=NOW)
    assert reopened.get("when") == (NOW + timedelta(hours=1)).isoformat()
