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


# --- what is reused between calls: own values encoded once, shared values per call -------


def agree(rules: list[CompiledRule], rows: list[Row]) -> set[tuple[str, str]]:
    fired = DURABLE.match(rules, rows)
    assert fired == REFERENCE.match(rules, rows)
    return fired


def test_own_values_that_change_under_the_same_row_id_are_encoded_again() -> None:
    rules = [rule(Compare("torrent.x", Op.EQ, 1))]
    for value, fires in [(1, True), (2, False), (True, False), (1.0, True), (None, False), ("1", False), (1, True)]:
        assert bool(agree(rules, [row(value)])) is fires, value


def test_an_evaluator_never_mixes_up_own_mappings_made_and_freed_in_turn() -> None:
    # each call's own mapping is freed after the next one: ids get reused by CPython
    rules = [rule(Compare("torrent.x", Op.GE, 2))]
    evaluator = DurableEvaluator()
    for i in range(60):
        value = i % 4
        assert evaluator.match(rules, [row(value)]) == ({("r", "t1")} if value >= 2 else set())


def test_one_own_mapping_under_two_row_ids_fires_for_each() -> None:
    own = {"torrent.x": 7}
    rows = [Row("torrent", "a", own, {}), Row("torrent", "b", own, {})]
    assert agree([rule(Compare("torrent.x", Op.EQ, 7))], rows) == {("r", "a"), ("r", "b")}


def flagged(flag: bool, rows: list[Row]) -> list[Row]:
    shared: dict[str, Scalar | None] = {"account.ratio": 1.5, "flags.freeze": flag}
    return [r.with_shared(shared) for r in rows]


def test_strata_over_the_same_rows_see_their_own_flags() -> None:
    # as in decide: the same own mappings, a new shared mapping (flags) for every stratum
    gated = rule(AllOf((Compare("flags.freeze", Op.EQ, True), Compare("torrent.x", Op.GT, 0))), "gated")
    mixed = rule(AnyOf((Compare("flags.freeze", Op.EQ, False), Compare("torrent.x", Op.EQ, 3))), "mixed")
    base = [row(i, f"t{i}") for i in range(5)]
    for flag in (False, True, True, False, True):
        fired = agree([gated, mixed], flagged(flag, base))
        assert {r for r, _ in fired} == ({"gated", "mixed"} if flag else {"mixed"})


def test_rows_of_one_call_with_different_shared_values() -> None:
    gated = rule(AllOf((Compare("flags.freeze", Op.EQ, True), Compare("torrent.x", Op.GE, 0))))
    base = [row(i, f"t{i}") for i in range(4)]
    rows = flagged(True, base[:2]) + flagged(False, base[2:])
    assert agree([gated], rows) == {("r", "t0"), ("r", "t1")}


def test_no_rule_whose_shared_part_holds_fires_nothing() -> None:
    rules = [rule(AllOf((Compare("flags.freeze", Op.EQ, True), Compare("torrent.x", Op.GE, 0))))]
    assert agree(rules, flagged(False, [row(1)])) == set()


def test_a_fact_keeps_to_durables_cap_when_earlier_calls_read_many_own_fields() -> None:
    # own values are encoded for every field any rule matched so far reads (200 here); with
    # the 60 shared values a later call reads that is over durable's 254 properties per
    # fact, so that row is sent with the later call's fields only
    evaluator = DurableEvaluator()
    names = [f"torrent.f{i}" for i in range(200)]
    own: dict[str, Scalar | None] = {name: i for i, name in enumerate(names)}
    shared: dict[str, Scalar | None] = {f"account.a{i}": i for i in range(60)}
    rows = [Row("torrent", "t1", own, shared)]
    wide = rule(AllOf(tuple(Compare(name, Op.GE, 0) for name in names)), "wide")
    assert evaluator.match([wide], rows) == {("wide", "t1")}
    many = rule(AllOf((*(Compare(f, Op.GE, 0) for f in shared), Compare("torrent.f3", Op.EQ, 3))), "many")
    assert evaluator.match([many], rows) == REFERENCE.match([many], rows) == {("many", "t1")}


def test_calls_where_nothing_matches_leave_no_state_behind() -> None:
    # durable keeps 1024 sessions per ruleset: one left behind per call would fail the
    # 1025th call with the same rules (a daemon cycle, days in); and deleting a session
    # in which no rule ever fired could abort the process (see durable._Session)
    plain = [rule(Compare("torrent.x", Op.EQ, 5))]
    gated = [rule(AllOf((Compare("account.ratio", Op.GT, 1), Compare("torrent.x", Op.EQ, 5))))]
    never = [rule(AllOf((Compare("account.ratio", Op.GT, 9), Compare("torrent.x", Op.EQ, 5))))]
    rows = [Row("torrent", "t1", {"torrent.x": 1}, {"account.ratio": 1.5})]
    for _ in range(1100):
        assert DURABLE.match(plain, rows) == DURABLE.match(gated, rows) == DURABLE.match(never, rows) == set()
    assert DURABLE.match(plain, [row(5)]) == {("r", "t1")}
