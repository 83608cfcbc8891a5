"""The 2026 wedge at download time, decided by the default policy: the value gate (free for
this account, size floor, reserve) and which condition decided; auto-wedge on with and
without wedges left; a cycle never spends more wedges than it holds; VIP purchases in
API-sized steps never past the cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mamcrawler.engine import Policy, decide, load_policy
from mamcrawler.engine.actions import AddTorrent, BuyVip
from mamcrawler.engine.economy.vip_steps import largest_step
from mamcrawler.engine.guards import vip_cap_guard
from mamcrawler.engine.policy.compiled import compile_policy
from mamcrawler.engine.policy.vocabulary import Concern
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.world.derive import build_world
from mamcrawler.facts import Account, FactSnapshot, FreeKind, Release, UserClass, Want

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
GIB = 1024**3


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("policies")


def policy_with(**changes: dict[str, object]) -> Policy:
    """The default policy with some concerns' params replaced."""
    base = load_policy("policies")
    files = dict(base.files)
    raw = {}
    for name, params in changes.items():
        concern = Concern(name)
        files[concern] = files[concern].model_copy(update={"params": files[concern].params.model_copy(update=params)})
        raw[concern] = repr(sorted(params.items())).encode()
    return compile_policy(files, base.sources, {}, raw)


def snap(*releases: Release, **account: object) -> FactSnapshot:
    base = Account(
        user_class=UserClass.POWER_USER,
        ratio=2.0,
        uploaded_bytes=400 * GIB,
        downloaded_bytes=200 * GIB,
        bonus_points=20000,
        wedges=2,
        vip_until=NOW + timedelta(days=88),
        unsatisfied_count=0,
        unsatisfied_limit=100,
    ).model_copy(update=account)
    wants = tuple(Want(book_key=r.book_key, title=r.title) for r in releases)
    return FactSnapshot(taken_at=NOW, account=base, releases=releases, wants=wants)


def release(rid: str, size_gib: float = 1.0, **kw: object) -> Release:
    return Release(
        id=rid,
        tracker_id=int(rid.removeprefix("r")),
        book_key=f"book {rid}|author",
        title=f"Book {rid}",
        authors=("Author",),
        bitrate_kbps=128,
        abridged=False,
        single_file=True,
        size_bytes=int(size_gib * GIB),
        seeders=5,
        leechers=0,
    ).model_copy(update=kw)


def adds(policy: Policy, snapshot: FactSnapshot) -> dict[str, AddTorrent]:
    batch = decide(policy, snapshot, now=NOW)
    return {a.release_id: a for a in batch.actions if isinstance(a, AddTorrent)}


def test_a_paid_release_above_the_floor_downloads_with_the_flag(policy: Policy) -> None:
    batch = decide(policy, snap(release("r1")), now=NOW)
    (add,) = [a for a in batch.actions if isinstance(a, AddTorrent)]
    assert (add.wedge, add.free, add.bought_freeleech) == ("flag", True, False)
    rec = next(r for r in batch.records if r.rule_id == "download_with_wedge")
    assert rec.facts["candidate.wedge_gate"] == "spend"
    assert not [a for a in batch.actions if a.type == "BuyPersonalFreeleech"]


@pytest.mark.parametrize(
    ("changes", "account", "gate"),
    [
        ({"free": FreeKind.SITE_FREELEECH}, {}, "free_for_account"),
        ({"free": FreeKind.PERSONAL_FREELEECH}, {}, "free_for_account"),
        ({"free": FreeKind.VIP_FREELEECH}, {"user_class": UserClass.VIP}, "free_for_account"),
        ({"vip_only": True}, {"user_class": UserClass.VIP}, "free_for_account"),
        ({"size_bytes": GIB // 10}, {}, "below_size_floor"),
        ({"size_bytes": None}, {}, "size_unknown"),
        ({}, {"wedges": 0}, "no_wedge"),
    ],
)
def test_the_gate_never_spends_a_wedge_where_it_is_wasted_and_says_why(
    policy: Policy, changes: dict[str, object], account: dict[str, object], gate: str
) -> None:
    snapshot = snap(release("r1", **changes), **account)
    found = adds(policy, snapshot)
    assert all(a.wedge == "none" for a in found.values())
    (candidate,) = build_world(policy, snapshot, NOW).candidates
    assert candidate.row.get("candidate.wedge_gate") == gate
    if gate in ("below_size_floor", "size_unknown", "no_wedge"):  # the record says which condition decided
        batch = decide(policy, snapshot, now=NOW)
        assert any(r.facts.get("candidate.wedge_gate") == gate for r in batch.records), batch.records


def test_the_reserve_is_kept_and_one_cycle_spends_at_most_the_wedges_held(policy: Policy) -> None:
    releases = [release(f"r{i}") for i in range(1, 5)]
    spent = [a for a in adds(policy, snap(*releases, wedges=2)).values() if a.wedge != "none"]
    assert len(spent) == 2
    reserve = policy_with(free_first={"wedge_reserve": 1})
    spent = [a for a in adds(reserve, snap(*releases, wedges=2)).values() if a.wedge != "none"]
    assert len(spent) == 1


def test_auto_wedge_with_wedges_left_is_a_free_download_spent_by_the_site(policy: Policy) -> None:
    found = adds(policy, snap(release("r1", size_gib=0.1), auto_wedge=True, wedges=1))
    assert (found["r1"].wedge, found["r1"].free) == ("auto", True)  # the site spends it whatever the floor


def test_auto_wedge_with_none_left_is_a_ratio_costing_download(policy: Policy) -> None:
    strict = snap(release("r1"), auto_wedge=True, wedges=0)
    assert "r1" not in adds(policy, strict)  # ratio-costing downloads are off by default
    batch = decide(policy, strict, now=NOW)
    parked = {"park_paid_waiting_for_wedge", "park_on_vip_pending"}
    assert any(r.rule_id in parked and r.outcome == "planned" for r in batch.records)
    allowing = policy_with(free_first={"allow_ratio_costing": True})
    add = adds(allowing, strict)["r1"]
    assert (add.free, add.wedge) == (False, "none")
    assert {"paid_download", "ratio_costing"} <= add.intrinsic_tags()


def test_vip_steps_respect_the_minimum_week_and_the_cap(policy: Policy) -> None:
    vip = policy.vip
    for days in (0.0, 10.0, 50.0, 62.0, 83.0, 84.5, 90.0):
        weeks = largest_step(days, 10**6, 1250, vip)
        assert weeks == 0 or (weeks >= vip.min_purchase_weeks and days + 7 * weeks <= vip.max_days)
    for days in (1.0, 30.0, 60.0, 80.0):
        batch = decide(policy, snap(vip_until=NOW + timedelta(days=days), bonus_points=99999), now=NOW)
        for a in batch.actions:
            if isinstance(a, BuyVip):
                assert a.weeks >= vip.min_purchase_weeks and days + 7 * a.weeks <= vip.max_days


def test_the_vip_step_guard_refuses_less_than_a_week_and_past_the_cap(policy: Policy) -> None:
    row = Row("account", "account", {}, {"account.vip_days_left": 80.0})
    assert vip_cap_guard(policy, BuyVip(weeks=2, cost_points=2500), row) == "guard_vip_cap"
    assert vip_cap_guard(policy, BuyVip(weeks=1, cost_points=1250), row) is None
    strict = policy_with(vip={"min_purchase_weeks": 4})
    assert vip_cap_guard(strict, BuyVip(weeks=1, cost_points=1250), row) == "guard_vip_below_min_step"
    unknown = Row("account", "account", {}, {"account.vip_days_left": None})
    assert vip_cap_guard(policy, BuyVip(weeks=1, cost_points=1250), unknown) == "guard_vip_cap"


def test_vip_freeleech_is_free_only_for_a_vip_member(policy: Policy) -> None:
    vip_fl = release("r1", free=FreeKind.VIP_FREELEECH)
    member = adds(policy, snap(vip_fl, wedges=0))  # VIP time left
    assert (member["r1"].free, member["r1"].wedge) == (True, "none")
    outsider = snap(vip_fl, wedges=0, vip_until=None)  # a power user without VIP time: the download costs ratio
    assert "r1" not in adds(policy, outsider)  # ratio-costing downloads are off by default
    (candidate,) = build_world(policy, outsider, NOW).candidates
    assert candidate.row.get("candidate.is_free") is False
    assert candidate.row.get("candidate.wedge_gate") == "no_wedge"  # paid here: not "free_for_account"
