"""The web app over a real socket: every SPEC endpoint answers JSON from the last cycle
with the API key and nothing without it; a foreign Host (DNS rebinding) and a cross-site
POST are refused; the autonomous switch persists; decisions page and explain; wants are
added; no answer carries a secret; a tracker 403 is never shown as a ratio emergency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web_env import KEY, SECRET, Served, healthy, served, snapshot

from mamcrawler.app.web.server import WebServer, bind
from mamcrawler.errors import ConfigError

pytestmark = pytest.mark.integration
GET_PATHS = (
    "/api/vip/status",
    "/api/compliance/ratio",
    "/api/compliance/report",
    "/api/system/mam-rules",
    "/api/system/events",
    "/api/qbittorrent/status",
    "/api/economy/plan",
    "/api/snatch/forecast",
    "/api/system/status",
    "/api/torrents",
    "/api/queue",
    "/api/decisions",
    "/api/wants",
    "/metrics",
    "/openapi.json",
)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Served, httpx.Client]]:
    with served(tmp_path) as s, httpx.Client(base_url=s.base, timeout=5, headers={"X-Api-Key": KEY}) as c:
        yield s, c


def test_every_endpoint_needs_the_key_answers_with_it_and_never_leaks(env: tuple[Served, httpx.Client]) -> None:
    s, client = env
    with httpx.Client(base_url=s.base, timeout=5) as anonymous:
        for path in GET_PATHS:
            assert anonymous.get(path).status_code == 401, path
            assert anonymous.get(path, headers={"X-Api-Key": "wrong" * 8}).status_code == 401, path
        assert anonymous.get("/health").status_code == 200
        assert anonymous.post("/api/system/autonomous/stop").status_code == 401
    for path in GET_PATHS:
        response = client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.text and KEY not in response.text, path
    assert client.get("/api/vip/status").json()["at_risk"] is True
    ratio = client.get("/api/compliance/ratio").json()
    assert ratio["emergency"] is True and ratio["floor"] == 1.0 and ratio["ratio"] == 0.9
    assert client.get("/api/nope").status_code == 404
    plan = client.get("/api/economy/plan").json()  # issue 11: the points plan and the hit-and-run forecast
    assert plan["known"] is True and plan["horizon_days"] == 30 and len(plan["points_by_day"]) == 31
    forecast = client.get("/api/snatch/forecast").json()
    assert forecast["known"] is True and forecast["free_now"] == 150 - 10 - 4  # limit − buffer − unsatisfied
    spec = client.get("/openapi.json").json()
    assert "/api/system/autonomous/stop" in spec["paths"] and spec["components"]["securitySchemes"]["ApiKey"]
    assert "/api/economy/plan" in spec["paths"] and "/api/snatch/forecast" in spec["paths"]
    assert "swagger" in client.get("/docs").text.lower()


def test_report_separates_dry_run_from_live(env: tuple[Served, httpx.Client]) -> None:
    s, client = env
    s.publish(snapshot(ratio=0.95).model_copy(update={"taken_at": snapshot().taken_at.replace(hour=13)}), dry_run=True)
    report = client.get("/api/compliance/report").json()
    assert report["live"]["decisions"] > 0 and report["dry_run"]["decisions"] > 0
    assert report["live"]["decisions"] + report["dry_run"]["decisions"] == s.decisions.count()


def test_rebinding_host_and_cross_site_post_are_refused(env: tuple[Served, httpx.Client]) -> None:
    s, client = env
    answer = client.get("/api/vip/status", headers={"Host": "evil.example"})
    assert answer.status_code == 421 and answer.json()["error"] == "host_not_allowed"
    assert client.get("/health", headers={"Host": f"evil.example:{s.port}"}).status_code == 421
    cross = client.post("/api/system/autonomous/stop", headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403 and s.board.autonomous() is True
    with httpx.Client(base_url=s.base, timeout=5) as anonymous:  # what a cross-site form can send
        form = anonymous.post("/api/system/autonomous/stop", data={"x": "1"}, headers={"Origin": "http://evil.example"})
        assert form.status_code in (401, 403) and s.board.autonomous() is True
    assert client.get("/api/system/autonomous/stop").status_code == 405  # state changes only by POST


def test_autonomous_switch_and_sync_now(env: tuple[Served, httpx.Client]) -> None:
    s, client = env
    assert client.get("/api/system/autonomous").json() == {"autonomous": True}
    assert client.post("/api/system/autonomous/stop").json() == {"autonomous": False}
    assert s.board.autonomous() is False
    assert client.post("/api/system/autonomous/start").json() == {"autonomous": True}
    assert client.post("/api/system/sync-now").status_code == 202


def test_decisions_page_filter_and_explain(env: tuple[Served, httpx.Client]) -> None:
    _, client = env
    first = client.get("/api/decisions", params={"limit": 2}).json()
    assert len(first["decisions"]) == 2 and first["next_before"] is not None
    second = client.get("/api/decisions", params={"limit": 2, "before": first["next_before"]}).json()
    assert {d["id"] for d in first["decisions"]}.isdisjoint({d["id"] for d in second["decisions"]})
    planned = client.get("/api/decisions", params={"outcome": "planned", "explain": True}).json()["decisions"]
    assert planned and all(d["outcome"] == "planned" and "trace" in d["explain"] for d in planned)
    one = client.get(f"/api/decisions/{planned[0]['id']}").json()
    assert one["explain"]["facts"] is not None and one["mode"] == "live"
    assert client.get("/api/decisions", params={"mode": "dry_run"}).json()["decisions"] == []
    assert client.get("/api/decisions/nope").status_code == 404


def test_wants_by_title_author_and_by_tracker_id(env: tuple[Served, httpx.Client]) -> None:
    s, client = env
    made = client.post("/api/wants", json={"title": "The Hobbit", "author": "J. R. R. Tolkien"})
    assert made.status_code == 201 and made.json()["want"]["book_key"] == "the hobbit|j. r. r. tolkien"
    assert (
        client.post("/api/wants", json={"title": "The Hobbit", "author": "J. R. R. Tolkien"}).json()["added"] is False
    )
    assert client.post("/api/wants", json={"title": "Only a title"}).status_code == 422
    assert client.post("/api/wants", json={"tracker_id": 999}).status_code == 404
    assert [w["title"] for w in client.get("/api/wants").json()["wants"]] == ["The Hobbit"]
    assert [w.title for w in s.board.state.wants()] == ["The Hobbit"]


def test_tracker_403_is_a_cause_not_a_ratio_emergency(tmp_path: Path) -> None:
    with (
        served(tmp_path, snap=snapshot(refused=True)) as s,
        httpx.Client(base_url=s.base, timeout=5, headers={"X-Api-Key": KEY}) as client,
    ):
        ratio = client.get("/api/compliance/ratio").json()
        assert ratio["known"] is False and ratio["emergency"] is False
        assert ratio["reason"] == "the tracker refused the cookie: set a new MAM_ID"
        page = client.get("/").text
        assert "RATIO EMERGENCY" not in page and "set a new MAM_ID" in page
        health = client.get("/health").json()
        assert health["status"] == "degraded" and health["critical"][0]["code"] == "tracker_session_refused"


def test_dashboard_speaks_words_not_reprs(env: tuple[Served, httpx.Client]) -> None:
    _, client = env
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "RATIO EMERGENCY" in text and "VIP AT RISK" in text and "Dune" in text and "Frank Herbert" in text
    assert "Hyperion" in text and "52,500" in text
    for repr_ in ("None", "True", "False", "{'", "dune|frank herbert"):
        assert repr_ not in text, repr_
    with httpx.Client(base_url=client.base_url, timeout=5) as anonymous:
        login = anonymous.get("/")
        assert login.status_code == 401 and "API key" in login.text and "Dune" not in login.text
        assert anonymous.get("/", params={"apikey": KEY}).status_code == 200


def test_metrics_and_health(env: tuple[Served, httpx.Client]) -> None:
    s, client = env
    text = client.get("/metrics").text
    for name in (
        "mamcrawler_ratio 0.9",
        "mamcrawler_bonus_points 52500.0",
        "mamcrawler_vip_days_left",
        'mamcrawler_torrents{state="seeding"} 1.0',
        "mamcrawler_decisions_30d{",
        "mamcrawler_unsatisfied 4.0",
    ):
        assert name in text, name
    health = httpx.get(f"{s.base}/health", timeout=5).json()
    assert health["status"] == "ok" and health["last_cycle_age_seconds"] == 0


def test_busy_port_is_one_clear_error(env: tuple[Served, httpx.Client]) -> None:
    s, _ = env
    with pytest.raises(ConfigError, match=f"port {s.port} on 127.0.0.1 is already in use"):
        bind("127.0.0.1", s.port)
    with pytest.raises(ConfigError, match="beyond loopback"):
        WebServer(s.server.server.config.app, host="0.0.0.0", port=0, api_key=None)  # type: ignore[arg-type]


def test_queue_shows_the_book_one_score_and_its_parts(tmp_path: Path) -> None:
    with (
        served(tmp_path, snap=healthy()) as s,
        httpx.Client(base_url=s.base, timeout=5, headers={"X-Api-Key": KEY}) as client,
    ):
        queue = client.get("/api/queue").json()["queue"]
        assert [(q["title"], q["authors"]) for q in queue] == [("Dune", "Frank Herbert")]
        assert 0 < queue[0]["score"] <= 100 and queue[0]["quality"]["bitrate"] == 3
        page = client.get("/").text
        assert f">{queue[0]['score']}</span>" in page and "bitrate: 3, completeness: 2" in page
        assert "Ratio healthy" in page and "VIP safe" in page
        want = client.post("/api/wants", json={"tracker_id": 11}).json()
        assert want["added"] is True and want["want"]["title"] == "Dune"
