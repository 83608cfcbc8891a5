"""qBittorrent's torrent states folded onto ``TorrentState``, accepting both the 4.x
vocabulary (``pausedUP`` / ``pausedDL``) and the 5.x one (``stoppedUP`` / ``stoppedDL``).
Unknown strings map to ``UNKNOWN`` rather than failing. Imports ``facts``."""

from __future__ import annotations

from mamcrawler.facts import TorrentState

STATE_TABLE: dict[str, TorrentState] = {
    # seeding side
    "uploading": TorrentState.SEEDING,
    "forcedUP": TorrentState.SEEDING,
    "stalledUP": TorrentState.STALLED_UPLOAD,
    "pausedUP": TorrentState.PAUSED_UPLOAD,  # 4.x
    "stoppedUP": TorrentState.PAUSED_UPLOAD,  # 5.x
    "queuedUP": TorrentState.QUEUED,
    "checkingUP": TorrentState.CHECKING,
    # downloading side
    "downloading": TorrentState.DOWNLOADING,
    "forcedDL": TorrentState.DOWNLOADING,
    "metaDL": TorrentState.DOWNLOADING,
    "forcedMetaDL": TorrentState.DOWNLOADING,
    "stalledDL": TorrentState.STALLED_DOWNLOAD,
    "pausedDL": TorrentState.PAUSED_DOWNLOAD,  # 4.x
    "stoppedDL": TorrentState.PAUSED_DOWNLOAD,  # 5.x
    "queuedDL": TorrentState.QUEUED,
    "checkingDL": TorrentState.CHECKING,
    "allocating": TorrentState.CHECKING,
    "checkingResumeData": TorrentState.CHECKING,
    "moving": TorrentState.CHECKING,
    # trouble
    "error": TorrentState.ERRORED,
    "missingFiles": TorrentState.MISSING_FILES,
    "unknown": TorrentState.UNKNOWN,
}

PAUSED = frozenset({TorrentState.PAUSED_UPLOAD, TorrentState.PAUSED_DOWNLOAD})


def fold_state(raw: str | None) -> TorrentState:
    return STATE_TABLE.get(raw or "unknown", TorrentState.UNKNOWN)
