"""Benchmark (issue 11): the points planner against the fixed thresholds on the same
90-day simulated world (benchmarks/scenarios/economy_90_days.yaml) — VIP kept unbroken,
the ratio above floor + margin, and the points each spends, printed side by side.

    PYTHONPATH=src python benchmarks/points_planner.py
"""

from __future__ import annotations

import time
from pathlib import Path

from mamcrawler.engine import Policy, load_policy
from mamcrawler.engine.policy.compiled import compile_policy
from mamcrawler.engine.policy.vocabulary import Concern
from mamcrawler.sim.run import SimulationResult, simulate
from mamcrawler.sim.scenario_file import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "benchmarks" / "scenarios" / "economy_90_days.yaml"


def fixed_threshold_policy(base: Policy) -> Policy:
    """The same policy with upload credit bought from all surplus at the VIP cap (the rule
    peers use) instead of by the plan."""
    files = dict(base.files)
    vip = files[Concern.VIP]
    params = vip.params.model_copy(update={"surplus_to_upload": True, "plan_upload_credit": False})
    files[Concern.VIP] = vip.model_copy(update={"params": params})
    return compile_policy(files, base.sources, {}, {Concern.VIP: b"fixed thresholds"})


def figures(result: SimulationResult, policy: Policy) -> dict[str, str]:
    s = result.summary
    spent = dict(s.points_spent)
    floor = policy.ratio.floor + policy.ratio.margin
    vip_ok = s.min_vip_days > 0
    return {
        "VIP unbroken (min days)": f"{'yes' if vip_ok else 'NO'} ({s.min_vip_days:.1f})",
        "ratio min / final": f"{s.min_ratio:.3f} / {s.final_ratio:.3f}",
        f"ratio above {floor:.2f} throughout": "yes" if s.min_ratio > floor else "NO",
        "points spent on VIP": f"{spent.get('vip', 0):,}",
        "points spent on upload credit": f"{spent.get('upload_credit', 0):,}",
        "points spent in all": f"{sum(spent.values()):,}",
        "points at the end": f"{int(result.world.points):,}",
    }


def run(policy: Policy) -> tuple[SimulationResult, float]:
    started = time.perf_counter()
    result = simulate(load_scenario(SCENARIO), policy)
    return result, time.perf_counter() - started


def main() -> None:
    planned_policy = load_policy(ROOT / "policies")
    fixed_policy = fixed_threshold_policy(planned_policy)
    planned, t_plan = run(planned_policy)
    fixed, t_fixed = run(fixed_policy)
    a, b = figures(planned, planned_policy), figures(fixed, fixed_policy)
    width = max(len(k) for k in a) + 2
    print(f"90-day economy ({SCENARIO.name}): points planner vs fixed thresholds")
    print(f"{'':{width}}{'planner':>22}{'fixed thresholds':>22}")
    for key in a:
        print(f"{key:{width}}{a[key]:>22}{b[key]:>22}")
    spent_plan = sum(planned.summary.points_spent.values())
    spent_fixed = sum(fixed.summary.points_spent.values())
    print(f"{'points spent, planner / fixed':{width}}{spent_plan / spent_fixed if spent_fixed else 0:>22.2f}")
    print(f"{'simulation seconds':{width}}{t_plan:>22.1f}{t_fixed:>22.1f}")


if __name__ == "__main__":
    main()
