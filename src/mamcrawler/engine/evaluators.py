"""The evaluator interface and the plain-Python **reference evaluator**.

An evaluator answers one question: which (rule, row) pairs match. The reference evaluator
also explains: for every condition it records the actual value, the expected value, the
result and a stable reason code — the explanation of why a rule did or did not match.
The durable-rules evaluator (``engine.durable``) must fire exactly the same pairs; a
property test holds them to it. Imports ``engine.rules``, ``engine.rows`` and
``engine.compiled``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mamcrawler.engine.compiled import CompiledRule
from mamcrawler.engine.rows import Row
from mamcrawler.engine.rules import AllOf, AnyOf, Compare, Node, Op, Scalar, Value, compare


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


def _fast(node: Node, row: Row) -> bool:
    if isinstance(node, Compare):
        return compare(row.get(node.fact), node.op, node.value)
    if isinstance(node, AllOf):
        return all(_fast(c, row) for c in node.children)
    assert isinstance(node, AnyOf)
    return any(_fast(c, row) for c in node.children)


class ReferenceEvaluator:
    """Plain Python predicates over rows; the simulator's default for speed."""

    name = "reference"

    def match(self, rules: Sequence[CompiledRule], rows: Sequence[Row]) -> set[tuple[str, str]]:
        by_kind: dict[str, list[Row]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, []).append(row)
        found: set[tuple[str, str]] = set()
        for rule in rules:
            for row in by_kind.get(rule.subject.value, ()):
                if _fast(rule.condition, row):
                    found.add((rule.id, row.id))
        return found


REFERENCE = ReferenceEvaluator()

__all__ = ["REFERENCE", "ConditionTrace", "Evaluator", "Op", "ReferenceEvaluator", "RuleTrace", "explain"]
