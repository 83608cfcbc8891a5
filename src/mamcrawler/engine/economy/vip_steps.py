"""VIP in API-sized steps (MAM_API.md 2026): a purchase made by a tool adds at least
``vip.min_purchase_weeks`` (one week) and never takes the VIP held past ``vip.max_days``;
the price per week is the store's when it was read. The nets under the YAML (minimum
step, cap, wedges, refused store route) live in ``engine.guards``. Pure; imports sibling
engine modules."""

from __future__ import annotations

from mamcrawler.engine.policy.params import VipParams


def largest_step(days_left: float, budget: int, price_per_week: int, vip: VipParams) -> int:
    """The largest allowed purchase (weeks) that fits under the cap and the budget; 0 if none."""
    fits = [
        w
        for w in vip.purchase_weeks
        if w >= vip.min_purchase_weeks and days_left + 7 * w <= vip.max_days and w * price_per_week <= budget
    ]
    return max(fits, default=0)
