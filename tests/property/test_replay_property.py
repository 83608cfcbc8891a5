"""Replay's promise (issue 14): a history recorded in the store and re-decided under the
unchanged policy reproduces every recorded decision exactly — same ids, same records,
no difference reported — whatever the facts, the gaps and the policy variant."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from strategies import NOW, gappable_sources, policies, snapshots, with_gap

from mamcrawler.engine import Policy, decide
from mamcrawler.facts import FactSnapshot, Source
from mamcrawler.sim.replay import replay
from mamcrawler.store import Database, Recorder, RecordReader
from mamcrawler.store import recorded_columns as columns


@st.composite
def histories(draw: st.DrawFn) -> list[FactSnapshot]:
    out = []
    for i in range(draw(st.integers(1, 4))):
        snapshot = draw(snapshots()).model_copy(update={"taken_at": NOW + timedelta(hours=i)})
        gap: Source | None = draw(st.none() | gappable_sources)
        out.append(snapshot if gap is None else with_gap(snapshot, gap))
    return out


@given(policies, histories())
def test_replaying_under_the_unchanged_policy_reproduces_every_decision(
    policy: Policy, history: list[FactSnapshot]
) -> None:
    with Database("sqlite://") as db:
        recorder = Recorder(db, retention_days=30)
        batches = []
        for snapshot in history:
            batch = decide(policy, snapshot, now=snapshot.taken_at)
            recorder.record(policy, snapshot, batch, evaluator="reference")
            batches.append(batch)
        cycles = list(RecordReader(db).cycles(NOW - timedelta(days=1)))
        result = replay(cycles, policy, keep_batches=True)
    assert len(cycles) == len(history)
    recorded_ids = [[r.decision_id for r in c.decisions] for c in cycles]
    assert recorded_ids == [[r.decision_id for r in b.records] for b in batches]
    assert result.changes == [] and result.id_mismatches == 0
    assert [b.records for b in result.batches] == [b.records for b in batches]  # full records, in order
    assert [b.actions for b in result.batches] == [b.actions for b in batches]


_cell = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.sampled_from(["seeding", "paused"])
)
_rows = st.dictionaries(
    st.sampled_from([f"{i:040x}" for i in range(6)]), st.fixed_dictionaries({n: _cell for n in columns.MOVING})
)


@given(_rows, _rows)
def test_torrent_counters_coded_against_a_key_frame_decode_exactly(
    rows: dict[str, dict[str, object]], key: dict[str, dict[str, object]]
) -> None:
    order = sorted(rows)
    frame = columns.key_rows(json.loads(json.dumps(columns.key_frame(sorted(key), key))))
    coded = json.loads(json.dumps(columns.encode(order, rows, frame)))  # as stored
    back = columns.decode(order, coded, frame)
    assert {h: [(type(v), v) for v in r.values()] for h, r in back.items()} == {
        h: [(type(r[n]), r[n]) for n in columns.MOVING] for h, r in rows.items()
    }
