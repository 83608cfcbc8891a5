"""Goodreads book pages → ``BookMetadata`` (the §15 provider's canonical data): title,
authors, series and position, cover, description and publication date.

``parse_book_page`` reads the current page structure with parsel: ``h1[data-testid=
bookTitle]``, the ``data-testid="name"`` of each ``ContributorLink`` without a role (a
"(Narrator)" or "(Translator)" is not an author), the link under ``data-testid=
bookSeries`` ("The Kingkiller Chronicle #1" or "(The Stormlight Archive, #2.5)"),
``data-testid=description``, ``data-testid=publicationInfo`` and the cover's
``img.ResponsiveImage``. A page where no title is found is a changed layout
(``ServiceProtocolError`` ``layout_changed``): nothing is guessed. ``GoodreadsClient`` has
its own cookie-less session and keeps a fixed minimum spacing between requests (2 s by
default), one request in flight. Imports httpx, parsel and ``errors``."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
from parsel import Selector

from mamcrawler.adapters.metadata.session import SessionOwner, cookieless_client
from mamcrawler.errors import ServiceError, ServiceProtocolError, ServiceThrottled, ServiceUnavailable

__all__ = ["GOODREADS_URL", "BookMetadata", "GoodreadsClient", "parse_book_page", "parse_search_page", "parse_series"]

SERVICE = "goodreads"
GOODREADS_URL = "https://www.goodreads.com"
MAX_PAGE_BYTES = 8 * 1024 * 1024
_BOOK_ID = re.compile(r"^\d+(?:[.-][\w.-]*)?$")
_SERIES = re.compile(r"^\(?\s*(?P<name>.*?)\s*,?\s*#\s*(?P<position>[^()#]*?)\s*\)?$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_MONTHS: tuple[str, ...] = ("January", "February", "March", "April", "May", "June")
_MONTHS += ("July", "August", "September", "October", "November", "December")
_DATE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),?\s+(\d{4})\b")
_YEAR = re.compile(r"\b(\d{4})\b")


@dataclass(frozen=True)
class BookMetadata:
    """What a book page says; ``None`` / ``()`` where it says nothing (blank text → ``None``)."""

    url: str
    title: str
    authors: tuple[str, ...] = ()
    series: str | None = None
    series_position: float | None = None
    cover_url: str | None = None
    description: str | None = None
    published_date: date | None = None
    published_year: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and not value.strip():
                object.__setattr__(self, f.name, None)
            elif isinstance(value, str):
                object.__setattr__(self, f.name, value.strip())
        if not self.title:
            raise ValueError("a book has a title")
        object.__setattr__(self, "authors", _unique(self.authors))


def parse_series(text: str) -> tuple[str | None, float | None]:
    """``"(The Kingkiller Chronicle, #3)"`` / ``"Kingkiller #1.5"`` → (name, 3.0 / 1.5); a
    range (``#1-3``) or a word keeps the name with an unknown position."""
    text = " ".join(text.split())
    match = _SERIES.match(text)
    if match is None:
        name = text.strip("() ")
        return (name or None), None
    position = match["position"]
    return (match["name"].strip(" ,") or None), (float(position) if _NUMBER.match(position) else None)


def parse_book_page(html: str, url: str) -> BookMetadata:
    page = Selector(text=html)
    title = _clean(" ".join(page.css('h1[data-testid="bookTitle"] ::text').getall()))
    if not title:
        raise ServiceProtocolError(SERVICE, "layout_changed", f"no book title found on {url}")
    authors = []
    for link in page.css("a.ContributorLink"):
        role = _clean(" ".join(link.css('[data-testid="role"] ::text, .ContributorLink__role ::text').getall()))
        name = _clean(" ".join(link.css('[data-testid="name"] ::text').getall()))
        if name and not role:
            authors.append(name)
    series_text = _clean(" ".join(page.css('[data-testid="bookSeries"] a ::text').getall()))
    series, position = parse_series(series_text) if series_text else (None, None)
    cover = (
        page.css(".BookCover img.ResponsiveImage::attr(src)").get() or page.css("img.ResponsiveImage::attr(src)").get()
    )
    published = _clean(" ".join(page.css('[data-testid="publicationInfo"] ::text').getall()))
    day, year = _publication(published)
    return BookMetadata(
        url=url,
        title=title,
        authors=tuple(authors),
        series=series,
        series_position=position,
        cover_url=urljoin(url, cover.strip()) if cover and cover.strip() else None,
        description=_description(page),
        published_date=day,
        published_year=year,
    )


class GoodreadsClient(SessionOwner):
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        min_spacing_s: float = 2.0,
        proxy: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min_spacing_s < 0:
            raise ValueError("min_spacing_s cannot be negative")
        self._spacing, self._clock, self._sleep = min_spacing_s, clock, sleep
        self._lock = threading.Lock()
        self._last: float | None = None
        self._http = cookieless_client(
            base_url, proxy=proxy, timeout=timeout, accept="text/html", purpose="book metadata lookup"
        )

    def book(self, book_id: str | int) -> BookMetadata:
        """``GET /book/show/<id>``; follows one redirect on the same host (to the slugged URL)."""
        text = str(book_id).strip()
        if not _BOOK_ID.match(text):
            raise ValueError(f"not a Goodreads book id: {book_id!r}")
        response = self._get(f"/book/show/{quote(text, safe='.-_')}")
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers.get("Location", ""))
            if urlsplit(target).netloc != urlsplit(str(response.url)).netloc:
                raise ServiceProtocolError(SERVICE, "redirected", f"book {text} redirects off site")
            response = self._get(target)
        if response.is_redirect:
            raise ServiceProtocolError(SERVICE, "redirected", f"book {text} redirects more than once")
        return parse_book_page(response.text, str(response.url))

    def search(self, query: str) -> tuple[str, ...]:
        """Book ids of ``GET /search?q=…`` in the order the site ranks them (none: empty)."""
        response = self._get(f"/search?q={quote(query.strip())}")
        return parse_search_page(response.text)

    def _get(self, path: str) -> httpx.Response:
        with self._lock:
            if self._last is not None:
                wait = self._last + self._spacing - self._clock()
                if wait > 0:
                    self._sleep(wait)
            self._last = self._clock()
            try:
                response = self._http.get(path)
            except httpx.TimeoutException as err:
                raise ServiceUnavailable(SERVICE, "timeout", type(err).__name__) from err
            except httpx.TransportError as err:
                raise ServiceUnavailable(SERVICE, "unreachable", type(err).__name__) from err
        _check(response)
        return response


_RESULT = re.compile(r"/book/show/(\d+)")


def parse_search_page(html: str) -> tuple[str, ...]:
    """The result links of a search page (``a.bookTitle``); a page without the results
    table and without a "no results" notice means the layout changed."""
    doc = Selector(text=html)
    links = doc.css("a.bookTitle::attr(href)").getall()
    if not links and not doc.css("table.tableList, .searchSubNavContainer, h3.searchSubNavContainer"):
        raise ServiceProtocolError(SERVICE, "layout_changed", "the search page has neither results nor a notice")
    ids = [m.group(1) for link in links if (m := _RESULT.search(link))]
    return tuple(dict.fromkeys(ids))


def _check(response: httpx.Response) -> None:
    status, path = response.status_code, response.url.path
    if status == 404:
        raise ServiceError(SERVICE, "not_found", path)
    if status in (403, 429):
        raise ServiceThrottled(SERVICE, "throttled", f"HTTP {status} on {path}")
    if status >= 500:
        raise ServiceUnavailable(SERVICE, "server_error", f"HTTP {status} on {path}")
    if status != 200 and not response.is_redirect:
        raise ServiceProtocolError(SERVICE, "unexpected_answer", f"HTTP {status} on {path}")
    if len(response.content) > MAX_PAGE_BYTES:
        raise ServiceProtocolError(SERVICE, "too_large", f"{path}: {len(response.content)} bytes")


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _unique(names: Any) -> tuple[str, ...]:
    seen: list[str] = []
    for name in names:
        if isinstance(name, str) and _clean(name) and _clean(name) not in seen:
            seen.append(_clean(name))
    return tuple(seen)


def _description(page: Selector) -> str | None:
    block = page.css('[data-testid="description"] .Formatted') or page.css('[data-testid="description"]')
    html = block.get()
    if not html:
        return None
    html = re.sub(r"(?i)<br\s*/?>|</p>", "\n", html)
    text = Selector(text=html).xpath("string(//body)").get() or ""
    lines = [_clean(line) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() or None


def _publication(text: str) -> tuple[date | None, int | None]:
    if not text:
        return None, None
    found = _DATE.search(text)
    if found:
        try:
            day = date(int(found[3]), _MONTHS.index(found[1]) + 1, int(found[2]))
        except ValueError:
            day = None
        return day, int(found[3])
    year = _YEAR.search(text)
    return None, int(year[1]) if year else None
