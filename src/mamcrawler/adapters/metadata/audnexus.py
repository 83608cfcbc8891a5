"""Audnexus (the Audible-style narrator source of §11 / §15): ``GET /books/<asin>`` →
``NarratorMetadata`` — narrators, title, authors, primary series and position, release
date, runtime and cover, exactly as the answer gives them (wrong types and blank text are
unknown, never guessed). Its own cookie-less session, no credentials. 404 → ``ServiceError``
``not_found``; down, timeouts and 5xx → ``ServiceUnavailable``; 429 → ``ServiceThrottled``;
non-JSON or a non-object → ``ServiceProtocolError``. Imports httpx and ``errors``."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import httpx

from mamcrawler.adapters.metadata.session import SessionOwner, cookieless_client
from mamcrawler.errors import ServiceError, ServiceProtocolError, ServiceThrottled, ServiceUnavailable

__all__ = ["AUDNEXUS_URL", "AudnexusClient", "NarratorMetadata", "parse_book"]

SERVICE = "audnexus"
AUDNEXUS_URL = "https://api.audnex.us"
MAX_ANSWER_BYTES = 4 * 1024 * 1024
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class NarratorMetadata:
    """One Audible edition as Audnexus describes it; ``None`` / ``()`` where it says nothing."""

    asin: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series: str | None = None
    series_position: float | None = None
    release_date: date | None = None
    runtime_minutes: int | None = None
    cover_url: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                object.__setattr__(self, f.name, value.strip() or None)
        if not self.asin:
            raise ValueError("an Audible edition has an ASIN")


def parse_book(body: Any, asin: str) -> NarratorMetadata:
    """The ``/books/<asin>`` JSON object → ``NarratorMetadata``."""
    if not isinstance(body, dict):
        raise ServiceProtocolError(SERVICE, "unexpected_answer", f"{asin}: the answer is not an object")
    series = body.get("seriesPrimary")
    series = series if isinstance(series, dict) else {}
    position = _text(series.get("position"))
    runtime = body.get("runtimeLengthMin")
    return NarratorMetadata(
        asin=_text(body.get("asin")) or asin,
        title=_text(body.get("title")),
        authors=_names(body.get("authors")),
        narrators=_names(body.get("narrators")),
        series=_text(series.get("name")),
        series_position=float(position) if position and _NUMBER.match(position) else None,
        release_date=_day(body.get("releaseDate")),
        runtime_minutes=runtime if isinstance(runtime, int) and not isinstance(runtime, bool) and runtime > 0 else None,
        cover_url=_text(body.get("image")),
    )


class AudnexusClient(SessionOwner):
    def __init__(self, base_url: str, *, timeout: float = 30.0, proxy: str | None = None) -> None:
        self._http = cookieless_client(
            base_url, proxy=proxy, timeout=timeout, accept="application/json", purpose="narrator lookup"
        )

    def book(self, asin: str, *, region: str | None = None) -> NarratorMetadata:
        asin = asin.strip().upper()
        if not _ASIN.match(asin):
            raise ValueError(f"not an ASIN: {asin!r}")
        params = {"region": region} if region else None
        try:
            response = self._http.get(f"/books/{asin}", params=params)
        except httpx.TimeoutException as err:
            raise ServiceUnavailable(SERVICE, "timeout", type(err).__name__) from err
        except httpx.TransportError as err:
            raise ServiceUnavailable(SERVICE, "unreachable", type(err).__name__) from err
        status = response.status_code
        if status == 404:
            raise ServiceError(SERVICE, "not_found", f"no book {asin}")
        if status == 429:
            raise ServiceThrottled(SERVICE, "throttled", f"HTTP 429 for {asin}")
        if status >= 500:
            raise ServiceUnavailable(SERVICE, "server_error", f"HTTP {status} for {asin}")
        if status != 200 or len(response.content) > MAX_ANSWER_BYTES:
            raise ServiceProtocolError(SERVICE, "unexpected_answer", f"HTTP {status} for {asin}")
        try:
            body = response.json()
        except ValueError:
            raise ServiceProtocolError(SERVICE, "not_json", f"{asin}: the answer is not JSON") from None
        return parse_book(body, asin)


def _text(value: Any) -> str | None:
    return (" ".join(value.split()) or None) if isinstance(value, str) else None


def _names(value: Any) -> tuple[str, ...]:
    names: list[str] = []
    for entry in value if isinstance(value, list) else []:
        name = _text(entry.get("name")) if isinstance(entry, dict) else None
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _day(value: Any) -> date | None:
    found = _DAY.match(value) if isinstance(value, str) else None
    if not found:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None
