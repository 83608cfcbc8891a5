"""The points planner's plan as a terminal table (``simulate`` prints it for the world at
the end of the run; the status API serves the same data as JSON). Imports ``engine``,
``sim`` and rich."""

from __future__ import annotations

from rich.table import Table

from mamcrawler.engine import Policy
from mamcrawler.engine.economy.points import PointsPlan, plan_for
from mamcrawler.sim.run import SimulationResult


def final_plan(result: SimulationResult, policy: Policy) -> PointsPlan | None:
    world = result.world
    return plan_for(policy, world.snapshot(world.now), world.now)


def plan_table(plan: PointsPlan) -> Table:
    rate = "unknown" if plan.points_per_hour is None else f"{plan.points_per_hour:.1f} points/h"
    table = Table(title=f"Points plan — next {plan.horizon_days} days (earning {rate})")
    for column in ("day", "buy", "amount", "points", "why"):
        table.add_column(column)
    for step in plan.steps:
        amount = f"{step.amount} weeks" if step.kind == "vip" else f"{step.amount} GiB"
        table.add_row(str(step.day), step.kind, amount, f"{step.cost:,}", step.why)
    if not plan.steps:
        table.add_row("–", "nothing", "", "", "VIP and ratio hold; points stay banked")
    end = plan.points_by_day[-1] if plan.points_by_day else 0
    table.caption = (
        f"points at the end {end:,}; lost to the cap {plan.points_lost_to_cap:,}; "
        f"lowest VIP days {plan.vip_days_min}; lowest ratio {plan.ratio_min}"
    )
    return table
