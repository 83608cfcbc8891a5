"""Notifications through Apprise to a loopback receiver (Apprise's ``json://`` target to a
local HTTP server): an incident is told once, its resolve once; a purchase is told with
its points; quiet hours hold back all but critical ones until they end; qBittorrent
unreachable is told only after N cycles in a row; a dry run tells nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mamcrawler.actuators.live import Execution
from mamcrawler.app.runtime.alerts import Alerts, AppriseNotifier, in_quiet_hours
from mamcrawler.engine import DecisionBatch
from mamcrawler.engine.actions import BuyVip
from mamcrawler.facts import Account, FactGap, FactSnapshot, Source
from mamcrawler.store import Database, StateStore, sqlite_url

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


class Receiver:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.messages.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def titles(self) -> list[str]:
        return [m["title"] for m in self.messages]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.httpd.shutdown()
    r.httpd.server_close()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    db = Database(sqlite_url(tmp_path / "a.sqlite"))
    yield StateStore(db)
    db.dispose()


def snap(*, refused: bool = False, qbit_down: bool = False, ratio: float = 1.2) -> FactSnapshot:
    gaps = []
    if refused:
        gaps.append(FactGap(source=Source.TRACKER_ACCOUNT, code="tracker_session_refused", message="HTTP 403"))
    if qbit_down:
        gaps.append(FactGap(source=Source.QBITTORRENT, code="service_unavailable", message="connection refused"))
    return FactSnapshot(
        taken_at=NOW, account=Account(ratio=None if refused else ratio, bonus_points=60_000), gaps=tuple(gaps)
    )


def batch(*flags: str) -> DecisionBatch:
    return DecisionBatch(policy_hash="p", decided_at=NOW, evaluator="reference", actions=(), records=(), flags=flags)


def alerts(receiver: Receiver, state: StateStore, *, at: datetime = NOW, quiet: str = "") -> Alerts:
    return Alerts(AppriseNotifier([receiver.url]), state, clock=lambda: at, quiet_hours=quiet, unreachable_cycles=3)


def test_a_critical_block_is_told_once_then_resolved(receiver: Receiver, state: StateStore) -> None:
    a = alerts(receiver, state)
    a.observe(snap(refused=True), batch(), (), dry_run=False)
    a.observe(snap(refused=True), batch(), (), dry_run=False)
    alerts(receiver, state).observe(snap(refused=True), batch(), (), dry_run=False)  # a restart remembers
    assert receiver.titles() == ["mamcrawler: mamcrawler is blocked"]
    assert receiver.messages[0]["message"] == "the tracker refused the cookie: set a new MAM_ID"
    assert receiver.messages[0]["type"] == "failure"
    a.observe(snap(), batch(), (), dry_run=False)
    a.observe(snap(), batch(), (), dry_run=False)
    assert receiver.titles() == ["mamcrawler: mamcrawler is blocked", "mamcrawler: Resolved"]
    assert "answers again" in receiver.messages[1]["message"]


def test_purchases_ratio_and_vip(receiver: Receiver, state: StateStore) -> None:
    a = alerts(receiver, state)
    bought = Execution("d1", BuyVip(weeks=4, cost_points=52_500), "applied")
    a.observe(snap(ratio=0.9), batch("ratio_emergency", "vip_at_risk"), (bought,), dry_run=False)
    assert sorted(receiver.titles()) == [
        "mamcrawler: Purchase",
        "mamcrawler: Ratio emergency",
        "mamcrawler: VIP at risk",
    ]
    purchase = next(m for m in receiver.messages if m["title"] == "mamcrawler: Purchase")
    assert "52,500 points" in purchase["message"]
    a.observe(snap(ratio=1.3), batch(), (), dry_run=False)
    assert receiver.titles().count("mamcrawler: Resolved") == 2


def test_a_dry_run_tells_nothing(receiver: Receiver, state: StateStore) -> None:
    bought = Execution("d1", BuyVip(weeks=4, cost_points=52_500), "planned_dry_run")
    alerts(receiver, state).observe(snap(refused=True), batch("ratio_emergency"), (bought,), dry_run=True)
    assert receiver.messages == []


def test_quiet_hours_hold_back_all_but_critical(receiver: Receiver, state: StateStore) -> None:
    night = NOW.replace(hour=23)
    alerts(receiver, state, at=night, quiet="22:00-07:00").observe(
        snap(refused=True), batch("ratio_freeze"), (), dry_run=False
    )
    assert receiver.titles() == ["mamcrawler: mamcrawler is blocked"]
    morning = NOW.replace(hour=8)
    alerts(receiver, state, at=morning, quiet="22:00-07:00").observe(
        snap(refused=True), batch("ratio_freeze"), (), dry_run=False
    )
    assert receiver.titles()[-1] == "mamcrawler: Paid downloads frozen"
    assert in_quiet_hours("22:00-07:00", NOW.replace(hour=3)) and not in_quiet_hours("22:00-07:00", NOW)
    assert in_quiet_hours("01:00-05:00", NOW.replace(hour=2)) and not in_quiet_hours("", NOW)


def test_unreachable_is_told_after_n_cycles(receiver: Receiver, state: StateStore) -> None:
    a = alerts(receiver, state)
    for _ in range(2):
        a.observe(snap(qbit_down=True), batch(), (), dry_run=False)
    assert receiver.messages == []
    a.observe(snap(qbit_down=True), batch(), (), dry_run=False)
    a.observe(snap(qbit_down=True), batch(), (), dry_run=False)
    assert receiver.titles() == ["mamcrawler: qBittorrent unreachable"]
    assert "3 cycles" in receiver.messages[0]["message"]
    a.observe(snap(), batch(), (), dry_run=False)
    assert receiver.titles()[-1] == "mamcrawler: Resolved"
    assert timedelta(0) == timedelta(0)


def test_a_policy_alert_is_an_incident_of_its_own(receiver: Receiver, state: StateStore) -> None:
    from mamcrawler.engine.actions import Alert
    from mamcrawler.engine.records import DecisionRecord

    alert = Alert(level="critical", code="vip_at_risk", message="VIP is at risk and the points do not cover a renewal.")
    record = DecisionRecord(
        decision_id="a1",
        policy_hash="p",
        decided_at=NOW,
        subject_kind="account",
        subject_id="account",
        outcome="planned",
        reason="vip_renewal_unaffordable",
        actions=(alert,),
    )
    with_alert = DecisionBatch(
        policy_hash="p",
        decided_at=NOW,
        evaluator="reference",
        actions=(alert,),
        records=(record,),
        flags=("vip_at_risk",),
    )
    a = alerts(receiver, state)
    a.observe(snap(), with_alert, (), dry_run=False)
    a.observe(snap(), with_alert, (), dry_run=False)
    assert [(m["title"], m["message"]) for m in receiver.messages] == [
        ("mamcrawler: VIP at risk", "VIP is at risk and the points do not cover a renewal.")
    ]
    a.observe(snap(), batch(), (), dry_run=False)
    assert receiver.titles()[-1] == "mamcrawler: Resolved"
