"""What an edited policy would have done to the recorded history: read the recorded
cycles from the store, re-decide them (``sim.replay``) and play the recorded start
forward under the policy that decided and the edited one (``sim.replay_world``).
Shared by ``mamcrawler replay`` and the policy keeper. Imports ``store``, ``sim``, ``engine``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mamcrawler.engine import REFERENCE, Evaluator, Policy
from mamcrawler.sim.replay import ReplayResult, replay
from mamcrawler.sim.replay_world import Effect, History, play_forward
from mamcrawler.store import Database, RecordedCycle, RecordReader

log = logging.getLogger("mamcrawler.replay")


@dataclass(frozen=True)
class WhatIf:
    result: ReplayResult
    effect: Effect | None
    baseline: str | None  # the recorded policy version played forward against the edit
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.result.summary(),
            "baseline": self.baseline,
            "effect": None if self.effect is None else self.effect.figures(),
            "note": self.note,
        }


def what_if(
    db: Database, policy: Policy, since: datetime, *, evaluator: Evaluator = REFERENCE, forward: bool = True
) -> WhatIf:
    """Replay every cycle recorded since ``since`` under ``policy``; when asked and when
    something changed, play the recorded start forward under both policies."""
    reader = RecordReader(db)
    history = History()

    def recorded() -> Iterator[RecordedCycle]:
        for cycle in reader.cycles(since):  # one pass, one cycle in memory at a time
            history.add(cycle)
            yield cycle

    result = replay(recorded(), policy, evaluator=evaluator)
    if history.first is None:
        return WhatIf(result, None, None, "no recorded cycles in the period")
    baseline_hash = history.last_policy
    if not forward or not result.changes:
        return WhatIf(result, None, baseline_hash, "" if forward else "forward play not asked for")
    baseline = policy if baseline_hash == policy.content_hash else reader.policy(baseline_hash)
    if baseline is None:
        return WhatIf(result, None, baseline_hash, f"policy {baseline_hash[:12]} files not recorded: no forward play")
    return WhatIf(result, play_forward(history, baseline, policy, evaluator=evaluator), baseline_hash)


@dataclass
class PreLiveReplay:
    """The policy keeper's check: the candidate replayed over the last ``days`` of recorded
    cycles; the summary goes to the log (by the keeper) and to ``report`` (the status board)."""

    db: Database
    clock: Callable[[], datetime]
    days: int = 7
    evaluator: Evaluator = REFERENCE
    report: Callable[[dict[str, Any]], None] | None = None

    def __call__(self, current: Policy, candidate: Policy) -> dict[str, Any]:
        now = self.clock()
        outcome = what_if(self.db, candidate, now - timedelta(days=self.days), evaluator=self.evaluator)
        summary: dict[str, Any] = {
            **outcome.to_dict(),
            "at": now.isoformat(),
            "days": self.days,
            "candidate": candidate.content_hash,
            "in_force": current.content_hash,
            "money_changes": len(outcome.result.money_changes),
            "line": outcome.result.line() + (f"; {outcome.note}" if outcome.note else ""),
        }
        if outcome.effect is not None:
            delta = outcome.effect.figures()["delta"]
            summary["line"] += "; forward: " + ", ".join(
                f"{k} {v:+g}" for k, v in delta.items() if v and not k.startswith("min_")
            )
        if self.report is not None:
            self.report(summary)
        return summary
