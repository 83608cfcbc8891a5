"""Audiobookshelf as the source of library facts: every item of every book library (podcast
libraries are not books), with the fields mamcrawler verified. A token that is refused or
sees no book library at all is a gap that says how to fix ABS_TOKEN — never a silent empty
library, which would make every book look missing. Imports the Audiobookshelf adapter,
``sensors``, ``store``, ``facts`` and ``errors``."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from mamcrawler.adapters.audiobookshelf import AbsClient, AbsLibrary, token_advice
from mamcrawler.errors import ServiceAuthError, ServiceError
from mamcrawler.facts import FactGap, LibraryItem, Source
from mamcrawler.sensors.sources import Reading
from mamcrawler.store import StateStore
from mamcrawler.store.verified import verified_fields

__all__ = ["LibrarySensor", "book_libraries", "check_server_settings", "library_facts"]

log = logging.getLogger("mamcrawler.sensors.library")
SERVICE = "audiobookshelf"


def book_libraries(library: AbsClient) -> tuple[AbsLibrary, ...]:
    """The book libraries ABS_TOKEN's user sees; none at all is an error, not an empty library."""
    libraries = library.libraries()
    books = tuple(lib for lib in libraries if lib.media_type in (None, "book"))
    if not books:
        seen = ", ".join(f"{lib.name} ({lib.media_type})" for lib in libraries) or "none"
        raise ServiceError(
            SERVICE,
            "no_book_library",
            f"ABS_TOKEN's user sees no book library (libraries: {seen}): give that user access "
            "to the audiobook library in Audiobookshelf, or fix ABS_TOKEN",
        )
    return books


def library_facts(library: AbsClient, state: StateStore) -> dict[str, Any]:
    """Every book item of every book library, with the fields mamcrawler has verified."""
    items: list[LibraryItem] = []
    for lib in book_libraries(library):
        found = library.items(lib.id)
        for reason in found.skipped:
            log.warning("audiobookshelf item skipped: %s", reason)
        items.extend(item.fact for item in found.items)
    return {"library": tuple(verified_fields(items, state))}


def check_server_settings(library: AbsClient) -> list[str]:
    """Warnings about server settings that undo mamcrawler's metadata (logged; also returned)."""
    try:
        settings = library.server_settings()
    except ServiceError as err:
        log.info("Audiobookshelf server settings not read: %s", err.code)
        return []
    warnings = []
    if settings.get("scannerPreferMatchedMetadata") is True:
        warnings.append(
            "Audiobookshelf's 'Prefer matched metadata' is on: its Quick Match overwrites titles, authors, "
            "series and narrators; mamcrawler puts verified values back only monthly — turn it off "
            "(Settings → Scanner)"
        )
    for warning in warnings:
        log.warning("%s", warning)
    return warnings


class LibrarySensor:
    """The library facts each cycle; a refused token is a gap whose warning says what to fix
    (the advice about a login or old-style token is logged once, at start)."""

    source = Source.LIBRARY

    def __init__(self, library: AbsClient, state: StateStore, now: datetime) -> None:
        self.library, self.state = library, state
        self.settings_checked = False
        advice = token_advice(library.token, now)
        if advice:
            log.warning("%s", advice)

    def sense(self, now: datetime) -> Reading:
        try:
            facts = library_facts(self.library, self.state)
            if not self.settings_checked:
                self.settings_checked = True
                check_server_settings(self.library)
            return Reading(self.source, facts, origin=SERVICE)
        except ServiceAuthError as err:
            log.warning("library unavailable (%s): %s", err.code, err)
            return self._gap(err, now)
        except ServiceError as err:
            log.warning("library unavailable: %s", err)
            return self._gap(err, now)

    def _gap(self, err: ServiceError, now: datetime) -> Reading:
        return Reading(self.source, gap=FactGap(source=self.source, code=err.code, message=str(err), since=now))
