"""One loopback fake for both metadata providers, a real HTTP server on 127.0.0.1:
Goodreads book pages (``GET /book/show/<id>[.slug]`` → ``fixtures/goodreads/book_<id>.html``)
and Audnexus books (``GET /books/<ASIN>`` → ``fixtures/audnexus/<ASIN>.json``; ``GET /search?q=`` → result links
for the fixture books holding every query word); anything
else is a 404. Every request is logged with its headers and arrival time, so tests can
measure the politeness spacing and prove no credential reached it. ``slug_redirect``
answers an unslugged Goodreads id with a 301 to ``/book/show/<id>.Slug`` as the site does.
``mode``: ``ok``, ``down`` (503), ``slow`` (answers after ``delay`` s), ``changed``
(every Goodreads page in a changed layout)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from loopback import QuietHandler, serve

FIXTURES = Path(__file__).parent / "fixtures"
_BOOK = re.compile(r"^/book/show/(\d+)([.-][\w.-]*)?$")
_ASIN = re.compile(r"^/books/([A-Z0-9]{10})$")


@dataclass
class MetadataRequest:
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    at: float


@dataclass
class MetadataState:
    mode: str = "ok"
    delay: float = 1.0
    slug_redirect: bool = False
    log: list[MetadataRequest] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        state.log.append(MetadataRequest(parts.path, parse_qsl(parts.query), headers, time.monotonic()))
        if state.mode == "slow" and state.released.wait(state.delay):
            return
        if state.mode == "down":
            self._send(503, b"<html><body>Service Unavailable</body></html>", "text/html")
        elif parts.path == "/search":
            self._search(dict(parse_qsl(parts.query)).get("q", ""))
        elif book := _BOOK.match(parts.path):
            self._goodreads(book[1], book[2])
        elif asin := _ASIN.match(parts.path):
            self._audnexus(asin[1])
        else:
            self._send(404, b"<html><body>Not found</body></html>", "text/html")

    def _goodreads(self, book_id: str, slug: str | None) -> None:
        page = FIXTURES / "goodreads" / f"book_{book_id}.html"
        if not page.exists():
            self._send(404, b"<html><body>Page not found</body></html>", "text/html")
        elif self.server.state.slug_redirect and not slug:
            self._send(301, b"", "text/html", location=f"/book/show/{book_id}.Slug")
        else:
            name = "changed_layout.html" if self.server.state.mode == "changed" else page.name
            self._send(200, (FIXTURES / "goodreads" / name).read_bytes(), "text/html; charset=utf-8")

    def _search(self, query: str) -> None:
        """Result links for the fixture books whose page title holds every query word."""
        words = [w for w in re.findall(r"[a-z0-9]+", query.lower()) if len(w) > 2]
        rows = []
        for page in sorted((FIXTURES / "goodreads").glob("book_*.html")):
            text = page.read_text(encoding="utf-8").lower()
            if words and all(w in text for w in words):
                book_id = page.stem.removeprefix("book_")
                rows.append(
                    f'<tr itemtype="http://schema.org/Book"><td><a class="bookTitle" '
                    f'href="/book/show/{book_id}.Slug?from_search=true"><span>{book_id}</span></a></td></tr>'
                )
        body = (
            f'<html><body><table class="tableList">{"".join(rows)}</table></body></html>'
            if rows
            else '<html><body><h3 class="searchSubNavContainer">No results.</h3></body></html>'
        )
        self._send(200, body.encode(), "text/html; charset=utf-8")

    def _audnexus(self, asin: str) -> None:
        answer = FIXTURES / "audnexus" / f"{asin}.json"
        if answer.exists():
            self._send(200, answer.read_bytes(), "application/json; charset=utf-8")
        else:
            body = b'{"statusCode":404,"error":"Not Found","message":"Item not available"}'
            self._send(404, body, "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str, *, location: str | None = None) -> None:
        self.reply(status, body, content_type, [("Location", location)] if location else [])


@contextmanager
def metadata_fake(state: MetadataState | None = None) -> Iterator[tuple[str, MetadataState]]:
    """Run the fake; yields its base URL and its state; stops and closes it afterwards."""
    state = state or MetadataState()
    with serve(_Handler, state, before_stop=state.released.set) as url:
        yield url, state
