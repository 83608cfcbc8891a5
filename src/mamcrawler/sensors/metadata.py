"""The metadata sensor: what the §15 sources say about library items → ``MetadataReading``
facts, for the library policy to decide field by field (``UpdateMetadata``).

A job asks for a reading (``request``): §2 ``new`` (items not seen before; with narrator
detection on, a §14 full scan of the opening — speech-to-text confirming title, series,
number and narrator among the candidates), §3 ``weekly`` (added within 13 days), §12
``drift`` (every item). The next cycle then reads the provider (Goodreads, the
Audible-style source as fallback) and the narrator source for those items, and the
recorded values of their verified fields (``store.verified``). A source that
fails is a warning and a retry next time — no reading, so nothing is blanked. It never
writes: which items a live cycle has seen (§2) is saved by the job that ran it
(``seen``), so a dry run remembers nothing.
Imports the metadata and audio adapters, ``facts``, ``store`` and ``errors``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from mamcrawler.adapters.audio.intro import read_intro
from mamcrawler.adapters.metadata import AudnexusClient, GoodreadsClient
from mamcrawler.errors import ServiceError
from mamcrawler.facts import LibraryItem, MetadataReading, Source
from mamcrawler.sensors.sources import Reading
from mamcrawler.store import StateStore
from mamcrawler.store.verified import verified_fields, verified_values

log = logging.getLogger("mamcrawler.sensors.metadata")
SEEN_KEY = "library_items_seen"
JOBS = ("new", "weekly", "drift")


class ProviderLookup(Protocol):
    def __call__(self, item: LibraryItem) -> Mapping[str, Any] | None: ...


class NarratorLookup(Protocol):
    def __call__(self, item: LibraryItem) -> Sequence[str] | None: ...


class Transcriber(Protocol):
    def __call__(self, audio: Path) -> str: ...


class NarratorPicker(Protocol):
    def __call__(self, transcript: str, candidates: Sequence[str]) -> str | None: ...


def normalise(text: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split())


def items_for_job(
    job: str, items: Sequence[LibraryItem], seen: Sequence[str] | None, now: datetime
) -> list[LibraryItem]:
    """§2 ``new``: items not in ``seen`` (with nothing seen yet — the first run — none);
    §3 ``weekly``: added within 13 days; §12 ``drift``: all."""
    if job == "new":
        return [] if seen is None else [i for i in items if i.id not in set(seen)]
    if job == "weekly":
        return [i for i in items if i.added_at is not None and now - i.added_at < timedelta(days=13)]
    if job == "drift":
        return list(items)
    raise ValueError(f"unknown metadata job {job!r}")


def audnexus_lookups(client: AudnexusClient, asins: Mapping[str, str]) -> tuple[ProviderLookup, NarratorLookup]:
    """The Audible-style source as both a provider (title, series, order, cover, release)
    and the narrator source, for items with an ASIN."""

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


def ask_soft(what: str, lookup: Callable[[LibraryItem], Any] | None, item: LibraryItem, warnings: list[str]) -> Any:
    """A source's answer, or ``None`` with a warning when it fails (retried next run)."""
    if lookup is None:
        return None
    try:
        return lookup(item)
    except ServiceError as err:
        warnings.append(f"{what} unavailable: {err.code}")
        log.warning("%s unavailable for %s (%s); nothing overwritten, retried next run", what, item.id, err.code)
        return None


_FIELDS = frozenset(MetadataReading.model_fields) - {"item_id", "source", "heard"}


def reading(item_id: str, source: str, values: Mapping[str, Any], heard: Sequence[str] = ()) -> MetadataReading:
    body = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items() if k in _FIELDS and v is not None}
    return MetadataReading(item_id=item_id, source=source, heard=tuple(heard), **body)


class FullScanReader:
    """§14 the spoken opening: which candidate title, series and number it confirms, and
    which candidate narrator reads it (speech-to-text, never an invented value)."""

    def __init__(self, transcribe: Transcriber, pick_narrator: NarratorPicker | None) -> None:
        self.transcribe, self.pick_narrator = transcribe, pick_narrator

    def read(
        self, item: LibraryItem, audio: Sequence[Path], provider: Mapping[str, Any], sourced: Sequence[str]
    ) -> MetadataReading | None:
        if not audio:
            return None
        transcript = self.transcribe(audio[0])
        intro = read_intro(
            transcript,
            titles=[t for t in (provider.get("title"), item.title) if t],
            series=[s for s in (provider.get("series"), item.series) if s],
            authors=[*provider.get("authors", ()), *item.authors],
        )
        heard: tuple[str, ...] = ()
        if self.pick_narrator is not None:
            name = self.pick_narrator(transcript, list(dict.fromkeys([*sourced, *item.narrators])))
            heard = (name,) if name else ()
        values = {"title": intro.title, "series": intro.series, "series_number": intro.series_number}
        return reading(item.id, "scan", values, heard)


class MetadataSensor:
    source = Source.METADATA

    def __init__(
        self,
        items: Callable[[], Sequence[tuple[LibraryItem, Sequence[Path], str | None]]],
        state: StateStore,
        *,
        lookups: Callable[[Mapping[str, str]], tuple[ProviderLookup | None, NarratorLookup | None]],
        scanner: FullScanReader | None = None,
    ) -> None:
        self.items, self.state, self.lookups, self.scanner = items, state, lookups, scanner
        self._job: str | None = None
        self.warnings: list[str] = []
        self.seen: list[str] | None = None  # every item id the last "new" reading saw

    def request(self, job: str) -> None:
        if job not in JOBS:
            raise ValueError(f"unknown metadata job {job!r}")
        self._job = job

    def sense(self, now: datetime) -> Reading:
        job, self._job = self._job, None
        if job is None:
            return Reading(self.source, {}, origin="no metadata job this cycle")
        return Reading(self.source, {"metadata": tuple(self.read(job, now))}, origin=f"metadata job {job}")

    def read(self, job: str, now: datetime) -> list[MetadataReading]:
        found = {item.id: (item, audio, asin) for item, audio, asin in self.items()}
        stored = self.state.get(SEEN_KEY)
        seen = [str(i) for i in stored] if isinstance(stored, list) else None
        chosen = verified_fields(items_for_job(job, [f[0] for f in found.values()], seen, now), self.state)
        self.seen = sorted(found) if job == "new" else None
        provider, narrators = self.lookups({k: v[2] for k, v in found.items() if v[2]})
        out: list[MetadataReading] = []
        self.warnings = []
        for item in chosen:
            got = dict(ask_soft("provider", provider, item, self.warnings) or {})
            sourced = list(ask_soft("narrator source", narrators, item, self.warnings) or ())
            if got:
                out.append(reading(item.id, "provider", got))
            if sourced:
                out.append(reading(item.id, "narrator_source", {"narrators": sourced}))
            recorded = verified_values(self.state, item.id)
            if recorded:  # put back if the library no longer shows them (a Quick Match, a hand edit)
                out.append(reading(item.id, "verified", recorded))
            if job == "new" and self.scanner is not None:
                try:
                    scanned = self.scanner.read(item, found[item.id][1], got, sourced)
                except ServiceError as err:
                    self.warnings.append(f"scan failed: {err.code}")
                    scanned = None
                if scanned is not None:
                    out.append(scanned)
        log.info("metadata %s: %d items read, %d readings", job, len(chosen), len(out))
        return out
