"""Where ``.torrent`` bytes come from for an AddTorrent: a folder of ``<release id>.torrent``
files (a watch folder, or the tracker adapter's download cache). A missing or empty file
is a clear service error, never an empty add; or the tracker, by the release's id.
Imports the tracker adapter, ``engine.actions`` and ``errors``."""

from __future__ import annotations

import re
from pathlib import Path

from mamcrawler.adapters.mam import MamClient
from mamcrawler.engine.actions import AddTorrent
from mamcrawler.errors import ServiceProtocolError, ServiceUnavailable

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class FolderTorrentFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, release_id: str) -> Path:
        return self.folder / f"{_SAFE.sub('_', release_id)}.torrent"

    def fetch(self, action: AddTorrent) -> bytes:
        path = self.path_for(action.release_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ServiceUnavailable(
                "torrent_files", "torrent_file_missing", f"no {path.name} in {self.folder}"
            ) from None
        if not data.startswith(b"d"):
            raise ServiceProtocolError("torrent_files", "bad_torrent_file", f"{path.name} is not a .torrent file")
        return data


class TrackerTorrentFiles:
    """``.torrent`` bytes for a release: from the tracker by its id."""

    def __init__(self, mam: MamClient) -> None:
        self.mam = mam

    def fetch(self, action: AddTorrent) -> bytes:
        if action.tracker_id is None:
            raise ServiceUnavailable("torrent_files", "no_tracker_id", f"release {action.release_id} has no tracker id")
        return self.mam.download_torrent(action.tracker_id)
