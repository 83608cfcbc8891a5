"""The reference evaluator's generated condition functions (``engine.rules.codegen``) give
exactly the one ``compare`` semantics on random rule trees over random rows, treat what a
policy writes as data only, and fall back to closures for trees too deep to generate."""

from __future__ import annotations

from hypothesis import given
from strategies import compiled_rules, rows

from mamcrawler.engine.policy.compiled import CompiledRule
from mamcrawler.engine.policy.vocabulary import Concern, SubjectKind
from mamcrawler.engine.rules.codegen import generated_predicate
from mamcrawler.engine.rules.evaluators import ReferenceEvaluator
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import NOWHERE, AllOf, AnyOf, Compare, Node, Op, evaluate


@given(compiled_rules(), rows())
def test_generated_functions_agree_with_compare(rules: list[CompiledRule], facts: list[Row]) -> None:
    for rule in rules:
        generated = generated_predicate(rule.condition)
        assert generated is not None
        for row in facts:
            assert generated(row) == evaluate(rule.condition, row), (rule.condition, row.flat())


def _row(own: dict[str, object]) -> Row:
    return Row("torrent", "t1", own, {"account.ratio": 1.5})  # type: ignore[arg-type]


def test_fact_names_and_values_are_data_not_code() -> None:
    hostile = "x') or __import__('os').system('false') or ('"
    node = AllOf((Compare(hostile, Op.EQ, hostile), Compare("torrent.n", Op.GE, 2)))
    generated = generated_predicate(node)
    assert generated is not None
    assert generated(_row({hostile: hostile, "torrent.n": 2})) is True
    assert generated(_row({hostile: "other", "torrent.n": 2})) is False


def test_kinds_stay_apart_and_unknown_is_false() -> None:
    generated = generated_predicate(AnyOf((Compare("torrent.n", Op.EQ, 1), Compare("torrent.b", Op.EQ, True))))
    assert generated is not None
    assert generated(_row({"torrent.n": True, "torrent.b": 1})) is False  # True is not 1, 1 is not True
    assert generated(_row({"torrent.n": None, "torrent.b": None})) is False
    assert generated(_row({"torrent.n": 1.0000001, "torrent.b": False})) is True  # whole millionths
    assert generated(_row({})) is False  # neither own nor shared: unknown


def test_shared_values_are_read_when_the_row_has_none() -> None:
    generated = generated_predicate(Compare("account.ratio", Op.GT, 1.0))
    assert generated is not None and generated(_row({})) is True


def test_a_tree_too_deep_keeps_its_closures_and_still_decides() -> None:
    node: Node = Compare("torrent.n", Op.GE, 1)
    for _ in range(300):
        node = AllOf((node, Compare("torrent.n", Op.LT, 10)))
    assert generated_predicate(node) is None
    rule = CompiledRule(
        id="deep",
        concern=Concern.SEEDING,
        layer=3,
        priority=100,
        subject=SubjectKind.TORRENT,
        description="deep",
        condition=node,
        reason="deep",
        flag=None,
        block=None,
        actions=(),
        location=NOWHERE,
    )
    found = ReferenceEvaluator().match([rule], [_row({"torrent.n": 5}), Row("torrent", "t2", {"torrent.n": 11}, {})])
    assert found == {("deep", "t1")}
