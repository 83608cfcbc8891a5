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
    _window_sum: float | None = field(default=None, repr=False, compare=False)

    @property
    def complete(self) -> bool:
        return self.progress >= 1.0

    def uploaded_30d(self) -> float:
        if self._window_sum is None:  # the window moves once a day; today's upload every tick
            self._window_sum = sum(self.window)
        return self._window_sum + self.today_upload

    def start_window(self, per_day: float) -> None:
        """The 30-day window of a torrent that was already seeding when the scenario starts."""
        self.window.extend([per_day] * 30)
        self._window_sum = None

    def roll_day(self) -> None:
        """Midnight: today's upload joins the 30-day window (its oldest day drops out)."""
        self.window.append(self.today_upload)
        self.today_upload = 0.0
        self._window_sum = None

    def fact(self) -> Torrent:
        """The torrent as the client reports it. Hot path: the fact of the previous tick is
        reused when nothing it reports moved, else copied with the moving fields replaced."""
        up, size = self.uploaded_bytes, self.size_bytes
        values = (
            self.state,
            self.progress,
            round(up / size, 6) if size else 0.0,
            int(up),
            int(self.uploaded_30d()),
            int(self.seeding_seconds),
            int(self.stalled_seconds),
            self.seeders,
            self.leechers,
            self.tags,
            self.paused_by,
            self.free,
            self.book_key,
            self.completed_at,
        )
        last = self._last_fact
        if last is not None and values == self._last_values:
            return last
        self._last_values = values
        if last is not None:
            fact = _moved(last, values)
            self._last_fact = fact
            return fact
        fixed = {
            "hash": self.hash,
            "name": self.name,
            "size_bytes": self.size_bytes,
            "points_per_hour": self.points_per_hour,
            "category": "audiobooks",
            "added_by_mamcrawler": self.added_by_mamcrawler,
            "release_id": self.release_id,
        }
        fact = Torrent(**fixed, **dict(zip(_MOVING, values, strict=True)))  # the first: validated
        self._last_fact = fact
        return fact


# The fields of a torrent's fact that move, in the order ``SimTorrent.fact`` reads them.
_MOVING = (
    "state",
    "progress",
    "ratio",
    "uploaded_bytes",
    "uploaded_30d_bytes",
    "seeding_seconds",
    "stalled_seconds",
    "seeders",
    "leechers",
    "tags",
    "paused_by",
    "free",
    "book_key",
    "completed_at",
)


def _moved(last: Torrent, values: tuple[object, ...]) -> Torrent:
    """``last.model_copy(update=…)`` without the generic copy machinery (the hot path of
    every tick): the simulator's own values, already of the fields' types, in the order of
    ``_MOVING``."""
    fields = last.__dict__.copy()
    fields.update(zip(_MOVING, values))  # noqa: B905 — same length by construction
    fact = _new_torrent(Torrent)
    _set(fact, "__dict__", fields)
    # The first fact was built with every moving field, so its fields-set already has them all.
    _set(fact, "__pydantic_fields_set__", last.__pydantic_fields_set__)
    _set(fact, "__pydantic_extra__", None)
    _set(fact, "__pydantic_private__", None)
    return fact


_new_torrent = object.__new__
_set = object.__setattr__
