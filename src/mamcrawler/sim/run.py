"""The simulation loop (DESIGN.md "Actuators"); the simulated executor is ``sim.executor``.

``simulate(scenario, policy)`` plays a scenario tick by tick: the world moves on
(``sim.world``), timeline entries happen, the world's ``FactSnapshot`` goes to the same
``decide()`` the daemon uses, and the *planned* actions are applied to the world — so a
purchase lowers points, a bought wedge makes a release free, a completed paid download
lowers the ratio, and every later decision sees it (STYLE 1: the engine never knows it is
simulated). Nothing is applied that was not decided. The result keeps every batch, the
purchases and downloads, each action's applied effect, and a ``Summary``.
Imports ``engine``, ``facts`` and the ``sim`` modules."""

from __future__ import annotations

from mamcrawler.engine import REFERENCE, Evaluator, Policy, decide
from mamcrawler.engine.policy.overrides import with_params
from mamcrawler.facts import TorrentState, WantSource
from mamcrawler.sim.executor import SimExecutor
from mamcrawler.sim.results import SimulationResult, Summary, TickResult
from mamcrawler.sim.scenario import Scenario
from mamcrawler.sim.world import World

__all__ = ["SimulationResult", "Summary", "TickResult", "simulate"]


def simulate(
    scenario: Scenario,
    policy: Policy,
    *,
    evaluator: Evaluator = REFERENCE,
    keep_batches: bool = True,
) -> SimulationResult:
    """Play ``scenario`` under ``policy``; deterministic for a given scenario and policy."""
    policy = with_params(policy, scenario.policy)  # the scenario's "what if" parameters
    world = World(scenario)
    result = SimulationResult(scenario, policy.content_hash, evaluator.name, [], [], [], [], Summary(), world)
    executor = SimExecutor(world, result)
    summary = result.summary
    pending_entries = sorted(enumerate(scenario.timeline), key=lambda item: (item[1].at, item[0]))
    ticks = int(scenario.duration / scenario.tick)
    for i in range(ticks):
        now = scenario.start + i * scenario.tick
        world.advance(now)
        while pending_entries and pending_entries[0][1].at <= now - scenario.start:
            _, entry = pending_entries.pop(0)
            summary.happenings.append((now, world.happen(entry, now)))
        snapshot = world.snapshot(now)
        ratio, vip_days = world.ratio, world.vip_days(now)
        if ratio < summary.min_ratio:
            summary.min_ratio, summary.min_ratio_at = ratio, now
        if vip_days < summary.min_vip_days:
            summary.min_vip_days, summary.min_vip_at = vip_days, now
        batch = decide(policy, snapshot, now=now, evaluator=evaluator)
        effects = executor.apply(batch, now)
        world.readings.clear()  # a §15 reading is seen by one cycle, as in a metadata job
        kept = batch if keep_batches else None
        result.ticks.append(TickResult(now, kept, effects if keep_batches else (), ratio, vip_days, int(world.points)))
    end = scenario.start + ticks * scenario.tick
    world.advance(end)
    summary.ticks = ticks
    summary.final_ratio = world.ratio
    summary.final_vip_days = world.vip_days(end)
    summary.final_points = int(world.points)
    summary.final_wedges = world.wedges
    summary.completed = len(world.completions)
    pending = world.remembered.pending_release_ids
    summary.vip_pending = [(rid, world.releases[rid].title if rid in world.releases else rid) for rid in pending]
    summary.wishlist = sorted({x.book_key for x in world.wants if x.source is WantSource.WISHLIST})
    summary.seeding_torrents = sum(1 for t in world.torrents.values() if t.state is TorrentState.SEEDING)
    return result
