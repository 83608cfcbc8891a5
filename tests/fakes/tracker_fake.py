"""A loopback fake of the tracker's JSON API (``MAM_API.md`` shapes), a real HTTP server on
127.0.0.1, serving the fixture files in ``fixtures/mam``.

It keeps an account (points, wedges, VIP expiry, uploaded bytes), applies bonus-store
purchases to it and to its bonus history, rotates the ``mam_id`` cookie on every answer
(accepting the newest two values, 403 otherwise), and logs every request (time, path,
query, cookie, overlap with another request in flight) so tests can measure politeness
and cookie handling. ``hostile`` switches one path into a misbehaving mode: ``html``,
``malformed_author``, ``storm:<n>`` (n × 429), ``error:<n>`` (n × 500), ``slow:<s>``,
``huge``, ``success_string_false``, ``refuse:<message>``, ``forbidden``, ``drop`` (apply a
purchase, then close the connection without an answer), ``hold`` (apply it, answer nothing until
``release`` is set), ``applied:<status>`` (apply it, then answer that HTTP status with an
HTML error page — a store behind a failing proxy), ``applied_html`` (apply it, answer 200
with HTML).

It speaks the tracker of 2026: ``store_route`` ``refused_json`` / ``refused_410`` refuses
personal freeleech through the bonus store ("Not allowed via API" / HTTP 410); a download
carrying ``wedge_flag`` (``fl`` by default) spends one wedge on a torrent that is not free
for the account, and ``auto_wedge`` spends one on every such download; wedges count down
and, with none left, the download arrives paid; ``personal_freeleech`` shows in the search
only ``pfl_lag_s`` seconds after the wedge. Every download is in ``downloads``.
``download_fault`` (the next flagged download, then cleared): ``spend_502`` spends the
wedge (when the site honours the flag) then answers 502, ``spend_drop`` spends it then
drops the connection without an answer."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from loopback import QuietHandler, serve

FIXTURES = Path(__file__).parent / "fixtures" / "mam"
RULE_PAGES = {
    "/rules.php": "rules",
    "/faq.php": "faq",
    "/f/b/17": "rules_board",
    "/f/b/1": "announcements",
    "/guides/": "guides",
    "/updateNotes.php": "update_notes",
    "/api/list.php": "api_list",
}


@dataclass
class Logged:
    at: float
    path: str
    query: list[tuple[str, str]]
    cookie: str
    overlapped: bool


@dataclass
class TrackerState:
    account: dict[str, Any] = field(default_factory=lambda: json.loads((FIXTURES / "account.json").read_text()))
    search: dict[str, Any] = field(default_factory=lambda: json.loads((FIXTURES / "search_top10.json").read_text()))
    history: list[dict[str, Any]] = field(default_factory=lambda: json.loads((FIXTURES / "history.json").read_text()))
    torrents: dict[int, bytes] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=lambda: ["cookie-0"])
    issued: int = 0
    log: list[Logged] = field(default_factory=list)
    hostile: dict[str, str] = field(default_factory=dict)
    purchases: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    apply_to_account: bool = True  # False: purchases land in the history only (the account lags)
    release: threading.Event = field(default_factory=threading.Event)  # ends a ``hold``
    store_route: str = "open"  # open | refused_json | refused_410 (personal freeleech via bonusBuy)
    wedge_flag: str = "fl"  # the download link's freeleech flag the site honours
    auto_wedge: bool = False  # the account's "Automatic Freeleech Wedge" preference
    pfl_lag_s: float = 0.0  # how long the search lags behind a wedge
    pfl_since: dict[int, float] = field(default_factory=dict)  # tid → monotonic time the wedge was spent
    downloads: list[dict[str, Any]] = field(default_factory=list)
    download_fault: str = ""  # "" | spend_502 | spend_drop: the next flagged download only

    def free_for_account(self, tid: int) -> bool:
        row = next((r for r in self.search["data"] if r.get("id") == tid), {})
        vip = str(self.account.get("classname", "")).lower() in ("vip", "elite vip", "staff")
        if int(row.get("free") or 0) or tid in self.pfl_since or int(row.get("personal_freeleech") or 0):
            return True
        return vip and bool(int(row.get("fl_vip") or 0) or int(row.get("vip") or 0))

    def rotate(self) -> str:
        self.issued += 1
        value = f"cookie-{self.issued}"
        self.cookies = [*self.cookies[-1:], value]
        return value


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        cookie = self.headers.get("Cookie", "")
        with state.lock:
            overlapped = state.in_flight > 0
            state.in_flight += 1
            state.log.append(Logged(time.monotonic(), parts.path, query, cookie, overlapped))
        try:
            self._answer(state, parts.path, query, cookie)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (a size cap, a timeout): nothing to answer
        finally:
            with state.lock:
                state.in_flight -= 1

    def _send(self, status: int, body: bytes, content_type: str = "application/json", *, rotate: bool = True) -> None:
        headers = []
        if rotate:
            value = self.server.state.rotate()
            headers.append(("Set-Cookie", f"mam_id={value}; path=/; domain=127.0.0.1; HttpOnly"))
        self.reply(status, body, content_type, headers)

    def _json(self, data: Any, status: int = 200) -> None:
        self._send(status, json.dumps(data).encode())

    def _hostile(self, state: TrackerState, path: str) -> bool:
        mode = state.hostile.get(path) or state.hostile.get("*")
        if not mode:
            return False
        name, _, arg = mode.partition(":")
        if name in ("storm", "error"):
            left = int(arg or "1")
            if left <= 0:
                return False
            state.hostile[path if path in state.hostile else "*"] = f"{name}:{left - 1}"
            self._send(429 if name == "storm" else 500, b'{"error": "slow down"}', rotate=False)
            return True
        if name == "slow":
            time.sleep(float(arg or "5"))
            return False
        if name == "forbidden":
            self._send(403, b"<html>Forbidden</html>", "text/html", rotate=False)
            return True
        if name == "html":
            self._send(200, b"<!DOCTYPE html><html><body>Please log in</body></html>", "text/html")
            return True
        if name == "huge":
            self._send(200, b'{"data": [' + b'{"id": 1},' * 900_000 + b'{"id": 2}]}')
            return True
        return False

    def _answer(self, state: TrackerState, path: str, query: list[tuple[str, str]], cookie: str) -> None:
        value = cookie.removeprefix("mam_id=").split(";")[0]
        if value not in state.cookies:
            self._send(403, b"<html>Invalid session</html>", "text/html", rotate=False)
            return
        store = "/json/bonusBuy.php"  # the personal-freeleech path carries a stamp: one mode for the store
        mode_key = store if path.startswith(store) and path not in state.hostile else path
        if self._hostile(state, mode_key):
            return
        params = dict(query)
        mode = state.hostile.get(mode_key, "")
        if path == "/jsonLoad.php":
            self._json(state.account)
        elif path == "/tor/js/loadSearchJSONbasic.php":
            self._json(self._search(state, query, mode))
        elif path.startswith("/json/bonusBuy.php"):
            self._purchase(state, params, mode)
        elif path == "/json/userBonusHistory.php":
            self._json(state.history)
        elif path == "/tor/download.php":
            tid = int(params.get("tid", "0"))
            data = state.torrents.get(tid)
            if data is None:
                self._send(404, b"<html>Not found</html>", "text/html")
            else:
                self._download(state, tid, query)
                fault = ""
                if any(k != "tid" for k, _ in query):  # a flagged link (honoured or not)
                    fault, state.download_fault = state.download_fault, ""
                if fault == "spend_502":
                    self._send(502, b"<html>Bad Gateway</html>", "text/html", rotate=False)
                elif fault == "spend_drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                else:
                    self._send(200, data, "application/x-bittorrent")
        elif path in RULE_PAGES:
            name = RULE_PAGES[path]
            html = state.rules.get(name) or (FIXTURES / "rules" / f"{name}.html").read_text()
            self._send(200, html.encode(), "text/html; charset=utf-8")
        else:
            self._send(404, b"<html>Not found</html>", "text/html")

    def _download(self, state: TrackerState, tid: int, query: list[tuple[str, str]]) -> None:
        name, _, value = state.wedge_flag.partition("=")
        flagged = any(k == name and (not value or v == value) for k, v in query)
        wedge = (flagged or state.auto_wedge) and not state.free_for_account(tid)
        spent = wedge and int(state.account.get("wedges") or 0) > 0
        if spent:
            state.account["wedges"] = str(int(state.account["wedges"]) - 1)
            state.pfl_since[tid] = time.monotonic()
        state.downloads.append({"tid": tid, "flagged": flagged, "wedge_spent": spent})

    def _search(self, state: TrackerState, query: list[tuple[str, str]], mode: str) -> dict[str, Any]:
        cats = {v for k, v in query if k == "tor[cat][]"}
        text = dict(query).get("tor[text]", "").lower()
        one = dict(query).get("tor[id]")
        rows = [
            r
            for r in copy.deepcopy(state.search["data"])
            if (not cats or str(r.get("category")) in cats)
            and (not one or str(r.get("id")) == one)
            and (not text or any(text in str(r.get(f, "")).lower() for f in ("title", "author_info", "series_info")))
        ]
        for r in rows:
            since = state.pfl_since.get(int(r.get("id") or 0))
            if since is not None and time.monotonic() - since >= state.pfl_lag_s:
                r["personal_freeleech"] = 1
        if mode == "malformed_author":
            for r in rows:
                r["author_info"] = '{"12": '
        if not rows:
            return {"error": "Nothing returned, out of 0"}
        return {"perpage": 100, "start": 0, "found": len(rows), "total": len(rows), "data": rows}

    def _purchase(self, state: TrackerState, params: dict[str, str], mode: str) -> None:
        if mode.startswith("refuse"):
            self._json({"success": False, "error": mode.partition(":")[2] or "Not enough bonus"})
            return
        kind = params.get("spendtype")
        if kind == "personalFL" and state.store_route == "refused_410":
            self._send(410, b"<html>Gone</html>", "text/html")
            return
        if kind == "personalFL" and state.store_route == "refused_json":
            self._json({"success": False, "error": "Not allowed via API"})
            return
        account = state.account if state.apply_to_account else copy.deepcopy(state.account)
        points = float(account["seedbonus"])
        now = datetime.now(UTC)
        entry: dict[str, Any] = {"timestamp": now.strftime("%Y-%m-%d %H:%M:%S"), "type": kind}
        if kind == "VIP":
            weeks = int(params["duration"])
            cost = 1250 * weeks
            until = datetime.strptime(account["vip_until"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            account["vip_until"] = (max(until, now) + timedelta(weeks=weeks)).strftime("%Y-%m-%d %H:%M:%S")
            entry["amount"] = weeks
        elif kind == "upload":
            gib = int(params["amount"])
            cost = 500 * gib
            account["uploaded_bytes"] = int(account["uploaded_bytes"]) + gib * 1024**3
            entry["amount"] = gib
        elif kind == "personalFL":
            tid = int(params["torrentid"])
            entry["torrentid"] = tid
            if int(account.get("wedges", 0)):
                account["wedges"] = str(int(account["wedges"]) - 1)
                cost = 0
            else:
                cost = 50_000
            for row in state.search["data"]:
                if row.get("id") == tid:
                    row["personal_freeleech"] = 1
        else:
            self._json({"success": False, "error": f"unknown spendtype {kind}"})
            return
        if cost > points:
            self._json({"success": False, "error": "Not enough bonus"})
            return
        account["seedbonus"] = str(points - cost)
        state.history.append(entry)
        state.purchases.append({**entry, "cost": cost})
        if mode == "hold":  # the purchase is made; the answer waits (a test kills the caller meanwhile)
            state.release.wait(60)
            self.close_connection = True
            return
        if mode == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode.startswith("applied:"):  # applied, then a gateway error instead of the answer
            self._send(int(mode.partition(":")[2]), b"<html>502 Bad Gateway</html>", "text/html")
            return
        if mode == "applied_html":
            self._send(200, b"<html><body>Thank you!</body></html>", "text/html")
            return
        success: Any = "false" if mode == "success_string_false" else True
        self._json({"success": success, "type": kind, "amount": entry.get("amount"), "seedbonus": points - cost})


@contextmanager
def tracker_fake(state: TrackerState | None = None) -> Iterator[tuple[str, TrackerState]]:
    """Run the fake; yields its base URL and its state; stops and closes it afterwards."""
    state = state or TrackerState()
    with serve(_Handler, state) as url:
        yield url, state
