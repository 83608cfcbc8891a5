"""VIP in API-sized steps (MAM_API.md 2026): a purchase made by a tool adds at least
``vip.min_purchase_weeks`` (one week) and never takes the VIP held past ``vip.max_days``;
the price per week is the store's when it was read. Also the wedge guards of a download:
a wedge is never spent beyond the reserve or when none is left. These are the nets under
the YAML, hooked into ``engine.guards``; new snatches go only into free unsatisfied slots
(those started this cycle count); and a personal-freeleech purchase through a store route
the tracker refused for good is never sent. Pure; imports sibling engine modules."""

from __future__ import annotations

from mamcrawler.engine.actions import Action, AddTorrent, BuyPersonalFreeleech, BuyVip
from mamcrawler.engine.policy.compiled import Policy
from mamcrawler.engine.policy.params import FreeFirstParams, SnatchParams, VipParams
from mamcrawler.engine.rules.rows import Row


def largest_step(days_left: float, budget: int, price_per_week: int, vip: VipParams) -> int:
    """The largest allowed purchase (weeks) that fits under the cap and the budget; 0 if none."""
    fits = [
        w
        for w in vip.purchase_weeks
        if w >= vip.min_purchase_weeks and days_left + 7 * w <= vip.max_days and w * price_per_week <= budget
    ]
    return max(fits, default=0)


def vip_step_guard(vip: VipParams, action: BuyVip, row: Row) -> str | None:
    if action.weeks < vip.min_purchase_weeks:
        return "guard_vip_below_min_step"
    days = row.get("account.vip_days_left")
    if not isinstance(days, int | float) or isinstance(days, bool):
        return "guard_vip_days_unknown"
    if days + 7 * action.weeks > vip.max_days:
        return "guard_vip_past_cap"
    return None


def wedge_guard(free_first: FreeFirstParams, wedges_left: int, action: AddTorrent) -> str | None:
    if action.wedge == "none":
        return None
    if wedges_left < 1:
        # auto: the site would find none left and the download would cost ratio unannounced.
        return "guard_no_wedge_left"
    if action.wedge == "flag" and wedges_left - 1 < free_first.wedge_reserve:
        return "guard_wedge_reserve"
    return None


def snatch_slot_guard(snatch: SnatchParams, added_this_cycle: int, row: Row) -> str | None:
    """New snatches go only into free unsatisfied slots: the ones this cycle already
    started count (the next waits for a slot the forecaster sees freeing)."""
    headroom = row.get("account.unsat_headroom")
    if isinstance(headroom, int | float) and headroom - snatch.unsat_buffer - added_this_cycle <= 0:
        return "guard_no_free_snatch_slot"
    return None


def economy_guard(policy: Policy, wedges_left: int, added_this_cycle: int, action: Action, row: Row) -> str | None:
    """The first economy guard ``action`` violates, or None."""
    if isinstance(action, BuyVip):
        return vip_step_guard(policy.vip, action, row)
    if isinstance(action, AddTorrent):
        return wedge_guard(policy.free_first, wedges_left, action) or snatch_slot_guard(
            policy.snatch, added_this_cycle, row
        )
    if isinstance(action, BuyPersonalFreeleech) and row.get("account.store_freeleech_refused") is not False:
        return "guard_store_route_refused"  # refused for good (or unknown): never sent
    return None
