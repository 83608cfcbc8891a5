"""Who may talk to the web app, as the *arr apps do it: an API key (``X-Api-Key`` header,
or ``?apikey=`` on a GET so a browser can open the dashboard) generated once into the data
directory with mode 0600; a Host allow-list so a DNS-rebinding page is refused; POSTs need
the header (a cross-site form cannot send one) and the page's own ``Origin`` when one is sent.
``/health`` is the one open route. Imports the standard library and starlette."""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import secrets
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from mamcrawler.errors import ConfigError

KEY_FILE = "api_key"
OPEN_PATHS = frozenset({"/health"})


def key_path(data_dir: Path) -> Path:
    return Path(data_dir) / KEY_FILE


def load_or_create_key(data_dir: Path) -> str:
    """The API key in ``data_dir/api_key``; created (0600, 32 hex characters) on first use."""
    path = key_path(data_dir)
    if path.is_file():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        key = path.read_text(encoding="utf-8").strip()
        if len(key) < 16:
            raise ConfigError(f"{path} holds no usable API key (16+ characters); delete it to make a new one")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key + "\n")
    return key


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Host names the app answers: loopback names, the bound address, this machine's name,
    and what the user adds (``MAMCRAWLER_API_ALLOWED_HOSTS``)."""
    names = {"localhost", "127.0.0.1", "::1", "[::1]"}
    if bind_host not in ("0.0.0.0", "::", ""):
        names.add(bind_host.lower())
    else:
        hostname = socket.gethostname().lower()
        names.update({hostname, hostname.split(".")[0]})
    names.update(h.strip().lower() for h in extra if h.strip())
    return frozenset(names)


def host_name(header: str) -> str:
    """``Host`` header → name without port (IPv6 literals keep their brackets)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class GuardMiddleware:
    """Host allow-list, then the API key, then same-site POSTs; refusals are JSON."""

    def __init__(self, app: ASGIApp, *, key: str, hosts: frozenset[str]) -> None:
        self.app, self.key, self.hosts = app, key.encode(), hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = host_name(headers.get("host", ""))
        if host not in self.hosts:
            await _refuse(send, 421, "host_not_allowed", f"Host {host!r} is not served here (DNS rebinding?)")
            return
        path, method = scope["path"], scope["method"]
        if path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = headers.get("x-api-key", "")
        if not given and method in ("GET", "HEAD"):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (query.get("apikey") or [""])[0]
        if not hmac.compare_digest(given.encode(), self.key):
            if method == "GET" and path in ("/", "/dashboard") and not given:
                await _login_page(send)
                return
            await _refuse(send, 401, "api_key_required", "send the API key in the X-Api-Key header")
            return
        if method not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
                await _refuse(send, 403, "cross_site_request", f"requests from {origin} are refused")
                return
        await self.app(scope, receive, send)


async def _send(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body: dict[str, Any] = {"error": code, "message": message}
    await _send(send, status, json.dumps(body).encode(), "application/json")


_LOGIN = b"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>mamcrawler: API key</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
input{width:100%;padding:.5rem;font-size:1rem;margin:.5rem 0}button{padding:.5rem 1rem;font-size:1rem}</style>
</head><body><h1>mamcrawler</h1><p>Enter the API key (the command <code>mamcrawler apikey</code> prints it).</p>
<form method="get" action="/"><input name="apikey" type="password" autocomplete="current-password"
 aria-label="API key" required><button type="submit">Open the dashboard</button></form></body></html>"""


async def _login_page(send: Send) -> None:
    await _send(send, 401, _LOGIN, "text/html; charset=utf-8")
