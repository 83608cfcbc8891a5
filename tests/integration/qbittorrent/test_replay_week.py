"""A week of live cycles recorded and replayed (issue 14): the tracker fake, a real leeching
qbittorrent-nox and the daemon's own cycle, its clock stepped six hours per cycle. Every
cycle is recorded in the store; ``mamcrawler replay`` under the unchanged policy shows no
difference; under free-first ``floor`` it shows the free editions downloaded instead of a
wedge-bought Emma and a guarded Hyperion, and — played forward from the recorded start —
two more free downloads, the wedge kept, and their point and ratio effect."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from qbit_env import Book, Qbit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from daemon_env import FAST, daemon_settings
from mam_listing import search_result
from tracker_fake import TrackerState, tracker_fake

from mamcrawler.adapters.mam import Politeness
from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.app.cli.main import main
from mamcrawler.app.cli.run import run_cycle, run_weekly_sync
from mamcrawler.app.runtime.wiring import Services, build_services
from mamcrawler.store import RecordReader, sizes_by_day

pytestmark = [pytest.mark.integration, pytest.mark.slow]
POLICIES = Path(__file__).resolve().parents[3] / "policies"
CYCLES = 28  # seven days, every six hours


class SteppedClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def week(tmp_path: Path, leecher: tuple[Qbit, QbitClient], books: dict[str, Book]) -> Iterator[tuple[Services, Path]]:
    state = TrackerState()
    state.search = {
        "data": [
            search_result(901, "Dune", "Frank Herbert", free=True, kbps=128, snatched=500),
            search_result(903, "Emma", "Jane Austen", free=False, kbps=128, snatched=300),
            search_result(906, "Emma", "Jane Austen", free=True, kbps=64, snatched=50),  # passes the floor only
            search_result(904, "Hyperion", "Dan Simmons", free=False, kbps=128, snatched=200),
            search_result(907, "Hyperion", "Dan Simmons", free=True, kbps=96, snatched=40),
        ]
    }
    state.torrents = {
        901: books["dune"].data,
        903: books["emma"].data,
        906: books["emma"].data,
        904: books["hyperion"].data,
        907: books["hyperion"].data,
    }
    start = datetime.now(UTC).replace(microsecond=0)
    state.account.update(
        seedbonus="20000", wedges="1", vip_until=(start + timedelta(days=80)).strftime("%Y-%m-%d %H:%M:%S")
    )
    base = tmp_path / "world"
    policies = base / "policies"
    shutil.copytree(POLICIES, policies, ignore=shutil.ignore_patterns("tests"))
    free_first = policies / "free_first.yaml"  # the fixture books are small: no wedge size floor here
    free_first.write_text(free_first.read_text().replace("wedge_min_size_gib: 0.25", "wedge_min_size_gib: 0"))
    (base / "facts.json").write_text(json.dumps({"library": []}))
    qb, _ = leecher
    with tracker_fake(state) as (url, _):
        settings = daemon_settings(qb, url, base, policies)
        services = build_services(settings, clock=SteppedClock(start))
        assert services.tracker is not None
        services.tracker.polite = Politeness(FAST)
        services.keeper.load_initial()
        yield services, policies
        services.close()


def test_a_recorded_week_replays_unchanged_and_floor_mode_shows_its_free_downloads(
    week: tuple[Services, Path], tmp_path: Path
) -> None:
    services, policies = week
    clock = services.clock
    assert isinstance(clock, SteppedClock)
    start = clock.now
    run_cycle(services, dry_run=False)
    synced = run_weekly_sync(services)
    assert synced is not None
    assert {w.book_key for w in synced.missing} == {"dune|frank herbert", "emma|jane austen", "hyperion|dan simmons"}
    for _ in range(CYCLES - 1):
        clock.now += timedelta(hours=6)
        run_cycle(services, dry_run=False)

    cycles = list(RecordReader(services.db).cycles(start))
    assert len(cycles) == CYCLES
    assert all(c.evaluator == "durable" and c.policy_hash == services.keeper.current.content_hash for c in cycles)
    planned = {(r.subject_id, r.rule_id) for c in cycles for r in c.decisions if r.outcome == "planned"}
    assert ("emma|jane austen", "download_with_wedge") in planned  # what the live week did (2026: wedge at download)
    days = sizes_by_day(services.db, start)
    assert sum(d.cycles for d in days) == CYCLES and all(d.bytes > 0 for d in days)

    edited = tmp_path / "edited"
    shutil.copytree(policies, edited)
    free_first = edited / "free_first.yaml"
    free_first.write_text(free_first.read_text().replace("mode: tie_break", "mode: floor"))
    env = {"MAMCRAWLER_DATABASE_URL": services.settings.database_url, "MAMCRAWLER_POLICIES": str(policies)}
    runner = CliRunner()
    same, diff = tmp_path / "same.json", tmp_path / "floor.json"
    for target, extra in ((same, []), (diff, ["--policy", str(edited)])):
        out = runner.invoke(
            main, ["replay", "--since", "30d", "--evaluator", "durable", "--json", str(target), *extra], env=env
        )
        assert out.exit_code == 0, out.output

    unchanged = json.loads(same.read_text())["summary"]
    assert unchanged["cycles"] == CYCLES and unchanged["recorded_decisions"] > 0
    assert (unchanged["added"], unchanged["removed"], unchanged["changed"], unchanged["id_mismatches"]) == (0, 0, 0, 0)

    body = json.loads(diff.read_text())
    changed = [c for c in body["changes"] if c["kind"] == "changed" and c["after"]["outcome"] == "planned"]
    emma = next(c for c in changed if c["subject"] == "candidate:emma|jane austen")
    assert emma["money"] and emma["before"]["rule_id"] == "download_with_wedge"
    assert [(a["type"], a["release_id"]) for a in emma["after"]["actions"]] == [("AddTorrent", "mam-906")]
    hyperion = next(c for c in changed if c["subject"] == "candidate:hyperion|dan simmons")
    assert [(a["type"], a["release_id"]) for a in hyperion["after"]["actions"]] == [("AddTorrent", "mam-907")]
    delta = body["effect"]["delta"]
    assert delta["downloads_free"] == 2 and delta["downloads_wedge"] == -1 and delta["final_wedges"] == 1
    assert delta["final_ratio"] >= 0 and delta["final_points"] >= 0  # free and seeding: no ratio cost, more points
    assert body["effect"]["as_decided"]["downloads_wedge"] == 1
