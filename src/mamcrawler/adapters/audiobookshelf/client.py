"""Audiobookshelf's REST API on its own httpx session: libraries, every item of a library
(all pages), one item, library and item scans, and metadata updates.

The only credential is ``Authorization: Bearer <token>``. The session never follows
redirects and keeps no cookies (ABS sets a session cookie; it is refused, so no request
ever carries a ``Cookie`` header). A library listing may come minified (``authorName``,
``numAudioFiles``…, as ABS 2.x serves it); such items are then read one by one from
``GET /api/items/:id?expanded=1`` — later listings only when an item's ``updatedAt``
moved. Malformed items are skipped with a reason, never guessed. Errors are translated at
the edge: 401/403 → ``ServiceAuthError``, 404 → ``ServiceError`` ``not_found``, 429 →
``ServiceThrottled``, timeouts, refused connections and 5xx → ``ServiceUnavailable``,
redirects, non-JSON and wrong shapes → ``ServiceProtocolError``.
Imports httpx, ``facts``, ``errors`` and ``adapters.audiobookshelf``."""

from __future__ import annotations

from collections.abc import Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from mamcrawler.adapters.audiobookshelf.items import (
    AbsItem,
    AbsItems,
    AbsLibrary,
    Malformed,
    is_expanded,
    parse_item,
    parse_library,
)
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
        page_size: int = 100,
    ) -> None:
        if not token.strip():
            raise ValueError("the Audiobookshelf token is empty")
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._page_size = page_size
        # item id → (updatedAt, parsed item): a listing re-reads only items that changed
        self._details: dict[str, tuple[Any, AbsItem]] = {}
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

    def items(self, library_id: str) -> AbsItems:
        """Every book item of the library, page by page (stable ``addedAt`` order)."""
        path = f"/api/libraries/{_segment(library_id)}/items"
        good: list[AbsItem] = []
        skipped: list[str] = []
        seen: set[str] = set()
        for page in range(MAX_PAGES):
            body = self._json("GET", path, params={"limit": self._page_size, "page": page, "sort": "addedAt"})
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise ServiceProtocolError(SERVICE, "unexpected_answer", "the item page has no results list")
            results, total = body["results"], body.get("total")
            if not isinstance(total, int) or isinstance(total, bool) or total < 0:
                raise ServiceProtocolError(SERVICE, "unexpected_answer", "the item page has no total")
            for n, raw in enumerate(results, start=page * self._page_size):
                self._take(raw, n, seen, good, skipped)
            if not results or (page + 1) * self._page_size >= total:
                break
        return AbsItems(items=tuple(good), skipped=tuple(skipped))

    def item(self, item_id: str) -> AbsItem:
        raw = self._item_json(item_id)
        try:
            return parse_item(raw)
        except Malformed as err:
            raise ServiceProtocolError(SERVICE, "malformed_item", f"{item_id}: {err}") from None

    def scan_library(self, library_id: str, *, force: bool = False) -> None:
        params = {"force": 1} if force else None
        self._call("POST", f"/api/libraries/{_segment(library_id)}/scan", params=params)

    def scan_item(self, item_id: str) -> str | None:
        """Rescans one item's files; returns ABS's result (``UPDATED``, ``UPTODATE``…) if given."""
        response = self._call("POST", f"/api/items/{_segment(item_id)}/scan")
        body = _decode(response) if response.content.strip() else None
        result = body.get("result") if isinstance(body, dict) else None
        return result if isinstance(result, str) else None

    def update_metadata(self, item_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """PATCHes ``{"metadata": changes}`` with every empty value dropped (``None``, ``""``,
        ``[]``, ``{}``); raises ``ValueError`` before sending anything if nothing is left."""
        if not all(isinstance(k, str) and k for k in changes):
            raise ValueError("metadata keys must be non-empty text")
        metadata = non_empty(dict(changes))
        if not metadata:
            raise ValueError("no non-empty metadata to send")
        body = _decode(self._call("PATCH", f"/api/items/{_segment(item_id)}/media", json={"metadata": metadata}))
        if not isinstance(body, dict):
            raise ServiceProtocolError(SERVICE, "unexpected_answer", "the update answer is not an object")
        return body

    def _take(self, raw: Any, n: int, seen: set[str], good: list[AbsItem], skipped: list[str]) -> None:
        item_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(item_id, str) or not item_id.strip():
            skipped.append(f"result {n}: " + ("no id" if isinstance(raw, dict) else "not an object"))
            return
        if item_id in seen:
            return
        seen.add(item_id)
        version = raw.get("updatedAt")
        cached = self._details.get(item_id)
        if cached is not None and version is not None and cached[0] == version:
            good.append(cached[1])  # unchanged since the last listing: no detail request
            return
        if not is_expanded(raw):
            try:
                raw = self._item_json(item_id)
            except ServiceError as err:
                if err.code != "not_found":
                    raise
                skipped.append(f"{item_id}: gone before it could be read")
                return
        try:
            item = parse_item(raw)
        except Malformed as err:
            skipped.append(f"{item_id}: {err}")
            return
        good.append(item)
        if version is not None:
            self._details[item_id] = (version, item)

    def _item_json(self, item_id: str) -> Any:
        return self._json("GET", f"/api/items/{_segment(item_id)}", params={"expanded": 1})

    def _json(self, method: str, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        return _decode(self._call(method, path, params=params))

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.TimeoutException as err:
            raise ServiceUnavailable(SERVICE, "timeout", f"{method} {path}: {type(err).__name__}") from err
        except httpx.TransportError as err:
            raise ServiceUnavailable(SERVICE, "unreachable", f"{method} {path}: {type(err).__name__}") from err
        status = response.status_code
        if status in (401, 403):
            raise ServiceAuthError(SERVICE, "unauthorized", f"HTTP {status} on {path}: check ABS_TOKEN")
        if status == 404:
            raise ServiceError(SERVICE, "not_found", f"{method} {path}")
        if status == 429:
            raise ServiceThrottled(SERVICE, "throttled", f"HTTP 429 on {path}")
        if status >= 500:
            raise ServiceUnavailable(SERVICE, "server_error", f"HTTP {status} on {path}")
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
