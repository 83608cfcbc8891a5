"""The daily rules snapshot: the seven rules pages fetched, their text extracted with
parsel (scripts and navigation dropped), each hashed, and one content hash over all;
plus site events read from the site's own notice boxes — never from words every rules
page contains ("freeleech" appears in the FAQ every day). Imports parsel, ``facts``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from parsel import Selector

from mamcrawler.facts import Event, EventKind, RulesSnapshot

__all__ = ["RULES_PAGES", "PageText", "detect_events", "page_text", "snapshot_of"]

RULES_PAGES: tuple[tuple[str, str], ...] = (
    ("rules", "/rules.php"),
    ("faq", "/faq.php"),
    ("rules_board", "/f/b/17"),
    ("announcements", "/f/b/1"),
    ("guides", "/guides/"),
    ("update_notes", "/updateNotes.php"),
    ("api_list", "/api/list.php"),
)
NOTICE_SELECTORS = ".siteNotice, .sitewideNotice, #siteNotice, .announcementBox"
_KINDS: tuple[tuple[EventKind, re.Pattern[str]], ...] = (
    (
        EventKind.FREELEECH,
        re.compile(r"\b(site[- ]?wide|global)\s+freeleech\b|\bfreeleech\s+(event|weekend|is\s+on)", re.I),
    ),
    (EventKind.BONUS, re.compile(r"\bbonus\s+(points?\s+)?(event|weekend)\b|\bdouble\s+(bonus|points)\b", re.I)),
    (EventKind.MULTIPLIER, re.compile(r"\b(\d+(?:\.\d+)?)\s*x\s+(bonus|seedbonus|points)|\bmultiplier\b", re.I)),
    (EventKind.HOLIDAY, re.compile(r"\bholiday\s+(event|reward|gift)s?\b", re.I)),
)
_UNTIL = re.compile(r"\buntil\s+(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}))?", re.I)
_FACTOR = re.compile(r"\b(\d+(?:\.\d+)?)\s*x\b", re.I)


@dataclass(frozen=True)
class PageText:
    name: str
    text: str
    content_hash: str
    notices: tuple[str, ...]


def page_text(name: str, html: str) -> PageText:
    doc = Selector(text=html)
    notices = tuple(" ".join(n.css("::text").getall()).strip() for n in doc.css(NOTICE_SELECTORS))
    body = doc.css("#mainBody") or doc.css("main") or doc.css("body")
    parts = body.xpath(".//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::nav)]").getall()
    text = re.sub(r"\s+", " ", " ".join(parts)).strip()
    return PageText(name, text, hashlib.sha256(text.encode()).hexdigest(), tuple(n for n in notices if n))


def snapshot_of(pages: Sequence[PageText], fetched_at: datetime) -> RulesSnapshot:
    digest = hashlib.sha256()
    for page in pages:
        digest.update(f"{page.name}\0{page.content_hash}\0".encode())
    return RulesSnapshot(
        content_hash=digest.hexdigest(),
        fetched_at=fetched_at,
        pages=tuple((p.name, p.content_hash) for p in pages),
    )


def detect_events(pages: Sequence[PageText], seen_at: datetime) -> tuple[Event, ...]:
    """Events announced in notice boxes; the id is stable for the same notice text."""
    events: dict[str, Event] = {}
    for page in pages:
        for notice in page.notices:
            for kind, pattern in _KINDS:
                if not pattern.search(notice):
                    continue
                until = _UNTIL.search(notice)
                ends = None
                if until:
                    ends = datetime.fromisoformat(f"{until.group(1)}T{until.group(2) or '23:59'}").replace(tzinfo=UTC)
                factor = _FACTOR.search(notice)
                multiplier = (
                    float(factor.group(1)) if factor and kind in (EventKind.MULTIPLIER, EventKind.BONUS) else 1.0
                )
                event_id = hashlib.sha256(f"{kind.value}\0{notice}".encode()).hexdigest()[:16]
                events[event_id] = Event(
                    id=event_id,
                    kind=kind,
                    title=notice[:200],
                    starts_at=seen_at,
                    ends_at=ends,
                    multiplier=max(1.0, multiplier),
                )
                break
    return tuple(events[k] for k in sorted(events))
