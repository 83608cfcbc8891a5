"""What kind of Audiobookshelf token ``ABS_TOKEN`` is, read from its JWT payload (never
verified — only the server can): an API key (2.26+, Settings → API Keys; lasts until it
is revoked or its optional expiry), a login token (``accessToken`` from ``/login``;
expires after an hour by default) or an old-style user token (no expiry; deprecated).
From that: the advice to log at start-up, and what a refusal (401) most likely means —
always ending in what to fix. Imports nothing of mamcrawler."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["TokenInfo", "refusal", "token_advice", "token_info"]

API_KEY, LOGIN, LEGACY, OPAQUE = "api_key", "login", "legacy", "opaque"
MAKE_A_KEY = "create an API key in Audiobookshelf (Settings → API Keys) and put it in ABS_TOKEN"


@dataclass(frozen=True)
class TokenInfo:
    kind: str  # api_key | login | legacy | opaque (not a JWT we can read)
    expires_at: datetime | None = None
    name: str | None = None  # an API key's name


def token_info(token: str) -> TokenInfo:
    payload = _payload(token)
    if payload is None:
        return TokenInfo(OPAQUE)
    expires = payload.get("exp")
    expires_at = (
        datetime.fromtimestamp(expires, tz=UTC) if isinstance(expires, int | float) and expires > 0 else None
    )
    if payload.get("type") == "api":
        name = payload.get("name")
        return TokenInfo(API_KEY, expires_at, name if isinstance(name, str) else None)
    if expires_at is not None:
        return TokenInfo(LOGIN, expires_at)
    return TokenInfo(LEGACY)


def token_advice(info: TokenInfo, now: datetime) -> str | None:
    """A warning for tokens that will stop working or are deprecated; ``None`` if fine."""
    if info.kind == LOGIN:
        when = info.expires_at.isoformat(timespec="minutes") if info.expires_at else "soon"
        return f"ABS_TOKEN is a login token that expires ({when}); {MAKE_A_KEY}"
    if info.kind == LEGACY:
        return f"ABS_TOKEN is an old-style user token that Audiobookshelf is phasing out; {MAKE_A_KEY}"
    if info.kind == API_KEY and info.expires_at is not None and info.expires_at <= now:
        return f"the API key in ABS_TOKEN expired at {info.expires_at.isoformat(timespec='minutes')}; {MAKE_A_KEY}"
    return None


def refusal(info: TokenInfo, now: datetime, status: int) -> tuple[str, str]:
    """(code, message) for a 401/403: expired, refused or not allowed — and what to fix."""
    if status == 403:
        return "forbidden", (
            "the ABS_TOKEN user may not do this (scans need an admin user, metadata changes the "
            "'update' permission): fix ABS_TOKEN or the user's permissions"
        )
    if info.expires_at is not None and info.expires_at <= now:
        what = "API key" if info.kind == API_KEY else "login token"
        stamp = info.expires_at.isoformat(timespec="minutes")
        return "token_expired", f"the {what} in ABS_TOKEN expired at {stamp}: fix ABS_TOKEN — {MAKE_A_KEY}"
    return "unauthorized", (
        "Audiobookshelf refused ABS_TOKEN (revoked, deactivated, its user disabled, or from another "
        f"server): fix ABS_TOKEN — {MAKE_A_KEY}"
    )


def _payload(token: str) -> dict[str, Any] | None:
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        payload = json.loads(raw)
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None
    return payload if isinstance(payload, dict) else None
