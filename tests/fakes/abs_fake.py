"""A loopback fake of Audiobookshelf's REST API (the documented JSON shapes), a real HTTP
server on 127.0.0.1 holding libraries and book items in memory from
``fixtures/abs/*.json``.

It checks ``Authorization: Bearer <token>`` (401 otherwise), sets a session cookie on
every answer (so tests can prove the client never sends one back), pages
``GET /api/libraries/:id/items?limit=&page=`` (minified items, as ABS 2.x lists them,
unless ``minified`` is off), serves ``GET /api/items/:id`` in full, records scans
(``POST /api/libraries/:id/scan``, ``POST /api/items/:id/scan``) and metadata PATCHes
(``PATCH /api/items/:id/media``), applying the PATCHed metadata to the item. Every request
is logged with its headers and body. ``malformed`` adds broken items to the first library;
``swap_files`` replaces (or adds) an item's audio files as a re-download would.
``mode``: ``ok``, ``down`` (503), ``slow`` (answers after ``delay`` s), ``html``,
``redirect`` (302 to a login page)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator, Sequence
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
    minified: bool = True
    mode: str = "ok"
    delay: float = 1.0
    log: list[AbsRequest] = field(default_factory=list)
    scans: list[tuple[str, str]] = field(default_factory=list)  # ("library" | "item", id)
    patches: list[tuple[str, Any]] = field(default_factory=list)  # (item id, request body)
    changed: set[str] = field(default_factory=set)  # items whose files changed since their last scan
    released: threading.Event = field(default_factory=threading.Event)

    def swap_files(
        self, item_id: str, files: Sequence[tuple[str, int, float, int | None]], *, keep: bool = False
    ) -> None:
        """Replace (or with ``keep`` add to) the item's audio files: (relPath, bytes, seconds, bitRate)."""
        item = self.items[item_id]
        media = item["media"]
        audio = list(media["audioFiles"]) if keep else []
        for rel, size, duration, bit_rate in files:
            entry: dict[str, Any] = {
                "index": len(audio) + 1,
                "ino": f"ino-{item_id}-{len(audio) + 1}",
                "metadata": {
                    "filename": rel.rsplit("/", 1)[-1],
                    "ext": "." + rel.rsplit(".", 1)[-1],
                    "path": f"{item['path']}/{rel}",
                    "relPath": rel,
                    "size": size,
                },
                "duration": duration,
                "exclude": False,
                "invalid": False,
            }
            if bit_rate is not None:
                entry["bitRate"] = bit_rate
            audio.append(entry)
        media["audioFiles"] = audio
        media["duration"] = round(sum(f["duration"] for f in audio), 3)
        media["size"] = sum(f["metadata"]["size"] for f in audio)
        item["updatedAt"] = int(item.get("updatedAt") or 0) + 1
        self.changed.add(item_id)

    def listed(self, library_id: str) -> list[Any]:
        entries: list[Any] = [i for i in self.items.values() if i.get("libraryId") == library_id]
        if self.malformed and self.libraries and library_id == self.libraries[0]["id"]:
            entries += _load("malformed_items.json")
        return entries


def minify(item: Any) -> Any:
    """The minified list shape (``authorName``, ``numAudioFiles``…); broken items go out as they are."""
    try:
        media, meta = item["media"], item["media"]["metadata"]
        small = {k: v for k, v in item.items() if k not in ("media", "libraryFiles")}
        small["numFiles"] = len(media["audioFiles"]) + 1
        small["media"] = {
            "metadata": {
                **{k: v for k, v in meta.items() if k not in ("authors", "narrators", "series")},
                "authorName": ", ".join(a["name"] for a in meta["authors"]),
                "narratorName": ", ".join(meta["narrators"]),
                "seriesName": ", ".join(s["name"] for s in meta["series"]),
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
                results = [minify(e) for e in chunk] if state.minified else chunk
                return self._json(
                    {
                        "results": results,
                        "total": len(entries),
                        "limit": limit,
                        "page": page,
                        "sortBy": query.get("sort"),
                        "sortDesc": False,
                        "mediaType": libraries[lib]["mediaType"],
                        "minified": state.minified,
                        "collapseseries": False,
                        "include": "",
                    }
                )
            case ("POST", ["api", "libraries", lib, "scan"]) if lib in libraries:
                state.scans.append(("library", lib))
                return self._send(200, b"OK", "text/plain")
            case ("GET", ["api", "items", item_id]) if item_id in self._findable():
                return self._json(self._findable()[item_id])
            case ("POST", ["api", "items", item_id, "scan"]) if item_id in state.items:
                state.scans.append(("item", item_id))
                result = "UPDATED" if item_id in state.changed else "UPTODATE"
                state.changed.discard(item_id)
                return self._json({"result": result})
            case ("PATCH", ["api", "items", item_id, "media"]) if item_id in state.items:
                state.patches.append((item_id, copy.deepcopy(body)))
                if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
                    return self._send(400, b"Invalid request payload", "text/plain")
                updated = self._apply(state.items[item_id], body["metadata"])
                return self._json({"updated": updated, "libraryItem": state.items[item_id]})
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
        self._send(200, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str, *, location: str | None = None) -> None:
        headers = [("Set-Cookie", SESSION_COOKIE), *([("Location", location)] if location else [])]
        self.reply(status, body, content_type, headers)


@contextmanager
def abs_fake(state: AbsState | None = None) -> Iterator[tuple[str, AbsState]]:
    """Run the fake; yields its base URL and its state; stops and closes it afterwards."""
    state = state or AbsState()
    with serve(_Handler, state, before_stop=state.released.set) as url:
        yield url, state
