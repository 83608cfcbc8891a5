"""The tracker's JSON API on httpx (``MAM_API.md``): search, account, bonus store,
``.torrent`` download (with the 2026 freeleech flag that spends a wedge), bonus history
and the rules pages. A bonus-store personal-freeleech answer of HTTP 410 or "Not allowed
via API" becomes ``store_route_refused``; an answer without the account, a critical block.

The session is the ``mam_id`` cookie. It rotates: every answer may carry a new value,
which is saved through ``CookieStore`` (the state store, never ``.env``) and sent next;
on start the stored value is tried before the configured one. The cookie is set per
request on this client's own host only — the client never follows redirects and never
calls another host, and no session, cookie or header is shared with any other client.
Every request goes through ``Politeness``. Answers are size-capped; HTML where JSON was
expected, a refusal in the body, 429/5xx storms, timeouts and 401/403 all become
``ServiceError``s or a ``CriticalBlock`` with a stable code.

Bonus-store purchases are sent ONCE (``once=True``): never through the 429/5xx retry
loop. Once the request has left, a 5xx, a timeout, a cut connection or an answer that is
not an explicit ``success: true/false`` raises ``PurchaseUnconfirmed`` (the caller leaves
the journal entry open, to be settled from the bonus history); a 4xx or an explicit
``success: false`` proves nothing was applied (``purchase_refused``; HTTP 410 is ``gone``,
and on the personal-freeleech route 410 or "Not allowed via API" is ``store_route_refused``,
which disables that route for good — never an unconfirmed purchase). Imports httpx,
``facts``, ``errors`` and the ``adapters.mam`` modules."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from mamcrawler.adapters.mam.parse import SearchPage, parse_account, parse_search, parse_store_answer
from mamcrawler.adapters.mam.polite import FIX_SESSION, Politeness
from mamcrawler.adapters.mam.values import as_int, as_time
from mamcrawler.errors import CriticalBlock, PurchaseUnconfirmed, ServiceError, ServiceProtocolError, ServiceUnavailable
from mamcrawler.facts import Account, FreeKind

__all__ = ["STORE_ROUTE_REFUSED", "CookieStore", "MamClient", "store_route_refused"]

log = logging.getLogger("mamcrawler.tracker")
MAX_ANSWER_BYTES = 8 * 1024 * 1024
COOKIE = "mam_id"
SEARCH = "/tor/js/loadSearchJSONbasic.php"
ACCOUNT = "/jsonLoad.php"
STORE = "/json/bonusBuy.php"
HISTORY = "/json/userBonusHistory.php"
DOWNLOAD = "/tor/download.php"
STORE_ROUTE_REFUSED = "store_route_refused"
WEDGE_FLAG = re.compile(r"[A-Za-z0-9_]+(=[A-Za-z0-9_]*)?")
_HISTORY_TYPES = {"vip": ("vip",), "upload": ("upload",), "personal_freeleech": ("personalfl", "personal_fl", "fl")}


def store_route_refused(err: ServiceError) -> bool:
    """The 2026 answer to a personal-freeleech purchase by an API session: HTTP 410, or a
    refusal saying "Not allowed via API" — a permanent capability change, never retried."""
    if err.code in ("gone", STORE_ROUTE_REFUSED):
        return True
    return err.code == "purchase_refused" and "not allowed via api" in str(err).lower()


class CookieStore(Protocol):
    def load(self) -> str | None: ...

    def save(self, value: str) -> None: ...


class MamClient:
    """One tracker session: polite, cookie-rotating, answers parsed at the edge."""

    def __init__(
        self,
        base_url: str,
        cookie: str,
        *,
        cookies: CookieStore | None = None,
        proxy: str | None = None,
        timeout: float = 30.0,
        politeness: Politeness | None = None,
        epoch_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).netloc
        self._configured = cookie
        self._cookies = cookies
        stored = cookies.load() if cookies is not None else None
        self._cookie = stored or cookie
        self._tried_configured = not stored
        self.polite = politeness or Politeness()
        self._epoch_ms = epoch_ms
        self._http = httpx.Client(
            base_url=self.base_url,
            proxy=proxy,
            timeout=timeout,
            follow_redirects=False,
            headers={"Accept": "application/json, */*"},
        )

    def close(self) -> None:
        self._http.close()

    # --- the one way out ------------------------------------------------------------------
    def _request(self, path: str, params: Sequence[tuple[str, str]] = (), *, once: bool = False) -> httpx.Response:
        """Send politely; 429/5xx are retried with backoff unless ``once`` (store purchases)."""
        with self.polite.lock:
            attempt = 0
            while True:
                attempt += 1
                self.polite.before()
                response = self._send(path, params, once=once)
                self._rotate(response)
                if response.status_code in (401, 403) and not self._tried_configured:
                    # The stored cookie may be stale: try the configured one once.
                    self._cookie, self._tried_configured = self._configured, True
                    self.polite.after(200)
                    continue
                self.polite.after(response.status_code)
                if (response.status_code == 429 or response.status_code >= 500) and not once:
                    self.polite.backoff(attempt, status=response.status_code)
                    continue
                return response

    def _send(self, path: str, params: Sequence[tuple[str, str]], *, once: bool = False) -> httpx.Response:
        request = self._http.build_request(
            "GET", path, params=list(params) or None, headers={"Cookie": f"{COOKIE}={self._cookie}"}
        )
        if request.url.host != urlsplit(self.base_url).hostname:
            raise ServiceError("tracker", "foreign_host", f"refusing to send the tracker cookie to {request.url.host}")
        try:
            response = self._http.send(request, stream=True)
            try:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_ANSWER_BYTES:
                        raise ServiceProtocolError(
                            "tracker", "answer_too_large", f"{path}: over {MAX_ANSWER_BYTES} bytes"
                        )
            finally:
                response.close()
        except (httpx.ConnectError, httpx.ConnectTimeout) as err:  # nothing left this machine
            raise ServiceUnavailable("tracker", "unreachable", f"{path}: {type(err).__name__}") from err
        except httpx.TimeoutException as err:
            if once:
                raise PurchaseUnconfirmed("tracker", "purchase_unconfirmed", f"{path}: sent, then timed out") from err
            raise ServiceUnavailable("tracker", "timeout", f"{path}: {type(err).__name__}") from err
        except httpx.TransportError as err:
            if once:
                raise PurchaseUnconfirmed(
                    "tracker", "purchase_unconfirmed", f"{path}: sent, then {type(err).__name__}"
                ) from err
            raise ServiceUnavailable("tracker", "unreachable", f"{path}: {type(err).__name__}") from err
        self._http.cookies.clear()  # the cookie lives here, in one place, and nowhere else
        return httpx.Response(response.status_code, headers=response.headers, content=bytes(body), request=request)

    def _rotate(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            if name.strip() == COOKIE:
                value = rest.split(";", 1)[0].strip()
                if value and value != self._cookie:
                    self._cookie = value
                    if self._cookies is not None:
                        self._cookies.save(value)

    def _json(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        response = self._request(path, params)
        if response.status_code == 410:
            raise ServiceError("tracker", "gone", f"{path}: HTTP 410")
        if response.status_code == 404:
            raise ServiceError("tracker", "not_found", f"{path}: HTTP 404")
        if response.status_code != 200:
            raise ServiceProtocolError("tracker", "unexpected_status", f"{path}: HTTP {response.status_code}")
        try:
            return json.loads(response.content)
        except ValueError:
            looks_html = response.content.lstrip()[:1] == b"<"
            code = "html_instead_of_json" if looks_html else "malformed_json"
            raise ServiceProtocolError("tracker", code, f"{path}: the answer is not JSON") from None

    # --- endpoints ----------------------------------------------------------------------------
    def search(self, params: Sequence[tuple[str, str]]) -> SearchPage:
        """The JSON search with browse-style ``tor[...]`` parameters (plus the mediaInfo flag)."""
        page = parse_search(self._json(SEARCH, [*params, ("mediaInfo", "1")]))
        for line in page.skipped:
            log.warning("tracker search: skipped %s", line)
        return page

    def account(self) -> Account:
        """The account; an answer without it (an HTML page, no ``username``) means the
        session cookie expired: a critical block until a new ``MAM_ID`` is set."""
        try:
            return parse_account(self._json(ACCOUNT, [("snatch_summary", "1")]))
        except ServiceProtocolError as err:
            if err.code not in ("not_logged_in", "html_instead_of_json"):
                raise
            self.polite.blocked = (
                f"the tracker answered without the account (the session cookie expired). {FIX_SESSION}"
            )
            raise CriticalBlock("tracker_session_expired", self.polite.blocked) from None

    def download_torrent(self, tracker_id: int, *, wedge_flag: str | None = None) -> bytes:
        """The ``.torrent``; with ``wedge_flag`` (the ``MAM_WEDGE_FLAG`` setting, ``fl`` or
        ``fl=1``…) appended to the link, the site spends a freeleech wedge on it (2026)."""
        if wedge_flag is None:
            response = self._request(DOWNLOAD, [("tid", str(tracker_id))])
        else:
            if not WEDGE_FLAG.fullmatch(wedge_flag):
                raise ServiceError("tracker", "bad_wedge_flag", "the wedge flag must look like fl or fl=1")
            response = self._flagged_download(tracker_id, wedge_flag)
        if response.status_code in (404, 410):
            raise ServiceError("tracker", "torrent_gone", f"torrent {tracker_id}: HTTP {response.status_code}")
        data = response.content
        if response.status_code != 200 or not data or data.lstrip()[:1] == b"<" or not data.startswith(b"d"):
            raise ServiceProtocolError(
                "tracker", "not_a_torrent", f"torrent {tracker_id}: the answer is not a .torrent"
            )
        return data

    def _flagged_download(self, tracker_id: int, wedge_flag: str) -> httpx.Response:
        """The flagged link is money-like (it may spend a wedge): sent once, never through
        the retry loop; a 5xx, a cut or an unreadable answer after it left raises
        ``PurchaseUnconfirmed`` (``wedge_unconfirmed``); a refused connection stays a plain
        ``unreachable`` (nothing left)."""
        path = f"{DOWNLOAD}?tid={int(tracker_id)}&{wedge_flag}"
        try:
            response = self._request(path, once=True)
        except PurchaseUnconfirmed as err:
            raise PurchaseUnconfirmed("tracker", "wedge_unconfirmed", f"torrent {tracker_id}: {err}") from err
        except ServiceProtocolError as err:
            raise PurchaseUnconfirmed("tracker", "wedge_unconfirmed", f"torrent {tracker_id}: {err.code}") from err
        data = response.content
        if response.status_code >= 500 or (
            response.status_code == 200 and (not data or data.lstrip()[:1] == b"<" or not data.startswith(b"d"))
        ):
            raise PurchaseUnconfirmed(
                "tracker", "wedge_unconfirmed", f"torrent {tracker_id}: HTTP {response.status_code}, no .torrent"
            )
        return response

    def _buy(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        """One store request, never repeated; see the module docstring for what each answer means."""
        try:
            response = self._request(path, [*params, ("_", str(self._epoch_ms()))], once=True)
        except ServiceProtocolError as err:  # e.g. an oversized answer: it arrived, unreadable
            raise PurchaseUnconfirmed("tracker", "purchase_unconfirmed", f"{path}: {err.code}") from err
        status = response.status_code
        if status >= 500:
            raise PurchaseUnconfirmed("tracker", "purchase_unconfirmed", f"{path}: HTTP {status} after sending")
        if status == 410:  # the route is gone for this session: a definite refusal, nothing applied
            raise ServiceError("tracker", "gone", f"{path}: HTTP 410")
        if status != 200:  # 3xx (not followed), 4xx, 429: the store did not take it
            raise ServiceError("tracker", "purchase_refused", f"{path}: HTTP {status}")
        try:
            body = json.loads(response.content)
        except ValueError:
            raise PurchaseUnconfirmed("tracker", "purchase_unconfirmed", f"{path}: the answer is not JSON") from None
        if isinstance(body, dict) and body.get("success") is False:
            answer = parse_store_answer(body)
            raise ServiceError("tracker", "purchase_refused", answer.error)
        try:
            answer = parse_store_answer(body)
        except ServiceError as err:
            raise PurchaseUnconfirmed("tracker", "purchase_unconfirmed", f"{path}: {err.code}") from err
        if not answer.ok:  # neither true nor an explicit false (e.g. the string "false")
            raise PurchaseUnconfirmed("tracker", "purchase_unconfirmed", f"{path}: success={body.get('success')!r}")
        return answer.body

    def buy_vip(self, weeks: int) -> dict[str, Any]:
        return self._buy(STORE, [("spendtype", "VIP"), ("duration", str(weeks))])

    def buy_upload_credit(self, gib: int) -> dict[str, Any]:
        return self._buy(STORE, [("spendtype", "upload"), ("amount", str(gib))])

    def buy_personal_freeleech(self, tracker_id: int, *, use_wedge: bool) -> dict[str, Any]:
        """The tracker spends a wedge when the account holds one, else 50,000 points — it
        offers no choice. So a wedge purchase first reads the account: with no wedge left
        (facts gone stale since the decision) it is refused here instead of silently
        costing points."""
        if use_wedge and self.account().wedges < 1:
            raise ServiceError("tracker", "no_wedge_left", "the account holds no wedge; the store would take points")
        stamp = str(self._epoch_ms() // 1000)
        params = [("spendtype", "personalFL"), ("torrentid", str(tracker_id)), ("timestamp", stamp)]
        try:
            return self._buy(f"{STORE}/{stamp}", params)
        except ServiceError as err:
            if store_route_refused(err):
                raise ServiceError(
                    "tracker",
                    STORE_ROUTE_REFUSED,
                    "personal freeleech through the bonus store is refused for API "
                    f"sessions ({err.code}); wedges are spent at download time instead",
                ) from None
            raise

    def personal_freeleech(self, tracker_id: int) -> bool | None:
        """Does the search show this torrent as personal freeleech now (it lags a purchase
        by 5–20 minutes)? ``None`` when the torrent was not found."""
        page = self.search([("tor[id]", str(int(tracker_id))), ("tor[searchType]", "all")])
        for release in page.releases:
            if release.tracker_id == tracker_id:
                return release.free is FreeKind.PERSONAL_FREELEECH
        return None

    def purchase_seen(self, kind: str, detail: str) -> bool | None:
        """Does the bonus history of the last day show this purchase? ``None``: cannot tell."""
        try:
            body = self._json(HISTORY)
        except ServiceError as err:
            log.warning("bonus history unreadable: %s", err.code)
            return None
        if not isinstance(body, list):
            return None
        since = datetime.now(UTC) - timedelta(days=1)
        names = _HISTORY_TYPES.get(kind, (kind,))
        for entry in body:
            if not isinstance(entry, dict):
                continue
            if str(entry.get("type", "")).lower().replace(" ", "") not in names:
                continue
            when = as_time(entry.get("timestamp"))
            if kind != "personal_freeleech" and (when is None or when < since):
                continue
            value = entry.get("torrentid") if kind == "personal_freeleech" else entry.get("amount")
            if as_int(value) == as_int(detail):
                return True
        return False

    def rules_pages(self, pages: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """``(name, html)`` of each rules page; any failure raises (the snapshot is all or nothing)."""
        out = []
        for name, path in pages:
            response = self._request(path)
            if response.status_code != 200:
                raise ServiceProtocolError("tracker", "unexpected_status", f"{path}: HTTP {response.status_code}")
            out.append((name, response.text))
        return out
