"""Invariants of decide() that must hold for any facts (issue 2, "Must show").

Each property draws a small world from ``strategies.snapshots`` — biased to the SPEC's
boundaries — and a policy variant, runs the pure ``decide`` and states a "never" or
"always": VIP is never put at risk, no paid download at the ratio floor, free wins at
equal quality, the ladder is a strict weak order, order and gaps never add decisions,
nothing is removed without the four §10 conditions, caps hold."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import GIB, NOW, gappable_sources, policies, releases, snapshots, with_gap

from mamcrawler.engine import Policy, decide
from mamcrawler.engine.actions import AddTorrent, BuyPersonalFreeleech, BuyUploadCredit, BuyVip, RemoveTorrent
from mamcrawler.engine.books.ladder import LadderKey, ladder_key, rejection
from mamcrawler.engine.books.selection import Selection, select_release
from mamcrawler.engine.guards import removal_allowed
from mamcrawler.engine.policy.params import LadderStep
from mamcrawler.engine.world.derive import build_world
from mamcrawler.facts import FactSnapshot, Release


def _vip_days(snapshot: FactSnapshot) -> float:
    until = snapshot.account.vip_until
    return max(0.0, (until - NOW).total_seconds() / 86400) if until else 0.0


@given(policies, snapshots())
def test_non_vip_spending_never_dips_below_renewal_plus_reserve(policy: Policy, snapshot: FactSnapshot) -> None:
    batch = decide(policy, snapshot, now=NOW)
    world = build_world(policy, snapshot, NOW)
    protected = world.shared["account.protected_points"]
    balance = snapshot.account.bonus_points
    for action in batch.actions:
        if isinstance(action, BuyVip | BuyUploadCredit | BuyPersonalFreeleech):
            assert balance is not None
            balance -= action.points()
            assert balance >= 0
            if not isinstance(action, BuyVip):
                assert isinstance(protected, int)
                assert balance >= protected


@given(policies, snapshots(), st.sampled_from([0.0, 1.0, 6.99]) | st.floats(0, 6.99))
def test_nothing_but_vip_is_bought_while_vip_is_at_risk(policy: Policy, snapshot: FactSnapshot, days: float) -> None:
    # VIP is put at risk (days below the floor) rather than filtered down to it
    snapshot = snapshot.model_copy(
        update={"account": snapshot.account.model_copy(update={"vip_until": NOW + timedelta(days=days)})}
    )
    assume(_vip_days(snapshot) < policy.vip.floor_days)
    batch = decide(policy, snapshot, now=NOW)
    assert not [a for a in batch.actions if isinstance(a, BuyUploadCredit | BuyPersonalFreeleech)]
    assert not [a for a in batch.actions if isinstance(a, AddTorrent) and not a.free]


@given(policies, snapshots(), st.sampled_from([0.9, 1.0, 1.05]) | st.floats(0.3, 1.05))
def test_at_or_near_the_floor_no_paid_or_ratio_costing_download(
    policy: Policy, snapshot: FactSnapshot, ratio: float
) -> None:
    downloaded = snapshot.account.downloaded_bytes or GIB
    account = snapshot.account.model_copy(update={"ratio": ratio, "uploaded_bytes": int(downloaded * ratio)})
    snapshot = snapshot.model_copy(update={"account": account})
    assume(ratio <= policy.ratio.floor + policy.ratio.margin)
    batch = decide(policy, snapshot, now=NOW)
    assert not [a for a in batch.actions if isinstance(a, AddTorrent) and not a.free]
    assert not [a for a in batch.actions if isinstance(a, AddTorrent) and "ratio_costing" in a.intrinsic_tags()]


@given(policies, snapshots(), st.floats(0.3, 0.999), st.floats(7, 89))
def test_below_the_floor_no_personal_freeleech_unless_vip_at_risk(
    policy: Policy, snapshot: FactSnapshot, ratio: float, days: float
) -> None:
    # the world is put below the floor with VIP safe, rather than filtered down to it
    downloaded = snapshot.account.downloaded_bytes or GIB
    account = snapshot.account.model_copy(
        update={"ratio": ratio, "uploaded_bytes": int(downloaded * ratio), "vip_until": NOW + timedelta(days=days)}
    )
    snapshot = snapshot.model_copy(update={"account": account})
    assume(ratio < policy.ratio.floor and _vip_days(snapshot) >= policy.vip.floor_days)
    batch = decide(policy, snapshot, now=NOW)
    assert not [a for a in batch.actions if isinstance(a, BuyPersonalFreeleech)]


def _quality(key: LadderKey) -> tuple[int, ...]:
    return tuple(p for step, p in zip(key.steps, key.parts, strict=True) if step is not LadderStep.SEEDERS)


@given(st.lists(releases("rx", "dune|frank herbert"), min_size=1, max_size=6), policies)
def test_free_beats_paid_at_equal_ladder_key_in_tie_break_mode(drawn: list[Release], policy: Policy) -> None:
    rels = [r.model_copy(update={"id": f"r{i}"}) for i, r in enumerate(drawn)]
    result = select_release(rels, policy.quality, policy.free_first)
    assume(isinstance(result, Selection))
    assert isinstance(result, Selection)
    passing = [r for r in rels if rejection(r, policy.quality) is None]
    if not result.chosen.is_free:  # a paid release wins only by being strictly better than every free one
        passing_free = [r for r in passing if r.is_free]
        if policy.free_first.mode == "floor":
            assert not passing_free
        for other in passing_free:
            assert _quality(result.key) > _quality(ladder_key(other, policy.quality))
    elif policy.free_first.mode == "tie_break":  # a free release wins: no paid one is strictly better
        for other in (r for r in passing if not r.is_free):
            assert not _quality(ladder_key(other, policy.quality)) > _quality(result.key)


@given(policies, snapshots())
def test_never_a_wedge_or_points_on_an_already_free_release(policy: Policy, snapshot: FactSnapshot) -> None:
    free = {r.id for r in snapshot.releases if r.is_free} | set(snapshot.memory.bought_release_ids)
    batch = decide(policy, snapshot, now=NOW)
    assert not [a for a in batch.actions if isinstance(a, BuyPersonalFreeleech) and a.release_id in free]
    bought = Counter(a.release_id for a in batch.actions if isinstance(a, BuyPersonalFreeleech))
    assert all(n == 1 for n in bought.values())


@given(st.lists(releases("rx", "emma|jane austen"), min_size=3, max_size=3), policies)
def test_ladder_is_a_strict_weak_order_and_deterministic(drawn: list[Release], policy: Policy) -> None:
    a, b, c = (ladder_key(r, policy.quality) for r in drawn)
    assert not a < a
    assert ladder_key(drawn[0], policy.quality) == a
    if a < b and b < c:
        assert a < c
    if a < b:
        assert not b < a
    # incomparability (equality of keys) is transitive
    if not a < b and not b < a and not b < c and not c < b:
        assert not a < c and not c < a


@given(policies, snapshots(), st.integers(0, 2**32))
def test_shuffling_fact_order_changes_no_decision(policy: Policy, snapshot: FactSnapshot, seed: int) -> None:
    rng = random.Random(seed)
    shuffled = snapshot.model_copy(
        update={
            name: tuple(rng.sample(list(getattr(snapshot, name)), len(getattr(snapshot, name))))
            for name in ("releases", "torrents", "library", "wants", "events")
        }
    )
    assert decide(policy, snapshot, now=NOW).to_jsonl() == decide(policy, shuffled, now=NOW).to_jsonl()


@given(policies, snapshots(), gappable_sources)
def test_a_fact_gap_never_adds_an_action(policy: Policy, snapshot: FactSnapshot, source) -> None:  # type: ignore[no-untyped-def]
    full = Counter(a.model_dump_json() for a in decide(policy, snapshot, now=NOW).actions)
    gapped = Counter(a.model_dump_json() for a in decide(policy, with_gap(snapshot, source), now=NOW).actions)
    assert not gapped - full


@given(policies, snapshots())
def test_no_removal_unless_all_four_conditions_hold(policy: Policy, snapshot: FactSnapshot) -> None:
    batch = decide(policy, snapshot, now=NOW)
    world = build_world(policy, snapshot, NOW)
    rows = {row.id: row for row in world.torrent_rows}
    for action in batch.actions:
        if isinstance(action, RemoveTorrent):
            assert removal_allowed(policy, rows[action.hash])
            assert action.delete_data is False


@given(policies, snapshots())
def test_daily_caps_hold(policy: Policy, snapshot: FactSnapshot) -> None:
    batch = decide(policy, snapshot, now=NOW)
    world = build_world(policy, snapshot, NOW)
    budget = world.shared["state.download_budget_today"]
    assert isinstance(budget, int)
    downloads = [a for a in batch.actions if isinstance(a, AddTorrent)]
    assert len(downloads) <= max(0, budget - snapshot.memory.downloads_today)
    non_vip = [a for a in batch.actions if isinstance(a, BuyUploadCredit | BuyPersonalFreeleech)]
    assert snapshot.memory.points_spent_today + sum(a.points() for a in non_vip) <= max(
        policy.pacing.max_points_per_day, snapshot.memory.points_spent_today
    )
    assert len(non_vip) <= max(0, policy.pacing.max_purchases_per_day - snapshot.memory.purchases_today)


@given(policies, snapshots())
def test_same_inputs_same_decisions(policy: Policy, snapshot: FactSnapshot) -> None:
    assert decide(policy, snapshot, now=NOW) == decide(policy, snapshot, now=NOW)
