"""Recording cycles for replay and ``mamcrawler replay``: a recorded snapshot comes back
equal, unchanged facts are stored once, retention prunes cycles and the blobs only they
used, the unchanged policy replays to zero differences, an edited one (free-first
``floor``) shows the changed decisions and their effect played forward, ``--explain``
puts both evaluations side by side, and the policy keeper holds a money-changing edit
until a person confirms it."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from mamcrawler.app.cli.main import main
from mamcrawler.app.runtime.policy_keeper import PolicyKeeper, confirm
from mamcrawler.app.runtime.whatif import PreLiveReplay, what_if
from mamcrawler.app.web.status import StatusBoard
from mamcrawler.engine import Policy, decide, load_policy
from mamcrawler.facts import FactSnapshot, FreeKind, UserClass, Want
from mamcrawler.sim.replay import replay
from mamcrawler.sim.scenario import AccountSpec, ReleaseSpec, Scenario, TorrentSpec
from mamcrawler.sim.world import World
from mamcrawler.store import Database, Recorder, RecordReader, StateStore, sizes_by_day
from mamcrawler.store.recorded import CycleEntry, FactBlob

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 11, 2, 0, tzinfo=UTC)


def scenario() -> Scenario:
    """Two wanted books whose best release is paid while a lesser free one passes the floor."""
    return Scenario(
        name="replay",
        start=START,
        duration=timedelta(days=7),
        tick=timedelta(hours=6),
        account=AccountSpec(
            uploaded_gib=300, downloaded_gib=100, bonus_points=20000, wedges=1, vip_days=60, user_class=UserClass.VIP
        ),
        releases=(
            ReleaseSpec(id="emma-paid", title="Emma", authors=("Jane Austen",), bitrate_kbps=128, size_gib=0.4),
            ReleaseSpec(
                id="emma-free", title="Emma", authors=("Jane Austen",), bitrate_kbps=64, free=FreeKind.GLOBAL_FREELEECH
            ),
            ReleaseSpec(id="hyp-paid", title="Hyperion", authors=("Dan Simmons",), bitrate_kbps=128),
            ReleaseSpec(
                id="hyp-free",
                title="Hyperion",
                authors=("Dan Simmons",),
                bitrate_kbps=96,
                free=FreeKind.GLOBAL_FREELEECH,
            ),
        ),
        torrents=(TorrentSpec(name="Old book", size_gib=1.0, seed_hours=500, leechers=2),),
        wants=(
            Want(book_key="emma|jane austen", title="Emma", authors=("Jane Austen",)),
            Want(book_key="hyperion|dan simmons", title="Hyperion", authors=("Dan Simmons",)),
        ),
    )


def record_week(db: Database, policy: Policy, cycles: int = 28) -> list[FactSnapshot]:
    """Cycles of a simulated world, recorded as the daemon records them (no action applied)."""
    world, recorder, seen = World(scenario()), Recorder(db, retention_days=30), []
    for i in range(cycles):
        now = START + i * timedelta(hours=6)
        world.advance(now)
        snapshot = world.snapshot(now)
        batch = decide(policy, snapshot, now=now)
        assert recorder.record(policy, snapshot, batch, evaluator="reference") is not None
        seen.append(snapshot)
    return seen


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", target, ignore=shutil.ignore_patterns("tests"))
    return target


@pytest.fixture
def floor(tmp_path: Path, policies: Path) -> Path:
    edited = tmp_path / "edited"
    shutil.copytree(policies, edited)
    path = edited / "free_first.yaml"
    path.write_text(path.read_text().replace("mode: tie_break", "mode: floor"), encoding="utf-8")
    return edited


@pytest.fixture
def db(tmp_path: Path) -> Database:
    with Database(f"sqlite:///{tmp_path / 'store.sqlite'}") as database:
        yield database  # type: ignore[misc]


def _key(s: FactSnapshot) -> dict[str, object]:
    body = s.model_dump(mode="json")
    for name in ("releases", "torrents", "library", "wants", "events", "scans"):
        body[name] = sorted(body[name], key=lambda x: json.dumps(x, sort_keys=True))
    return body


def test_recorded_snapshots_come_back_equal_and_unchanged_facts_are_stored_once(db: Database, policies: Path) -> None:
    seen = record_week(db, load_policy(policies))
    back = list(RecordReader(db).cycles(START))
    assert [_key(c.snapshot) for c in back] == [_key(s) for s in seen]
    with db.session() as s:
        blobs = s.scalar(select(func.count()).select_from(FactBlob))
    buckets = sum(1 for _ in range(len(seen)) for name in ("releases", "wants"))  # unchanged every cycle
    assert blobs is not None and blobs < buckets * 4 + len(seen) * 2  # listings and wants kept once, not per cycle
    days = sizes_by_day(db, START)
    assert sum(d.cycles for d in days) == 28 and len(days) == 7
    assert all(0 < d.per_cycle < 20_000 for d in days)


def test_retention_drops_old_cycles_and_the_blobs_only_they_used(db: Database, policies: Path) -> None:
    record_week(db, load_policy(policies))
    recorder = Recorder(db, retention_days=2)
    cycles, blobs = recorder.prune(START + timedelta(days=7))
    assert cycles == 28 - 8 and blobs > 0
    back = list(RecordReader(db).cycles(START))
    assert len(back) == 8 and back[0].taken_at == START + timedelta(days=5)  # every kept cycle still complete
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CycleEntry)) == 8


def test_the_unchanged_policy_replays_every_recorded_decision_exactly(db: Database, policies: Path) -> None:
    policy = load_policy(policies)
    record_week(db, policy)
    result = replay(list(RecordReader(db).cycles(START)), policy)
    assert result.cycles == 28 and result.recorded > 0
    assert result.changes == [] and result.id_mismatches == 0
    assert result.unchanged == result.recorded == result.replayed


def test_free_first_floor_shows_the_extra_free_downloads_and_their_effect(
    db: Database, policies: Path, floor: Path
) -> None:
    record_week(db, load_policy(policies))
    outcome = what_if(db, load_policy(floor), START)
    changed = {c.subject_id: c for c in outcome.result.changes if c.at == START and c.kind == "changed"}
    emma, hyperion = changed["emma|jane austen"], changed["hyperion|dan simmons"]
    assert emma.money and emma.fields == ("reason", "rule_id", "actions")  # no wedge spent on it any more
    assert emma.before is not None and emma.before.rule_id == "download_with_wedge"  # 2026: wedge at download
    assert emma.after is not None and emma.after.outcome == "planned"
    assert [(a.type, getattr(a, "release_id", None)) for a in emma.after.actions] == [("AddTorrent", "emma-free")]
    assert hyperion.before is not None and hyperion.before.outcome == "guarded"  # the one wedge went to Emma
    assert hyperion.after is not None and hyperion.after.outcome == "planned"
    assert [(a.type, getattr(a, "release_id", None)) for a in hyperion.after.actions] == [("AddTorrent", "hyp-free")]
    assert outcome.result.count("removed") == 0
    assert outcome.effect is not None
    delta = outcome.effect.figures()["delta"]
    assert delta["downloads_free"] == 2 and delta["downloads_wedge"] == -1 and delta["final_wedges"] == 1
    assert delta["final_ratio"] >= 0  # free downloads cost no ratio and seed on
    assert delta["final_points"] >= 0


def test_replay_command_writes_differences_explains_one_and_reports_sizes(
    db: Database, policies: Path, floor: Path, tmp_path: Path
) -> None:
    record_week(db, load_policy(policies))
    env = {"MAMCRAWLER_DATABASE_URL": db.url, "MAMCRAWLER_POLICIES": str(policies)}
    runner = CliRunner()
    out = tmp_path / "diff.json"
    since = f"{(datetime.now(UTC) - START).days + 1}d"
    same = runner.invoke(main, ["replay", "--since", since], env=env)
    assert same.exit_code == 0, same.output
    assert "0 added, 0 removed, 0 changed" in same.output
    edited = runner.invoke(main, ["replay", "--since", since, "--policy", str(floor), "--json", str(out)], env=env)
    assert edited.exit_code == 0, edited.output
    body = json.loads(out.read_text())
    assert body["summary"]["changed"] >= 2 and body["effect"]["delta"]["downloads_free"] == 2
    emma = next(c for c in body["changes"] if c["subject"] == "candidate:emma|jane austen")
    explained = runner.invoke(
        main, ["replay", "--since", since, "--policy", str(floor), "--explain", emma["before"]["decision_id"]], env=env
    )
    assert explained.exit_code == 0, explained.output
    assert "buy_freeleech_with_wedge" in explained.output and "download_free" in explained.output
    assert "✓ matched" in explained.output and "✗" in explained.output
    sizes = runner.invoke(main, ["replay", "--since", since, "--sizes"], env=env)
    assert sizes.exit_code == 0 and "total" in sizes.output and "28" in sizes.output


def test_the_keeper_holds_a_money_changing_edit_until_a_person_confirms_it(
    db: Database, policies: Path, tmp_path: Path
) -> None:
    record_week(db, load_policy(policies))
    pacing = policies / "pacing.yaml"
    pacing.write_text(pacing.read_text().replace("params:\n", "params:\n  confirm_money_changes: true\n", 1))
    clock = lambda: START + timedelta(days=7)  # noqa: E731
    state = StateStore(db)
    board = StatusBoard(state)
    keeper = PolicyKeeper(policies, state=state, clock=clock)
    keeper.replay_check = PreLiveReplay(db, clock, report=board.set_policy_replay)
    assert board.policy_replay_status() == {"known": False}
    before = keeper.load_initial()
    free_first = policies / "free_first.yaml"
    free_first.write_text(free_first.read_text().replace("mode: tie_break", "mode: floor"))
    assert keeper.refresh() is before  # held: the replay changes a wedge purchase
    shown = board.policy_replay_status()  # what /api/system/policy-replay answers
    assert keeper.awaiting is not None and shown["known"] and shown["money_changes"]
    assert "changed" in str(shown["line"]) and shown["effect"]["delta"]["downloads_free"] == 2
    json.dumps(shown, allow_nan=False)  # JSON-ready
    assert keeper.refresh() is before  # still waiting
    with pytest.raises(ValueError, match="no policy edit waits"):
        confirm(state, "0" * 12, now=clock())
    confirm(state, keeper.awaiting.content_hash[:12], now=clock())
    after = keeper.refresh()
    assert after is not before and after.free_first.mode == "floor" and keeper.awaiting is None
