"""The import hand-off for a book the library does not hold, after its download passed §13:
its audio files are copied (the torrent keeps seeding its own copy) into a new folder of
the Audiobookshelf library named ``Author/[Series/][N - ]Title`` — what ABS's scanner reads
as author, series, number and title — and ABS is asked to scan just that folder (its
folder watcher's ``files added`` hand-off; a full library scan only when the watcher is
off, with a warning). The book is waited for (bounded) among the newest items, given its
§15 metadata (never an empty value), a narrator heard in its opening is recorded as
verified, and the item id is recorded. Every step can run again: a retry after a timeout
copies nothing twice and finds the item if it has appeared meanwhile. Performed by
:class:`actuators.library.LibraryActuator` for an ``AcceptDownload`` decision (it moves
files and writes to Audiobookshelf, so it lives among the actuators).
Imports the Audiobookshelf adapter, ``engine.books``, ``facts``, ``store`` and ``errors``."""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from mamcrawler.adapters.audiobookshelf import AbsClient, AbsLibrary, PathMap
from mamcrawler.engine.books.canonical import Source, metadata_changes, resolve
from mamcrawler.errors import ServiceError, ServiceUnavailable
from mamcrawler.facts import LibraryItem, Release
from mamcrawler.store import StateStore
from mamcrawler.store.verified import record_verified

__all__ = ["IMPORTED", "LibraryImport", "NewBookImport", "apply_download_metadata", "folder_name"]

log = logging.getLogger("mamcrawler.library.import")
IMPORTED = "imported"  # state key prefix: imported:<torrent hash> → item id and folder
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class NewBookImport(Protocol):
    def run(
        self, torrent_hash: str, name: str, release: Release | None, audio: Sequence[Path], heard: Sequence[str]
    ) -> str: ...


class MetadataWriter(Protocol):
    def update_metadata(self, item_id: str, changes: Mapping[str, Any]) -> Any: ...


def abs_metadata(field: str, value: Any, series: str | None, series_number: float | None = None) -> dict[str, Any]:
    """One canonical field change in Audiobookshelf's ``media.metadata`` shape (a series
    is sent with its number, so changing one never drops the other)."""
    if field == "authors":
        return {"authors": [{"name": a} for a in value]}
    if field in ("series", "series_number"):
        name = value if field == "series" else series
        number = value if field == "series_number" else series_number
        if not name:
            return {}
        return {"series": [{"name": name, "sequence": "" if number is None else f"{float(number):g}"}]}
    if field == "narrators":
        return {"narrators": list(value)}
    if field in ("title", "description"):
        return {field: value}
    if field == "published":
        return {"publishedYear": value}
    return {}


def apply_download_metadata(
    library: MetadataWriter, item: LibraryItem, release: Release, heard: Sequence[str]
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
        body: dict[str, Any] = {}
        series, number = canonical.values.get("series"), canonical.values.get("series_number")
        for name, value in changes.items():
            body.update(abs_metadata(name, value, series, number))
        if body:
            library.update_metadata(item.id, body)
    return changes


def _safe(name: str, fallback: str) -> str:
    cleaned = " ".join(_UNSAFE.sub(" ", name).split()).strip(" .")
    return cleaned[:120].rstrip(" .") or fallback


def folder_name(title: str, authors: Sequence[str], series: str | None, number: float | None) -> Path:
    """``Author/[Series/][N - ]Title`` with names made safe for every filesystem."""
    author = _safe(authors[0] if authors else "", "Unknown Author")
    book = _safe(title, "Untitled")
    if series:
        prefix = f"{number:g} - " if number is not None else ""
        return Path(author, _safe(series, "Series"), prefix + book)
    return Path(author, book)


@dataclass
class LibraryImport:
    library: AbsClient
    state: StateStore
    clock: Callable[[], datetime]
    library_id: str | None = None  # ABS_LIBRARY_ID; None: the only book library
    paths: PathMap = field(default_factory=PathMap)
    wait_seconds: float = 120.0
    poll_seconds: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic

    def run(
        self, torrent_hash: str, name: str, release: Release | None, audio: Sequence[Path], heard: Sequence[str]
    ) -> str:
        """Import the torrent's audio; the new item's id. Raises ``ServiceUnavailable``
        (``import_timeout``) when ABS has not shown the book in time — tried again later."""
        if not audio:
            raise ValueError(f"{name}: no audio files to import")
        target = self._target()
        title = release.title if release else name
        authors = release.authors if release else ()
        relative = folder_name(title, authors, release.series if release else None, _number(release))
        remote_folder = f"{target.folders[0].rstrip('/')}/{relative.as_posix()}"
        folder = self.paths.local(remote_folder)
        copied = _copy_in(audio, folder)
        found = self._find(target.id, remote_folder)
        if found is None:
            self._announce(target, [self.paths.remote(f) for f in copied])
            found = self._wait(target.id, remote_folder)
        item = self.library.item(found)
        now = self.clock()
        if release is not None:
            apply_download_metadata(self.library, item.fact, release, heard)
        if heard:
            record_verified(self.state, item.id, {"narrators": list(heard)}, now=now)
        self.state.put(f"{IMPORTED}:{torrent_hash}", {"item_id": item.id, "folder": remote_folder}, now=now)
        log.info("imported %s into %s as %s", name, remote_folder, item.id)
        return item.id

    def _target(self) -> AbsLibrary:
        if self.library_id:
            target = self.library.library(self.library_id)
        else:
            books = [lib for lib in self.library.libraries() if lib.media_type in (None, "book")]
            if len(books) != 1:
                names = ", ".join(lib.name for lib in books) or "none"
                raise ServiceError(
                    "audiobookshelf", "no_import_library", f"set ABS_LIBRARY_ID to the library for new books ({names})"
                )
            target = books[0]
        if not target.folders:
            raise ServiceError("audiobookshelf", "no_import_library", f"library {target.name} has no folder")
        return target

    def _announce(self, target: AbsLibrary, files: Sequence[str]) -> None:
        """The folder watcher's hand-off when it is on; otherwise a full scan, with a warning."""
        watching = target.watcher is not False and not self.library.server_settings().get("scannerDisableWatcher")
        if watching:
            self.library.files_added(target.id, files)
            return
        log.warning(
            "the folder watcher is off for Audiobookshelf library %s: asked for a full library scan; "
            "turn the watcher on so that only new folders are scanned",
            target.name,
        )
        self.library.scan_library(target.id)

    def _find(self, library_id: str, remote_folder: str) -> str | None:
        for entry in self.library.recent_entries(library_id):
            if str(entry.get("path", "")).rstrip("/") == remote_folder:
                return str(entry["id"])
        return None

    def _wait(self, library_id: str, remote_folder: str) -> str:
        deadline = self.monotonic() + self.wait_seconds
        while True:
            found = self._find(library_id, remote_folder)
            if found is not None:
                return found
            if self.monotonic() >= deadline:
                raise ServiceUnavailable(
                    "audiobookshelf",
                    "import_timeout",
                    f"{remote_folder} did not appear within {self.wait_seconds:g} s; looked for again next cycle",
                )
            self.sleep(self.poll_seconds)


def _number(release: Release | None) -> float | None:
    return release.series_number if release is not None else None


def _copy_in(audio: Sequence[Path], folder: Path) -> list[Path]:
    """Copies into ``folder`` what is not there yet (same name and size); the copies."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for source in audio:
        target = folder / source.name
        if not (target.is_file() and target.stat().st_size == source.stat().st_size):
            partial = folder / f".{source.name}.part"  # ABS ignores dot files until the rename
            shutil.copy2(source, partial)
            partial.replace(target)
        out.append(target)
    return out
