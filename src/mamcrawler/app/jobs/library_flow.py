"""After a download completes: §13 integrity, §14 duplicate prevention, §16 replacement.

For every torrent mamcrawler added that qBittorrent reports complete (once each):
1. §13 — file count and sizes against the torrent's file list, full decode, duration
   within 1 % of the release's runtime. A failure marks the release bad (the next-best
   one is chosen next time) and queues the book as an integrity re-download.
2. §14 — if the library already holds the book, the new edition must be strictly better
   by the §5 ladder (swarm size never counts); otherwise it is refused: it never enters
   the listening library (it keeps seeding; nothing is deleted without a rule). A book
   the library does not hold is handed to the import (``library_import``) when one is
   configured: copied in, scanned by Audiobookshelf, confirmed and given §15 metadata.
3. §16 — a better edition replaces the old one: the old audio files move out of the
   library item into a holding folder (nothing is lost; the inferior torrent keeps its own
   copy and keeps seeding), the new files are copied in, the item is rescanned and its
   metadata updated by the §15 order — never a verified field, never an empty value.
Never two editions of one book for listening. Imports ``engine``, ``facts``, ``store``,
``errors`` and the audio adapter."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from mamcrawler.adapters.audio import NarratorGuess, check_integrity
from mamcrawler.adapters.audio.integrity import AUDIO_SUFFIXES
from mamcrawler.adapters.audiobookshelf.paths import PathMap
from mamcrawler.engine import Policy
from mamcrawler.engine.books.canonical import Source, metadata_changes, resolve
from mamcrawler.engine.books.ladder import ladder_key
from mamcrawler.engine.books.selection import quality_part
from mamcrawler.errors import ServiceError
from mamcrawler.facts import FactSnapshot, LibraryItem, Release, Torrent, Want, WantSource
from mamcrawler.store import BAD_RELEASES, WISHLIST, StateStore

__all__ = [
    "PROCESSED",
    "LibraryService",
    "NewBookImport",
    "PostDownload",
    "Processed",
    "TorrentContent",
    "abs_metadata",
    "apply_download_metadata",
]

log = logging.getLogger("mamcrawler.library")
PROCESSED = "post_download_done"  # torrents the flow has finished with, once each


class TorrentContent(Protocol):
    def content(self, info_hash: str) -> tuple[Path, tuple[tuple[str, int], ...]]: ...


class NewBookImport(Protocol):
    def run(self, torrent: Torrent, release: Release | None, audio: Sequence[Path], heard: Sequence[str]) -> str: ...


class LibraryService(Protocol):
    def item(self, item_id: str) -> Any: ...

    def scan_item(self, item_id: str) -> Any: ...

    def update_metadata(self, item_id: str, changes: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True)
class Processed:
    hash: str
    outcome: str  # integrity_failed | replaced | refused_not_better | imported | new_book | library_unavailable
    detail: str = ""


class PostDownload:
    def __init__(
        self,
        torrents: TorrentContent,
        state: StateStore,
        library: LibraryService | None,
        *,
        holding_dir: Path,
        clock: Callable[[], datetime],
        narrator: Callable[[Path, Sequence[str]], NarratorGuess] | None = None,
        importer: NewBookImport | None = None,
        paths: PathMap | None = None,
    ) -> None:
        self.torrents, self.state, self.library = torrents, state, library
        self.holding_dir, self.clock, self.narrator = holding_dir, clock, narrator
        self.importer, self.paths = importer, paths or PathMap()

    def run(self, policy: Policy, snapshot: FactSnapshot) -> list[Processed]:
        releases = {r.id: r for r in snapshot.releases}
        library = {i.book_key: i for i in snapshot.library}
        done = []
        seen = {str(entry["key"]) for entry in self.state.list_items(PROCESSED)}  # one read per run
        for torrent in snapshot.torrents:
            if not torrent.added_by_mamcrawler or torrent.progress < 1.0 or torrent.hash in seen:
                continue
            try:
                result = self._process(policy, torrent, releases.get(torrent.release_id or ""), library)
            except ServiceError as err:
                log.warning("post-download of %s postponed: %s", torrent.name, err)
                continue  # tried again next cycle
            body = {"outcome": result.outcome, "detail": result.detail}
            self.state.add_to_list(PROCESSED, torrent.hash, body, now=self.clock())
            log.info("post-download %s: %s %s", torrent.name, result.outcome, result.detail)
            done.append(result)
        return done

    def _process(
        self, policy: Policy, torrent: Torrent, release: Release | None, library: Mapping[str, LibraryItem]
    ) -> Processed:
        save_path, files = self.torrents.content(torrent.hash)
        paths = [save_path / name for name, _ in files]
        expected = release.duration_seconds if release is not None else None
        report = check_integrity(paths, expected_files=files, expected_seconds=expected)
        if not report.ok:
            self._redownload(torrent, release, report.reason)
            return Processed(torrent.hash, "integrity_failed", report.reason)
        book = torrent.book_key or (release.book_key if release else None)
        current = library.get(book) if book else None
        audio = [p for p in paths if p.suffix.lower() in AUDIO_SUFFIXES]
        heard = self._narrator(torrent, release, current, audio)
        if current is None and self.importer is not None:
            return Processed(torrent.hash, "imported", self.importer.run(torrent, release, audio, heard))
        if current is None:
            return Processed(torrent.hash, "new_book", book or "")
        if release is None or not self._better(policy, release, current):
            return Processed(torrent.hash, "refused_not_better", f"{current.id} is as good or better")
        if self.library is None:
            return Processed(torrent.hash, "library_unavailable", "no Audiobookshelf configured")
        self._swap(current, audio)
        apply_download_metadata(self.library, current, release, heard)
        self.state.put(f"inferior:{current.id}", {"replaced_by": release.id, "torrent": torrent.hash}, now=self.clock())
        return Processed(torrent.hash, "replaced", current.id)

    def _narrator(
        self, torrent: Torrent, release: Release | None, current: LibraryItem | None, audio: Sequence[Path]
    ) -> tuple[str, ...]:
        """§11: who reads the opening, among the tracker's and the library's names (stored)."""
        if self.narrator is None or not audio:
            return ()
        candidates = list(
            dict.fromkeys([*(release.narrators if release else ()), *(current.narrators if current else ())])
        )
        if not candidates:
            return ()
        try:
            guess = self.narrator(audio[0], candidates)
        except ServiceError as err:
            log.warning("narrator detection failed for %s: %s", torrent.name, err.code)
            return ()
        body = {"name": guess.name, "confidence": guess.confidence, "method": guess.method}
        self.state.put(f"narrator:{torrent.hash}", body, now=self.clock())
        return (guess.name,) if guess.name else ()

    @staticmethod
    def _better(policy: Policy, release: Release, item: LibraryItem) -> bool:
        quality = quality_part(policy.free_first)
        return quality(ladder_key(release, policy.quality)) > quality(ladder_key(item, policy.quality))

    def _redownload(self, torrent: Torrent, release: Release | None, reason: str) -> None:
        now = self.clock()
        if release is not None:
            self.state.add_to_list(BAD_RELEASES, release.id, {"reason": reason, "torrent": torrent.hash}, now=now)
        if torrent.book_key:
            title = release.title if release else torrent.name
            want = Want(book_key=torrent.book_key, title=title, source=WantSource.INTEGRITY_REDOWNLOAD)
            self.state.add_to_list(WISHLIST, want.book_key, {"want": want.model_dump(mode="json")}, now=now)

    def _swap(self, item: LibraryItem, new_files: Sequence[Path]) -> None:
        assert self.library is not None
        entry = self.library.item(item.id)
        folder = self.paths.local(entry.path)
        holding = self.holding_dir / item.id / self.clock().strftime("%Y%m%dT%H%M%S")
        holding.mkdir(parents=True, exist_ok=True)
        for old in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES):
            target = holding / old.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(old, target)  # out of the listening library, never deleted
        for new in new_files:
            shutil.copy2(new, folder / new.name)  # the torrent keeps its own copy to seed
        self.library.scan_item(item.id)


def apply_download_metadata(
    library: LibraryService, item: LibraryItem, release: Release, heard: Sequence[str]
) -> dict[str, Any]:
    """§15 for a downloaded edition now in ``item``: the narrator source (the tracker's
    narrators), the torrent's metadata and the library's own are resolved — never a verified
    field, never an empty value — and the real changes are sent. Returns them."""
    torrent_meta = {
        "title": release.title,
        "authors": list(release.authors),
        "series": release.series,
        "series_number": release.series_number,
    }
    current = {
        "title": item.title,
        "authors": list(item.authors),
        "narrators": list(item.narrators),
        "series": item.series,
        "series_number": item.series_number,
    }
    canonical = resolve(
        {
            Source.NARRATOR_SOURCE: {"narrators": list(release.narrators)},
            Source.TORRENT: torrent_meta,
            Source.LIBRARY: current,
        },
        library_validated=frozenset(item.verified_fields),
        narrator_heard=heard,
    )
    changes = metadata_changes(current, canonical.values, verified=frozenset(item.verified_fields))
    if changes:
        library.update_metadata(item.id, abs_metadata(changes, canonical.values))
    return changes


def abs_metadata(changes: Mapping[str, Any], canonical: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical field changes in Audiobookshelf's ``media.metadata`` shape."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "authors":
            out["authors"] = [{"name": a} for a in value]
        elif name in ("series", "series_number"):
            series = canonical.get("series")
            if series:
                number = canonical.get("series_number")
                sequence = "" if number is None else f"{number:g}"
                out["series"] = [{"name": series, "sequence": sequence}]
        elif name in ("title", "narrators", "description", "published"):
            out["publishedYear" if name == "published" else name] = value
    return out
