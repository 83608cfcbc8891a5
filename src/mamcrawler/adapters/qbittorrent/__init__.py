"""qBittorrent adapter: incremental monitoring and torrent actions (4.x and 5.x)."""

from mamcrawler.adapters.qbittorrent.client import QbitClient, info_hash_of, translated
from mamcrawler.adapters.qbittorrent.maindata import MainData
from mamcrawler.adapters.qbittorrent.states import HOLD_TAG, PAUSED, STATE_TABLE, fold_state, who_paused

__all__ = [
    "HOLD_TAG",
    "PAUSED",
    "STATE_TABLE",
    "MainData",
    "QbitClient",
    "fold_state",
    "info_hash_of",
    "translated",
    "who_paused",
]
