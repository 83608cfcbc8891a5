"""Library metadata jobs: §2 (an item new in Audiobookshelf), §3 (weekly, items younger than
13 days) and §12 (every 30 days, every item — drift). Each item's provider data and
narrator source are resolved with what the library holds by the §15 order; only real
changes are sent, never for a verified field (a verified title or narrator survives any
drift) and never as an empty value. A source that fails is a warning and a retry next
time — it never blanks a field. Imports ``engine``, ``facts``, ``store`` and ``errors``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from mamcrawler.adapters.metadata import AudnexusClient, GoodreadsClient
from mamcrawler.app.jobs.library_flow import abs_metadata
from mamcrawler.engine.books.canonical import Source, metadata_changes, resolve
from mamcrawler.engine.world.completion import normalise
from mamcrawler.errors import ServiceError
from mamcrawler.facts import LibraryItem
from mamcrawler.store import StateStore
from mamcrawler.store.verified import verified_fields

__all__ = [
    "MetadataRefresh",
    "Refreshed",
    "apply_resolution",
    "ask_soft",
    "audnexus_lookups",
    "current_fields",
    "goodreads_provider",
    "items_for_job",
    "verified_fields",
]

log = logging.getLogger("mamcrawler.metadata")
SEEN_KEY = "library_items_seen"


class ProviderLookup(Protocol):
    def __call__(self, item: LibraryItem) -> Mapping[str, Any] | None: ...


class NarratorLookup(Protocol):
    def __call__(self, item: LibraryItem) -> Sequence[str] | None: ...


class MetadataSink(Protocol):
    def update_metadata(self, item_id: str, changes: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True)
class Refreshed:
    item_id: str
    changes: dict[str, Any]
    warnings: tuple[str, ...]


def items_for_job(job: str, items: Sequence[LibraryItem], state: StateStore, now: datetime) -> list[LibraryItem]:
    """§2 ``new``: items not seen before (the first run only records them); §3 ``weekly``:
    added within 13 days; §12 ``drift``: all."""
    if job == "new":
        seen = state.get(SEEN_KEY)
        state.put(SEEN_KEY, sorted(i.id for i in items), now=now)
        return [] if seen is None else [i for i in items if i.id not in set(seen)]
    if job == "weekly":
        return [i for i in items if i.added_at is not None and now - i.added_at < timedelta(days=13)]
    if job == "drift":
        return list(items)
    raise ValueError(f"unknown metadata job {job!r}")


def current_fields(item: LibraryItem) -> dict[str, Any]:
    return {
        "title": item.title,
        "authors": list(item.authors),
        "narrators": list(item.narrators),
        "series": item.series,
        "series_number": item.series_number,
    }


def audnexus_lookups(client: AudnexusClient, asins: Mapping[str, str]) -> tuple[ProviderLookup, NarratorLookup]:
    """The Audible-style source as both a provider (title, series, order, description, cover,
    release) and the narrator source, for items with an ASIN."""

    def provider(item: LibraryItem) -> Mapping[str, Any] | None:
        asin = asins.get(item.id)
        if not asin:
            return None
        book = client.book(asin)
        return {
            "title": book.title,
            "authors": list(book.authors),
            "series": book.series,
            "series_number": book.series_position,
            "cover": book.cover_url,
            "published": book.release_date.year if book.release_date else None,
        }

    def narrators(item: LibraryItem) -> Sequence[str] | None:
        asin = asins.get(item.id)
        return client.book(asin).narrators if asin else None

    return provider, narrators


def goodreads_provider(client: GoodreadsClient, fallback: ProviderLookup | None = None) -> ProviderLookup:
    """The metadata provider (§15 step 2): Goodreads by title + first author, its first
    result whose title matches; the Audible-style source when Goodreads has nothing."""

    def lookup(item: LibraryItem) -> Mapping[str, Any] | None:
        query = " ".join([item.title, *item.authors[:1]])
        for book_id in client.search(query)[:3]:
            book = client.book(book_id)
            if normalise(book.title) == normalise(item.title) or normalise(item.title) in normalise(book.title):
                return {
                    "title": book.title,
                    "authors": list(book.authors),
                    "series": book.series,
                    "series_number": book.series_position,
                    "description": book.description,
                    "cover": book.cover_url,
                    "published": book.published_year,
                }
        return fallback(item) if fallback is not None else None

    return lookup


class MetadataRefresh:
    def __init__(
        self,
        sink: MetadataSink,
        provider: ProviderLookup | None,
        narrators: NarratorLookup | None,
        *,
        heard: Callable[[LibraryItem], Sequence[str]] = lambda _: (),
        verified: Callable[[str], Mapping[str, Any]] = lambda _: {},
    ) -> None:
        self.sink, self.provider, self.narrators, self.heard = sink, provider, narrators, heard
        self.verified = verified  # item id → the recorded values of its verified fields

    def run(self, items: Iterable[LibraryItem]) -> list[Refreshed]:
        out = []
        for item in items:
            warnings: list[str] = []
            provider = ask_soft("provider", self.provider, item, warnings)
            narrators = ask_soft("narrator source", self.narrators, item, warnings)
            candidates = {
                Source.PROVIDER: dict(provider or {}),
                Source.NARRATOR_SOURCE: {"narrators": list(narrators or ())},
            }
            reassert = self.verified(item.id)
            changes = apply_resolution(self.sink, item, candidates, tuple(self.heard(item)), warnings, reassert)
            out.append(Refreshed(item.id, changes, tuple(warnings)))
        return out


def _same(value: Any) -> Any:
    return [str(v).casefold() for v in value] if isinstance(value, list | tuple) else value


def ask_soft(what: str, lookup: Callable[[LibraryItem], Any] | None, item: LibraryItem, warnings: list[str]) -> Any:
    """A source's answer, or ``None`` with a warning when it fails (retried next run)."""
    if lookup is None:
        return None
    try:
        return lookup(item)
    except ServiceError as err:
        warnings.append(f"{what} unavailable: {err.code}")
        log.warning("%s unavailable (%s); nothing overwritten, retried next run", what, err.code)
        return None


def apply_resolution(
    sink: MetadataSink,
    item: LibraryItem,
    candidates: Mapping[Source, Mapping[str, Any]],
    heard: Sequence[str],
    warnings: list[str],
    reassert: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Resolve by §15 with the library's own values, send the real changes, return them.
    ``reassert``: recorded values of verified fields — one the library no longer shows (an
    Audiobookshelf Quick Match or a hand edit changed it) is put back."""
    verified = frozenset(item.verified_fields)
    current = current_fields(item)
    canonical = resolve({**candidates, Source.LIBRARY: current}, library_validated=verified, narrator_heard=heard)
    changes = metadata_changes(current, canonical.values, verified=verified)
    values = dict(canonical.values)
    for name, value in (reassert or {}).items():
        if name in current and value not in (None, "", [], ()) and _same(current[name]) != _same(value):
            changes[name] = values[name] = value
            if name == "series_number":
                values.setdefault("series", current.get("series"))
    if changes:
        try:
            sink.update_metadata(item.id, abs_metadata(changes, values))
        except ServiceError as err:
            warnings.append(f"library update failed: {err.code}")
            return {}
    return changes
