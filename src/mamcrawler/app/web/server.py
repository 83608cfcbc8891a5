"""Serving the web app: uvicorn in a background thread of the daemon's process, on a
socket bound up front so a busy port is one clear error, loopback by default; binding
beyond loopback is refused without an API key and is said in the log. Imports uvicorn and
``app.web``."""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from mamcrawler.app.web.security import is_loopback
from mamcrawler.errors import ConfigError

log = logging.getLogger("mamcrawler.web")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a ``ConfigError`` that says in one line what is wrong."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio then sets TCP_NODELAY on each connection (no 40 ms Nagle stalls)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use: stop the other program or set MAMCRAWLER_API_PORT",
                ("MAMCRAWLER_API_PORT",),
            ) from None
        raise ConfigError(f"cannot listen on {host}:{port}: {err.strerror}", ("MAMCRAWLER_API_HOST",)) from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class WebServer:
    """The app on ``host:port`` in a daemon thread; ``stop`` waits for it to close."""

    def __init__(self, app: FastAPI, *, host: str, port: int, api_key: str | None) -> None:
        if not is_loopback(host) and not api_key:
            raise ConfigError(
                f"refusing to serve the API on {host} (beyond loopback) without an API key", ("MAMCRAWLER_API_KEY",)
            )
        self.socket = bind(host, port)
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", timeout_keep_alive=5, backlog=2048
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="mamcrawler-web", daemon=True)
        if not is_loopback(host):
            log.warning(
                "the API listens on %s:%d, beyond loopback: every request but /health needs the X-Api-Key "
                "(mamcrawler apikey prints it)",
                *self.address,
            )

    def _serve(self) -> None:
        self.server.run(sockets=[self.socket])

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.socket.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self.socket.close()
