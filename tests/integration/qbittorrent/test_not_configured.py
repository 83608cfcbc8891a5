"""A service that is not configured is unknown, not empty (issue 9): with no
Audiobookshelf, the weekly top-10 is not compared with an "empty library" and a book the
user owns is not downloaded — the library is a gap with code ``not_configured``, the
download rules that need it hold back, and the start-up message says what is off.

Real qbittorrent-nox (the leecher) and the tracker fake; no facts file supplies a library."""

from __future__ import annotations

import json
import logging
import shutil
import sys
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
from mamcrawler.facts import Source, Want, WantSource
from mamcrawler.store import WISHLIST

pytestmark = [pytest.mark.integration]
POLICIES = Path(__file__).resolve().parents[3] / "policies"
WISHED = WantSource.WISHLIST


@pytest.fixture
def no_library(
    tmp_path: Path, leecher: tuple[Qbit, QbitClient], books: dict[str, Book], caplog: pytest.LogCaptureFixture
) -> Iterator[tuple[Services, TrackerState]]:
    state = TrackerState()
    # the user owns Solaris (in ABS)
    state.search = {"data": [search_result(905, "Solaris", "Stanislaw Lem", free=True)]}
    state.torrents = {905: books["solaris"].data}
    now = datetime.now(UTC)
    state.account.update(seedbonus="20000", vip_until=(now + timedelta(days=80)).strftime("%Y-%m-%d %H:%M:%S"))
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies, ignore=shutil.ignore_patterns("tests"))
    qb, _ = leecher
    with tracker_fake(state) as (url, _):
        settings = daemon_settings(qb, url, tmp_path, policies, facts_file=False)
        with caplog.at_level(logging.WARNING, logger="mamcrawler.wiring"):
            services = build_services(settings)
        assert services.tracker is not None and services.library is None
        services.tracker.polite = Politeness(FAST)
        services.keeper.load_initial()
        yield services, state
        services.close()


def test_no_audiobookshelf_means_library_unknown_and_owned_books_are_not_downloaded(
    no_library: tuple[Services, TrackerState], leecher: tuple[Qbit, QbitClient], caplog: pytest.LogCaptureFixture
) -> None:
    services, tracker = no_library
    _, client = leecher
    startup = [r.getMessage() for r in caplog.get_records("setup") if r.name == "mamcrawler.wiring"]
    assert any("features off:" in m and "Audiobookshelf not configured (add ABS_URL= ABS_TOKEN=)" in m for m in startup)
    # the user also wishes for it (a wish-list entry): still held back while ownership is unknown
    want = Want(
        book_key="solaris|stanislaw lem", title="Solaris", authors=("Stanislaw Lem",), source=WantSource.WISHLIST
    )
    services.state.add_to_list(WISHLIST, want.book_key, {"want": want.model_dump(mode="json")}, now=services.clock())

    with caplog.at_level(logging.INFO, logger="mamcrawler.cycle"):
        run_cycle(services, dry_run=False)
        synced = run_weekly_sync(services)
        for _ in range(2):
            run_cycle(services, dry_run=False)
    # the gap is a warning when it opens, not every cycle while the service stays unconfigured
    gap_lines = [
        (r.levelno, r.getMessage()) for r in caplog.records if r.name == "mamcrawler.cycle" and "gap" in r.getMessage()
    ]
    warned = [
        m for level, m in gap_lines if level == logging.WARNING and m.startswith("fact gap: library (not_configured)")
    ]
    assert len(warned) == 1, gap_lines
    assert any(level == logging.INFO and m == "fact gap continues: library (not_configured)" for level, m in gap_lines)

    snapshot = services.board.snapshot
    assert snapshot is not None
    gap = snapshot.gap_for(Source.LIBRARY)
    assert gap is not None and gap.code == "not_configured"
    assert synced is not None and synced.missing == ()  # not compared with an "empty" library
    assert [q for q in tracker.log if q.path == "/tor/download.php"] == []
    client.sync()
    assert list(client.torrent_facts()) == []
    records = [json.loads(line) for line in Path(services.settings.journal_file).read_text().splitlines()]
    solaris = [r for r in records if r["subject_id"] == "solaris|stanislaw lem"]
    assert solaris and all(r["actions"] == [] for r in solaris)
    held = {(r["rule_id"], r["outcome"], r["reason"]) for r in solaris}
    assert ("skip_not_better_than_library", "block", "fact_unavailable") in held  # fail closed
