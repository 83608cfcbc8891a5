"""The local HTTP API and dashboard (SPEC "Interfaces"), on the standard library's
threading HTTP server — loopback by default, JSON answers built from the status board
and the decision journal, never a secret (every body passes through redaction).

GET  /api/vip/status  /api/compliance/ratio  /api/compliance/report  /api/system/mam-rules
     /api/system/events  /api/qbittorrent/status  /api/economy/plan
     /api/snatch/forecast          GET / → the dashboard page
POST /api/system/autonomous/start  /api/system/autonomous/stop
Imports the standard library and ``app``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mamcrawler.app.web.dashboard import render_dashboard
from mamcrawler.app.web.status import StatusBoard, journal_records


class ApiServer:
    """Serves the board on ``host:port`` in a background thread."""

    def __init__(
        self,
        board: StatusBoard,
        *,
        host: str,
        port: int,
        journal_file: Path | None,
        secrets: Sequence[str],
        clock: Callable[[], datetime],
    ) -> None:
        self.board, self.journal_file, self.clock = board, journal_file, clock
        self.secrets = [s for s in secrets if s]
        handler = self._handler()
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="mamcrawler-api", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def routes_get(self) -> dict[str, Callable[[], Any]]:
        board = self.board
        return {
            "/api/vip/status": board.vip_status,
            "/api/compliance/ratio": board.ratio_status,
            "/api/economy/plan": board.points_plan,
            "/api/snatch/forecast": board.snatch_forecast,
            "/api/compliance/report": lambda: board.compliance_report(self._records(), now=self.clock()),
            "/api/system/mam-rules": board.rules_version,
            "/api/system/events": board.events,
            "/api/qbittorrent/status": board.torrent_status,
            "/api/system/autonomous": lambda: {"autonomous": board.autonomous()},
        }

    def routes_post(self) -> dict[str, Callable[[], Any]]:
        return {
            "/api/system/autonomous/start": lambda: self.board.set_autonomous(True, now=self.clock()),
            "/api/system/autonomous/stop": lambda: self.board.set_autonomous(False, now=self.clock()),
        }

    def _records(self) -> list[Any]:
        return journal_records(self.journal_file) if self.journal_file else []

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet: the daemon logs
                return

            def _send(self, status: int, body: str, content_type: str) -> None:
                data = server.scrub(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def _json(self, status: int, payload: Any) -> None:
                self._send(status, json.dumps(payload, sort_keys=True, default=str), "application/json")

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in ("/", "/dashboard"):
                    self._send(200, render_dashboard(server.board, server._records()), "text/html; charset=utf-8")
                    return
                route = server.routes_get().get(path)
                if route is None:
                    self._json(404, {"error": "not_found", "path": path})
                    return
                self._json(200, route())

            def do_POST(self) -> None:
                path = self.path.split("?", 1)[0]
                route = server.routes_post().get(path)
                if route is None:
                    self._json(404, {"error": "not_found", "path": path})
                    return
                self._json(200, route())

        return Handler
