"""The import hand-off for a book the library does not hold, after its download passed §13:
its audio files are copied (the torrent keeps seeding its own copy) into a new folder of
the Audiobookshelf library named ``Author/[Series/][N - ]Title`` — what ABS's scanner reads
as author, series, number and title — and ABS is asked to scan just that folder (its
folder watcher's ``files added`` hand-off; a full library scan only when the watcher is
off, with a warning). The book is waited for (bounded) among the newest items, given its
§15 metadata (never an empty value), a narrator heard in its opening is recorded as
verified, and the item id is recorded. Every step can run again: a retry after a timeout
copies nothing twice and finds the item if it has appeared meanwhile.
Imports the Audiobookshelf adapter, ``facts``, ``store``, ``errors`` and ``library_flow``."""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mamcrawler.adapters.audiobookshelf import AbsClient, AbsLibrary, PathMap
from mamcrawler.app.jobs.library_flow import apply_download_metadata
from mamcrawler.errors import ServiceError, ServiceUnavailable
from mamcrawler.facts import Release, Torrent
from mamcrawler.store import StateStore
from mamcrawler.store.verified import record_verified

__all__ = ["IMPORTED", "LibraryImport", "folder_name"]

log = logging.getLogger("mamcrawler.library.import")
IMPORTED = "imported"  # state key prefix: imported:<torrent hash> → item id and folder
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


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

    def run(self, torrent: Torrent, release: Release | None, audio: Sequence[Path], heard: Sequence[str]) -> str:
        """Import the torrent's audio; the new item's id. Raises ``ServiceUnavailable``
        (``import_timeout``) when ABS has not shown the book in time — tried again later."""
        if not audio:
            raise ValueError(f"{torrent.name}: no audio files to import")
        target = self._target()
        title = release.title if release else torrent.name
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
        self.state.put(f"{IMPORTED}:{torrent.hash}", {"item_id": item.id, "folder": remote_folder}, now=now)
        log.info("imported %s into %s as %s", torrent.name, remote_folder, item.id)
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
