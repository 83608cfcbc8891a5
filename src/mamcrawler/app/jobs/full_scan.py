"""§14 full scan of a library item that arrived by any route: the spoken opening (what it
confirms among the candidate titles, series and authors, the book number and the
narrator), the provider's canonical data, the narrator source and the library's own
metadata are resolved by the §15 order and the item is updated — never a verified field,
never an empty value. Then duplicate prevention: another item of the same book is compared
by the §5 ladder (swarm size never counts); the weaker one is recorded as a duplicate for
§16 and reported, never silently kept as a second edition for listening, and nothing is
deleted. Imports ``engine``, ``facts``, ``store``, ``errors`` and the audio adapter."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from mamcrawler.adapters.audio.intro import read_intro
from mamcrawler.app.jobs.metadata_jobs import apply_resolution, ask_soft, current_fields
from mamcrawler.engine import Policy
from mamcrawler.engine.books.canonical import Source
from mamcrawler.errors import ServiceError
from mamcrawler.facts import LibraryItem, book_key
from mamcrawler.store import StateStore

__all__ = ["FullScan", "ScanResult"]

log = logging.getLogger("mamcrawler.scan")


class Transcriber(Protocol):
    def __call__(self, audio: Path) -> str: ...


class NarratorPicker(Protocol):
    def __call__(self, transcript: str, candidates: Sequence[str]) -> str | None: ...


class LibraryEditor(Protocol):
    def update_metadata(self, item_id: str, changes: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True)
class ScanResult:
    item_id: str
    changes: dict[str, Any]
    duplicate_of: str | None
    warnings: tuple[str, ...]


class FullScan:
    def __init__(
        self,
        library: LibraryEditor,
        state: StateStore,
        clock: Callable[[], datetime],
        *,
        transcribe: Transcriber | None,
        pick_narrator: NarratorPicker | None,
        provider: Callable[[LibraryItem], Mapping[str, Any] | None] | None = None,
        narrators: Callable[[LibraryItem], Sequence[str] | None] | None = None,
    ) -> None:
        self.library, self.state, self.clock = library, state, clock
        self.transcribe, self.pick_narrator = transcribe, pick_narrator
        self.provider, self.narrators = provider, narrators

    def scan(
        self, policy: Policy, item: LibraryItem, audio: Sequence[Path], others: Sequence[LibraryItem]
    ) -> ScanResult:
        warnings: list[str] = []
        provider = ask_soft("provider", self.provider, item, warnings) or {}
        sourced = list(ask_soft("narrator source", self.narrators, item, warnings) or ())
        scanned: dict[str, Any] = {}
        heard: tuple[str, ...] = ()
        if self.transcribe is not None and audio:
            try:
                transcript = self.transcribe(audio[0])
            except ServiceError as err:
                warnings.append(f"scan failed: {err.code}")
                transcript = ""
            intro = read_intro(
                transcript,
                titles=[t for t in (provider.get("title"), item.title) if t],
                series=[s for s in (provider.get("series"), item.series) if s],
                authors=[*provider.get("authors", ()), *item.authors],
            )
            scanned = {"title": intro.title, "series": intro.series, "series_number": intro.series_number}
            if self.pick_narrator is not None:
                name = self.pick_narrator(transcript, list(dict.fromkeys([*sourced, *item.narrators])))
                heard = (name,) if name else ()
        candidates = {
            Source.SCAN: scanned,
            Source.PROVIDER: dict(provider),
            Source.NARRATOR_SOURCE: {"narrators": sourced},
        }
        changes = apply_resolution(self.library, item, candidates, heard, warnings)
        final = item.model_copy(update={k: v for k, v in changes.items() if k in current_fields(item)})
        duplicate = self._duplicate(policy, final, others)
        return ScanResult(item.id, changes, duplicate, tuple(warnings))

    def _duplicate(self, policy: Policy, item: LibraryItem, others: Sequence[LibraryItem]) -> str | None:
        """§14: the same book twice → the weaker edition is recorded for §16 (never deleted)."""
        key = book_key(item.title, item.authors)
        for other in others:
            if other.id == item.id or book_key(other.title, other.authors) != key:
                continue
            weaker, stronger = (other, item) if policy.ladder.better(item, other) else (item, other)
            body = {"book_key": key, "keep": stronger.id}
            self.state.put(f"duplicate:{weaker.id}", body, now=self.clock())
            log.warning(
                "two editions of %s in the library: %s is the weaker one (kept: %s)", key, weaker.id, stronger.id
            )
            return other.id
        return None
