"""``decide(policy, snapshot, *, now) -> DecisionBatch``: the pure heart of mamcrawler.

Layer by layer (the SPEC's priority order) the evaluator finds which rules match which
rows; flags set by a layer become visible to the next, and to later rules of the same
layer that read them (ordered by flag dependencies, ``engine.rules.strata``). A rule that depends on a gapped
or stale source never proposes an action; if it only flags or blocks, it is taken as
matched (fail closed: when unsure, hold back). The planner then turns matches into
planned actions under blocks, guards and caps, and every step leaves a record.
No I/O, no clock, no randomness, no dry-run flag: ``now`` is an argument and the same
inputs give the same batch whatever order the facts arrived in."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from mamcrawler.engine.actions import action_class
from mamcrawler.engine.guards import Ledger
from mamcrawler.engine.memo import IdentityMemo
from mamcrawler.engine.planner import Match, Verdict, plan, record_for
from mamcrawler.engine.policy.compiled import CompiledRule, Policy
from mamcrawler.engine.records import DecisionBatch, DecisionRecord, decision_id
from mamcrawler.engine.rules.evaluators import REFERENCE, Evaluator, TraceCache
from mamcrawler.engine.rules.partial import settled
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.strata import flag_strata, in_strata
from mamcrawler.engine.rules.trees import Scalar
from mamcrawler.engine.world.catalogue import FIELDS
from mamcrawler.engine.world.derive import Candidate, World, build_world
from mamcrawler.engine.world.torrent_rows import TorrentRows
from mamcrawler.facts import FactSnapshot, Source


def rule_sources(policy: Policy) -> dict[str, frozenset[Source]]:
    """Sources each rule depends on: its own facts', those behind the flags it reads, and
    the services its actions act on."""
    setters: dict[str, list[CompiledRule]] = {}
    for rule in policy.rules:
        if rule.flag:
            setters.setdefault(rule.flag, []).append(rule)
    strata, _ = flag_strata(policy.rules)
    out: dict[str, frozenset[Source]] = {}
    # by layer, then by flag dependencies, so every flag's setters come first
    for rule in sorted(policy.rules, key=lambda r: (r.layer, strata.get(r.id, 0))):
        deps: set[Source] = set()
        for fact in rule.facts:
            if fact.startswith("flags."):
                for setter in setters.get(fact.removeprefix("flags."), []):
                    deps |= out.get(setter.id, frozenset())
            elif fact in FIELDS:
                deps |= FIELDS[fact].sources
        for action in rule.actions:
            deps |= action_class(action.name.value).targets  # where it lands: acting there blind is barred
        out[rule.id] = frozenset(deps)
    return out


def _rows_of(world: World, kind: str) -> Sequence[Row]:
    if kind == "account":
        return (world.account_row,)
    if kind == "candidate":
        return tuple(c.row for c in world.candidates)
    if kind in ("download", "metadata", "item"):
        return tuple(r for r in world.library.rows if r.kind == kind)
    return world.torrent_rows


@dataclass(frozen=True)
class _Layout:
    """What evaluation needs from a policy that does not depend on the facts: enabled
    rules by layer and stratum, each rule's sources and position, rules by subject kind.
    Computed once per policy object (a cycle, or a tick of the simulator, reuses it)."""

    strata: tuple[tuple[CompiledRule, ...], ...]  # every layer's strata, in evaluation order
    layer_ends: frozenset[int]  # indexes in ``strata`` after which a layer's matches are sorted
    deps: dict[str, frozenset[Source]]
    order: dict[str, int]
    rules_by_kind: dict[str, tuple[CompiledRule, ...]]
    flag_names: tuple[str, ...]
    traces: TraceCache  # explanations by values, kept while the policy is


_LAYOUTS: IdentityMemo[_Layout] = IdentityMemo(64)  # policies come and go (edits, tests, replays)


def _layout(policy: Policy) -> _Layout:
    return _LAYOUTS.get((policy,), lambda: _layout_of(policy))


def _layout_of(policy: Policy) -> _Layout:
    strata, _ = flag_strata(policy.rules)
    groups: list[tuple[CompiledRule, ...]] = []
    ends: set[int] = set()
    for layer in sorted({r.layer for r in policy.rules if r.enabled}):
        layer_rules = [r for r in policy.rules if r.layer == layer and r.enabled]
        groups.extend(tuple(g) for g in in_strata(layer_rules, strata))
        ends.add(len(groups) - 1)
    by_kind: dict[str, list[CompiledRule]] = {}
    for rule in policy.rules:
        by_kind.setdefault(rule.subject.value, []).append(rule)
    return _Layout(
        tuple(groups),
        frozenset(ends),
        rule_sources(policy),
        {r.id: i for i, r in enumerate(policy.rules)},
        {k: tuple(v) for k, v in by_kind.items()},
        tuple(sorted({r.flag for r in policy.rules if r.flag})),
        TraceCache(by_kind),
    )


def evaluate_layers(policy: Policy, world: World, evaluator: Evaluator) -> tuple[list[Match], dict[str, bool]]:
    """Stratified evaluation: layer by layer, and inside a layer by flag dependencies (a
    rule reading a flag runs after the rules of its layer that set it). Every match comes
    back in the deterministic order (layer, priority, id, row); and the final flags."""
    layout = _layout(policy)
    flags = dict.fromkeys(layout.flag_names, False)
    matches: list[Match] = []
    layer_matches: list[Match] = []
    rows = _RowsUnderFlags(world)
    for index, rules in enumerate(layout.strata):
        found = _evaluate(rules, world, evaluator, layout.deps, rows.under(flags))
        layer_matches.extend(found)
        for m in found:
            if m.rule.flag:
                flags[m.rule.flag] = True
        if index in layout.layer_ends:
            order = layout.order
            matches.extend(sorted(layer_matches, key=lambda m: order[m.rule.id]))  # stable: rows keep their order
            layer_matches = []
    return matches, flags


class _RowsUnderFlags:
    """The world's rows seen with the flags set so far. While no flag changes, every
    stratum sees the same rows (built once, not once per stratum)."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._flags: dict[str, bool] | None = None
        self._rows: dict[str, list[Row]] = {}
        self._torrents: dict[int, Row] = {}  # torrent rows wrapped so far, by position
        self.shared: dict[str, Scalar | None] = {}

    def under(self, flags: dict[str, bool]) -> _RowsUnderFlags:
        if flags != self._flags:
            self._flags = dict(flags)
            self.shared = {**self._world.shared, **{f"flags.{k}": v for k, v in flags.items()}}
            self._rows = {}
            self._torrents = {}
        return self

    def of(self, kind: str) -> list[Row]:
        found = self._rows.get(kind)
        if found is None:
            found = self._rows[kind] = [row.with_shared(self.shared) for row in _rows_of(self._world, kind)]
        return found

    def may_match(self, kind: str, rules: Sequence[CompiledRule]) -> list[Row]:
        """The rows of ``kind`` that one of ``rules`` could match, in order. Torrent rows
        come by class (``engine.world.torrent_rows``): a class on whose values (and the
        cycle-wide ones) every rule is false is passed over without building its rows."""
        table = self._world.torrent_rows
        if kind != "torrent" or not isinstance(table, TorrentRows) or kind in self._rows:
            return self.of(kind)
        positions: list[int] = []
        for values, members in table.classes().values():
            if any(settled(rule.condition, values, self.shared, kind) is not False for rule in rules):
                positions.extend(members)
        positions.sort()
        wrapped, out = self._torrents, []
        for i in positions:
            row = wrapped.get(i)
            if row is None:
                row = wrapped[i] = table[i].with_shared(self.shared)
            out.append(row)
        return out


def _evaluate(
    rules: Sequence[CompiledRule],
    world: World,
    evaluator: Evaluator,
    deps: dict[str, frozenset[Source]],
    rows_now: _RowsUnderFlags,
) -> list[Match]:
    gapped = {r.id for r in rules if deps[r.id] & world.gapped}
    live = [r for r in rules if r.id not in gapped]
    rows = {
        kind: rows_now.may_match(kind, [r for r in live if r.subject.value == kind])
        for kind in {r.subject.value for r in rules}
    }
    found: dict[str, set[str]] = {}
    for rule_id, row_id in evaluator.match(live, [row for kind_rows in rows.values() for row in kind_rows]):
        found.setdefault(rule_id, set()).add(row_id)
    out: list[Match] = []
    for rule in rules:
        if rule.id in gapped:
            if rule.flag or rule.block:  # fail closed: taken as matched on every row
                out.extend(Match(rule, row, forced=True) for row in rows_now.of(rule.subject.value))
            continue
        hits = found.get(rule.id)
        if hits:
            out.extend(Match(rule, row) for row in rows[rule.subject.value] if row.id in hits)
    return out


def _ladder(candidate: Candidate | None) -> dict[str, object]:
    if candidate is None:
        return {}
    s = candidate.selection
    out: dict[str, object] = {
        "release_id": s.chosen.id,
        "parts": s.key.named(),
        "selection": s.reason,
        "considered": s.considered,
        "rejected": {rid: why.reason for rid, why in s.rejected},
    }
    if s.versus is not None:
        out["decided_by"] = {"step": s.versus.step, "chosen": s.versus.winner, "runner_up": s.versus.loser}
    if candidate.library_key is not None:
        out["library_parts"] = candidate.library_key.named()
    return out


@contextmanager
def _cyclic_collector_paused() -> Iterator[None]:
    """A decision allocates hundreds of thousands of short-lived rows, dicts and records
    that reference counting frees; the cyclic collector would walk every live object
    again and again meanwhile (a quarter to half of a 10k-torrent decision). Paused for
    the call, and only resumed by the call that paused it (threads may overlap)."""
    paused_here = gc.isenabled()
    if paused_here:
        gc.disable()
    try:
        yield
    finally:
        if paused_here:
            gc.enable()


def decide(policy: Policy, snapshot: FactSnapshot, *, now: datetime, evaluator: Evaluator = REFERENCE) -> DecisionBatch:
    """Decide what to do about ``snapshot`` under ``policy`` at ``now``."""
    with _cyclic_collector_paused():
        return _decide(policy, snapshot, now, evaluator)


def _decide(policy: Policy, snapshot: FactSnapshot, now: datetime, evaluator: Evaluator) -> DecisionBatch:
    world = build_world(policy, snapshot, now)
    matches, flags = evaluate_layers(policy, world, evaluator)
    ledger = Ledger.open(policy, world, snapshot.memory)
    verdicts = plan(policy, world, matches, ledger)
    candidates = {c.row.id: c for c in world.candidates}
    final_shared = {**world.shared, **{f"flags.{k}": v for k, v in flags.items()}}
    cache = _layout(policy).traces
    traces: dict[tuple[str, str], tuple[dict[str, object], ...]] = {}
    ladders: dict[str, dict[str, object]] = {}

    def trace_of(row: Row) -> tuple[dict[str, object], ...]:
        key = (row.kind, row.id)
        if key not in traces:
            traces[key] = cache.traces(row.with_shared(final_shared))
        return traces[key]

    def ladder_of(row: Row) -> dict[str, object]:
        if row.kind != "candidate":
            return {}
        if row.id not in ladders:
            ladders[row.id] = _ladder(candidates.get(row.id))
        return ladders[row.id]

    records: list[DecisionRecord] = []
    items: list[Match | Verdict] = [*(m for m in matches if m.rule.flag or m.rule.block), *verdicts]
    for item in items:
        row = item.row if isinstance(item, Match) else item.match.row
        records.append(record_for(policy, now, item, trace_of(row), ladder_of(row)))
    for skipped in world.skipped:
        records.append(
            DecisionRecord.trusted(
                decision_id=decision_id(policy.content_hash, now, None, "candidate", skipped.book_key, skipped.reason),
                policy_hash=policy.content_hash,
                decided_at=now,
                subject_kind="candidate",
                subject_id=skipped.book_key,
                outcome="skipped",
                reason=skipped.reason,
                facts={"detail": skipped.detail},
                section="§5",
            )
        )
    planned = [v for v in verdicts if isinstance(v, Verdict) and v.outcome == "planned"]
    return DecisionBatch(
        policy_hash=policy.content_hash,
        decided_at=now,
        evaluator=evaluator.name,
        actions=tuple(a for v in planned for a in v.actions),
        records=tuple(records),
        flags=tuple(k for k, v in flags.items() if v),
        gapped_sources=tuple(sorted(s.value for s in world.gapped)),
    )
