"""qBittorrent's torrent states folded onto ``TorrentState``, accepting both the 4.x
vocabulary (``pausedUP`` / ``pausedDL``) and the 5.x one (``stoppedUP`` / ``stoppedDL``).
Unknown strings map to ``UNKNOWN`` rather than failing.

Who paused a paused torrent (``PausedBy``), in this order: a person — only when the
torrent carries the hold tag (``mamcrawler-hold`` unless configured), the one explicit,
documented way to keep a torrent paused; mamcrawler — when its own pause is remembered;
qBittorrent itself — when the torrent reached its share limits (ratio, seeding time or
inactive seeding time, per torrent or global, as qBittorrent reports them); otherwise
nobody known. Only a person's hold is never undone. Imports ``facts``."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from mamcrawler.facts import PausedBy, Torrent, TorrentState

HOLD_TAG = "mamcrawler-hold"

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


def _limit(
    raw: Mapping[str, Any], own: str, effective: str, prefs: Callable[[], Mapping[str, Any]], switch: str, value: str
) -> float | None:
    """A torrent's limit in force: its own, or (``-2``) the global one; ``None`` when unlimited."""
    mine = raw.get(own)
    if isinstance(mine, int | float) and mine != -2:
        return float(mine) if mine >= 0 else None
    resolved = raw.get(effective)  # qBittorrent's own resolution of "use global", when it sends one
    if isinstance(resolved, int | float):
        return float(resolved) if resolved >= 0 else None
    glob = prefs()
    limit = glob.get(value)
    return float(limit) if glob.get(switch) and isinstance(limit, int | float) and limit >= 0 else None


def share_limit_reached(raw: Mapping[str, Any], prefs: Callable[[], Mapping[str, Any]], now: float) -> bool:
    """Has this torrent reached a share limit qBittorrent stops torrents at?"""
    ratio = float(raw.get("ratio") or 0.0)
    seeding_minutes = float(raw.get("seeding_time") or 0) / 60
    idle_minutes = max(0.0, now - float(raw.get("last_activity") or now)) / 60
    ratio_limit = _limit(raw, "ratio_limit", "max_ratio", prefs, "max_ratio_enabled", "max_ratio")
    time_limit = _limit(
        raw, "seeding_time_limit", "max_seeding_time", prefs, "max_seeding_time_enabled", "max_seeding_time"
    )
    idle_limit = _limit(
        raw,
        "inactive_seeding_time_limit",
        "max_inactive_seeding_time",
        prefs,
        "max_inactive_seeding_time_enabled",
        "max_inactive_seeding_time",
    )
    return (
        (ratio_limit is not None and ratio >= ratio_limit - 1e-9)
        or (time_limit is not None and seeding_minutes >= time_limit)
        or (idle_limit is not None and idle_minutes >= idle_limit)
    )


def who_paused(torrent: Torrent, ours: Collection[str], hold_tag: str = HOLD_TAG) -> PausedBy:
    """``PausedBy`` for a torrent as sensed, given mamcrawler's remembered pauses."""
    if torrent.state not in PAUSED:
        return PausedBy.NOBODY
    if hold_tag in torrent.tags:
        return PausedBy.USER
    if torrent.hash in ours:
        return PausedBy.MAMCRAWLER
    if torrent.paused_by is PausedBy.SHARE_LIMIT:  # set by the adapter from qBittorrent's limits
        return PausedBy.SHARE_LIMIT
    return PausedBy.NOBODY
