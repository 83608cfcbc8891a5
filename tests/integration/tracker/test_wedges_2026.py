"""The tracker of 2026 over real sockets against the loopback fake: a paid release chosen by
the default policy downloads with the freeleech flag and spends exactly one wedge, which
is then confirmed from ``personal_freeleech`` (lagging); free and VIP-free releases never
carry the flag; a wedge not taken is recorded and the torrent counts as paid; the refused
store route disables itself after one answer, durably; auto-wedge on with no wedge left
makes the policy treat the download as ratio-costing; VIP bought through the fake never
breaks the cap or the one-week minimum."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from tracker_fake import TrackerState, tracker_fake

from mamcrawler.actuators.wedges import RefusalAwareStore, WedgeDownloads
from mamcrawler.adapters.mam import MamClient, Politeness, PolitenessLimits
from mamcrawler.engine import Policy, decide, load_policy
from mamcrawler.engine.actions import AddTorrent, BuyVip
from mamcrawler.engine.policy.compiled import compile_policy
from mamcrawler.engine.policy.vocabulary import Concern
from mamcrawler.errors import ServiceError
from mamcrawler.facts import FactSnapshot, Want
from mamcrawler.sensors.tracker import tracker_sensors
from mamcrawler.sensors.wedge_confirm import confirm_wedges
from mamcrawler.store import Database, StateStore
from mamcrawler.store.tracker_account import TrackerAccountMemory

pytestmark = pytest.mark.integration
FAST = PolitenessLimits(
    min_spacing_s=0.01,
    max_spacing_s=0.02,
    long_pause_every=(50, 60),
    long_pause_s=(0.01, 0.02),
    backoff_base_s=0.01,
    backoff_max_s=0.05,
    max_retries=3,
    slow_mode_after=2,
)
TORRENT = b"d4:infod6:lengthi1e4:name4:booke1:ee"
PAID, VIP_FREE, SITE_FREE = 700102, 700101, 700103


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("policies")


@pytest.fixture
def fake() -> Iterator[tuple[str, TrackerState]]:
    state = TrackerState()
    state.torrents = {PAID: TORRENT, VIP_FREE: TORRENT, SITE_FREE: TORRENT}
    with tracker_fake(state) as running:
        yield running


@pytest.fixture
def memory(tmp_path: Path) -> TrackerAccountMemory:
    return TrackerAccountMemory(StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}")))


def client(url: str) -> MamClient:
    return MamClient(url, "cookie-0", politeness=Politeness(FAST), timeout=5.0)


def now() -> datetime:
    return datetime.now(UTC)


def sensed(mam: MamClient, memory: TrackerAccountMemory, *, auto_wedge: bool = False) -> FactSnapshot:
    """What the daemon's tracker sensors see, plus every listing as wanted."""
    account_sensor = tracker_sensors(mam, memory.state, now, auto_wedge=auto_wedge)[0]
    reading = account_sensor.sense(now())
    assert reading.gap is None, reading.gap
    releases = mam.search([("tor[text]", ""), ("tor[searchType]", "all")]).releases
    wants = tuple(Want(book_key=r.book_key, title=r.title) for r in releases)
    return FactSnapshot(taken_at=now(), account=reading.facts["account"], releases=releases, wants=wants)


def planned_adds(policy: Policy, snapshot: FactSnapshot) -> dict[int, AddTorrent]:
    batch = decide(policy, snapshot, now=snapshot.taken_at)
    return {a.tracker_id: a for a in batch.actions if isinstance(a, AddTorrent) and a.tracker_id is not None}


def test_a_paid_release_downloads_with_the_flag_and_spends_exactly_one_wedge(
    fake: tuple[str, TrackerState], memory: TrackerAccountMemory, policy: Policy
) -> None:
    url, state = fake
    state.account["wedges"] = "3"
    state.pfl_lag_s = 0.4  # the search shows personal_freeleech only after a while
    mam = client(url)
    adds = planned_adds(policy, sensed(mam, memory))
    assert adds[PAID].wedge == "flag" and adds[PAID].free
    assert adds[VIP_FREE].wedge == "none" and adds[SITE_FREE].wedge == "none"  # free for this VIP account
    files = WedgeDownloads(mam, memory, flag="fl", clock=now)
    for action in adds.values():
        assert files.fetch(action) == TORRENT
    flagged = [d for d in state.downloads if d["flagged"]]
    assert [d["tid"] for d in flagged] == [PAID] and flagged[0]["wedge_spent"]
    assert state.account["wedges"] == "2"  # exactly one wedge
    raw = [q.query for q in state.log if q.path == "/tor/download.php"]
    assert [("tid", str(PAID)), ("fl", "")] in raw and [("tid", str(SITE_FREE))] in raw
    assert [c.outcome for c in confirm_wedges(mam, memory, now=now())] == ["waiting"]  # the search lags
    time.sleep(0.5)
    assert [c.outcome for c in confirm_wedges(mam, memory, now=now())] == ["confirmed"]
    assert memory.wedges_pending() == [] and memory.arrived_paid() == {}
    mam.close()


def test_a_wedge_not_taken_is_recorded_and_the_torrent_counts_as_paid(
    fake: tuple[str, TrackerState], memory: TrackerAccountMemory, policy: Policy, caplog: pytest.LogCaptureFixture
) -> None:
    url, state = fake
    state.wedge_flag = "fl=1"  # the site wants another form than the configured one
    mam = client(url)
    adds = planned_adds(policy, sensed(mam, memory))
    WedgeDownloads(mam, memory, flag="fl", clock=now).fetch(adds[PAID])
    assert state.account["wedges"] == "1" and not state.downloads[0]["wedge_spent"]
    with caplog.at_level(logging.WARNING, logger="mamcrawler.tracker"):
        checks = confirm_wedges(mam, memory, now=now())
        again = confirm_wedges(mam, memory, now=now())
    assert [c.outcome for c in checks] == ["wedge_not_taken"] and again == []
    assert memory.arrived_paid()[adds[PAID].release_id]["why"] == "wedge_not_taken"
    assert sum("counts as paid" in r.message for r in caplog.records) == 1
    assert any("alert wedge_wedge_not_taken" in r.message for r in caplog.records)
    mam.close()


def test_a_paid_download_with_none_left_is_never_sent_as_free(
    fake: tuple[str, TrackerState], memory: TrackerAccountMemory, policy: Policy
) -> None:
    url, state = fake
    mam = client(url)
    adds = planned_adds(policy, sensed(mam, memory))  # decided with one wedge held
    state.account["wedges"] = "0"  # …spent elsewhere since
    with pytest.raises(ServiceError) as caught:
        WedgeDownloads(mam, memory, flag="fl", clock=now).fetch(adds[PAID])
    assert caught.value.code == "no_wedge_left" and state.downloads == []
    mam.close()


@pytest.mark.parametrize("route", ["refused_json", "refused_410"])
def test_the_refused_store_route_disables_itself_after_one_answer(
    fake: tuple[str, TrackerState], memory: TrackerAccountMemory, route: str, caplog: pytest.LogCaptureFixture
) -> None:
    url, state = fake
    state.store_route = route
    mam = client(url)
    store = RefusalAwareStore(mam, memory, now)
    with caplog.at_level(logging.WARNING, logger="mamcrawler.actuators"):
        with pytest.raises(ServiceError) as first:
            store.buy_personal_freeleech(PAID, use_wedge=True)
        with pytest.raises(ServiceError) as second:
            store.buy_personal_freeleech(SITE_FREE, use_wedge=False)
    assert first.value.code == "store_route_refused" and second.value.code == "store_route_disabled"
    sent = [q for q in state.log if q.path.startswith("/json/bonusBuy.php")]
    assert len(sent) == 1 and state.purchases == []
    assert sum("route disabled for good" in r.message for r in caplog.records) == 1
    assert sum("alert store_route_refused" in r.message for r in caplog.records) == 1
    # durable: a new process reads it from the store; the account fact tells the policy
    again = TrackerAccountMemory(StateStore(memory.state.db))
    assert "personal_freeleech" in again.refused_routes()
    assert sensed(mam, again).account.store_freeleech_refused is True
    mam.close()


def test_auto_wedge_spends_by_itself_and_with_none_left_the_download_costs_ratio(
    fake: tuple[str, TrackerState], memory: TrackerAccountMemory, policy: Policy
) -> None:
    url, state = fake
    state.auto_wedge = True
    mam = client(url)
    snapshot = sensed(mam, memory, auto_wedge=True)
    assert snapshot.account.auto_wedge is True
    adds = planned_adds(policy, snapshot)
    assert (adds[PAID].wedge, adds[PAID].free) == ("auto", True)
    WedgeDownloads(mam, memory, flag="fl", clock=now).fetch(adds[PAID])
    assert state.downloads == [{"tid": PAID, "flagged": False, "wedge_spent": True}]  # no flag: the site did it
    assert state.account["wedges"] == "0"
    other = {**next(r for r in state.search["data"] if r.get("id") == PAID), "id": 700104, "title": "Artemis"}
    state.search["data"].append(other)
    empty = sensed(mam, memory, auto_wedge=True)
    adds = planned_adds(policy, empty)
    assert adds[PAID].free and adds[PAID].wedge == "none"  # now personal freeleech: free, no wedge
    assert 700104 not in adds  # ratio-costing: not allowed by default
    batch = decide(policy, empty, now=empty.taken_at)
    assert any(r.facts.get("candidate.wedge_gate") == "auto_wedge_none_left" for r in batch.records)
    allowing = load_policy("policies")  # with ratio-costing allowed, it is a paid, ratio-costing download
    files = dict(allowing.files)
    ff = files[Concern.FREE_FIRST]
    files[Concern.FREE_FIRST] = ff.model_copy(
        update={"params": ff.params.model_copy(update={"allow_ratio_costing": True})}
    )
    allowing = compile_policy(files, allowing.sources, {}, {Concern.FREE_FIRST: b"allow_ratio_costing"})
    costing = planned_adds(allowing, empty)[700104]
    assert (costing.free, costing.wedge) == (False, "none") and "ratio_costing" in costing.intrinsic_tags()


def test_vip_bought_through_the_fake_never_breaks_the_cap_or_the_minimum(
    fake: tuple[str, TrackerState], memory: TrackerAccountMemory, policy: Policy
) -> None:
    url, state = fake
    state.account["seedbonus"] = "99999"
    mam = client(url)
    for days in (2, 20, 40, 62, 80, 86):
        start = now()
        state.account["vip_until"] = (start + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
        state.account["seedbonus"] = "99999"
        snapshot = sensed(mam, memory)
        batch = decide(policy, snapshot, now=snapshot.taken_at)
        for action in (a for a in batch.actions if isinstance(a, BuyVip)):
            assert action.weeks >= policy.vip.min_purchase_weeks
            mam.buy_vip(action.weeks)
        held = mam.account().vip_until
        assert held is not None and (held - start).total_seconds() <= policy.vip.max_days * 86400 + 60
    mam.close()


def test_the_flag_form_is_one_setting(
    fake: tuple[str, TrackerState], memory: TrackerAccountMemory, policy: Policy
) -> None:
    url, state = fake
    state.wedge_flag = "fl=1"
    mam = client(url)
    adds = planned_adds(policy, sensed(mam, memory))
    WedgeDownloads(mam, memory, flag="fl=1", clock=now).fetch(adds[PAID])
    assert state.downloads == [{"tid": PAID, "flagged": True, "wedge_spent": True}]
    assert [("tid", str(PAID)), ("fl", "1")] in [q.query for q in state.log if q.path == "/tor/download.php"]
    with pytest.raises(ServiceError) as bad:
        mam.download_torrent(PAID, wedge_flag="fl&steal=1")
    assert bad.value.code == "bad_wedge_flag"
    mam.close()
