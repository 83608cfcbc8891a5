"""A wedge-flagged ``.torrent`` fetch whose answer proves nothing (issue 9 × issue 11),
through the real tracker client, ``WedgeDownloads`` and the live executor against the
loopback tracker fake, over several decide → act cycles:

    fault (after the flagged request left)  journal           next cycles               settled from the tracker
    wedge spent, answered 502               sent_unconfirmed  release blocked           personal_freeleech shows:
    wedge spent, connection dropped         sent_unconfirmed  (guard_wedge_in_doubt;    applied; the release, now
                                                              the executor refuses)     free, added once unflagged
    wedge not spent, answered 502           sent_unconfirmed  blocked within the grace  count unchanged after the
                                                                                        grace: rolled_back, redecided
    connection refused (never sent)         failed            may be decided again      -
    process dies after it left (a crash)    intent, wedge     release blocked; start-up as above: applied; the
                                            count noted       leaves it open            release added once, free

The qBittorrent side is a recording double of the executor's ``TorrentClient`` port (the
info-hash is computed by the adapter's real function); the qBittorrent suite covers the
real client."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import torf

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from purchase_child import one_action_batch
from test_wedges_2026 import FAST, PAID
from tracker_fake import TrackerState, tracker_fake

from mamcrawler.actuators.live import LiveExecutor
from mamcrawler.actuators.reconcile import reconcile
from mamcrawler.actuators.wedges import WedgeDownloads
from mamcrawler.adapters.mam import MamClient, Politeness
from mamcrawler.adapters.qbittorrent.client import info_hash_of
from mamcrawler.engine import Policy, decide, load_policy
from mamcrawler.engine.actions import AddTorrent
from mamcrawler.engine.records import DecisionBatch
from mamcrawler.facts import Account, FactSnapshot, Want
from mamcrawler.store import ActionJournal, Database, StateStore
from mamcrawler.store.tracker_account import TrackerAccountMemory

pytestmark = pytest.mark.integration
RELEASE = f"mam-{PAID}"
DOUBT = f"wedge:{RELEASE}"


@dataclass
class RecordingTorrents:
    """The executor's torrent-client port, remembering what was added (by info-hash)."""

    added: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def info_hash(self, data: bytes) -> str:
        return info_hash_of(data)

    def add_torrent(self, data: bytes, *, category: str, tags: Sequence[str], paused: bool = False) -> str:
        self.added.append((info_hash_of(data), tuple(tags)))
        return info_hash_of(data)

    def has_torrent(self, info_hash: str) -> bool:
        return any(h == info_hash for h, _ in self.added)

    def is_paused(self, info_hash: str) -> bool | None:
        return None

    def pause(self, hashes: Sequence[str]) -> None: ...

    def resume(self, hashes: Sequence[str], *, force: bool = False) -> None: ...

    def reannounce(self, hashes: Sequence[str]) -> None: ...

    def set_seeding_allocation(self, *, upload_slots: int, active_seeds: int | None) -> None: ...

    def remove(self, hashes: Sequence[str], *, delete_files: bool = False) -> None: ...


@dataclass
class Rig:
    state: TrackerState
    mam: MamClient
    store: StateStore
    journal: ActionJournal
    torrents: RecordingTorrents
    executor: LiveExecutor
    policy: Policy
    clock: list[datetime]

    def cycle(self) -> DecisionBatch:
        """Settle what is open, sense the tracker, decide, act — one daemon cycle."""
        now = self.clock[0]
        self.executor.settle_open_purchases()
        account = self.mam.account()
        releases = tuple(r for r in self.mam.search([("tor[text]", ""), ("tor[searchType]", "all")]).releases)
        snapshot = FactSnapshot(
            taken_at=now,
            account=account,
            releases=releases,
            wants=tuple(Want(book_key=r.book_key, title=r.title) for r in releases if r.tracker_id == PAID),
            memory=self.store.memory(today=now.date().isoformat()),
        )
        batch = decide(self.policy, snapshot, now=now)
        self.executor.execute(batch, dry_run=False)
        return batch

    def later(self, minutes: float) -> None:
        self.clock[0] += timedelta(minutes=minutes)

    def entry_status(self, key: str) -> str | None:
        entry = self.journal.get(key)
        return None if entry is None else entry.status

    def flagged(self) -> list[list[tuple[str, str]]]:
        """Every download request that carried our flag (whether the site honoured it or not)."""
        return [q.query for q in self.state.log if q.path == "/tor/download.php" and ("fl", "") in q.query]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("policies")


def real_torrent(tmp_path: Path) -> bytes:
    """A valid ``.torrent`` (the executor reads its info-hash)."""
    content = tmp_path / "book.m4b"
    content.write_bytes(b"audio" * 1000)
    torrent = torf.Torrent(path=content, private=True)
    torrent.generate()
    return bytes(torrent.dump())


@pytest.fixture
def rig(tmp_path: Path, policy: Policy) -> Iterator[Rig]:
    state = TrackerState()
    state.torrents = {PAID: real_torrent(tmp_path)}
    state.account["wedges"] = "3"
    with tracker_fake(state) as (url, _):
        db = Database(f"sqlite:///{tmp_path / 'store.sqlite'}")
        store, journal = StateStore(db), ActionJournal(db)
        mam = MamClient(url, "cookie-0", politeness=Politeness(FAST), timeout=1.0)
        clock = [datetime.now(UTC)]
        files = WedgeDownloads(mam, TrackerAccountMemory(store), flag="fl", clock=lambda: clock[0])
        torrents = RecordingTorrents()
        executor = LiveExecutor(journal, store, torrents=torrents, files=files, store=mam, clock=lambda: clock[0])
        yield Rig(state, mam, store, journal, torrents, executor, policy, clock)
        mam.close()
        db.dispose()


def flagged_add(batch: DecisionBatch) -> AddTorrent | None:
    return next((a for a in batch.actions if isinstance(a, AddTorrent) and a.release_id == RELEASE), None)


@pytest.mark.parametrize("fault", ["spend_502", "spend_drop"])
def test_a_wedge_spent_behind_a_failed_answer_is_spent_once_and_the_torrent_added_once_free(
    rig: Rig, fault: str
) -> None:
    rig.state.download_fault = fault
    rig.state.pfl_lag_s = 3600.0  # the search does not show the wedge yet
    first = flagged_add(rig.cycle())
    assert first is not None and first.wedge == "flag"
    assert rig.entry_status(f"add:{RELEASE}:wedge") == "sent_unconfirmed"
    assert rig.state.account["wedges"] == "2" and len(rig.flagged()) == 1
    assert DOUBT in rig.store.memory(today=rig.clock[0].date().isoformat()).purchases_in_doubt
    assert rig.torrents.added == []

    rig.later(2)  # the wedge count dropped but personal_freeleech does not show: stays open
    second = rig.cycle()
    assert flagged_add(second) is None
    blocked = [r for r in second.records if r.blocked_by == "guard_wedge_in_doubt"]
    assert blocked, [(r.subject_id, r.outcome, r.blocked_by) for r in second.records]
    assert len(rig.flagged()) == 1 and rig.entry_status(f"add:{RELEASE}:wedge") == "sent_unconfirmed"
    # The executor refuses a flagged fetch of that release on its own, too.
    (refused,) = rig.executor.execute(one_action_batch(first, rig.clock[0]), dry_run=False)
    assert refused.status == "skipped_purchase_in_doubt" and len(rig.flagged()) == 1

    rig.state.pfl_lag_s = 0.0  # the search catches up
    rig.later(10)
    third = rig.cycle()
    assert rig.entry_status(f"add:{RELEASE}:wedge") == "applied"  # the wedge: spent, never again
    add = flagged_add(third)
    assert add is not None and add.wedge == "none" and add.free  # personal freeleech now
    assert rig.entry_status(f"add:{RELEASE}") == "applied"
    assert [tags for _, tags in rig.torrents.added] == [("mamcrawler", "mamcrawler-free")]  # added once, free
    memory = rig.store.memory(today=rig.clock[0].date().isoformat())
    assert DOUBT not in memory.purchases_in_doubt and memory.downloads_today == 1
    assert RELEASE in memory.bought_release_ids  # the wedge bought its personal freeleech
    assert rig.state.account["wedges"] == "2" and len(rig.flagged()) == 1  # exactly one wedge over all cycles


def test_a_flagged_fetch_that_spent_nothing_is_rolled_back_only_after_the_grace(rig: Rig) -> None:
    rig.state.download_fault = "spend_502"
    rig.state.wedge_flag = "fl=1"  # the site ignores our flag: nothing is spent
    assert flagged_add(rig.cycle()) is not None
    assert rig.entry_status(f"add:{RELEASE}:wedge") == "sent_unconfirmed"
    rig.later(5)  # count unchanged, but personal_freeleech may still be lagging: wait
    assert flagged_add(rig.cycle()) is None
    assert rig.entry_status(f"add:{RELEASE}:wedge") == "sent_unconfirmed"
    rig.later(30)  # past the grace with the count unchanged: not spent, decided afresh
    again = flagged_add(rig.cycle())
    assert again is not None and again.wedge == "flag"
    assert rig.state.account["wedges"] == "3" and len(rig.flagged()) == 2
    assert len(rig.torrents.added) == 1


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RefusedDownloads:
    """The real tracker client for the account, and one whose downloads meet a closed port."""

    def __init__(self, mam: MamClient) -> None:
        self.mam = mam
        self.dead = MamClient(f"http://127.0.0.1:{closed_port()}", "cookie-0", politeness=Politeness(FAST))

    def download_torrent(self, tracker_id: int, *, wedge_flag: str | None = None) -> bytes:
        return self.dead.download_torrent(tracker_id, wedge_flag=wedge_flag)

    def account(self) -> Account:
        return self.mam.account()

    def personal_freeleech(self, tracker_id: int) -> bool | None:
        return self.mam.personal_freeleech(tracker_id)


def test_a_refused_connection_is_a_plain_failure(rig: Rig) -> None:
    refused = RefusedDownloads(rig.mam)
    rig.executor.files = WedgeDownloads(refused, TrackerAccountMemory(rig.store), flag="fl", clock=lambda: rig.clock[0])
    assert flagged_add(rig.cycle()) is not None
    assert rig.entry_status(f"add:{RELEASE}:wedge") == "failed"
    assert DOUBT not in rig.store.memory(today=rig.clock[0].date().isoformat()).purchases_in_doubt
    rig.executor.files = WedgeDownloads(rig.mam, TrackerAccountMemory(rig.store), flag="fl", clock=lambda: rig.clock[0])
    rig.later(1)
    assert flagged_add(rig.cycle()) is not None  # decided again, sent: one wedge
    assert rig.entry_status(f"add:{RELEASE}:wedge") == "applied"
    assert rig.state.account["wedges"] == "2" and len(rig.torrents.added) == 1
    refused.dead.close()


class Crash(BaseException):
    """The process dying mid-action: no handler of the executor catches it."""


def _dies(data: bytes) -> str:
    raise Crash


def test_a_crash_after_the_flagged_request_left_is_settled_from_the_tracker_and_never_resent(rig: Rig) -> None:
    rig.state.pfl_lag_s = 3600.0  # the search does not show the wedge yet
    rig.torrents.info_hash = _dies  # type: ignore[method-assign]  # dies once the .torrent is in hand
    with pytest.raises(Crash):
        rig.cycle()
    del rig.torrents.info_hash  # the restarted process: the port works again
    assert rig.entry_status(f"add:{RELEASE}:wedge") == "intent"  # no outcome, no hash: only the wedge count
    assert rig.state.account["wedges"] == "2" and len(rig.flagged()) == 1

    # Start-up settles without asking the tracker about wedges: the request may have left, so not "never sent".
    settled = reconcile(rig.journal, state=rig.store, torrents=rig.torrents, store=rig.mam, clock=lambda: rig.clock[0])
    assert [(s.status, s.reason) for s in settled] == [("left_open", "wedge_unverifiable")]
    assert DOUBT in rig.store.memory(today=rig.clock[0].date().isoformat()).purchases_in_doubt

    rig.later(2)  # the count dropped, personal_freeleech does not show yet: still open, nothing sent
    assert flagged_add(rig.cycle()) is None
    assert rig.entry_status(f"add:{RELEASE}:wedge") == "intent" and len(rig.flagged()) == 1

    rig.state.pfl_lag_s = 0.0  # the search catches up
    rig.later(10)
    third = rig.cycle()
    assert rig.entry_status(f"add:{RELEASE}:wedge") == "applied"  # spent, never again
    add = flagged_add(third)
    assert add is not None and add.wedge == "none" and add.free
    assert [tags for _, tags in rig.torrents.added] == [("mamcrawler", "mamcrawler-free")]  # added once, free
    assert rig.state.account["wedges"] == "2" and len(rig.flagged()) == 1  # exactly one wedge over all cycles
