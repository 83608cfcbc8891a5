"""The points planner, pure: learn the account's earning rate (and its daily upload and
download) from successive readings, project points 30 days ahead, and plan what to buy:
VIP renewals in API-sized steps that keep VIP above its floor without passing the cap,
and upload credit only where the projected ratio would fall under floor + margin (plus
the planner's own buffer) or where points would overflow the tracker's cap (99,999;
points past it are lost). Everything else stays banked. The plan's first day is what
this cycle may buy (``upload_gib_now``); the whole plan is data for ``simulate`` and the
status API (``plan_for``). Imports sibling engine modules and ``facts``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, Literal

from mamcrawler.engine.economy.vip_steps import largest_step
from mamcrawler.engine.policy.compiled import Policy
from mamcrawler.engine.policy.params import RatioParams, VipParams
from mamcrawler.facts import FactSnapshot, Source

GIB = 1024**3
POINTS_CAP = 99_999


@dataclass(frozen=True)
class Reading:
    at: datetime
    points: int
    uploaded_bytes: int | None = None
    downloaded_bytes: int | None = None


@dataclass(frozen=True)
class Rates:
    points_per_hour: float | None
    upload_gib_per_day: float | None
    download_gib_per_day: float | None


def learn_rates(readings: Sequence[Reading], *, now: datetime, window: timedelta = timedelta(days=7)) -> Rates:
    """Rates over the last ``window``: points from the rises between successive readings
    (a drop is a purchase, a reading at the cap earns nothing visible: both left out)."""
    recent = sorted((r for r in readings if now - window <= r.at <= now), key=lambda r: r.at)
    gained, hours = 0.0, 0.0
    for a, b in pairwise(recent):
        span = (b.at - a.at).total_seconds() / 3600
        if span <= 0 or b.points < a.points or a.points >= POINTS_CAP or b.points >= POINTS_CAP:
            continue
        gained, hours = gained + (b.points - a.points), hours + span
    points_rate = gained / hours if hours > 0 else None

    def per_day(attr: str) -> float | None:
        known = [(r.at, getattr(r, attr)) for r in recent if getattr(r, attr) is not None]
        if len(known) < 2 or known[-1][0] <= known[0][0]:
            return None
        days = (known[-1][0] - known[0][0]).total_seconds() / 86400
        return max(0.0, float(known[-1][1] - known[0][1]) / GIB / days)

    return Rates(points_rate, per_day("uploaded_bytes"), per_day("downloaded_bytes"))


@dataclass(frozen=True)
class PlanStep:
    day: int
    kind: Literal["vip", "upload"]
    amount: int  # weeks or GiB
    cost: int
    why: str


@dataclass(frozen=True)
class PointsPlan:
    horizon_days: int
    points_per_hour: float | None
    steps: tuple[PlanStep, ...]
    points_by_day: tuple[int, ...]
    vip_days_min: float
    ratio_min: float | None
    points_lost_to_cap: int
    upload_gib_now: int
    vip_weeks_now: int
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlanInput:
    points: int
    vip_days_left: float
    vip_price_per_week: int
    upload_price_per_gib: int
    uploaded_bytes: int | None
    downloaded_bytes: int | None
    rates: Rates


def plan_points(
    given: PlanInput, vip: VipParams, ratio: RatioParams, *, horizon_days: int = 30, ratio_buffer: float = 0.05
) -> PointsPlan:
    """Day by day over the horizon (see the module docstring)."""
    rate = given.rates.points_per_hour or 0.0
    up_day = (given.rates.upload_gib_per_day or 0.0) * GIB
    down_day = (given.rates.download_gib_per_day or 0.0) * GIB
    points, days_left = float(given.points), given.vip_days_left
    uploaded, downloaded = given.uploaded_bytes, given.downloaded_bytes
    protected = given.vip_price_per_week * vip.renewal_weeks + vip.reserve_points
    target = ratio.floor + ratio.margin + ratio_buffer
    steps: list[PlanStep] = []
    by_day: list[int] = []
    lost, ratio_min, vip_min = 0.0, math.inf, days_left
    for day in range(horizon_days + 1):
        if day:
            points += rate * 24
            days_left = max(0.0, days_left - 1)
            if uploaded is not None and downloaded is not None:
                uploaded, downloaded = uploaded + int(up_day), downloaded + int(down_day)
        if points > POINTS_CAP:
            lost, points = lost + points - POINTS_CAP, float(POINTS_CAP)
        # VIP first: renew before the floor (a week of lead), the largest step under the cap.
        if days_left < vip.floor_days + 7:
            weeks = largest_step(days_left, int(points), given.vip_price_per_week, vip)
            if weeks:
                cost = weeks * given.vip_price_per_week
                steps.append(PlanStep(day, "vip", weeks, cost, "vip_renewal_before_floor"))
                points, days_left = points - cost, days_left + 7 * weeks
        # Upload credit where the ratio would dip under target, or points would overflow tomorrow.
        gib = 0
        if uploaded is not None and downloaded is not None and downloaded > 0:
            need = target * downloaded - uploaded
            if need > 0:
                gib = max(vip.upload_min_lot_gib, math.ceil(need / GIB))
        overflow = points + rate * 24 - POINTS_CAP
        why = "ratio_below_target" if gib else "points_would_overflow_cap"
        if overflow > 0:
            gib = max(gib, vip.upload_min_lot_gib, math.ceil(overflow / given.upload_price_per_gib))
        if gib:
            spendable = points - protected
            gib = min(gib, int(spendable // given.upload_price_per_gib))
            if gib >= vip.upload_min_lot_gib:
                cost = gib * given.upload_price_per_gib
                steps.append(PlanStep(day, "upload", gib, cost, why))
                points -= cost
                if uploaded is not None:
                    uploaded += gib * GIB
        if uploaded is not None and downloaded:
            ratio_min = min(ratio_min, uploaded / downloaded)
        vip_min = min(vip_min, days_left)
        by_day.append(int(points))
    today = [s for s in steps if s.day == 0]
    return PointsPlan(
        horizon_days=horizon_days,
        points_per_hour=given.rates.points_per_hour,
        steps=tuple(steps),
        points_by_day=tuple(by_day),
        vip_days_min=round(vip_min, 3),
        ratio_min=None if ratio_min is math.inf else round(ratio_min, 4),
        points_lost_to_cap=int(lost),
        upload_gib_now=sum(s.amount for s in today if s.kind == "upload"),
        vip_weeks_now=sum(s.amount for s in today if s.kind == "vip"),
        notes=() if given.rates.points_per_hour is not None else ("earning rate unknown: projected as 0",),
    )


def account_plan(
    points: int | None,
    vip_days_left: float,
    prices: tuple[int, int],
    account: Any,
    vip: VipParams,
    ratio: RatioParams,
) -> PointsPlan | None:
    """The plan for an account fact (``facts.Account``); None when its points are unknown.
    ``prices`` = (VIP points per week, upload points per GiB)."""
    if points is None:
        return None
    rates = Rates(account.points_per_hour, account.upload_gib_per_day, account.download_gib_per_day)
    given = PlanInput(
        points, vip_days_left, prices[0], prices[1], account.uploaded_bytes, account.downloaded_bytes, rates
    )
    return plan_points(given, vip, ratio)


def plan_for(policy: Policy, snapshot: FactSnapshot, now: datetime) -> PointsPlan | None:
    """The plan for a cycle's snapshot (None when the account is a gap or its points unknown)."""
    if snapshot.gap_for(Source.TRACKER_ACCOUNT) is not None:
        return None
    acc, store = snapshot.account, snapshot.store_prices
    days = max(0.0, (acc.vip_until - now).total_seconds() / 86400) if acc.vip_until else 0.0
    prices = (
        (store and store.vip_points_per_week) or policy.vip.points_per_week,
        (store and store.upload_points_per_gib) or policy.vip.upload_points_per_gib,
    )
    return account_plan(acc.bonus_points, days, prices, acc, policy.vip, policy.ratio)
