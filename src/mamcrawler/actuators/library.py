"""The library's actuator: carries out the library actions ``decide()`` planned — §16
``SwapEdition`` (a safe file swap, then a rescan), §14 ``RefuseEdition``, §13
``MarkReleaseBad`` (the release dropped from later cycles, the book queued as an
integrity re-download), ``AcceptDownload`` and §15 ``UpdateMetadata`` (one field, in
Audiobookshelf's shape). Every finished download it settles is remembered in the store's
``post_download_done`` list, so the audio sensor scans it no more. Called by the live
executor inside a journal entry; the only place that moves library files or writes
library metadata. Imports ``actuators``, ``engine.actions``, ``facts``, ``store``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, assert_never

from mamcrawler.actuators.swap import FileSwapper, NewFile, relative_layout
from mamcrawler.adapters.audio.integrity import AUDIO_SUFFIXES
from mamcrawler.engine.actions import AcceptDownload, MarkReleaseBad, RefuseEdition, SwapEdition, UpdateMetadata
from mamcrawler.errors import ServiceUnavailable
from mamcrawler.facts import Want, WantSource
from mamcrawler.store import BAD_RELEASES, POST_DOWNLOAD_DONE, WISHLIST, StateStore

log = logging.getLogger("mamcrawler.actuators.library")

LibraryAction = SwapEdition | RefuseEdition | MarkReleaseBad | AcceptDownload | UpdateMetadata


class LibraryWriter(Protocol):
    """The Audiobookshelf calls the actuator makes (``item`` reads the folder path)."""

    def item(self, item_id: str) -> Any: ...

    def scan_item(self, item_id: str) -> Any: ...

    def update_metadata(self, item_id: str, changes: Mapping[str, Any]) -> Any: ...


class TorrentContent(Protocol):
    def content(self, info_hash: str) -> tuple[Path, tuple[tuple[str, int], ...]]: ...


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


class LibraryActuator:
    def __init__(
        self,
        state: StateStore,
        swapper: FileSwapper,
        *,
        library: LibraryWriter | None,
        torrents: TorrentContent | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.state, self.swapper, self.library, self.torrents, self.clock = state, swapper, library, torrents, clock

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
                self._done(action.torrent_hash, "new_book", action.book_key or "")
                return {}
            case UpdateMetadata():
                changes = abs_metadata(action.field, action.value, action.series, action.series_number)
                if not changes:
                    return {"sent": False}
                self._library().update_metadata(action.library_item_id, changes)
                return {"sent": True}
            case _:
                assert_never(action)

    def _swap(self, action: SwapEdition, entry_id: int) -> dict[str, Any]:
        library = self._library()
        if self.torrents is None:
            raise ServiceUnavailable("qbittorrent", "not_configured", "no qBittorrent client configured")
        save_path, files = self.torrents.content(action.torrent_hash)
        audio = [name for name, _ in files if Path(name).suffix.lower() in AUDIO_SUFFIXES]
        new = [NewFile(save_path / name, rel) for name, rel in zip(audio, relative_layout(audio), strict=True)]
        folder = Path(library.item(action.library_item_id).path)
        # Unique per attempt: a swap re-decided after a crash never reuses a holding folder.
        swap_id = f"{action.library_item_id}-{entry_id}-{self.clock():%Y%m%dT%H%M%S%f}"
        done = self.swapper.swap(action.library_item_id, folder, new, swap_id=swap_id)
        library.scan_item(action.library_item_id)
        self._done(action.torrent_hash, "replaced", action.library_item_id)
        return {"holding": str(done.holding), "held": len(done.held), "placed": len(done.placed)}
