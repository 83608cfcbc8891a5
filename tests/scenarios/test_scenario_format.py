"""What the scenario format can now say (issue 10): the memory a run starts with (a freeze
in force with the torrents it paused, downloads made today, bought and pending releases),
policy overrides per scenario, sources that go missing or stale mid-run (fail-closed shown
in the records), and the applied effect of every action in the JSONL."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mamcrawler.engine import Policy, load_policy, read_journal
from mamcrawler.sim.run import SimulationResult, simulate
from mamcrawler.sim.scenario import Scenario, reference_problems

ROOT = Path(__file__).resolve().parents[2]
DUNE = {"id": "dune", "tracker_id": 1, "title": "Dune", "authors": ["Frank Herbert"], "bitrate_kbps": 128}
FREE_DUNE = {**DUNE, "free": "site_freeleech"}


@cache
def policy() -> Policy:
    return load_policy(ROOT / "policies")


def scenario(**extra: Any) -> Scenario:
    body: dict[str, Any] = {
        "name": "format",
        "start": "2026-05-04T00:00:00Z",
        "duration": "3h",
        "tick": "1h",
        "account": {"uploaded_gib": 900, "downloaded_gib": 400, "bonus_points": 9000, "vip_days": 70},
        "releases": [FREE_DUNE],
        "wants": [{"book_key": "dune|frank herbert", "title": "Dune", "authors": ["Frank Herbert"]}],
        **extra,
    }
    return Scenario.model_validate(body)


def first_planned(result: SimulationResult) -> set[str]:
    batch = result.ticks[0].batch
    assert batch is not None
    return {a.type for a in batch.actions}


def test_a_freeze_in_force_at_the_start_is_lifted_and_its_torrent_resumed() -> None:
    s = scenario(
        torrents=[{"name": "Paused paid", "state": "paused_download", "progress": 0.5, "added_by_mamcrawler": True}],
        memory={"downloads_frozen": True, "frozen_torrents": ["Paused paid"]},
    )
    result = simulate(s, policy())
    assert {"UnfreezeDownloads", "ResumeTorrent"} <= first_planned(result)  # the ratio is far above recover_at
    assert not result.world.memory().downloads_frozen


def test_downloads_made_today_count_against_the_daily_cap() -> None:
    capped = simulate(scenario(memory={"downloads_today": 100}), policy())
    assert "AddTorrent" not in first_planned(capped)
    stopped = [r for r in capped.records() if r.subject_kind == "candidate" and r.outcome in ("capped", "blocked")]
    assert stopped, "the daily budget, spent before the run, must stop the download with a record"
    assert "AddTorrent" in first_planned(simulate(scenario(), policy()))


def test_a_bought_release_is_downloaded_free_and_never_bought_again() -> None:
    result = simulate(scenario(releases=[DUNE], memory={"bought_releases": ["dune"]}), policy())
    adds = [a for _, a in result.applied if a.type == "AddTorrent"]
    assert adds and adds[0].free  # type: ignore[union-attr]
    assert not [a for _, a in result.applied if a.type == "BuyPersonalFreeleech"]


def test_a_release_already_pending_is_not_parked_again() -> None:
    poor = {"uploaded_gib": 900, "downloaded_gib": 400, "bonus_points": 100, "vip_days": 70}
    parked = simulate(scenario(account=poor, releases=[DUNE]), policy())
    assert "AddToVipPending" in first_planned(parked)
    again = simulate(scenario(account=poor, releases=[DUNE], memory={"pending_releases": ["dune"]}), policy())
    assert "AddToVipPending" not in first_planned(again)


def test_policy_overrides_change_the_decision_and_the_policy_hash() -> None:
    free = {**DUNE, "id": "dune-fl", "bitrate_kbps": 64, "free": "site_freeleech"}
    both = {"releases": [DUNE, free]}
    tie = simulate(scenario(**both), policy())
    floor = simulate(scenario(**both, policy={"free_first": {"mode": "floor"}}), policy())
    chose = {r.ladder.get("release_id") for r in floor.records() if r.outcome == "planned" and r.ladder}
    assert chose == {"dune-fl"} and floor.policy_hash != tie.policy_hash
    with pytest.raises(ValueError, match="no parameter"):
        simulate(scenario(policy={"free_first": {"no_such": 1}}), policy())


def test_a_source_that_goes_missing_mid_run_fails_closed_and_recovers() -> None:
    s = scenario(
        duration="4h",
        timeline=[{"at": "1h", "outage": {"source": "tracker_account", "lasts": "2h"}}],
        wants=[],
        releases=[],
    )
    result = simulate(s, policy())
    gapped = [t.batch.gapped_sources for t in result.ticks if t.batch is not None]
    assert gapped == [(), ("tracker_account",), ("tracker_account",), ()]
    during = result.ticks[1].batch
    assert during is not None and any(r.reason == "fact_unavailable" for r in during.records)
    assert not [a for a in during.actions if a.type.startswith("Buy")]


def test_a_stale_source_fails_closed_once_older_than_the_schedule_allows() -> None:
    s = scenario(
        duration="3h", timeline=[{"at": "0h", "outage": {"source": "qbittorrent", "lasts": "3h", "kind": "stale"}}]
    )
    result = simulate(s, policy())
    gapped = [t.batch.gapped_sources for t in result.ticks if t.batch is not None]
    assert "qbittorrent" not in gapped[0] and "qbittorrent" in gapped[1]  # 30 minutes allowed


def test_every_applied_action_has_its_effect_in_the_jsonl() -> None:
    result = simulate(scenario(), policy())
    lines = result.to_jsonl().splitlines()
    effects = [json.loads(line)["effect"] for line in lines if line.startswith('{"effect":')]
    records = {r.decision_id for r in read_journal(lines)}
    assert effects and all(e["decision_id"] in records for e in effects)
    add = next(e for e in effects if e["action"] == "AddTorrent")
    assert add["status"] == "applied" and add["points_after"] >= 9000 and add["ratio_after"] > 2


def test_memory_references_point_somewhere() -> None:
    s = scenario(memory={"bought_releases": ["nope"], "frozen_torrents": ["ghost"]})
    codes = {code for _, code, _ in reference_problems(s)}
    assert codes == {"unknown_release", "unknown_torrent"}
