"""A recording HTTP forward proxy on 127.0.0.1 for tests and benchmarks against real
servers: a client configured with ``proxy=<its url>`` sends absolute-URL requests here;
each is logged (method, path, query, headers) and forwarded unchanged, and the upstream
answer (status, body, content type, ETag, Set-Cookie, Location) is relayed back. The log
shows exactly what a client sent — which credentials, which cookies, how many requests."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes"))
from loopback import QuietHandler, serve

RELAYED = ("content-type", "etag", "set-cookie", "location")


@dataclass
class Recorded:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any = None
    status: int = 0


@dataclass
class ProxyState:
    log: list[Recorded] = field(default_factory=list)
    upstream: httpx.Client = field(
        default_factory=lambda: httpx.Client(
            timeout=120, follow_redirects=False, cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        )
    )

    def requests(self, method: str | None = None, prefix: str = "") -> list[Recorded]:
        return [r for r in self.log if (method is None or r.method == method) and r.path.startswith(prefix)]


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def do_PATCH(self) -> None:
        self._forward()

    def do_DELETE(self) -> None:
        self._forward()

    def _forward(self) -> None:
        state: ProxyState = self.server.state
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        entry = Recorded(self.command, parts.path, parse_qsl(parts.query), headers, _json(body))
        state.log.append(entry)
        sent = {k: v for k, v in headers.items() if k not in ("host", "proxy-connection", "connection")}
        answer = state.upstream.request(self.command, self.path, headers=sent, content=body)
        entry.status = answer.status_code
        extra = [(k, v) for k, v in answer.headers.multi_items() if k.lower() in RELAYED[1:]]
        self.reply(answer.status_code, answer.content, answer.headers.get("content-type", "text/plain"), extra)


@contextmanager
def recording_proxy() -> Iterator[tuple[str, ProxyState]]:
    """Run the proxy; yields its URL (for ``proxy=``) and its state (the log)."""
    state = ProxyState()
    try:
        with serve(_Handler, state) as url:
            yield url, state
    finally:
        state.upstream.close()


def _json(body: bytes | None) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body
