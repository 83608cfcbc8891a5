"""Prowlarr's search API on its own httpx session (``X-Api-Key``; never the tracker cookie).

``search(query, book_key=…)`` → ``Release`` facts with ``source=prowlarr``. What Prowlarr
does not carry stays explicitly unknown: no narrators, no series, no bitrate, no
abridged flag — the §5 ladder then treats them as unknown, never as good. Freeleech comes
from ``indexerFlags``; a tracker id from a MyAnonamouse ``infoUrl`` (``/t/<id>``), so the
same release found both ways is one release. Imports httpx, ``facts`` and ``errors``."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import httpx

from mamcrawler.errors import CriticalBlock, ServiceProtocolError, ServiceThrottled, ServiceUnavailable
from mamcrawler.facts import FreeKind, Release, ReleaseSource

__all__ = ["AUDIOBOOK_CATEGORIES", "ProwlarrClient"]

AUDIOBOOK_CATEGORIES = (3030,)  # Newznab "Audio/Audiobook"
_MAM_ID = re.compile(r"myanonamouse\.net/t/(\d+)")
MAX_ANSWER_BYTES = 8 * 1024 * 1024


class ProwlarrClient:
    def __init__(self, base_url: str, api_key: str, *, proxy: str | None = None, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            proxy=proxy,
            timeout=timeout,
            follow_redirects=False,
            headers={"X-Api-Key": api_key, "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def search(
        self,
        query: str,
        *,
        book_key: str,
        categories: tuple[int, ...] = AUDIOBOOK_CATEGORIES,
        indexer_ids: tuple[int, ...] = (),
    ) -> tuple[Release, ...]:
        params: list[tuple[str, str | int | float | bool | None]] = [("query", query), ("type", "search")]
        params += [("categories", c) for c in categories] + [("indexerIds", i) for i in indexer_ids]
        try:
            response = self._http.get("/api/v1/search", params=params)
        except httpx.TimeoutException as err:
            raise ServiceUnavailable("prowlarr", "timeout", type(err).__name__) from err
        except httpx.TransportError as err:
            raise ServiceUnavailable("prowlarr", "unreachable", type(err).__name__) from err
        if response.status_code in (401, 403):
            raise CriticalBlock("prowlarr_api_key_refused", f"HTTP {response.status_code}: check PROWLARR_API_KEY")
        if response.status_code == 429 or response.status_code >= 500:
            raise ServiceThrottled("prowlarr", "throttled", f"HTTP {response.status_code}")
        if response.status_code != 200 or len(response.content) > MAX_ANSWER_BYTES:
            raise ServiceProtocolError("prowlarr", "unexpected_answer", f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise ServiceProtocolError("prowlarr", "not_json", "the search answer is not JSON") from None
        if not isinstance(body, list):
            raise ServiceProtocolError("prowlarr", "unexpected_answer", "the search answer is not a list")
        return tuple(r for r in (_release(raw, book_key) for raw in body) if r is not None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _release(raw: Any, book_key: str) -> Release | None:
    if not isinstance(raw, dict) or raw.get("protocol") not in (None, "torrent"):
        return None
    title, guid = raw.get("title"), raw.get("guid") or raw.get("downloadUrl")
    if not isinstance(title, str) or not title.strip() or not isinstance(guid, str):
        return None
    flags = [str(f).lower() for f in raw.get("indexerFlags") or [] if isinstance(f, str | int)]
    info = str(raw.get("infoUrl") or raw.get("commentUrl") or "")
    tracker = _MAM_ID.search(info)
    rid = f"mam-{tracker.group(1)}" if tracker else "prowlarr-" + hashlib.sha256(guid.encode()).hexdigest()[:16]
    return Release(
        id=rid,
        source=ReleaseSource.PROWLARR,
        tracker_id=int(tracker.group(1)) if tracker else None,
        book_key=book_key,
        title=title.strip(),
        size_bytes=_int(raw.get("size")),
        seeders=_int(raw.get("seeders")),
        leechers=_int(raw.get("leechers")),
        snatches=_int(raw.get("grabs")),
        free=FreeKind.SITE_FREELEECH if "freeleech" in flags else FreeKind.NONE,
    )
