"""The web app (FastAPI on uvicorn, in the daemon's process; OpenAPI at ``/openapi.json``
and ``/docs``): the eight SPEC endpoints at their paths, the points plan and the snatch
forecast, decisions (paged, filtered, with ``explain``), torrents, the queue, wants,
sync-now, ``/metrics``, ``/health`` and the dashboard. Every route but ``/health`` needs
the API key (``security.GuardMiddleware``); whatever changes something is a POST. No
answer carries a secret: bodies are scrubbed of every known secret value. Imports
fastapi and ``app``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, model_validator

from mamcrawler.app.web.dashboard import LiveCache, render_dashboard, render_live
from mamcrawler.app.web.metrics import Metrics
from mamcrawler.app.web.security import GuardMiddleware
from mamcrawler.app.web.status import StatusBoard
from mamcrawler.facts import Want, book_key
from mamcrawler.store import WISHLIST
from mamcrawler.store.decisions import DecisionFilter, DecisionStore, summary


@dataclass
class WebContext:
    """What the web app reads and the few things it may ask the daemon to do."""

    board: StatusBoard
    decisions: DecisionStore
    clock: Callable[[], datetime]
    api_key: str
    hosts: frozenset[str]
    secrets: Sequence[str] = ()
    sync_now: Callable[[], str] | None = None
    metrics: Metrics = field(default_factory=Metrics)
    services: Callable[[], dict[str, str]] = dict


class WantIn(BaseModel):
    """A wanted book: a title and author, or a tracker id seen in the last cycle's listings."""

    title: str | None = Field(None, min_length=1, max_length=300)
    author: str | None = Field(None, min_length=1, max_length=200)
    tracker_id: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_way(self) -> WantIn:
        if self.tracker_id is None and not (self.title and self.author):
            raise ValueError("give title and author, or tracker_id")
        return self


def create_app(ctx: WebContext) -> FastAPI:
    scrub_values = [s for s in ctx.secrets if s and len(s) >= 4 and s != ctx.api_key]

    def scrub(text: str) -> str:
        for secret in scrub_values:
            text = text.replace(secret, "***")
        return text

    class SafeJSON(JSONResponse):
        def render(self, content: Any) -> bytes:
            return scrub(json.dumps(content, sort_keys=True, default=str)).encode("utf-8")

    app = FastAPI(
        title="mamcrawler",
        version="1",
        default_response_class=SafeJSON,
        description="Send the API key in the X-Api-Key header (`mamcrawler apikey` prints it).",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(GuardMiddleware, key=ctx.api_key, hosts=ctx.hosts)
    board = ctx.board
    cache = LiveCache()

    @app.get("/health", tags=["system"])
    def health() -> dict[str, Any]:
        info = board.last_cycle
        age = (ctx.clock() - info.finished_at).total_seconds() if info else None
        services = ctx.services()
        critical = [c.as_dict() for c in board.critical() if c.critical]
        status = "ok" if info and not critical else ("starting" if info is None else "degraded")
        return {"status": status, "last_cycle_age_seconds": age, "services": services, "critical": critical}

    @app.get("/metrics", tags=["system"], response_class=Response)
    def metrics() -> Response:
        body, content_type = ctx.metrics.render(board, ctx.decisions, ctx.clock())
        return Response(body, media_type=content_type)

    @app.get("/api/vip/status", tags=["spec"])
    def vip() -> dict[str, Any]:
        return board.vip_status()

    @app.get("/api/compliance/ratio", tags=["spec"])
    def ratio() -> dict[str, Any]:
        return board.ratio_status()

    @app.get("/api/economy/plan", tags=["economy"])
    def economy_plan() -> dict[str, Any]:
        """The points planner's 30-day plan for the last cycle's account (issue 11)."""
        return board.points_plan()

    @app.get("/api/snatch/forecast", tags=["economy"])
    def snatch_forecast() -> dict[str, Any]:
        """The hit-and-run forecaster: when unsatisfied slots free up, which torrents are at risk."""
        return board.snatch_forecast()

    @app.get("/api/compliance/report", tags=["spec"])
    def report(days: int = Query(30, ge=1, le=3650)) -> dict[str, Any]:
        return ctx.decisions.report(now=ctx.clock(), days=days)

    @app.get("/api/system/mam-rules", tags=["spec"])
    def rules() -> dict[str, Any]:
        return board.rules_version()

    @app.get("/api/system/events", tags=["spec"])
    def events() -> dict[str, Any]:
        return board.events()

    @app.get("/api/system/policy-replay", tags=["system"])
    def policy_replay() -> dict[str, Any]:
        """The policy keeper's latest replay of the recorded week before an edit went live."""
        return board.policy_replay_status()

    @app.get("/api/qbittorrent/status", tags=["spec"])
    def qbittorrent() -> dict[str, Any]:
        return board.torrent_status()

    @app.get("/api/system/autonomous", tags=["spec"])
    def autonomous() -> dict[str, Any]:
        return {"autonomous": board.autonomous()}

    @app.post("/api/system/autonomous/start", tags=["spec"])
    def start() -> dict[str, Any]:
        return board.set_autonomous(True, now=ctx.clock())

    @app.post("/api/system/autonomous/stop", tags=["spec"])
    def stop() -> dict[str, Any]:
        return board.set_autonomous(False, now=ctx.clock())

    @app.get("/api/system/status", tags=["system"])
    def status() -> dict[str, Any]:
        return {**board.cycle(), "problems": [c.as_dict() for c in board.critical()]}

    @app.post("/api/system/sync-now", tags=["system"], status_code=202)
    def sync_now() -> dict[str, Any]:
        if ctx.sync_now is None:
            raise HTTPException(409, "the daemon is not running its schedule (started with --once?)")
        return {"accepted": True, "message": ctx.sync_now()}

    @app.get("/api/decisions", tags=["decisions"])
    def decisions(
        outcome: str | None = None,
        subject: str | None = None,
        rule: str | None = None,
        action: str | None = None,
        mode: str | None = Query(None, pattern="^(live|dry_run)$"),
        since: datetime | None = None,
        until: datetime | None = None,
        before: int | None = Query(None, ge=1, description="Cursor: the next_before of the previous page."),
        limit: int = Query(50, ge=1, le=500),
        explain: bool = False,
    ) -> dict[str, Any]:
        filters = DecisionFilter(
            outcome, subject, rule, action, None if mode is None else mode == "dry_run", since, until
        )
        rows, cursor = ctx.decisions.page(filters, before=before, limit=limit)
        return {"decisions": [summary(r, explain=explain) for _, r in rows], "next_before": cursor}

    @app.get("/api/decisions/{decision_id}", tags=["decisions"])
    def decision(decision_id: str) -> dict[str, Any]:
        row = ctx.decisions.get(decision_id)
        if row is None:
            raise HTTPException(404, f"no decision {decision_id}")
        return summary(row, explain=True)

    @app.get("/api/torrents", tags=["library"])
    def torrents() -> dict[str, Any]:
        return {"torrents": board.torrents()}

    @app.get("/api/queue", tags=["library"])
    def queue() -> dict[str, Any]:
        return {"queue": board.queue()}

    @app.get("/api/wants", tags=["library"])
    def wants() -> dict[str, Any]:
        return {"wants": [item.get("want", item) for item in board.state.list_items(WISHLIST)]}

    @app.post("/api/wants", tags=["library"], status_code=201)
    def add_want(body: WantIn) -> dict[str, Any]:
        if body.tracker_id is not None:
            snapshot = board.snapshot
            release = next(
                (r for r in (snapshot.releases if snapshot else ()) if r.tracker_id == body.tracker_id), None
            )
            if release is None:
                raise HTTPException(
                    404,
                    f"tracker id {body.tracker_id} was not in the last cycle's listings; add it by title and author",
                )
            want = Want(book_key=release.book_key, title=release.title, authors=release.authors, added_at=ctx.clock())
        else:
            assert body.title and body.author
            want = Want(
                book_key=book_key(body.title, [body.author]),
                title=body.title.strip(),
                authors=(body.author.strip(),),
                added_at=ctx.clock(),
            )
        added = board.state.add_to_list(
            WISHLIST, want.book_key, {"want": want.model_dump(mode="json")}, now=ctx.clock()
        )
        return {"added": added, "want": want.model_dump(mode="json")}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    @app.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    def dashboard(request: Request) -> HTMLResponse:
        html = render_dashboard(board, ctx.decisions, now=ctx.clock(), api_key=ctx.api_key, cache=cache)
        return HTMLResponse(scrub(html), headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    @app.get("/dashboard/live", response_class=HTMLResponse, include_in_schema=False)
    def live() -> HTMLResponse:
        return HTMLResponse(
            scrub(render_live(board, ctx.decisions, now=ctx.clock(), cache=cache)),
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        # the page already needed the key; its own fetch of the description carries it too
        return get_swagger_ui_html(openapi_url=f"/openapi.json?apikey={ctx.api_key}", title="mamcrawler API")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}
            }
            schema["security"] = [{"ApiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
