"""Where ``.torrent`` bytes come from for an AddTorrent: a folder of ``<release id>.torrent``
files (a watch folder, or the tracker adapter's download cache). A missing or empty file
is a clear service error, never an empty add (the tracker's own downloads, with the 2026
wedge flag, are ``actuators.wedges``). Imports ``engine.actions`` and ``errors``."""

from __future__ import annotations

import re
from pathlib import Path

from mamcrawler.actuators.ports import BeforeRequest
from mamcrawler.engine.actions import AddTorrent
from mamcrawler.errors import ServiceProtocolError, ServiceUnavailable

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class FolderTorrentFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, release_id: str) -> Path:
        return self.folder / f"{_SAFE.sub('_', release_id)}.torrent"

    def fetch(self, action: AddTorrent, *, before_request: BeforeRequest | None = None) -> bytes:
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
