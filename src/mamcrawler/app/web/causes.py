"""What stopped mamcrawler, in words a user can act on: each fact gap (a service that could
not be read this cycle) becomes a sentence and a severity, so the dashboard, the health
answer and the notifications say "the tracker refused the cookie: set a new MAM_ID"
instead of a code. Imports ``facts``."""

from __future__ import annotations

from dataclasses import dataclass

from mamcrawler.facts import FactGap, Source

SERVICE_NAMES = {
    Source.TRACKER_ACCOUNT: "the tracker",
    Source.TRACKER_STORE: "the tracker's store",
    Source.TRACKER_RULES: "the tracker's rules pages",
    Source.TRACKER_SEARCH: "the tracker's search",
    Source.PROWLARR: "Prowlarr",
    Source.QBITTORRENT: "qBittorrent",
    Source.LIBRARY: "Audiobookshelf",
    Source.METADATA: "the metadata provider",
    Source.AUDIO: "the audio scanner",
    Source.STORE: "the database",
}
TRACKER_SOURCES = frozenset({Source.TRACKER_ACCOUNT, Source.TRACKER_STORE, Source.TRACKER_RULES, Source.TRACKER_SEARCH})

# code → (critical?, what to do); {service} is filled in
_BY_CODE: dict[str, tuple[bool, str]] = {
    "tracker_session_refused": (True, "the tracker refused the cookie: set a new MAM_ID"),
    "unauthorized": (True, "{service} refused the credentials: check its token or password in .env"),
    "forbidden": (True, "{service} answered 403 (forbidden): check the credentials or whether this IP is banned"),
    "bad_credentials": (True, "{service} refused the username/password: check QBIT_USERNAME and QBIT_PASSWORD"),
    "prowlarr_api_key_refused": (True, "Prowlarr refused the API key: check PROWLARR_API_KEY"),
    "not_configured": (False, "{service} is not configured: add its settings to .env"),
    "service_unavailable": (False, "{service} did not answer: is it running and reachable?"),
    "unavailable": (False, "{service} did not answer: is it running and reachable?"),
    "timeout": (False, "{service} did not answer in time"),
    "throttled": (False, "{service} asked us to slow down; waiting before the next request"),
    "rate_limited": (False, "{service} asked us to slow down; waiting before the next request"),
}


@dataclass(frozen=True)
class Cause:
    source: str
    service: str
    code: str
    critical: bool
    words: str

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "service": self.service,
            "code": self.code,
            "critical": self.critical,
            "message": self.words,
        }


def cause_of(gap: FactGap) -> Cause:
    service = SERVICE_NAMES.get(gap.source, gap.source.value)
    text = f"{gap.code} {gap.message}".lower()
    critical, words = _BY_CODE.get(gap.code, (False, ""))
    if not words and gap.source in TRACKER_SOURCES and ("403" in text or "cookie" in text or "session" in text):
        critical, words = _BY_CODE["tracker_session_refused"]
    if not words and ("401" in text or "403" in text):
        critical, words = _BY_CODE["forbidden"]
    if not words:
        detail = gap.message.strip() or gap.code.replace("_", " ")
        words = f"{{service}} could not be read: {detail}"
    if gap.critical and gap.source in TRACKER_SOURCES and gap.code not in _BY_CODE:
        critical, words = True, gap.message  # a critical block's message says what to fix
    if gap.code == "tracker_session_refused" or (critical and gap.source in TRACKER_SOURCES and "403" in text):
        words = _BY_CODE["tracker_session_refused"][1]
    return Cause(gap.source.value, service, gap.code, critical, words.format(service=service))


def causes(gaps: tuple[FactGap, ...]) -> list[Cause]:
    """One cause per distinct sentence (four tracker sources refused by one cookie say it once)."""
    seen: dict[str, Cause] = {}
    for gap in gaps:
        cause = cause_of(gap)
        seen.setdefault(cause.words, cause)
    return sorted(seen.values(), key=lambda c: (not c.critical, c.service))
