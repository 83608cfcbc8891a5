"""A loopback fake of Audiobookshelf's REST API for what the real server (tests use it:
../integration/abs_server.py) cannot be made to do: be down, slow, answer HTML or a
redirect, serve malformed items, or set a cookie on every answer. A real HTTP server on
127.0.0.1 holding libraries and book items in memory from ``fixtures/abs/*.json``.

Its shapes follow ABS 2.36 as observed: ``Authorization: Bearer <token>`` or 401 text
``Unauthorized``; ``GET /api/libraries/:id/items?limit=&page=`` always minified
(``authorName``, ``seriesName`` "Name #n"…; ``minified`` only echoes the query); full
items from ``GET /api/items/:id`` and ``POST /api/items/batch/get`` (an empty id list is a
403); every JSON answer has a weak ETag and ``If-None-Match`` gets a 304; a PATCH that
changes nothing answers without ``updated``. Every request is logged with its headers
and body. ``malformed`` adds broken items to the first library. ``mode``: ``ok``,
``down`` (503), ``slow`` (answers after ``delay`` s), ``html``, ``redirect`` (302 to a
login page)."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from loopback import QuietHandler, serve

FIXTURES = Path(__file__).parent / "fixtures" / "abs"
SESSION_COOKIE = "connect.sid=s%3Afake-abs-session.sig; Path=/; HttpOnly"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class AbsRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any = None


@dataclass
class AbsState:
    token: str = "abs-token"
    libraries: list[dict[str, Any]] = field(default_factory=lambda: _load("libraries.json")["libraries"])
    items: dict[str, dict[str, Any]] = field(default_factory=lambda: {i["id"]: i for i in _load("items.json")})
    malformed: bool = False
    mode: str = "ok"
    delay: float = 1.0
    log: list[AbsRequest] = field(default_factory=list)
    scans: list[tuple[str, str]] = field(default_factory=list)  # ("library" | "item", id)
    patches: list[tuple[str, Any]] = field(default_factory=list)  # (item id, request body)
    released: threading.Event = field(default_factory=threading.Event)

    def listed(self, library_id: str) -> list[Any]:
        entries: list[Any] = [i for i in self.items.values() if i.get("libraryId") == library_id]
        if self.malformed and self.libraries and library_id == self.libraries[0]["id"]:
            entries += _load("malformed_items.json")
        return entries


def minify(item: Any) -> Any:
    """The minified list shape (``authorName``, ``numAudioFiles``…); broken items go out as they are."""
    try:
        media, meta = item["media"], item["media"]["metadata"]
        small = {k: v for k, v in item.items() if k not in ("media", "libraryFiles", "lastScan", "scanVersion")}
        small["numFiles"] = len(media["audioFiles"]) + 1
        small["size"] = media.get("size")
        series = [s["name"] + (f" #{s['sequence']}" if s.get("sequence") else "") for s in meta["series"]]
        small["media"] = {
            "metadata": {
                **{k: v for k, v in meta.items() if k not in ("authors", "narrators", "series")},
                "authorName": ", ".join(a["name"] for a in meta["authors"]),
                "narratorName": ", ".join(meta["narrators"]),
                "seriesName": ", ".join(series),
            },
            "coverPath": media.get("coverPath"),
            "tags": media.get("tags", []),
            "numTracks": len(media["audioFiles"]),
            "numAudioFiles": len(media["audioFiles"]),
            "numChapters": len(media.get("chapters") or []),
            "duration": media.get("duration"),
            "size": media.get("size"),
        }
        return small
    except (KeyError, TypeError, AttributeError):
        return item


class _Handler(QuietHandler):
    if_none_match: str | None = None

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _handle(self, method: str) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        state.log.append(AbsRequest(method, parts.path, parse_qsl(parts.query), headers, body))
        self.if_none_match = headers.get("if-none-match")
        if state.mode == "slow" and state.released.wait(state.delay):
            return
        if state.mode == "down":
            return self._send(503, b"Service Unavailable", "text/plain")
        if self.headers.get("Authorization") != f"Bearer {state.token}":
            return self._send(401, b"Unauthorized", "text/plain")
        if state.mode == "html":
            return self._send(200, b"<html><body>Audiobookshelf is starting</body></html>", "text/html")
        if state.mode == "redirect":
            return self._send(302, b"", "text/plain", location="/login")
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        self._route(method, segments, dict(parse_qsl(parts.query)), body)

    def _route(self, method: str, seg: list[str], query: dict[str, str], body: Any) -> None:
        state = self.server.state
        libraries = {lib["id"]: lib for lib in state.libraries}
        match (method, seg):
            case ("GET", ["api", "libraries"]):
                return self._json({"libraries": state.libraries})
            case ("GET", ["api", "libraries", lib, "items"]) if lib in libraries:
                entries = state.listed(lib)
                limit, page = int(query.get("limit", 0)), int(query.get("page", 0))
                chunk = entries[page * limit : (page + 1) * limit] if limit else entries
                return self._json(
                    {
                        "results": [minify(e) for e in chunk],
                        "total": len(entries),
                        "limit": limit,
                        "page": page,
                        "sortBy": query.get("sort"),
                        "sortDesc": query.get("desc") == "1",
                        "mediaType": libraries[lib]["mediaType"],
                        "minified": query.get("minified") == "1",
                        "collapseseries": False,
                        "include": "",
                        "offset": page * limit,
                    }
                )
            case ("POST", ["api", "libraries", lib, "scan"]) if lib in libraries:
                state.scans.append(("library", lib))
                return self._send(200, b"OK", "text/plain")
            case ("POST", ["api", "items", "batch", "get"]):
                wanted = body.get("libraryItemIds") if isinstance(body, dict) else None
                if not isinstance(wanted, list) or not wanted:
                    return self._send(403, b"Invalid payload", "text/plain")
                found = self._findable()
                return self._json({"libraryItems": [found[i] for i in wanted if i in found]})
            case ("GET", ["api", "items", item_id]) if item_id in self._findable():
                return self._json(self._findable()[item_id])
            case ("POST", ["api", "items", item_id, "scan"]) if item_id in state.items:
                state.scans.append(("item", item_id))
                return self._json({"result": "UPTODATE"})
            case ("PATCH", ["api", "items", item_id, "media"]) if item_id in state.items:
                state.patches.append((item_id, copy.deepcopy(body)))
                if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
                    return self._send(400, b"Invalid request payload", "text/plain")
                answer: dict[str, Any] = {"libraryItem": state.items[item_id]}
                if self._apply(state.items[item_id], body["metadata"]):
                    answer = {"updated": True, **answer}  # ABS leaves "updated" out when nothing changed
                return self._json(answer)
        self._send(404, b"Not Found", "text/plain")

    def _findable(self) -> dict[str, Any]:
        state = self.server.state
        found = dict(state.items)
        if state.malformed:
            found.update({m["id"]: m for m in _load("malformed_items.json") if isinstance(m, dict) and "id" in m})
        return found

    @staticmethod
    def _apply(item: dict[str, Any], changes: dict[str, Any]) -> bool:
        meta = item["media"]["metadata"]
        before = copy.deepcopy(meta)
        for key, value in changes.items():
            if key == "authors":
                value = [{"id": f"aut_{a['name'].lower().replace(' ', '')[:10]}", **a} for a in value]
            elif key == "series":
                value = [{"id": f"ser_{s['name'].lower().replace(' ', '')[:10]}", "sequence": None, **s} for s in value]
            meta[key] = value
        if meta != before:
            item["updatedAt"] = int(item.get("updatedAt") or 0) + 1  # ABS bumps it on every change
        return meta != before

    def _json(self, payload: Any) -> None:
        body = json.dumps(payload).encode()
        etag = f'W/"{len(body):x}-{hashlib.sha1(body).hexdigest()[:27]}"'
        if self.if_none_match == etag:
            return self._send(304, b"", "application/json; charset=utf-8", etag=etag)
        self._send(200, body, "application/json; charset=utf-8", etag=etag)

    def _send(
        self, status: int, body: bytes, content_type: str, *, location: str | None = None, etag: str | None = None
    ) -> None:
        headers = [("Set-Cookie", SESSION_COOKIE), *([("Location", location)] if location else [])]
        self.reply(status, body, content_type, [*headers, *([("ETag", etag)] if etag else [])])


@contextmanager
def abs_fake(state: AbsState | None = None) -> Iterator[tuple[str, AbsState]]:
    """Run the fake; yields its base URL and its state; stops and closes it afterwards."""
    state = state or AbsState()
    with serve(_Handler, state, before_stop=state.released.set) as url:
        yield url, state
