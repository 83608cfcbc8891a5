"""The local HTTP API and dashboard over a real socket: every documented endpoint answers
JSON from the last cycle, the autonomous switch persists, the dashboard shows the ratio
emergency, and no answer ever carries a secret."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from mamcrawler.app.web.api import ApiServer
from mamcrawler.app.web.status import StatusBoard
from mamcrawler.engine import decide, load_policy
from mamcrawler.facts import Account, FactSnapshot, Release, Want
from mamcrawler.store import Database, StateStore, sqlite_url

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
SECRET = "s3cr3t-mam-id-value"
GET_PATHS = (
    "/api/vip/status",
    "/api/compliance/ratio",
    "/api/compliance/report",
    "/api/system/mam-rules",
    "/api/system/events",
    "/api/qbittorrent/status",
    "/api/economy/plan",
    "/api/snatch/forecast",
)

pytestmark = pytest.mark.integration


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[httpx.Client, StatusBoard]]:
    db = Database(sqlite_url(tmp_path / "s.sqlite"))
    board = StatusBoard(StateStore(db))
    policy = load_policy("policies")
    snapshot = FactSnapshot(
        taken_at=NOW,
        account=Account(
            username=SECRET,
            ratio=0.9,
            uploaded_bytes=90,
            downloaded_bytes=100,
            bonus_points=7000,
            vip_until=NOW + timedelta(days=3),
            unsatisfied_count=0,
            unsatisfied_limit=150,
        ),
        releases=(Release(id="r1", book_key="b|a", title="B", bitrate_kbps=128),),
        wants=(Want(book_key="b|a", title="B"),),
    )
    batch = decide(policy, snapshot, now=NOW)
    journal = tmp_path / "decisions.jsonl"
    journal.write_text(batch.to_jsonl(), encoding="utf-8")
    board.publish(policy, snapshot, batch)
    server = ApiServer(board, host="127.0.0.1", port=0, journal_file=journal, secrets=[SECRET], clock=lambda: NOW)
    server.start()
    host, port = server.address
    with httpx.Client(base_url=f"http://{host}:{port}", timeout=5) as client:
        yield client, board
    server.stop()
    db.dispose()


def test_every_endpoint_answers_and_never_leaks_a_secret(served: tuple[httpx.Client, StatusBoard]) -> None:
    client, _ = served
    for path in GET_PATHS:
        response = client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.text
        assert isinstance(response.json(), dict)
    assert client.get("/api/vip/status").json()["at_risk"] is True
    ratio = client.get("/api/compliance/ratio").json()
    assert ratio["emergency"] is True and ratio["floor"] == 1.0
    report = client.get("/api/compliance/report").json()
    assert report["decisions"] > 0
    assert client.get("/api/nope").status_code == 404
    plan = client.get("/api/economy/plan").json()  # issue 11: the points plan and the hit-and-run forecast
    assert plan["known"] is True and plan["horizon_days"] == 30 and len(plan["points_by_day"]) == 31
    forecast = client.get("/api/snatch/forecast").json()
    assert forecast["known"] is True and forecast["free_now"] == 140


def test_autonomous_switch_persists(served: tuple[httpx.Client, StatusBoard]) -> None:
    client, board = served
    assert client.get("/api/system/autonomous").json() == {"autonomous": True}
    assert client.post("/api/system/autonomous/stop").json() == {"autonomous": False}
    assert board.autonomous() is False
    assert client.post("/api/system/autonomous/start").json() == {"autonomous": True}


def test_dashboard_shows_the_emergency_and_vip_risk(served: tuple[httpx.Client, StatusBoard]) -> None:
    client, _ = served
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "RATIO EMERGENCY" in page.text and "VIP AT RISK" in page.text
    assert SECRET not in page.text
