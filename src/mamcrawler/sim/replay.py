"""What-if replay: re-decide recorded cycles under a policy and compare with what was decided.

Each recorded cycle is decided again with the same ``decide()`` the daemon uses, on the
recorded snapshot at the recorded ``now``. The new records are paired with the recorded
ones per subject: equal ones are unchanged; the same rule (or, failing that, another
action-bearing record) on the same subject with a different outcome, reason, rule,
actions or points is *changed*; the rest are *added* or *removed*. Money-like changes
(purchases and ratio-costing downloads) are marked, so an edit can be held for a person.
Imports ``engine`` and ``facts`` only (the store reads records in ``app``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from mamcrawler.engine import REFERENCE, DecisionBatch, DecisionRecord, Evaluator, Policy, decide, explain
from mamcrawler.engine.decide import evaluate_layers
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.world.derive import build_world
from mamcrawler.facts import FactSnapshot

MONEY_TAGS = frozenset({"purchase", "ratio_costing", "wedge_spend"})  # 2026: a wedge spent at download
COMPARED = ("outcome", "reason", "rule_id", "actions", "points", "blocked_by")


class Recorded(Protocol):
    """A recorded cycle (``store.recorded.RecordedCycle`` is one)."""

    @property
    def taken_at(self) -> datetime: ...
    @property
    def policy_hash(self) -> str: ...
    @property
    def snapshot(self) -> FactSnapshot: ...
    @property
    def decisions(self) -> tuple[DecisionRecord, ...]: ...


def points(record: DecisionRecord | None) -> int:
    """Bonus points the record's planned actions spend (0 unless planned)."""
    if record is None or record.outcome != "planned":
        return 0
    return sum(a.points() for a in record.actions)


def signature(record: DecisionRecord) -> dict[str, Any]:
    return {
        "outcome": record.outcome,
        "reason": record.reason,
        "rule_id": record.rule_id,
        "actions": [a.model_dump(mode="json") for a in record.actions],
        "points": points(record),
        "blocked_by": record.blocked_by,
    }


def money_like(record: DecisionRecord | None) -> bool:
    """A planned purchase, wedge spent at download time, or ratio-costing download."""
    if record is None or record.outcome != "planned":
        return False
    return any(a.intrinsic_tags() & MONEY_TAGS for a in record.actions)


@dataclass(frozen=True)
class Change:
    """One difference between the recorded decisions and the replayed ones."""

    kind: Literal["added", "removed", "changed"]
    at: datetime
    subject_kind: str
    subject_id: str
    before: DecisionRecord | None
    after: DecisionRecord | None
    fields: tuple[str, ...] = ()

    @property
    def decision_id(self) -> str:
        either = self.after or self.before
        assert either is not None
        return either.decision_id

    @property
    def points_delta(self) -> int:
        return points(self.after) - points(self.before)

    @property
    def money(self) -> bool:
        return money_like(self.before) or money_like(self.after)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at.isoformat(),
            "subject": f"{self.subject_kind}:{self.subject_id}",
            "fields": list(self.fields),
            "money": self.money,
            "points_delta": self.points_delta,
            "before": None
            if self.before is None
            else {"decision_id": self.before.decision_id, **signature(self.before)},
            "after": None if self.after is None else {"decision_id": self.after.decision_id, **signature(self.after)},
        }


@dataclass
class ReplayResult:
    policy_hash: str
    evaluator: str
    cycles: int = 0
    recorded: int = 0
    replayed: int = 0
    unchanged: int = 0
    id_mismatches: int = 0  # under the recording policy, decision ids must come back identical
    recorded_policies: set[str] = field(default_factory=set)
    changes: list[Change] = field(default_factory=list)
    batches: list[DecisionBatch] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def money_changes(self) -> list[Change]:
        return [c for c in self.changes if c.money]

    def summary(self) -> dict[str, Any]:
        return {
            "policy": self.policy_hash,
            "evaluator": self.evaluator,
            "cycles": self.cycles,
            "recorded_decisions": self.recorded,
            "replayed_decisions": self.replayed,
            "unchanged": self.unchanged,
            "id_mismatches": self.id_mismatches,
            "added": self.count("added"),
            "removed": self.count("removed"),
            "changed": self.count("changed"),
            "money_changes": len(self.money_changes),
            "points_delta": sum(c.points_delta for c in self.changes),
            "recorded_policies": sorted(self.recorded_policies),
        }

    def line(self) -> str:
        s = self.summary()
        return (
            f"replay of {s['cycles']} cycles under {self.policy_hash[:12]}: {s['added']} added, {s['removed']} removed,"
            f" {s['changed']} changed ({s['money_changes']} money-like, {s['points_delta']:+,} points)"
        )


def _key(record: DecisionRecord) -> str:
    return json.dumps(signature(record), sort_keys=True, default=str)


def _changed_fields(a: DecisionRecord, b: DecisionRecord) -> tuple[str, ...]:
    sa, sb = signature(a), signature(b)
    return tuple(k for k in COMPARED if sa[k] != sb[k])


Pick = Callable[[DecisionRecord, DecisionRecord], bool]
# How leftover records of one subject pair up as "changed", in this order:
_PICKS: tuple[Pick, ...] = (
    lambda o, n: o.rule_id == n.rule_id and o.outcome == n.outcome,  # the same rule, otherwise
    lambda o, n: o.outcome == n.outcome and bool(o.actions) and bool(n.actions),  # another rule, same fate
    lambda o, n: o.rule_id == n.rule_id,  # the same rule, another fate
    lambda o, n: bool(o.actions) and bool(n.actions),  # something else acted on it
)


def _planned_first(record: DecisionRecord) -> bool:
    return record.outcome != "planned"  # what was (or would be) done pairs up first


def diff_cycle(
    at: datetime, before: Sequence[DecisionRecord], after: Sequence[DecisionRecord]
) -> tuple[int, list[Change]]:
    """Pair the records of one cycle per subject; returns (unchanged count, changes)."""
    subjects: dict[tuple[str, str], tuple[list[DecisionRecord], list[DecisionRecord]]] = {}
    for r in before:
        subjects.setdefault((r.subject_kind, r.subject_id), ([], []))[0].append(r)
    for r in after:
        subjects.setdefault((r.subject_kind, r.subject_id), ([], []))[1].append(r)
    unchanged, changes = 0, list[Change]()
    for (kind, subject), (old, new) in sorted(subjects.items()):
        waiting: dict[str, list[DecisionRecord]] = {}
        for n in new:
            waiting.setdefault(_key(n), []).append(n)
        left_old = []
        for o in old:  # 1. equal records
            twins = waiting.get(_key(o))
            if twins:
                twins.pop()
                unchanged += 1
            else:
                left_old.append(o)
        old, new = left_old, [n for group in waiting.values() for n in group]
        pairs: list[tuple[DecisionRecord, DecisionRecord]] = []
        for pick in _PICKS:
            for o in sorted(old, key=_planned_first):
                twin = next((n for n in sorted(new, key=_planned_first) if pick(o, n)), None)
                if twin is not None:
                    old = [x for x in old if x is not o]
                    new = [x for x in new if x is not twin]
                    pairs.append((o, twin))
        changes.extend(Change("changed", at, kind, subject, o, n, _changed_fields(o, n)) for o, n in pairs)
        changes.extend(Change("removed", at, kind, subject, o, None) for o in old)
        changes.extend(Change("added", at, kind, subject, None, n) for n in new)
    return unchanged, changes


def replay(
    cycles: Iterable[Recorded], policy: Policy, *, evaluator: Evaluator = REFERENCE, keep_batches: bool = False
) -> ReplayResult:
    """Re-decide every cycle under ``policy`` and collect the differences."""
    result = ReplayResult(policy.content_hash, evaluator.name)
    for cycle in cycles:
        batch = decide(policy, cycle.snapshot, now=cycle.taken_at, evaluator=evaluator)
        unchanged, changes = diff_cycle(cycle.taken_at, cycle.decisions, batch.records)
        result.cycles += 1
        result.recorded += len(cycle.decisions)
        result.replayed += len(batch.records)
        result.unchanged += unchanged
        result.changes.extend(changes)
        result.recorded_policies.add(cycle.policy_hash)
        if cycle.policy_hash == policy.content_hash:
            ids = {r.decision_id for r in cycle.decisions} ^ {r.decision_id for r in batch.records}
            result.id_mismatches += len(ids)
        if keep_batches:
            result.batches.append(batch)
    return result


def subject_traces(
    policy: Policy, snapshot: FactSnapshot, now: datetime, kind: str, subject: str
) -> list[dict[str, Any]]:
    """Why (or why not) every rule of the subject's kind matched it — the reference
    evaluator's trace, with the flags of this cycle, as ``decide`` records it."""
    world = build_world(policy, snapshot, now)
    _, flags = evaluate_layers(policy, world, REFERENCE)
    shared = {**world.shared, **{f"flags.{k}": v for k, v in flags.items()}}
    rows: Sequence[Row]
    if kind == "account":
        rows = (world.account_row,)
    elif kind == "candidate":
        rows = tuple(c.row for c in world.candidates)
    else:
        rows = world.torrent_rows
    row = next((r for r in rows if r.id == subject), None)
    if row is None:
        return []
    full = row.with_shared(shared)
    return [explain(rule, full).to_dict() for rule in policy.rules if rule.subject.value == kind]


@dataclass(frozen=True)
class Explanation:
    """One decision under the recorded policy and the edited one, side by side."""

    at: datetime
    subject_kind: str
    subject_id: str
    before: tuple[DecisionRecord, ...]
    after: tuple[DecisionRecord, ...]
    traces_before: list[dict[str, Any]]
    traces_after: list[dict[str, Any]]

    def rule_rows(self) -> list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]:
        old = {t["rule"]: t for t in self.traces_before}
        new = {t["rule"]: t for t in self.traces_after}
        order = [*old, *(r for r in new if r not in old)]
        return [(rule, old.get(rule), new.get(rule)) for rule in order]


def explain_decision(
    cycles: Iterable[Recorded],
    decision_id: str,
    edited: Policy,
    recorded_policy: Callable[[str], Policy | None],
    *,
    evaluator: Evaluator = REFERENCE,
) -> Explanation | None:
    """Find ``decision_id`` (recorded or replayed; a unique prefix will do) and explain its
    subject under the policy that decided and under ``edited``."""
    for cycle in cycles:
        hit = next((r for r in cycle.decisions if r.decision_id.startswith(decision_id)), None)
        batch = decide(edited, cycle.snapshot, now=cycle.taken_at, evaluator=evaluator)
        hit = hit or next((r for r in batch.records if r.decision_id.startswith(decision_id)), None)
        if hit is None:
            continue
        kind, subject, at = hit.subject_kind, hit.subject_id, cycle.taken_at
        old_policy = recorded_policy(cycle.policy_hash)
        return Explanation(
            at,
            kind,
            subject,
            tuple(r for r in cycle.decisions if (r.subject_kind, r.subject_id) == (kind, subject)),
            tuple(r for r in batch.records if (r.subject_kind, r.subject_id) == (kind, subject)),
            [] if old_policy is None else subject_traces(old_policy, cycle.snapshot, at, kind, subject),
            subject_traces(edited, cycle.snapshot, at, kind, subject),
        )
    return None


def describe(record: DecisionRecord | None) -> str:
    """One line: outcome, rule, reason, actions and points."""
    if record is None:
        return "—"
    acts = ", ".join(a.type for a in record.actions) or "no action"
    spent = points(record)
    cost = f", {spent:,} pts" if spent else ""
    return f"{record.outcome} by {record.rule_id or '—'} ({record.reason}): {acts}{cost}"


def to_json(result: ReplayResult, effect: dict[str, Any] | None = None) -> str:
    body = {"summary": result.summary(), "changes": [c.to_dict() for c in result.changes], "effect": effect}
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False)
