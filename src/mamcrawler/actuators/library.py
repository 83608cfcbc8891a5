"""The library's actuator: carries out the library actions ``decide()`` planned — §16
``SwapEdition`` (a safe file swap, then a rescan), §14 ``RefuseEdition``, §13
``MarkReleaseBad`` (the release dropped from later cycles, the book queued as an
integrity re-download), ``AcceptDownload`` (with an importer configured, the book is
copied into the library and scanned: :mod:`actuators.library_import`) and §15
``UpdateMetadata`` (one field, in Audiobookshelf's shape). Audiobookshelf's folder paths
are translated to this machine's by ``ABS_PATH_MAP``. Every finished download it settles
is remembered in the store's ``post_download_done`` list, so the audio sensor scans it no
more. Called by the live executor inside a journal entry; the only place that moves
library files or writes library metadata. Imports ``actuators``, the Audiobookshelf
adapter, ``engine.actions``, ``facts``, ``store``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, assert_never

from mamcrawler.actuators.library_import import NewBookImport, abs_metadata
from mamcrawler.actuators.swap import FileSwapper, NewFile, relative_layout
from mamcrawler.adapters.audio.integrity import AUDIO_SUFFIXES
from mamcrawler.adapters.audiobookshelf import PathMap
from mamcrawler.engine.actions import AcceptDownload, MarkReleaseBad, RefuseEdition, SwapEdition, UpdateMetadata
from mamcrawler.errors import ServiceUnavailable
from mamcrawler.facts import Want, WantSource
from mamcrawler.store import BAD_RELEASES, POST_DOWNLOAD_DONE, WISHLIST, StateStore

log = logging.getLogger("mamcrawler.actuators.library")

__all__ = ["LibraryAction", "LibraryActuator", "abs_metadata"]

LibraryAction = SwapEdition | RefuseEdition | MarkReleaseBad | AcceptDownload | UpdateMetadata


class LibraryWriter(Protocol):
    """The Audiobookshelf calls the actuator makes (``item`` reads the folder path)."""

    def item(self, item_id: str) -> Any: ...

    def scan_item(self, item_id: str) -> Any: ...

    def update_metadata(self, item_id: str, changes: Mapping[str, Any]) -> Any: ...


class TorrentContent(Protocol):
    def content(self, info_hash: str) -> tuple[Path, tuple[tuple[str, int], ...]]: ...


class LibraryActuator:
    def __init__(
        self,
        state: StateStore,
        swapper: FileSwapper,
        *,
        library: LibraryWriter | None,
        torrents: TorrentContent | None,
        clock: Callable[[], datetime],
        importer: NewBookImport | None = None,
        paths: PathMap | None = None,
    ) -> None:
        self.state, self.swapper, self.library, self.torrents, self.clock = state, swapper, library, torrents, clock
        self.importer = importer  # a book the library lacks is copied in (None: left to the person)
        self.paths = paths or PathMap()  # Audiobookshelf's paths → this machine's (ABS_PATH_MAP)

    def _library(self) -> LibraryWriter:
        if self.library is None:
            raise ServiceUnavailable("audiobookshelf", "not_configured", "no Audiobookshelf configured")
        return self.library

    def _done(self, torrent_hash: str, outcome: str, detail: str) -> None:
        body = {"outcome": outcome, "detail": detail}
        self.state.add_to_list(POST_DOWNLOAD_DONE, torrent_hash, body, now=self.clock())

    def perform(self, action: LibraryAction, entry_id: int) -> dict[str, Any]:
        match action:
            case SwapEdition():
                return self._swap(action, entry_id)
            case RefuseEdition():
                self._done(action.torrent_hash, "refused_not_better", f"{action.library_item_id} is as good or better")
                return {"kept": action.library_item_id}
            case MarkReleaseBad():
                now = self.clock()
                if action.release_id is not None:
                    body = {"reason": action.reason, "torrent": action.torrent_hash}
                    self.state.add_to_list(BAD_RELEASES, action.release_id, body, now=now)
                if action.book_key is not None:
                    want = Want(
                        book_key=action.book_key,
                        title=action.title or action.book_key,
                        source=WantSource.INTEGRITY_REDOWNLOAD,
                    )
                    self.state.add_to_list(WISHLIST, want.book_key, {"want": want.model_dump(mode="json")}, now=now)
                self._done(action.torrent_hash, "integrity_failed", action.reason)
                return {"bad_release": action.release_id}
            case AcceptDownload():
                if self.importer is None:
                    self._done(action.torrent_hash, "new_book", action.book_key or "")
                    return {}
                item_id = self.importer.run(
                    action.torrent_hash,
                    action.torrent_name,
                    action.release,
                    self._audio(action.torrent_hash),
                    action.heard,
                )
                self._done(action.torrent_hash, "imported", item_id)
                return {"item_id": item_id}
            case UpdateMetadata():
                changes = abs_metadata(action.field, action.value, action.series, action.series_number)
                if not changes:
                    return {"sent": False}
                self._library().update_metadata(action.library_item_id, changes)
                return {"sent": True}
            case _:
                assert_never(action)

    def _audio(self, torrent_hash: str) -> list[Path]:
        if self.torrents is None:
            raise ServiceUnavailable("qbittorrent", "not_configured", "no qBittorrent client configured")
        save_path, files = self.torrents.content(torrent_hash)
        return [save_path / name for name, _ in files if Path(name).suffix.lower() in AUDIO_SUFFIXES]

    def _swap(self, action: SwapEdition, entry_id: int) -> dict[str, Any]:
        library = self._library()
        if self.torrents is None:
            raise ServiceUnavailable("qbittorrent", "not_configured", "no qBittorrent client configured")
        save_path, files = self.torrents.content(action.torrent_hash)
        audio = [name for name, _ in files if Path(name).suffix.lower() in AUDIO_SUFFIXES]
        new = [NewFile(save_path / name, rel) for name, rel in zip(audio, relative_layout(audio), strict=True)]
        folder = self.paths.local(library.item(action.library_item_id).path)
        # Unique per attempt: a swap re-decided after a crash never reuses a holding folder.
        swap_id = f"{action.library_item_id}-{entry_id}-{self.clock():%Y%m%dT%H%M%S%f}"
        done = self.swapper.swap(action.library_item_id, folder, new, swap_id=swap_id)
        library.scan_item(action.library_item_id)
        self._done(action.torrent_hash, "replaced", action.library_item_id)
        return {"holding": str(done.holding), "held": len(done.held), "placed": len(done.placed)}
