"""Audiobookshelf's REST API (as 2.36 serves it) on its own httpx session: libraries,
every item of a library, one item, library and item scans, the folder watcher's
"files added" hand-off, server settings and metadata updates.

The only credential is ``Authorization: Bearer <ABS_TOKEN>`` (an API key, or a login
token); the session never follows redirects and keeps no cookies (ABS sets session and
refresh-token cookies; they are refused, so no request ever carries a ``Cookie``).

A library listing always comes minified (``authorName``, ``numAudioFiles``…; the server
ignores ``minified=``), so the full items are read with ``POST /api/items/batch/get``
(``detail_batch`` ids a request) — and only for items whose ``updatedAt`` moved since the
last listing. Listing pages are asked for with the last ``ETag`` (``If-None-Match``): an
unchanged library costs one 304 per page and no detail request. Items missing on disk are
skipped with a reason; a library whose every item is missing is an error (an unmounted
folder is not an empty library).

Errors are translated at the edge: 401 → ``ServiceAuthError`` ``token_expired`` or
``unauthorized``, 403 → ``ServiceAuthError`` ``forbidden`` (each saying how to fix
ABS_TOKEN), 404 → ``ServiceError`` ``not_found``, 429 → ``ServiceThrottled``, timeouts,
refused connections and 5xx → ``ServiceUnavailable``, redirects, non-JSON and wrong
shapes → ``ServiceProtocolError``. Imports httpx, ``errors`` and
``adapters.audiobookshelf``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from mamcrawler.adapters.audiobookshelf.items import AbsItem, AbsItems, AbsLibrary, Malformed, parse_item, parse_library
from mamcrawler.adapters.audiobookshelf.tokens import TokenInfo, refusal, token_info
from mamcrawler.errors import (
    ServiceAuthError,
    ServiceError,
    ServiceProtocolError,
    ServiceThrottled,
    ServiceUnavailable,
)

__all__ = ["AbsClient", "non_empty"]

SERVICE = "audiobookshelf"
MAX_ANSWER_BYTES = 64 * 1024 * 1024
MAX_PAGES = 10_000
LISTING_ATTEMPTS = 3  # re-list when the library changed while it was being paged


def non_empty(value: Any) -> Any:
    """``value`` without empty parts: ``None``, blank text, empty lists/dicts are dropped at
    every depth; ``False`` and ``0`` are values and stay. Returns ``None`` if nothing is left."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, Mapping):
        kept = {k: v for k, v in ((k, non_empty(v)) for k, v in value.items()) if v is not None}
        return kept or None
    if isinstance(value, list | tuple):
        items = [v for v in (non_empty(v) for v in value) if v is not None]
        return items or None
    return value


class AbsClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        proxy: str | None = None,
        timeout: float = 30.0,
        page_size: int = 5000,
        detail_batch: int = 200,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not token.strip():
            raise ValueError("the Audiobookshelf token is empty")
        if page_size < 1 or detail_batch < 1:
            raise ValueError("page_size and detail_batch must be at least 1")
        self._page_size, self._detail_batch, self._clock = page_size, detail_batch, clock
        self.token: TokenInfo = token_info(token)
        # item id → (updatedAt, parsed item): a listing re-reads only items that changed
        self._details: dict[str, tuple[Any, AbsItem]] = {}
        # (library id, page) → (ETag, results, total) of the last listing page
        self._pages: dict[tuple[str, int], tuple[str, list[Any], int]] = {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            proxy=proxy,
            timeout=timeout,
            follow_redirects=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # accepts none
            headers={"Authorization": f"Bearer {token.strip()}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AbsClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def libraries(self) -> tuple[AbsLibrary, ...]:
        body = self._json("GET", "/api/libraries")
        raw = body.get("libraries") if isinstance(body, dict) else body
        if not isinstance(raw, list):
            raise ServiceProtocolError(SERVICE, "unexpected_answer", "no libraries list")
        libraries = []
        for entry in raw:
            try:
                libraries.append(parse_library(entry))
            except Malformed:
                continue
        return tuple(libraries)

    def library(self, library_id: str) -> AbsLibrary:
        try:
            return parse_library(self._json("GET", f"/api/libraries/{_segment(library_id)}"))
        except Malformed as err:
            raise ServiceProtocolError(SERVICE, "unexpected_answer", f"library {library_id}: {err}") from None

    def server_settings(self) -> dict[str, Any]:
        """The server's settings (``storeMetadataWithItem``, ``scannerPreferMatchedMetadata``…)."""
        body = self._json("POST", "/api/authorize")
        settings = body.get("serverSettings") if isinstance(body, dict) else None
        if not isinstance(settings, dict):
            raise ServiceProtocolError(SERVICE, "unexpected_answer", "no serverSettings")
        return settings

    def items(self, library_id: str) -> AbsItems:
        """Every book item of the library (stable ``addedAt`` order)."""
        entries: list[Any] = []
        for _ in range(LISTING_ATTEMPTS):
            entries, total = self._listing(library_id)
            if len({e.get("id") for e in entries if isinstance(e, dict)}) >= total:
                break  # the library did not change under the paging
        found = self._complete(entries)
        listed = {e.get("id") for e in entries if isinstance(e, dict)}
        for gone in [k for k, (_, i) in self._details.items() if i.library_id == library_id and k not in listed]:
            del self._details[gone]  # removed from the library: forget it
        return found

    def recent_entries(self, library_id: str, limit: int = 50) -> tuple[dict[str, Any], ...]:
        """The ``limit`` most recently added items, newest first, as listed (minified)."""
        params = {"limit": limit, "page": 0, "sort": "addedAt", "desc": 1}
        body = self._json("GET", f"/api/libraries/{_segment(library_id)}/items", params=params)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise ServiceProtocolError(SERVICE, "unexpected_answer", "the item page has no results list")
        return tuple(r for r in results if isinstance(r, dict) and isinstance(r.get("id"), str))

    def item(self, item_id: str) -> AbsItem:
        raw = self._json("GET", f"/api/items/{_segment(item_id)}", params={"expanded": 1})
        try:
            return parse_item(raw)
        except Malformed as err:
            raise ServiceProtocolError(SERVICE, "malformed_item", f"{item_id}: {err}") from None

    def scan_library(self, library_id: str, *, force: bool = False) -> None:
        """Starts a scan of the whole library; ABS answers at once and scans in the background."""
        params = {"force": 1} if force else None
        self._call("POST", f"/api/libraries/{_segment(library_id)}/scan", params=params)

    def scan_item(self, item_id: str) -> str | None:
        """Rescans one item's folder and waits for it; returns ABS's result (``UPDATED``,
        ``UPTODATE``, ``REMOVED``…) if given."""
        response = self._call("POST", f"/api/items/{_segment(item_id)}/scan")
        body = _decode(response) if response.content.strip() else None
        result = body.get("result") if isinstance(body, dict) else None
        return result if isinstance(result, str) else None

    def files_added(self, library_id: str, paths: Sequence[str]) -> None:
        """Tells the library's folder watcher that files were added (``POST /api/watcher/update``):
        ABS scans just their folder after its settle delay (about 10 s). A library or server
        whose watcher is off ignores it (and still answers 200)."""
        for path in paths:
            body = {"libraryId": library_id, "path": path, "type": "add"}
            self._call("POST", "/api/watcher/update", json=body)

    def update_metadata(self, item_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """PATCHes ``{"metadata": changes}`` with every empty value dropped (``None``, ``""``,
        ``[]``, ``{}``); raises ``ValueError`` before sending anything if nothing is left.
        Returns ABS's answer with ``updated`` always set (ABS leaves it out when nothing changed)."""
        if not all(isinstance(k, str) and k for k in changes):
            raise ValueError("metadata keys must be non-empty text")
        metadata = non_empty(dict(changes))
        if not metadata:
            raise ValueError("no non-empty metadata to send")
        body = _decode(self._call("PATCH", f"/api/items/{_segment(item_id)}/media", json={"metadata": metadata}))
        if not isinstance(body, dict):
            raise ServiceProtocolError(SERVICE, "unexpected_answer", "the update answer is not an object")
        return {**body, "updated": body.get("updated") is True}

    def _listing(self, library_id: str) -> tuple[list[Any], int]:
        path = f"/api/libraries/{_segment(library_id)}/items"
        entries: list[Any] = []
        total = 0
        for page in range(MAX_PAGES):
            results, total = self._page(library_id, path, page)
            entries.extend(results)
            if not results or (page + 1) * self._page_size >= total:
                break
        return entries, total

    def _page(self, library_id: str, path: str, page: int) -> tuple[list[Any], int]:
        params = {"limit": self._page_size, "page": page, "sort": "addedAt"}
        cached = self._pages.get((library_id, page))
        response = self._call("GET", path, params=params, etag=cached[0] if cached else None)
        if response.status_code == 304 and cached is not None:
            return cached[1], cached[2]
        body = _decode(response)
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise ServiceProtocolError(SERVICE, "unexpected_answer", "the item page has no results list")
        results, total = body["results"], body.get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise ServiceProtocolError(SERVICE, "unexpected_answer", "the item page has no total")
        etag = response.headers.get("etag")
        if etag:
            self._pages[(library_id, page)] = (etag, results, total)
        return results, total

    def _complete(self, entries: list[Any]) -> AbsItems:
        """Listing entries → parsed items: cached ones as they were, changed ones read in batches."""
        stale = []
        seen: set[str] = set()
        for entry in entries:
            item_id = entry.get("id") if isinstance(entry, dict) else None
            if isinstance(item_id, str) and item_id.strip() and item_id not in seen:
                seen.add(item_id)
                cached = self._details.get(item_id)
                if cached is None or cached[0] is None or cached[0] != entry.get("updatedAt"):
                    stale.append(item_id)
        fresh = self._batch(stale)
        good: list[AbsItem] = []
        skipped: list[str] = []
        done: set[str] = set()
        missing = 0
        for n, entry in enumerate(entries):
            item_id = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(item_id, str) or not item_id.strip():
                skipped.append(f"result {n}: " + ("no id" if isinstance(entry, dict) else "not an object"))
                continue
            if item_id in done:
                continue
            done.add(item_id)
            if entry.get("isMissing") is True:
                missing += 1
                skipped.append(f"{item_id}: missing on disk")
                continue
            if item_id not in fresh:
                if item_id in stale:
                    skipped.append(f"{item_id}: gone before it could be read")
                else:
                    good.append(self._details[item_id][1])
                continue
            try:
                item = parse_item(fresh[item_id])
            except Malformed as err:
                skipped.append(f"{item_id}: {err}")
                continue
            good.append(item)
            self._details[item_id] = (entry.get("updatedAt"), item)
        if done and missing == len(done):
            raise ServiceError(SERVICE, "library_missing", "every item is missing on disk: is its folder mounted?")
        return AbsItems(items=tuple(good), skipped=tuple(skipped))

    def _batch(self, item_ids: Sequence[str]) -> dict[str, Any]:
        """Full (expanded) items by id, ``detail_batch`` a request; ids ABS no longer has are absent."""
        found: dict[str, Any] = {}
        for start in range(0, len(item_ids), self._detail_batch):
            chunk = list(item_ids[start : start + self._detail_batch])
            body = self._json_body("POST", "/api/items/batch/get", {"libraryItemIds": chunk})
            raw = body.get("libraryItems") if isinstance(body, dict) else None
            if not isinstance(raw, list):
                raise ServiceProtocolError(SERVICE, "unexpected_answer", "the batch answer has no libraryItems")
            for entry in raw:
                if isinstance(entry, dict) and entry.get("id") in chunk:
                    found[entry["id"]] = entry
        return found

    def _json(self, method: str, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        return _decode(self._call(method, path, params=params))

    def _json_body(self, method: str, path: str, body: Any) -> Any:
        return _decode(self._call(method, path, json=body))

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        etag: str | None = None,
    ) -> httpx.Response:
        headers = {"If-None-Match": etag} if etag else None
        try:
            response = self._http.request(method, path, params=params, json=json, headers=headers)
        except httpx.TimeoutException as err:
            raise ServiceUnavailable(SERVICE, "timeout", f"{method} {path}: {type(err).__name__}") from err
        except httpx.TransportError as err:
            raise ServiceUnavailable(SERVICE, "unreachable", f"{method} {path}: {type(err).__name__}") from err
        status = response.status_code
        if status in (401, 403):
            code, message = refusal(self.token, self._clock(), status)
            raise ServiceAuthError(SERVICE, code, f"HTTP {status} on {path}: {message}")
        if status == 404:
            raise ServiceError(SERVICE, "not_found", f"{method} {path}")
        if status == 429:
            raise ServiceThrottled(SERVICE, "throttled", f"HTTP 429 on {path}")
        if status >= 500:
            raise ServiceUnavailable(SERVICE, "server_error", f"HTTP {status} on {path}")
        if status == 304 and etag:
            return response
        if 300 <= status < 400:
            raise ServiceProtocolError(SERVICE, "redirected", f"HTTP {status} on {path} (redirects are not followed)")
        if not 200 <= status < 300:
            raise ServiceProtocolError(SERVICE, "unexpected_answer", f"HTTP {status} on {path}")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise ServiceProtocolError(SERVICE, "too_large", f"{path}: {len(response.content)} bytes")
        return response


def _decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ServiceProtocolError(SERVICE, "not_json", f"{response.url.path}: the answer is not JSON") from None


def _segment(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("an Audiobookshelf id must be non-empty text")
    return quote(value.strip(), safe="")
