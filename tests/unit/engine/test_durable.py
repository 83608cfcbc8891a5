"""The durable-rules evaluator on the semantics that are easy to get wrong: unknown values
with ne/not_in, True versus 1, "1" versus 1, in/not_in across kinds, numbers at the
millionth, many rows, many rule sets, and no dispatcher threads."""

from __future__ import annotations

import threading

import pytest

from mamcrawler.engine import ReferenceEvaluator
from mamcrawler.engine.policy.compiled import CompiledRule
from mamcrawler.engine.policy.vocabulary import Concern, SubjectKind
from mamcrawler.engine.rules.durable import DurableEvaluator
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import NOWHERE, AllOf, AnyOf, Compare, Node, Op, Scalar

DURABLE, REFERENCE = DurableEvaluator(), ReferenceEvaluator()


def rule(condition: Node, rule_id: str = "r") -> CompiledRule:
    return CompiledRule(
        id=rule_id,
        concern=Concern.SEEDING,
        layer=3,
        priority=1,
        subject=SubjectKind.TORRENT,
        description="t",
        condition=condition,
        reason="t",
        flag=None,
        block=None,
        actions=(),
        location=NOWHERE,
    )


def row(value: Scalar | None, row_id: str = "t1") -> Row:
    return Row("torrent", row_id, {"torrent.x": value}, {})


CASES: list[tuple[Op, object, Scalar | None, bool]] = [
    (Op.NE, 5, None, False),
    (Op.NOT_IN, (5,), None, False),
    (Op.EQ, 1, True, False),
    (Op.EQ, True, 1, False),
    (Op.EQ, "1", 1, False),
    (Op.NE, 1, True, False),
    (Op.NOT_IN, (1,), True, True),
    (Op.IN, (1, "a", True), "a", True),
    (Op.IN, (1, "a", True), False, False),
    (Op.LT, 1.0000004, 1, False),  # equal at the millionth
    (Op.LT, 1.000001, 1, True),
    (Op.GE, -0.0, 0, True),
    (Op.LT, "b", "a", False),  # ordering only on numbers
    (Op.EQ, "Überbuch", "Überbuch", True),
    (Op.EQ, 2**40, 2**40, True),
]


@pytest.mark.parametrize(("op", "expected", "actual", "fires"), CASES)
def test_semantics_match_the_reference(op: Op, expected: object, actual: Scalar | None, fires: bool) -> None:
    rules = [rule(Compare("torrent.x", op, expected))]  # type: ignore[arg-type]
    assert DURABLE.match(rules, [row(actual)]) == REFERENCE.match(rules, [row(actual)])
    assert bool(DURABLE.match(rules, [row(actual)])) is fires


def test_many_rows_and_rule_sets_without_thread_growth() -> None:
    condition = AnyOf((Compare("torrent.x", Op.GT, 10), AllOf((Compare("torrent.x", Op.LT, 0),))))
    rows = [row(i - 50, f"t{i}") for i in range(200)]
    DURABLE.match([rule(condition)], rows)
    threads = threading.active_count()
    for i in range(20):
        rules = [rule(Compare("torrent.x", Op.EQ, i), f"r{i}"), rule(condition, "c")]
        assert DURABLE.match(rules, rows) == REFERENCE.match(rules, rows)
    assert threading.active_count() == threads
