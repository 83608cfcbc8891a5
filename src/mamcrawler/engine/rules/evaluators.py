"""The evaluator interface and the plain-Python **reference evaluator**.

An evaluator answers one question: which (rule, row) pairs match. The reference evaluator
also explains: for every condition it records the actual value, the expected value, the
result and a stable reason code — the explanation of why a rule did or did not match.
The durable-rules evaluator (``engine.durable``) must fire exactly the same pairs; a
property test holds them to it. Imports ``engine.rules``, ``engine.rows`` and
``engine.compiled``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from mamcrawler.engine.memo import IdentityMemo
from mamcrawler.engine.policy.compiled import CompiledRule
from mamcrawler.engine.rules.codegen import generated_predicate
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import AllOf, AnyOf, Compare, Node, Op, Scalar, Value, compare, leaf_test


class Evaluator(Protocol):
    """Finds the matching (rule id, row id) pairs; rows are all of the rules' subject kinds."""

    name: str

    def match(self, rules: Sequence[CompiledRule], rows: Sequence[Row]) -> set[tuple[str, str]]: ...


@dataclass(frozen=True)
class ConditionTrace:
    """One leaf: ``fact op expected`` was ``result`` because ``reason``."""

    fact: str
    op: str
    expected: Value
    actual: Scalar | None
    result: bool
    reason: str  # condition_met | condition_not_met | fact_unavailable | kind_mismatch
    param: str | None
    location: str

    def to_dict(self) -> dict[str, object]:
        return {
            "fact": self.fact,
            "op": self.op,
            "expected": list(self.expected) if isinstance(self.expected, tuple) else self.expected,
            "actual": self.actual,
            "result": self.result,
            "reason": self.reason,
            "param": self.param,
            "at": self.location,
        }


@dataclass(frozen=True)
class RuleTrace:
    """One rule against one row: matched or not, and every leaf it looked at."""

    rule_id: str
    matched: bool
    reason: str  # rule_matched | <first failing leaf's reason> | fact_unavailable …
    conditions: tuple[ConditionTrace, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule_id,
            "matched": self.matched,
            "reason": self.reason,
            "conditions": [c.to_dict() for c in self.conditions],
        }


def _leaf_reason(leaf: Compare, actual: Scalar | None, result: bool) -> str:
    if actual is None:
        return "fact_unavailable"
    if result:
        return "condition_met"
    probe = leaf.value[0] if isinstance(leaf.value, tuple) and leaf.value else leaf.value
    if not isinstance(probe, tuple) and type(actual) is not type(probe):
        numbers = isinstance(actual, int | float) and isinstance(probe, int | float)
        if not numbers or isinstance(actual, bool) or isinstance(probe, bool):
            return "kind_mismatch"
    return "condition_not_met"


def explain_node(node: Node, row: Row, out: list[ConditionTrace]) -> bool:
    """Evaluate with a full trace (every leaf, no short-circuit, so "why not" is complete)."""
    if isinstance(node, Compare):
        actual = row.get(node.fact)
        result = compare(actual, node.op, node.value)
        out.append(
            ConditionTrace(
                node.fact,
                node.op.value,
                node.value,
                actual,
                result,
                _leaf_reason(node, actual, result),
                node.param,
                str(node.location),
            )
        )
        return result
    results = [explain_node(child, row, out) for child in node.children]
    return all(results) if isinstance(node, AllOf) else any(results)


def explain(rule: CompiledRule, row: Row) -> RuleTrace:
    leaves: list[ConditionTrace] = []
    matched = explain_node(rule.condition, row, leaves)
    if matched:
        reason = "rule_matched"
    else:
        failing = [c for c in leaves if not c.result]
        reason = next((c.reason for c in failing if c.reason == "fact_unavailable"), None) or (
            failing[0].reason if failing else "condition_not_met"
        )
    return RuleTrace(rule.id, matched, reason, tuple(leaves))


RowTest = Callable[[Row], bool]


def predicate(node: Node) -> RowTest:
    """A condition tree as one Python closure (leaves specialised by ``leaf_test``)."""
    if isinstance(node, Compare):
        test, fact = leaf_test(node), node.fact
        return lambda row: test(row.get(fact))
    children = tuple(predicate(c) for c in node.children)
    if len(children) == 1:
        return children[0]
    # Plain loops, not all()/any() over a generator: this runs for every row of every rule.
    if isinstance(node, AllOf):

        def all_of(row: Row) -> bool:
            for child in children:  # noqa: SIM110 — see above
                if not child(row):
                    return False
            return True

        return all_of
    assert isinstance(node, AnyOf)

    def any_of(row: Row) -> bool:
        for child in children:  # noqa: SIM110 — see above
            if child(row):
                return True
        return False

    return any_of


def split_shared(node: Node, kind: str) -> tuple[Node | None, Node | None]:
    """``(shared, own)``: the children of a top-level ``all`` that read only cycle-wide facts
    (not ``<kind>.*``), and the rest. ``all(shared) and all(own)`` is the condition."""
    own_prefix = f"{kind}."
    children = node.children if isinstance(node, AllOf) else (node,)
    reads_own = [any(f.startswith(own_prefix) for f in leaf_facts(c)) for c in children]
    shared = tuple(c for c, mine in zip(children, reads_own, strict=True) if not mine)
    own = tuple(c for c, mine in zip(children, reads_own, strict=True) if mine)
    return (AllOf(shared) if shared else None), (AllOf(own) if own else None)


def _fast(node: Node) -> RowTest:
    """The generated function for ``node`` (``engine.rules.codegen``), or its closures."""
    return generated_predicate(node) or predicate(node)


class ReferenceEvaluator:
    """Plain Python predicates over rows; the simulator's default for speed."""

    name = "reference"

    def __init__(self) -> None:
        # policies come and go (edits, tests): bounded
        self._compiled: IdentityMemo[tuple[RowTest | None, RowTest | None]] = IdentityMemo(10_000)

    def _tests(self, rule: CompiledRule) -> tuple[RowTest | None, RowTest | None]:
        """The rule's (shared, own) predicates, built once per rule object."""

        def make() -> tuple[RowTest | None, RowTest | None]:
            shared, own = split_shared(rule.condition, rule.subject.value)
            return (_fast(shared) if shared else None, _fast(own) if own else None)

        return self._compiled.get((rule,), make)

    def match(self, rules: Sequence[CompiledRule], rows: Sequence[Row]) -> set[tuple[str, str]]:
        # Rows by kind, then by their mapping of cycle-wide values (rows of one cycle share
        # one): the part of an ``all`` that reads only cycle-wide facts is the same for every
        # row of such a group, so it is evaluated once per group, not once per row.
        groups: dict[str, dict[int, list[Row]]] = {}
        kind, shared, current = "", None, None  # rows come in runs of one kind and mapping
        for row in rows:
            if current is None or row.kind is not kind or row.shared is not shared:
                kind, shared = row.kind, row.shared
                current = groups.setdefault(kind, {}).setdefault(id(shared), [])
            current.append(row)
        found: set[tuple[str, str]] = set()
        for rule in rules:
            kind_groups = groups.get(rule.subject.value)
            if not kind_groups:
                continue
            shared_test, test = self._tests(rule)
            rule_id = rule.id
            for group in kind_groups.values():
                if shared_test is not None and not shared_test(group[0]):
                    continue
                if test is None:
                    found.update((rule_id, row.id) for row in group)
                else:
                    found.update((rule_id, row.id) for row in group if test(row))
        return found


REFERENCE = ReferenceEvaluator()

__all__ = [
    "REFERENCE",
    "ConditionTrace",
    "Evaluator",
    "Op",
    "ReferenceEvaluator",
    "RuleTrace",
    "TraceCache",
    "evaluator_named",
    "explain",
    "leaf_facts",
]


def leaf_facts(node: Node) -> tuple[str, ...]:
    """Every fact a condition reads, in leaf order (repeats kept: the key stays positional)."""
    if isinstance(node, Compare):
        return (node.fact,)
    return tuple(f for child in node.children for f in leaf_facts(child))


class TraceCache:
    """Rule traces as dicts, shared between rows that show a rule the same values: a trace
    depends only on the rule and the values of the facts it reads (types included, so
    ``1`` and ``True`` stay apart). Kept per policy: a row showing its kind's rules the
    same values as in an earlier cycle gets that cycle's traces in one lookup; any other
    row is explained rule by rule, each rule once per set of values. Bounded. The dicts
    are shared between records: never mutate them."""

    _LIMIT = 20_000

    def __init__(self, rules_by_kind: Mapping[str, Sequence[CompiledRule]]) -> None:
        self._rules = {
            kind: tuple((rule, leaf_facts(rule.condition)) for rule in rules) for kind, rules in rules_by_kind.items()
        }
        self._facts = {
            kind: tuple(dict.fromkeys(f for _, facts in rules for f in facts)) for kind, rules in self._rules.items()
        }
        self._rows: dict[tuple[object, ...], tuple[dict[str, object], ...]] = {}
        self._by_rule: dict[tuple[object, ...], dict[str, object]] = {}

    def traces(self, row: Row) -> tuple[dict[str, object], ...]:
        """Every rule of the row's kind, explained against the row, in policy order."""
        values = tuple(row.get(f) for f in self._facts.get(row.kind, ()))
        key = (row.kind, values, tuple(map(type, values)))
        found = self._rows.get(key)
        if found is None:
            if len(self._rows) >= self._LIMIT:
                self._rows.clear()
            found = self._rows[key] = tuple(
                self._trace(rule, facts, row) for rule, facts in self._rules.get(row.kind, ())
            )
        return found

    def _trace(self, rule: CompiledRule, facts: tuple[str, ...], row: Row) -> dict[str, object]:
        key = (rule.id, tuple((type(v), v) for v in (row.get(f) for f in facts)))
        found = self._by_rule.get(key)
        if found is None:
            if len(self._by_rule) >= self._LIMIT:
                self._by_rule.clear()
            found = self._by_rule[key] = explain(rule, row).to_dict()
        return found


def evaluator_named(name: str) -> Evaluator:
    """``reference`` or ``durable`` (durable-rules is imported only when asked for)."""
    if name == "durable":
        from mamcrawler.engine.rules.durable import DurableEvaluator

        return DurableEvaluator()
    if name != "reference":
        raise ValueError(f"unknown evaluator {name!r}; reference or durable")
    return REFERENCE
