"""Torrent rows by class (``engine.world.torrent_rows``): evaluation passes over the rows of
a class on whose values every rule is false. Passing them over must never change a match:
the same (rule, row, forced) pairs in the same order, and the same flags, as when every
row is built and evaluated — under the bundled rules and under random deep conditions on
torrent facts (class values, details and cycle-wide values mixed), with gapped sources.
And every torrent's row shows exactly its class's values."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import NOW, HostilePolicy, default_policy, hostile_params, hostile_snapshots, torrents, trees_over

from mamcrawler.engine.decide import evaluate_layers
from mamcrawler.engine.planner import Match
from mamcrawler.engine.policy.compiled import CompiledAction, CompiledRule
from mamcrawler.engine.policy.vocabulary import LAYER_OF, ActionName, SubjectKind
from mamcrawler.engine.rules.evaluators import REFERENCE
from mamcrawler.engine.rules.partial import settled
from mamcrawler.engine.rules.trees import NOWHERE, AllOf, AnyOf, Compare, Op
from mamcrawler.engine.world.derive import World, build_world
from mamcrawler.engine.world.torrent_rows import TorrentRows, class_key, class_values
from mamcrawler.facts import FactSnapshot, Memory, PausedBy, Torrent, TorrentState

_TORRENT_LEAVES = [
    ("torrent.state", [s.value for s in TorrentState]),
    ("torrent.complete", [True, False]),
    ("torrent.downloading", [True, False]),
    ("torrent.paused_by", ["nobody", "user", "mamcrawler", "share_limit"]),
    ("torrent.added_by_us", [True, False]),
    ("torrent.free", [True, False]),
    ("torrent.frozen_by_us", [True, False]),
    ("torrent.earns_points", [True, False]),
    ("torrent.adds_ratio", [True, False]),
    ("torrent.hnr_hours_to_act", [-5, 0, 24, 1000]),
    ("torrent.seed_hours", [0, 71.5, 72, 500]),
    ("torrent.stalled_minutes", [0, 30, 60]),
    ("torrent.seeders", [0, 3]),
    ("torrent.superior_edition_exists", [True, False]),
    ("torrent.unsatisfied", [True, False]),
    ("account.ratio", [0.9, 1.05, 2.0]),
    ("state.downloads_today", [0, 1]),
    ("flags.freeze_downloads", [True, False]),
    ("candidate.is_free", [True]),  # not a torrent's fact: unknown on every torrent row
]


@st.composite
def _leaves(draw: st.DrawFn) -> Compare:
    fact, values = draw(st.sampled_from(_TORRENT_LEAVES))
    op = draw(st.sampled_from(list(Op)))
    if op in (Op.IN, Op.NOT_IN):
        return Compare(fact, op, tuple(draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))))
    return Compare(fact, op, draw(st.sampled_from(values)))


_conditions = trees_over(_leaves(), max_leaves=8)


@st.composite
def _torrent_rules(draw: st.DrawFn, index: int) -> CompiledRule:
    concern = draw(st.sampled_from(sorted(LAYER_OF, key=lambda c: c.value)))
    flag = draw(st.sampled_from([None, None, "freeze_downloads", "torrent_seen"]))
    return CompiledRule(
        id=f"random_{index}",
        concern=concern,
        layer=LAYER_OF[concern],
        priority=draw(st.sampled_from([0, 500, 1000])),
        subject=SubjectKind.TORRENT,
        description="random",
        condition=draw(_conditions),
        reason="random",
        flag=flag,
        block=None,
        actions=() if flag else (CompiledAction(ActionName.ALERT, {"level": "info", "code": "x", "message": "m"}, ()),),
        location=NOWHERE,
    )


@st.composite
def _policies(draw: st.DrawFn) -> HostilePolicy:
    extra = tuple(draw(_torrent_rules(i)) for i in range(draw(st.integers(1, 6))))
    return HostilePolicy(draw(hostile_params()), draw(st.booleans()), extra)


def _every_row_built(world: World) -> World:
    return dataclasses.replace(world, torrent_rows=tuple(world.torrent_rows))


def _shown(found: tuple[list[Match], dict[str, bool]]) -> tuple[list[tuple[str, str, bool]], dict[str, bool]]:
    matches, flags = found
    return [(m.rule.id, m.row.id, m.forced) for m in matches], flags


_completed = st.sampled_from([None, NOW - timedelta(days=1), NOW - timedelta(days=20), NOW - timedelta(days=60)])
_later = st.sampled_from([timedelta(0), timedelta(days=3), timedelta(days=40)])  # hit-and-run clocks run out


@settings(max_examples=settings.default.max_examples * 2)
@given(_policies(), hostile_snapshots(), st.data())
def test_skipping_a_class_never_changes_a_match(
    hostile: HostilePolicy, snapshot: FactSnapshot, data: st.DataObject
) -> None:
    finished = tuple(t.model_copy(update={"completed_at": data.draw(_completed)}) for t in snapshot.torrents)
    snapshot = snapshot.model_copy(update={"torrents": finished})
    policy, now = hostile.policy, NOW + data.draw(_later)
    world = build_world(policy, snapshot, now)
    assert _shown(evaluate_layers(policy, world, REFERENCE)) == _shown(
        evaluate_layers(policy, _every_row_built(world), REFERENCE)
    )


@st.composite
def _client(draw: st.DrawFn) -> tuple[Torrent, ...]:
    """A few torrents, some finished (so their hit-and-run clocks may run), some of one book."""
    found = [draw(torrents(i)) for i in range(draw(st.integers(1, 6)))]
    return tuple(t.model_copy(update={"completed_at": draw(_completed)}) for t in found)


@given(_client(), st.booleans(), _later)
def test_every_row_shows_its_class_values(found: tuple[Torrent, ...], frozen: bool, later: timedelta) -> None:
    hashes = tuple(t.hash for t in found) if frozen else ()
    snapshot = FactSnapshot(taken_at=NOW, torrents=found, memory=Memory(frozen_torrent_hashes=hashes))
    table = TorrentRows(default_policy(), snapshot, {}, NOW + later)
    for t, row in zip(snapshot.torrents, table, strict=True):
        values = class_values(class_key(t, frozenset(hashes)))
        assert {k: row.own[k] for k in values} == values


def test_a_rule_false_on_a_class_is_settled_without_its_details() -> None:
    seeding = class_values((TorrentState.SEEDING, True, PausedBy.NOBODY, False, False, False, True, True))
    downloading = Compare("torrent.downloading", Op.EQ, True)
    long_seeded = Compare("torrent.seed_hours", Op.GE, 72)
    assert settled(AllOf((downloading, long_seeded)), seeding, {}, "torrent") is False
    assert settled(AnyOf((downloading, long_seeded)), seeding, {}, "torrent") is None
    assert settled(Compare("torrent.hnr_hours_to_act", Op.LE, 24), seeding, {}, "torrent") is False
    # a torrent's own fact is never taken from the cycle-wide values
    assert settled(long_seeded, seeding, {"torrent.seed_hours": 100}, "torrent") is None
    assert settled(Compare("account.ratio", Op.LT, 1.0), seeding, {"account.ratio": 0.5}, "torrent") is True
