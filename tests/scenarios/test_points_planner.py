"""The points planner (issue 11): rates learned from successive readings (purchases and the
cap left out), a plan that buys upload credit only for the ratio ahead or the points cap,
and 90 simulated days on which it keeps VIP unbroken and the ratio above floor + margin
while spending fewer points than the fixed thresholds on the same world."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mamcrawler.engine import load_policy
from mamcrawler.engine.economy.points import GIB, PlanInput, Rates, Reading, learn_rates, plan_points

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from points_planner import fixed_threshold_policy, run  # noqa: E402

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_the_earning_rate_leaves_out_purchases_and_the_cap() -> None:
    h = timedelta(hours=1)
    readings = [
        Reading(NOW - 10 * h, 10_000, 100 * GIB, 50 * GIB),
        Reading(NOW - 8 * h, 10_200),  # +100/h
        Reading(NOW - 6 * h, 5_000),  # a purchase: left out
        Reading(NOW - 4 * h, 5_200),  # +100/h
        Reading(NOW - 2 * h, 99_999),  # a jump to the cap (an event): left out with what follows
        Reading(NOW, 99_999, 101 * GIB, 52 * GIB),
        Reading(NOW - timedelta(days=30), 0),  # outside the window
    ]
    rates = learn_rates(readings, now=NOW)
    assert rates.points_per_hour == 100
    assert rates.upload_gib_per_day is not None and round(rates.upload_gib_per_day, 3) == round(24 / 10, 3)
    assert learn_rates([], now=NOW) == Rates(None, None, None)


def test_the_plan_banks_points_unless_the_ratio_or_the_cap_asks() -> None:
    policy = load_policy(ROOT / "policies")
    healthy = PlanInput(40_000, 80, 1250, 500, 400 * GIB, 200 * GIB, Rates(10, 1, 1))
    assert plan_points(healthy, policy.vip, policy.ratio).steps == ()
    dipping = PlanInput(40_000, 80, 1250, 500, 216 * GIB, 200 * GIB, Rates(10, 0, 0))
    plan = plan_points(dipping, policy.vip, policy.ratio)
    assert plan.upload_gib_now == 50 and plan.steps[0].why == "ratio_below_target"
    near_cap = PlanInput(99_000, 80, 1250, 500, 400 * GIB, 200 * GIB, Rates(100, 0, 0))
    capped = plan_points(near_cap, policy.vip, policy.ratio)
    assert capped.points_lost_to_cap == 0 and all(p <= 99_999 for p in capped.points_by_day)
    expiring = PlanInput(20_000, 10, 1250, 500, 400 * GIB, 200 * GIB, Rates(10, 0, 0))
    renewals = [s for s in plan_points(expiring, policy.vip, policy.ratio).steps if s.kind == "vip"]
    assert renewals and renewals[0].day == 0 and 10 + 7 * renewals[0].amount <= policy.vip.max_days


def test_ninety_days_planned_keep_vip_and_ratio_with_fewer_points_than_fixed_thresholds() -> None:
    planned_policy = load_policy(ROOT / "policies")
    fixed_policy = fixed_threshold_policy(planned_policy)
    planned, _ = run(planned_policy)
    fixed, _ = run(fixed_policy)
    floor = planned_policy.ratio.floor + planned_policy.ratio.margin
    assert planned.summary.min_vip_days > 0 and all(t.vip_days > 0 for t in planned.ticks)
    assert planned.summary.min_ratio > floor
    assert all(t.vip_days <= planned_policy.vip.max_days + 1e-9 for t in planned.ticks)
    spent_planned = sum(planned.summary.points_spent.values())
    spent_fixed = sum(fixed.summary.points_spent.values())
    assert spent_planned < spent_fixed
    assert planned.world.points <= 99_999
