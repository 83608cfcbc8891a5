"""The §10 monitor cycle end to end against real qbittorrent-nox: a wanted free release is
added through the journal and observed downloading → seeding; a ratio emergency changes
real preferences and pauses only the paid downloads mamcrawler added, recovery resumes
exactly those, the user's paused torrent stays paused and nothing is deleted; a stalled
torrent is resumed and reannounced; with qBittorrent down the cycle records a gap,
takes no torrent action and recovers when the service returns."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from qbit_env import Book, Qbit, qbittorrent

from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.app.cli.run import run_cycle
from mamcrawler.app.runtime.settings import Settings
from mamcrawler.app.runtime.wiring import Services, build_services
from mamcrawler.facts import TorrentState

pytestmark = pytest.mark.integration
POLICIES = Path(__file__).resolve().parents[3] / "policies"


def account(ratio: float) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "user_class": "VIP",
        "ratio": ratio,
        "uploaded_bytes": int(100 * 2**30 * ratio),
        "downloaded_bytes": 100 * 2**30,
        "bonus_points": 20000,
        "vip_until": (now + timedelta(days=40)).isoformat(),
        "unsatisfied_count": 0,
        "unsatisfied_limit": 150,
    }


class World:
    """The hand-fed tracker side (facts file + torrent folder) and the services."""

    def __init__(self, base: Path, qb: Qbit, *, stalled_after_minutes: int | None = None) -> None:
        self.base = base
        self.facts_file = base / "facts.json"
        self.torrents = base / "torrents"
        self.torrents.mkdir(parents=True, exist_ok=True)
        policies = base / "policies"
        shutil.copytree(POLICIES, policies, ignore=shutil.ignore_patterns("tests"))
        if stalled_after_minutes is not None:
            seeding = policies / "seeding.yaml"
            seeding.write_text(
                seeding.read_text().replace(
                    "stalled_after_minutes: 30", f"stalled_after_minutes: {stalled_after_minutes}"
                )
            )
        # no Audiobookshelf here: the facts file says the library is known and empty
        self.facts: dict[str, object] = {"account": account(2.0), "library": []}
        self.write()
        self.settings = Settings.model_validate(
            {
                "QBIT_URL": qb.url,
                "QBIT_USERNAME": qb.username,
                "QBIT_PASSWORD": qb.password,
                "QBIT_TIMEOUT_SECONDS": 3,
                "MAMCRAWLER_DATABASE_URL": f"sqlite:///{base / 'store.sqlite'}",
                "MAMCRAWLER_POLICIES": str(policies),
                "MAMCRAWLER_JOURNAL": str(base / "decisions.jsonl"),
                "MAMCRAWLER_FACTS_FILE": str(self.facts_file),
                "MAMCRAWLER_TORRENT_DIR": str(self.torrents),
                "MAMCRAWLER_EVALUATOR": "durable",
            }
        )
        self.services: Services = build_services(self.settings)
        self.services.keeper.load_initial()

    def write(self) -> None:
        self.facts_file.write_text(json.dumps(self.facts))

    def offer(self, release_id: str, book: Book, *, free: bool) -> None:
        (self.torrents / f"{release_id}.torrent").write_bytes(book.data)
        release = {
            "id": release_id,
            "tracker_id": 1,
            "book_key": f"{book.name}|author",
            "title": book.name,
            "authors": ["Author"],
            "bitrate_kbps": 64,
            "size_bytes": book.path.stat().st_size,
            "seeders": 1,
            "leechers": 0,
            "free": "site_freeleech" if free else "none",
        }
        self.facts.setdefault("releases", []).append(release)  # type: ignore[union-attr]
        self.facts.setdefault("wants", []).append({"book_key": f"{book.name}|author", "title": book.name})  # type: ignore[union-attr]
        self.write()

    def cycle(self) -> list[str]:
        run_cycle(self.services, dry_run=False)
        board = self.services.board
        assert board.batch is not None
        return [a.type for a in board.batch.actions]


@pytest.fixture
def world(tmp_path: Path, leecher: tuple[Qbit, QbitClient]) -> Iterator[World]:
    w = World(tmp_path / "world", leecher[0])
    yield w
    w.services.close()


def states(client: QbitClient) -> dict[str, TorrentState]:
    client.sync()
    return {t.hash: t.state for t in client.torrent_facts()}


def settled(client: QbitClient, expect: dict[str, bool], seconds: float = 10) -> dict[str, TorrentState]:
    """Poll until each hash is paused (True) or not paused (False); qBittorrent applies
    pauses asynchronously."""
    deadline = time.monotonic() + seconds
    while True:
        now = states(client)
        if all((now[h] is TorrentState.PAUSED_DOWNLOAD) is paused for h, paused in expect.items()):
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"states did not settle: {now}")
        time.sleep(0.2)


def test_a_wanted_free_release_is_added_and_seen_downloading_then_seeding(
    world: World, seeder: Qbit, leecher: tuple[Qbit, QbitClient], books: dict[str, Book]
) -> None:
    _, client = leecher
    book = books["dune"]
    world.offer("rel-dune", book, free=True)
    assert "AddTorrent" in world.cycle()
    entry = world.services.journal.get("add:rel-dune")
    assert entry is not None and entry.status == "applied" and entry.outcome == {"hash": book.info_hash}
    seen = world.services.board.snapshot
    client.add_peers([book.info_hash], [seeder.peer])
    deadline = time.monotonic() + 30
    while states(client).get(book.info_hash) not in (TorrentState.SEEDING, TorrentState.STALLED_UPLOAD):
        assert time.monotonic() < deadline, "download did not finish"
        time.sleep(0.3)
    assert "AddTorrent" not in world.cycle()  # never added twice
    snapshot = world.services.board.snapshot
    assert snapshot is not None and seen is not None
    mine = next(t for t in snapshot.torrents if t.hash == book.info_hash)
    assert mine.added_by_mamcrawler and mine.free and mine.release_id == "rel-dune" and mine.progress == 1.0
    assert mine.state in (TorrentState.SEEDING, TorrentState.STALLED_UPLOAD)


def test_ratio_emergency_pauses_only_our_paid_downloads_and_recovery_resumes_exactly_those(
    world: World, leecher: tuple[Qbit, QbitClient], books: dict[str, Book]
) -> None:
    _, client = leecher
    ours_paid, ours_free = books["dune"], books["emma"]
    users_paused, users_active = books["solaris"], books["hyperion"]
    client.add_torrent(ours_paid.data, category="audiobooks", tags=["mamcrawler"])
    client.add_torrent(ours_free.data, category="audiobooks", tags=["mamcrawler", "mamcrawler-free"])
    client.add_torrent(users_paused.data, category="music", tags=[], paused=True)
    client.add_torrent(users_active.data, category="music", tags=[])
    everything = {b.info_hash for b in books.values()}
    deadline = time.monotonic() + 20
    while TorrentState.CHECKING in states(client).values():
        assert time.monotonic() < deadline
        time.sleep(0.2)

    world.facts["account"] = account(0.95)
    world.write()
    planned = world.cycle()
    assert "FreezeDownloads" in planned and "SetSeedingAllocation" in planned
    assert client.preferences()["max_uploads"] == 100  # ratio.emergency_upload_slots, really set
    settled(
        client,
        {
            ours_paid.info_hash: True,
            users_paused.info_hash: True,
            ours_free.info_hash: False,
            users_active.info_hash: False,
        },
    )
    memory = world.services.state.memory(today=datetime.now(UTC).date().isoformat())
    assert memory.downloads_frozen and memory.frozen_torrent_hashes == (ours_paid.info_hash,)

    world.facts["account"] = account(1.05)  # above the floor, below recover_at: the freeze holds
    world.write()
    assert "UnfreezeDownloads" not in world.cycle()
    time.sleep(1)
    assert states(client)[ours_paid.info_hash] is TorrentState.PAUSED_DOWNLOAD

    world.facts["account"] = account(1.2)
    world.write()
    planned = world.cycle()
    assert "UnfreezeDownloads" in planned
    after = settled(client, {ours_paid.info_hash: False, users_paused.info_hash: True})  # the user's pause stands
    assert set(after) == everything  # nothing deleted
    assert not [e for e in world.services.journal.entries() if e.action.type == "RemoveTorrent"]


def test_a_stalled_torrent_is_resumed_and_reannounced(
    tmp_path: Path, leecher: tuple[Qbit, QbitClient], books: dict[str, Book]
) -> None:
    qb, client = leecher
    w = World(tmp_path / "stall", qb, stalled_after_minutes=0)
    try:
        client.add_torrent(books["hyperion"].data, category="audiobooks", tags=["mamcrawler", "mamcrawler-free"])
        deadline = time.monotonic() + 30
        while states(client)[books["hyperion"].info_hash] is not TorrentState.STALLED_DOWNLOAD:
            assert time.monotonic() < deadline, "torrent never stalled"
            time.sleep(0.3)
        planned = w.cycle()
        assert "Reannounce" in planned and "ResumeTorrent" in planned
        applied = {e.action.type for e in w.services.journal.entries() if e.status == "applied"}
        assert {"Reannounce", "ResumeTorrent"} <= applied
    finally:
        w.services.close()


def test_qbittorrent_down_is_a_gap_no_torrent_action_and_recovery(tmp_path: Path, books: dict[str, Book]) -> None:
    with qbittorrent(tmp_path / "q1") as qb:
        w = World(tmp_path / "down", qb)
        client = QbitClient(qb.url, qb.username, qb.password)
        client.add_torrent(books["emma"].data, category="audiobooks", tags=["mamcrawler"])
        client.close()
        w.cycle()
        profile, port = qb.profile, int(qb.url.rsplit(":", 1)[1])
    try:
        w.facts["account"] = account(0.5)  # an emergency that would pause our paid download…
        w.write()
        planned = w.cycle()  # …but qBittorrent is down: a gap, and no torrent action
        board = w.services.board
        assert board.batch is not None and "qbittorrent" in board.batch.gapped_sources
        assert not {"PauseTorrent", "ResumeTorrent", "SetSeedingAllocation", "RemoveTorrent"} & set(planned)
        with qbittorrent(tmp_path / "q1", web_port=port, profile=profile):
            planned = w.cycle()
            assert board.batch is not None and "qbittorrent" not in board.batch.gapped_sources
            assert "PauseTorrent" in planned
    finally:
        w.services.close()
