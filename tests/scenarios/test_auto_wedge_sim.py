"""The simulator models the 2026 wedge: with the site's auto-wedge preference on, every
paid download spends a wedge by the site's hand while one is left (the policy knows and
counts it free), and once none is left the policy treats the next paid download as
ratio-costing — parked by default, or downloaded at full cost when allowed."""

from __future__ import annotations

from pathlib import Path

from mamcrawler.engine import load_policy
from mamcrawler.engine.actions import AddTorrent
from mamcrawler.engine.policy.compiled import compile_policy
from mamcrawler.engine.policy.vocabulary import Concern
from mamcrawler.sim.run import simulate
from mamcrawler.sim.scenario_file import load_scenario

SCENARIO = """
name: auto wedge
description: two paid releases wanted, one wedge, the site's auto-wedge on.
seed: 7
start: 2026-06-01T00:00:00Z
duration: 2d
tick: 6h
rates: {points_per_seed_hour: 1, upload_mib_per_leecher_hour: 30}
account: {user_class: VIP, uploaded_gib: 900, downloaded_gib: 400, bonus_points: 9000, wedges: 1, vip_days: 80,
          auto_wedge: true}
releases:
  - {id: a-paid, tracker_id: 1, title: Alpha, authors: [Ann], bitrate_kbps: 128, size_gib: 0.1, seeders: 9, leechers: 1}
  - {id: b-paid, tracker_id: 2, title: Beta, authors: [Bob], bitrate_kbps: 128, size_gib: 0.8, seeders: 9, leechers: 1}
wants:
  - {book_key: alpha|ann, title: Alpha, authors: [Ann]}
  - {book_key: beta|bob, title: Beta, authors: [Bob]}
"""


def test_auto_wedge_spends_the_last_wedge_then_the_next_paid_download_costs_ratio(tmp_path: Path) -> None:
    path = tmp_path / "auto_wedge.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    policy = load_policy("policies")
    r = simulate(load_scenario(path), policy)
    adds = [a for _, a in r.applied if isinstance(a, AddTorrent)]
    assert [(a.release_id, a.wedge, a.free) for a in adds] == [("a-paid", "auto", True)]  # even below the floor
    assert r.summary.downloads["wedge"] == 1 and r.summary.final_wedges == 0
    parked = {rec.subject_id for rec in r.records() if rec.outcome == "planned" and "VipPending" in str(rec.actions)}
    assert "beta|bob" in parked
    assert any(rec.facts.get("candidate.wedge_gate") == "auto_wedge_none_left" for rec in r.records())

    files = dict(policy.files)
    ff = files[Concern.FREE_FIRST]
    files[Concern.FREE_FIRST] = ff.model_copy(
        update={"params": ff.params.model_copy(update={"allow_ratio_costing": True})}
    )
    allowing = compile_policy(files, policy.sources, {}, {Concern.FREE_FIRST: b"allow_ratio_costing"})
    r = simulate(load_scenario(path), allowing)
    adds = [a for _, a in r.applied if isinstance(a, AddTorrent)]
    assert [(a.release_id, a.wedge, a.free) for a in adds] == [("a-paid", "auto", True), ("b-paid", "none", False)]
    assert r.summary.downloads == {"free": 0, "wedge": 1, "points": 0, "ratio_costing": 1}
