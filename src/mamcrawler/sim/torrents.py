"""One torrent of the simulated client and the fact it reports (hot path: facts are
copied with only the fields that moved). Imports ``facts``."""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from mamcrawler.facts import PausedBy, Torrent, TorrentState


def torrent_hash(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()  # an id, not a security measure


@dataclass
class SimTorrent:
    """One torrent in the simulated client."""

    hash: str
    name: str
    size_bytes: int
    state: TorrentState
    progress: float
    seeding_seconds: float
    seeders: int
    leechers: int
    points_per_hour: float
    added_by_mamcrawler: bool
    paused_by: PausedBy
    free: bool
    book_key: str | None
    release_id: str | None
    added_at: datetime
    uploaded_bytes: float = 0.0
    window: deque[float] = field(default_factory=lambda: deque(maxlen=30))
    today_upload: float = 0.0
    stalled_seconds: float = 0.0
    stall_left_hours: float = 0.0
    completed_at: datetime | None = None
    tags: tuple[str, ...] = ()
    _last_fact: Torrent | None = field(default=None, repr=False, compare=False)
    _last_values: tuple[object, ...] = field(default=(), repr=False, compare=False)

    @property
    def complete(self) -> bool:
        return self.progress >= 1.0

    def uploaded_30d(self) -> float:
        return sum(self.window) + self.today_upload

    def fact(self) -> Torrent:
        """The torrent as the client reports it. Hot path: the fact of the previous tick is
        copied with only the fields that move, and reused when nothing moved."""
        moving = {
            "state": self.state,
            "progress": self.progress,
            "ratio": round(self.uploaded_bytes / self.size_bytes, 6) if self.size_bytes else 0.0,
            "uploaded_bytes": int(self.uploaded_bytes),
            "uploaded_30d_bytes": int(self.uploaded_30d()),
            "seeding_seconds": int(self.seeding_seconds),
            "stalled_seconds": int(self.stalled_seconds),
            "seeders": self.seeders,
            "leechers": self.leechers,
            "tags": self.tags,
            "paused_by": self.paused_by,
            "free": self.free,
            "book_key": self.book_key,
            "completed_at": self.completed_at,
        }
        last = self._last_fact
        fact: Torrent
        values = tuple(moving.values())
        if values == self._last_values and last is not None:
            return last
        self._last_values = values
        if last is None:
            fixed = {
                "hash": self.hash,
                "name": self.name,
                "size_bytes": self.size_bytes,
                "points_per_hour": self.points_per_hour,
                "category": "audiobooks",
                "added_by_mamcrawler": self.added_by_mamcrawler,
                "release_id": self.release_id,
            }
            fact = Torrent(**fixed, **moving)
        else:
            fact = _moved(last, moving)
        self._last_fact = fact
        return fact


def _moved(last: Torrent, moving: dict[str, object]) -> Torrent:
    """``last.model_copy(update=moving)`` without the generic copy machinery (the hot path
    of every tick): the simulator's own values, already of the fields' types."""
    fact = Torrent.__new__(Torrent)
    object.__setattr__(fact, "__dict__", {**last.__dict__, **moving})
    # The first fact was built with every moving field, so its fields-set already has them all.
    object.__setattr__(fact, "__pydantic_fields_set__", last.__pydantic_fields_set__)
    object.__setattr__(fact, "__pydantic_extra__", None)
    object.__setattr__(fact, "__pydantic_private__", None)
    return fact
