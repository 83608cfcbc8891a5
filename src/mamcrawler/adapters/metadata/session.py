"""The metadata sources' HTTP session: its own httpx client per source, a cookie jar that
accepts no cookie (nothing a site sets is ever sent back, and no tracker or library
credential is ever here), no automatic redirects. Imports httpx only."""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

__all__ = ["SessionOwner", "cookieless_client"]


def cookieless_client(base_url: str, *, proxy: str | None, timeout: float, accept: str, purpose: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        proxy=proxy,
        timeout=timeout,
        follow_redirects=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        headers={"Accept": accept, "User-Agent": f"mamcrawler ({purpose})"},
    )


class SessionOwner:
    """Closes its ``_http`` client; usable as a context manager."""

    _http: httpx.Client

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SessionOwner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
