"""Both evaluators fire exactly the same (rule, row) pairs, and the reference evaluator's
specialised leaf tests agree with the one ``compare`` semantics — on random rule trees over
random rows (wrong kinds and unknowns included), on successive calls over the same rows (as
decide's strata and cycles make them: what the durable evaluator reuses between calls), and
on the default policy over random fact snapshots, where whole decision batches must be
identical."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from strategies import FIELDS, NOW, compiled_rules, leaves, policies, rows, scalars, snapshots

from mamcrawler.engine import Policy, ReferenceEvaluator, decide
from mamcrawler.engine.policy.compiled import CompiledRule
from mamcrawler.engine.rules.durable import DurableEvaluator
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import Compare, Scalar, compare, leaf_test
from mamcrawler.facts import FactSnapshot

REFERENCE, DURABLE = ReferenceEvaluator(), DurableEvaluator()


@given(compiled_rules(), rows())
def test_random_rules_fire_identically(rules: list[CompiledRule], facts: list[Row]) -> None:
    assert DURABLE.match(rules, facts) == REFERENCE.match(rules, facts)


shared_values = st.fixed_dictionaries({f: st.none() | scalars for f in FIELDS if f.startswith("account.")})


@given(rows(), st.lists(st.tuples(compiled_rules(), shared_values, st.booleans()), min_size=1, max_size=4), st.data())
def test_successive_calls_over_the_same_rows_fire_identically(
    facts: list[Row], calls: list[tuple[list[CompiledRule], dict[str, Scalar | None], bool]], data: st.DataObject
) -> None:
    # a stratum keeps every row's own mapping and brings new shared values; a new cycle
    # (``fresh``) brings new own mappings, with new values, under the same row ids
    for rules, shared, fresh in calls:
        if fresh:
            facts = [Row(r.kind, r.id, {f: data.draw(st.none() | scalars) for f in r.own}, r.shared) for r in facts]
        stratum = [r.with_shared(shared) for r in facts]
        assert DURABLE.match(rules, stratum) == REFERENCE.match(rules, stratum)


@given(policies, snapshots())
def test_default_policy_decides_identically(policy: Policy, snapshot: FactSnapshot) -> None:
    by_reference = decide(policy, snapshot, now=NOW, evaluator=REFERENCE)
    by_durable = decide(policy, snapshot, now=NOW, evaluator=DURABLE)
    assert by_durable.model_dump(exclude={"evaluator"}) == by_reference.model_dump(exclude={"evaluator"})


@given(leaves(), st.lists(st.none() | scalars, max_size=8))
def test_specialised_leaf_tests_agree_with_compare(leaf: Compare, actuals: list[object]) -> None:
    test = leaf_test(leaf)
    for actual in actuals:
        assert test(actual) == compare(actual, leaf.op, leaf.value), (actual, leaf)  # type: ignore[arg-type]
