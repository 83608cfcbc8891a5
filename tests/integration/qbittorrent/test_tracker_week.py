"""A simulated week end to end: the tracker fake (search, account, bonus store, .torrent
files), a real leeching qbittorrent-nox and a real seeder. The weekly §4 sync finds the
top-10 titles the library lacks; the cycles decide with the ladder and free-first — the
free edition of equal quality over the paid one, a wedge spent at download time (the
``.torrent`` link's freeleech flag, 2026) for a paid-only title while a wedge is held,
the VIP pending list once none is left and points would eat into VIP renewal + reserve,
nothing for a title already in the library — and the chosen torrents are fetched from
the tracker, added and downloaded."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from qbit_env import Book, Qbit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from daemon_env import FAST, daemon_settings
from mam_listing import search_result
from tracker_fake import TrackerState, tracker_fake

from mamcrawler.adapters.mam import Politeness
from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.app.cli.run import run_cycle, run_weekly_sync
from mamcrawler.app.runtime.wiring import Services, build_services
from mamcrawler.facts import TorrentState

pytestmark = [pytest.mark.integration, pytest.mark.slow]
POLICIES = Path(__file__).resolve().parents[3] / "policies"


@pytest.fixture
def week(
    tmp_path: Path, leecher: tuple[Qbit, QbitClient], books: dict[str, Book]
) -> Iterator[tuple[Services, TrackerState]]:
    state = TrackerState()
    state.search = {
        "data": [
            search_result(901, "Dune", "Frank Herbert", category=47, free=True, snatched=500),
            search_result(902, "Dune", "Frank Herbert", category=47, free=False, snatched=450),
            search_result(903, "Emma", "Jane Austen", category=41, free=False, snatched=300),
            search_result(904, "Hyperion", "Dan Simmons", category=47, free=False, snatched=200),
            search_result(905, "Solaris", "Stanislaw Lem", category=47, free=True, snatched=100),
        ]
    }
    state.torrents = {
        901: books["dune"].data,
        902: books["dune"].data,
        903: books["emma"].data,
        904: books["hyperion"].data,
        905: books["solaris"].data,
    }
    now = datetime.now(UTC)
    state.account.update(
        seedbonus="20000",  # 20,000 − 6,250 protected < 50,000: no personal freeleech with points
        wedges="1",
        vip_until=(now + timedelta(days=80)).strftime("%Y-%m-%d %H:%M:%S"),
    )
    base = tmp_path / "world"
    policies = base / "policies"
    shutil.copytree(POLICIES, policies, ignore=shutil.ignore_patterns("tests"))
    free_first = policies / "free_first.yaml"  # the synthetic books are tiny: no wedge size floor here
    free_first.write_text(free_first.read_text().replace("wedge_min_size_gib: 0.25", "wedge_min_size_gib: 0"))
    library = {
        "library": [
            {
                "id": "abs-solaris",
                "book_key": "solaris|stanislaw lem",
                "title": "Solaris",
                "authors": ["Stanislaw Lem"],
                "bitrate_kbps": 128,
                "abridged": False,
                "single_file": True,
            }
        ]
    }
    (base / "facts.json").write_text(json.dumps(library))
    qb, _ = leecher
    with tracker_fake(state) as (url, _):
        settings = daemon_settings(qb, url, base, policies)
        services = build_services(settings)
        assert services.tracker is not None
        services.tracker.polite = Politeness(FAST)  # the same limits, measured in milliseconds
        services.keeper.load_initial()
        yield services, state
        services.close()


def test_a_week_syncs_picks_buys_only_where_allowed_and_downloads(
    week: tuple[Services, TrackerState], leecher: tuple[Qbit, QbitClient], seeder: Qbit, books: dict[str, Book]
) -> None:
    services, tracker = week
    _, client = leecher
    run_cycle(services, dry_run=False)  # the library is seen
    synced = run_weekly_sync(services)
    assert synced is not None and len(synced.urls) == 35
    assert {w.book_key for w in synced.missing} == {"dune|frank herbert", "emma|jane austen", "hyperion|dan simmons"}

    for _ in range(3):  # a few monitor cycles of the week
        run_cycle(services, dry_run=False)

    assert tracker.purchases == []  # 2026: no bonus-store freeleech; no points spent
    downloads = [q for q in tracker.log if q.path == "/tor/download.php"]
    assert sorted(dict(q.query)["tid"] for q in downloads) == ["901", "903"]  # free Dune, wedged Emma
    assert [d for d in tracker.downloads if d["flagged"]] == [{"tid": 903, "flagged": True, "wedge_spent": True}]
    assert tracker.account["wedges"] == "0"  # exactly the one wedge
    pending = services.state.list_items("vip_pending")
    assert [p.get("book_key") for p in pending] == ["hyperion|dan simmons"]  # no wedge left, points protected

    expected = {books["dune"].info_hash, books["emma"].info_hash}
    client.add_peers(sorted(expected), [seeder.peer])
    deadline = time.monotonic() + 60
    while True:
        client.sync()
        seen = {t.hash: t for t in client.torrent_facts()}
        done = {
            h for h in expected if h in seen and seen[h].state in (TorrentState.SEEDING, TorrentState.STALLED_UPLOAD)
        }
        if done == expected:
            break
        assert time.monotonic() < deadline, f"downloads did not finish: {[(h[:8], t.state) for h, t in seen.items()]}"
        time.sleep(0.5)
    assert set(seen) == expected  # Solaris is in the library: never downloaded; nothing twice
    assert all({"mamcrawler", "mamcrawler-free"} <= set(seen[h].tags) for h in expected)  # both cost no ratio
    run_cycle(services, dry_run=False)
    assert tracker.purchases == [] and [d["tid"] for d in tracker.downloads if d["flagged"]] == [903]  # still once


def test_a_wedge_spent_behind_a_502_is_spent_once_and_the_torrent_added_once_free(
    week: tuple[Services, TrackerState], leecher: tuple[Qbit, QbitClient], books: dict[str, Book]
) -> None:
    """The flagged ``.torrent`` fetch spends the wedge and the tracker answers 502: the
    AddTorrent stays open (wedge in doubt), the next cycle settles it from the torrent's
    ``personal_freeleech`` and adds the now-free torrent once, without the flag."""
    services, tracker = week
    _, client = leecher
    tracker.download_fault = "spend_502"
    tracker.pfl_lag_s = 3600.0  # the search does not show the wedge yet
    run_cycle(services, dry_run=False)
    assert run_weekly_sync(services) is not None
    run_cycle(services, dry_run=False)
    wedge_entry = services.journal.get("add:mam-903:wedge")
    assert wedge_entry is not None and wedge_entry.status == "sent_unconfirmed"
    assert tracker.account["wedges"] == "0" and services.journal.get("add:mam-903") is None
    client.sync()
    assert books["emma"].info_hash not in {t.hash for t in client.torrent_facts()}
    tracker.pfl_lag_s = 0.0  # the search catches up
    for _ in range(2):
        run_cycle(services, dry_run=False)

    wedge_entry = services.journal.get("add:mam-903:wedge")
    assert wedge_entry is not None and wedge_entry.status == "applied"
    assert [d for d in tracker.downloads if d["flagged"]] == [{"tid": 903, "flagged": True, "wedge_spent": True}]
    assert [dict(q.query)["tid"] for q in tracker.log if q.path == "/tor/download.php"].count("903") == 2
    assert tracker.account["wedges"] == "0"  # exactly the one wedge over all cycles
    client.sync()
    emma = [t for t in client.torrent_facts() if t.hash == books["emma"].info_hash]
    assert len(emma) == 1 and {"mamcrawler", "mamcrawler-free"} <= set(emma[0].tags)  # added once, free
