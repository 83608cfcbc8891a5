"""The dashboard a user keeps open: server-rendered Jinja2 templates (no build step), the
live part re-fetched every few seconds by a small script with the API key in a header.
Values are shown in words and numbers, never as Python reprs; books by title and author.
Imports jinja2 and ``app.web``."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from mamcrawler.app.web.status import StatusBoard
from mamcrawler.store.decisions import DecisionStore

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
REFRESH_SECONDS = 5
TORRENT_ROWS = 150  # the rest through /api/torrents


def ago(moment: str | None, now: datetime) -> str:
    if not moment:
        return "never"
    seconds = (now - datetime.fromisoformat(moment)).total_seconds()
    return f"in {span(-seconds)}" if seconds < 0 else f"{span(seconds)} ago"


def span(seconds: float | int | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,.{digits}f}"


def words(code: str | None) -> str:
    return (code or "").replace("_", " ")


def clock_time(moment: str | None) -> str:
    if not moment:
        return "—"
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M UTC")


_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# inline, so the page needs no second request (and no key-less route)
_STYLE = Markup((STATIC_DIR / "app.css").read_text(encoding="utf-8"))
_SCRIPT = Markup((STATIC_DIR / "app.js").read_text(encoding="utf-8"))
_ENV.filters.update(span=span, number=number, words=words, clock_time=clock_time)


def context(board: StatusBoard, decisions: DecisionStore, *, now: datetime) -> dict[str, Any]:
    ratio, vip = board.ratio_status(), board.vip_status()
    snapshot = board.snapshot
    rows, _ = decisions.page(limit=12)
    recent = []
    for _, row in rows:
        book = board.book(row.subject_id) if "|" in row.subject_id else {"title": row.subject_id, "authors": ""}
        recent.append({"row": row, **book})
    cycle = board.cycle()
    account = snapshot.account if snapshot else None
    return {
        "now": now,
        "cycle": cycle,
        "last_ago": ago(cycle["last_finished_at"], now),
        "next_in": ago(cycle["next_at"], now) if cycle["next_at"] else "not scheduled",
        "problems": board.critical(),
        "ratio": ratio,
        "vip": vip,
        "account": account,
        "queue": board.queue(),
        "torrents": board.torrents()[:TORRENT_ROWS],
        "torrent_status": board.torrent_status(),
        "events": board.events().get("events", []),
        "rules": board.rules_version(),
        "report": decisions.report(now=now, days=30),
        "recent": recent,
        "refresh": REFRESH_SECONDS,
    }


class LiveCache:
    """The live part, rendered at most once per board change and per ``CACHE_SECONDS``: many
    open dashboards (or a burst of clients) cost one render, not one each."""

    CACHE_SECONDS = 2.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[int, int] | None = None
        self._html = ""

    def render(self, board: StatusBoard, decisions: DecisionStore, *, now: datetime) -> str:
        key = (board.version, int(time.monotonic() / self.CACHE_SECONDS))
        with self._lock:
            if key == self._key:
                return self._html
            html = _ENV.get_template("live.html").render(context(board, decisions, now=now))
            self._key, self._html = key, html
            return html


def render_live(board: StatusBoard, decisions: DecisionStore, *, now: datetime, cache: LiveCache | None = None) -> str:
    if cache is not None:
        return cache.render(board, decisions, now=now)
    return _ENV.get_template("live.html").render(context(board, decisions, now=now))


def render_dashboard(
    board: StatusBoard, decisions: DecisionStore, *, now: datetime, api_key: str, cache: LiveCache | None = None
) -> str:
    live = render_live(board, decisions, now=now, cache=cache)
    return _ENV.get_template("page.html").render(
        live=live, api_key=api_key, style=_STYLE, script=_SCRIPT, refresh=REFRESH_SECONDS, now=now
    )
