"""Matches → proposals → planned actions, combined in the SPEC's priority order.

Proposals are processed layer by layer (VIP, ratio, seeding, completion/quality,
free-first, pacing), then by rule priority and subject id — a fixed order, so the same
matches always give the same plan. Per subject and action type the highest-priority
rule wins (the others are recorded as overridden). A proposal is atomic (a freeleech
purchase and its download stand or fall together) and is dropped, with the reason
recorded, when a block from its own or an earlier layer covers its tags, a guard
(``engine.guards``) bites, or a cap is spent. Imports sibling engine modules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from mamcrawler.engine.actions import Action, AddToVipPending, BuyPersonalFreeleech
from mamcrawler.engine.builders import NotApplicable, build_action
from mamcrawler.engine.guards import Ledger, check_caps, check_guards
from mamcrawler.engine.policy.compiled import CompiledRule, Policy
from mamcrawler.engine.records import DecisionRecord, Outcome, decision_id
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.world.derive import Candidate, World


@dataclass(frozen=True)
class Match:
    """A rule matched a row; ``forced`` is set when a gapped source made it match
    conservatively (blocks and flags only) — the record then says fact_unavailable."""

    rule: CompiledRule
    row: Row
    forced: bool = False


@dataclass(frozen=True)
class Verdict:
    """The planner's answer for one match with actions."""

    match: Match
    actions: tuple[Action, ...]
    outcome: Outcome
    reason: str
    blocked_by: str | None = None
    caps: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Proposal:
    match: Match
    actions: tuple[Action, ...]
    tags: frozenset[str]


def _proposals(
    world: World, matches: list[Match], candidates: dict[str, Candidate]
) -> tuple[list[_Proposal], list[Verdict]]:
    proposals: list[_Proposal] = []
    dropped: list[Verdict] = []
    taken: dict[tuple[str, str, str], str] = {}
    for m in matches:
        if not m.rule.actions or m.forced:
            continue
        candidate = candidates.get(m.row.id) if m.row.kind == "candidate" else None
        built: list[Action] = []
        failed: NotApplicable | None = None
        for template in m.rule.actions:
            result = build_action(template, m.row, world, candidate)
            if isinstance(result, NotApplicable):
                failed = result
                break
            built.append(result)
        if failed is not None:
            dropped.append(Verdict(m, (), "skipped", failed.reason, blocked_by=failed.detail))
            continue
        keys = [(m.row.kind, m.row.id, a.slot or a.type) for a in built]  # contradicting actions share a slot
        winner = next((taken[k] for k in keys if k in taken), None)
        if winner is not None:
            dropped.append(Verdict(m, tuple(built), "overridden", "overridden_by_higher_priority", blocked_by=winner))
            continue
        for k in keys:
            taken[k] = m.rule.id
        tags = frozenset().union(*(a.intrinsic_tags() for a in built), *(t.tags for t in m.rule.actions))
        proposals.append(_Proposal(m, tuple(built), tags))
    return proposals, dropped


_POINTS_GUARDS = frozenset({"guard_vip_points_protected", "guard_not_enough_points", "guard_vip_at_risk"})


def _pending_instead(p: _Proposal, guard: str, candidate: Candidate | None) -> tuple[Action, ...] | None:
    """§1: a personal-freeleech purchase the points cannot afford goes on the VIP pending list."""
    if guard not in _POINTS_GUARDS or candidate is None or p.match.row.get("candidate.pending") is not False:
        return None
    if not any(isinstance(a, BuyPersonalFreeleech) for a in p.actions):
        return None
    chosen = candidate.selection.chosen
    return (AddToVipPending(release_id=chosen.id, book_key=candidate.want.book_key),)


class _Blocks:
    """Active blocks, indexed so each proposal checks only the blocks that can reach it."""

    def __init__(self, blocks: list[Match]) -> None:
        self.general = [b for b in blocks if b.rule.block is not None and b.rule.block.scope == "all"]
        self.by_subject: dict[tuple[str, str], list[Match]] = {}
        for b in blocks:
            if b.rule.block is not None and b.rule.block.scope == "subject":
                self.by_subject.setdefault((b.row.kind, b.row.id), []).append(b)

    def first_covering(self, p: _Proposal) -> Match | None:
        reach: list[Match] = [*self.general, *self.by_subject.get((p.match.row.kind, p.match.row.id), [])]
        for b in sorted(reach, key=lambda m: (m.rule.order_key, m.row.id)):
            spec = b.rule.block
            assert spec is not None
            if b.rule.layer > p.match.rule.layer or b.rule.id == p.match.rule.id:
                continue
            if p.tags & spec.tags and not p.tags & spec.unless_tags:
                return b
        return None


def plan(policy: Policy, world: World, matches: list[Match], ledger: Ledger) -> list[Verdict]:
    """Decide which proposals become planned actions; every proposal gets a verdict."""
    candidates = {c.row.id: c for c in world.candidates}
    blocks = _Blocks([m for m in matches if m.rule.block is not None])
    proposals, verdicts = _proposals(world, matches, candidates)
    for p in proposals:
        blocker = blocks.first_covering(p)
        if blocker is not None:
            if blocker.forced:
                ledger.commit(tuple(a for a in p.actions if a.type == "AddTorrent"))  # hold its budget slot
            reason = "fact_unavailable" if blocker.forced else blocker.rule.reason
            verdicts.append(Verdict(p.match, p.actions, "blocked", reason, blocked_by=blocker.rule.id))
            continue
        candidate = candidates.get(p.match.row.id) if p.match.row.kind == "candidate" else None
        guard = check_guards(policy, world, ledger, p.actions, p.match.row, candidate)
        if guard is not None:
            verdicts.append(Verdict(p.match, p.actions, "guarded", guard, blocked_by=guard))
            pending = _pending_instead(p, guard, candidate)
            parked = None if pending is None else _Proposal(p.match, pending, frozenset({"pending"}))
            if parked is not None and blocks.first_covering(parked) is None:
                ledger.commit(parked.actions)
                verdicts.append(Verdict(p.match, parked.actions, "planned", "vip_pending_points_short"))
            continue
        cap = check_caps(policy, ledger, p.actions)
        if cap is not None:
            verdicts.append(Verdict(p.match, p.actions, "capped", cap, blocked_by=cap, caps=(cap,)))
            continue
        ledger.commit(p.actions)
        verdicts.append(Verdict(p.match, p.actions, "planned", p.match.rule.reason))
    return verdicts


_ACTION_TEXT: dict[Action, str] = {}


def _actions_text(actions: tuple[Action, ...]) -> str:
    """``json.dumps([a.model_dump(mode="json") …], sort_keys=True)``, each action's text
    kept by value (actions are frozen; the same proposal recurs cycle after cycle). Part
    of every decision id, so it must not change."""
    parts = []
    for action in actions:
        try:
            text = _ACTION_TEXT.get(action)
        except TypeError:  # an action with an unhashable field: written out every time
            text = json.dumps(action.model_dump(mode="json"), sort_keys=True)
        if text is None:
            if len(_ACTION_TEXT) >= 20_000:
                _ACTION_TEXT.clear()
            text = _ACTION_TEXT[action] = json.dumps(action.model_dump(mode="json"), sort_keys=True)
        parts.append(text)
    return "[" + ", ".join(parts) + "]"


def record_for(
    policy: Policy,
    now: datetime,
    verdict_or_match: Verdict | Match,
    trace: tuple[dict[str, object], ...],
    ladder: dict[str, object],
) -> DecisionRecord:
    if isinstance(verdict_or_match, Verdict):
        v = verdict_or_match
        m, actions, outcome, reason = v.match, v.actions, v.outcome, v.reason
        blocked_by, caps = v.blocked_by, v.caps
    else:
        m, actions, blocked_by, caps = verdict_or_match, (), None, ()
        outcome = "flag" if m.rule.flag and m.rule.block is None else "block"
        reason = "fact_unavailable" if m.forced else m.rule.reason
    body = _actions_text(actions) + outcome
    return DecisionRecord.trusted(
        decision_id=decision_id(policy.content_hash, now, m.rule.id, m.row.kind, m.row.id, body),
        policy_hash=policy.content_hash,
        decided_at=now,
        subject_kind=m.row.kind,
        subject_id=m.row.id,
        outcome=outcome,
        reason=reason,
        rule_id=m.rule.id,
        rule_at=str(m.rule.location),
        section=m.rule.description.split(" ", 1)[0] if m.rule.description.startswith("§") else None,
        actions=actions,
        blocked_by=blocked_by,
        facts={f: m.row.get(f) for f in m.rule.facts},
        trace=trace,
        ladder=ladder,
        caps=caps,
    )
