"""A loopback fake of Prowlarr's ``/api/v1/search`` (its documented JSON shape), a real HTTP
server on 127.0.0.1. It checks ``X-Api-Key``, answers from a list of result objects, and
logs every request's headers so tests can prove no tracker cookie ever reached it.
``mode``: ``ok``, ``html``, ``error`` (500), ``not_list``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from loopback import QuietHandler, serve

RESULTS: list[dict[str, Any]] = [
    {
        "guid": "https://www.myanonamouse.net/t/700101",
        "title": "Patrick Rothfuss - The Name of the Wind [M4B 128k]",
        "size": 1288490188,
        "indexerId": 7,
        "indexer": "MyAnonamouse",
        "infoUrl": "https://www.myanonamouse.net/t/700101",
        "downloadUrl": "http://127.0.0.1:9696/7/download?link=abc",
        "seeders": 143,
        "leechers": 6,
        "grabs": 2210,
        "protocol": "torrent",
        "publishDate": "2026-11-20T09:14:02Z",
        "categories": [{"id": 3030, "name": "Audio/Audiobook"}],
        "indexerFlags": ["freeleech"],
    },
    {
        "guid": "magnet-only-result",
        "title": "The Name of the Wind (unknown uploader)",
        "size": 900000000,
        "indexerId": 9,
        "indexer": "Public",
        "seeders": 4,
        "leechers": 1,
        "protocol": "torrent",
        "categories": [{"id": 3030, "name": "Audio/Audiobook"}],
        "indexerFlags": [],
    },
    {"guid": "usenet", "title": "NZB thing", "protocol": "usenet"},
    {"title": 42},
]


@dataclass
class ProwlarrState:
    api_key: str = "prowlarr-key"
    results: list[dict[str, Any]] = field(default_factory=lambda: [dict(r) for r in RESULTS])
    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        state.requests.append(
            {
                "path": parts.path,
                "query": parse_qsl(parts.query),
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
        )
        if self.headers.get("X-Api-Key") != state.api_key:
            self._send(401, b'{"error": "Unauthorized"}')
        elif parts.path != "/api/v1/search":
            self._send(404, b"{}")
        elif state.mode == "html":
            self._send(200, b"<html>Prowlarr is starting</html>", "text/html")
        elif state.mode == "error":
            self._send(500, b'{"message": "boom"}')
        elif state.mode == "not_list":
            self._send(200, b'{"results": []}')
        else:
            self._send(200, json.dumps(state.results).encode())

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.reply(status, body, content_type)


@contextmanager
def prowlarr_fake(state: ProwlarrState | None = None) -> Iterator[tuple[str, ProwlarrState]]:
    """Run the fake; yields its base URL and its state; stops and closes it afterwards."""
    state = state or ProwlarrState()
    with serve(_Handler, state) as url:
        yield url, state
