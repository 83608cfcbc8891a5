"""Torrent rows, built only for the torrents a rule could match.

A torrent's row has two parts. Its **class** is what follows from a few of its fields
(state, complete, paused by, added by us, free, frozen by us, earns points, adds ratio,
and the hit-and-run clock that an active torrent does not have); every torrent of a class
shows a rule the same class values. Its **details** are the rest (hours seeded, stalled
minutes, swarm, superior editions, hit-and-run forecast). Most of a client's torrents
share a handful of classes, and a rule that is false on a class's values (together with
the cycle-wide ones) is false on each of its torrents whatever their details: those rows
need not be built or evaluated. ``TorrentRows`` is the sequence of every torrent's row in
canonical order, each built on first use, with the classes to ask first. A full row is
always its class values plus its details, so the two can never disagree.
Imports ``facts`` and sibling engine modules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import overload

from mamcrawler.engine.books.ladder import LadderKey
from mamcrawler.engine.economy.forecast import torrent_fields as hnr_fields
from mamcrawler.engine.economy.forecast import unsatisfied_clock_stopped
from mamcrawler.engine.policy.compiled import Policy
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import Scalar
from mamcrawler.facts import FactSnapshot, LibraryItem, PausedBy, Release, Torrent, TorrentState

_DOWNLOADING = frozenset(
    {
        TorrentState.DOWNLOADING,
        TorrentState.STALLED_DOWNLOAD,
        TorrentState.PAUSED_DOWNLOAD,
        TorrentState.QUEUED,
        TorrentState.CHECKING,
    }
)
_SEEDING = (TorrentState.SEEDING, TorrentState.STALLED_UPLOAD)

# Enum ``.value`` is a descriptor call; a class key is made for every torrent of every cycle.
_STATE_VALUES = {s: s.value for s in TorrentState}
_PAUSED_BY_VALUES = {p: p.value for p in PausedBy}

# (state, complete, paused_by, added_by_us, free, frozen_by_us, earns_points, adds_ratio)
ClassKey = tuple[TorrentState, bool, PausedBy, bool, bool, bool, bool | None, bool | None]
ClassValues = Mapping[str, Scalar | None]


def class_key(t: Torrent, frozen: frozenset[str]) -> ClassKey:
    paused_by, points, uploaded = t.paused_by, t.points_per_hour, t.uploaded_30d_bytes
    return (
        t.state,
        t.progress >= 1.0,
        paused_by,
        t.added_by_mamcrawler,
        t.free,
        paused_by is PausedBy.MAMCRAWLER and t.hash in frozen,
        None if points is None else points > 0,
        None if uploaded is None else uploaded > 0,
    )


def class_values(key: ClassKey) -> dict[str, Scalar | None]:
    """The row values every torrent of the class shows (a subset of each one's row)."""
    state, complete, paused_by, added, free, frozen, earns, adds = key
    values: dict[str, Scalar | None] = {
        "torrent.state": _STATE_VALUES[state],
        "torrent.complete": complete,
        "torrent.downloading": state in _DOWNLOADING and not complete,
        "torrent.paused_by": _PAUSED_BY_VALUES[paused_by],
        "torrent.added_by_us": added,
        "torrent.free": free,
        "torrent.frozen_by_us": frozen,
        "torrent.earns_points": earns,
        "torrent.adds_ratio": adds,
    }
    if unsatisfied_clock_stopped(state):
        values["torrent.hnr_hours_to_act"] = None  # an active torrent is not heading for a hit-and-run
    return values


class TorrentRows(Sequence[Row]):
    """Every torrent's row in the snapshot's (canonical) order, each built on first use."""

    def __init__(self, policy: Policy, snapshot: FactSnapshot, shared: Mapping[str, Scalar | None], now: datetime):
        self._policy, self._snapshot, self._shared, self._now = policy, snapshot, shared, now
        self._torrents = snapshot.torrents
        self._frozen = frozenset(snapshot.memory.frozen_torrent_hashes)
        self._rows: list[Row | None] = [None] * len(self._torrents)
        self._classes: dict[ClassKey, tuple[ClassValues, list[int]]] | None = None
        self._keys: list[ClassKey] = []  # each torrent's class key, once ``classes`` has run
        self._values: dict[ClassKey, dict[str, Scalar | None]] = {}
        self._superior: dict[str, tuple[bool | None, bool | None]] | None = None
        self._seeding = (policy.seeding.min_seed_hours, policy.seeding.seed_window_days)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | Sequence[Row]:
        if isinstance(index, slice):
            return tuple(self._row(i) for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._row(index)

    def __iter__(self) -> Iterator[Row]:
        return (self._row(i) for i in range(len(self)))

    def classes(self) -> dict[ClassKey, tuple[ClassValues, list[int]]]:
        """Each class's values and the positions of its torrents, in order."""
        if self._classes is None:
            frozen = self._frozen
            self._keys = [class_key(t, frozen) for t in self._torrents]
            out: dict[ClassKey, tuple[ClassValues, list[int]]] = {}
            for i, key in enumerate(self._keys):
                found = out.get(key)
                if found is None:
                    found = out[key] = (self._class_values(key), [])
                found[1].append(i)
            self._classes = out
        return self._classes

    def rows_at(self, positions: Sequence[int]) -> list[Row]:
        return [self._row(i) for i in positions]

    def _class_values(self, key: ClassKey) -> dict[str, Scalar | None]:
        found = self._values.get(key)
        if found is None:
            found = self._values[key] = class_values(key)
        return found

    def _row(self, i: int) -> Row:
        row = self._rows[i]
        if row is None:
            t = self._torrents[i]
            key = self._keys[i] if self._keys else class_key(t, self._frozen)
            row = self._rows[i] = self._build(t, key)
        return row

    def _build(self, t: Torrent, key: ClassKey) -> Row:
        cls = self._class_values(key)
        superior_exists, superior_seeding = self._superior_of(t)
        min_seed_hours, window_days = self._seeding
        own: dict[str, Scalar | None] = {
            "torrent.hash": t.hash,
            "torrent.state": cls["torrent.state"],
            "torrent.complete": cls["torrent.complete"],
            "torrent.downloading": cls["torrent.downloading"],
            "torrent.seed_hours": round(t.seeding_seconds / 3600, 6),
            "torrent.stalled_minutes": round(t.stalled_seconds / 60, 6) if t.stalled_seconds else 0.0,
            "torrent.paused_by": cls["torrent.paused_by"],
            "torrent.added_by_us": cls["torrent.added_by_us"],
            "torrent.free": cls["torrent.free"],
            "torrent.frozen_by_us": cls["torrent.frozen_by_us"],
            "torrent.earns_points": cls["torrent.earns_points"],
            "torrent.adds_ratio": cls["torrent.adds_ratio"],
            "torrent.superior_edition_exists": superior_exists,
            "torrent.superior_edition_seeding": superior_seeding,
            "torrent.seeders": t.seeders,
            "torrent.leechers": t.leechers,
            **hnr_fields(t, self._now, min_seed_hours=min_seed_hours, window_days=window_days),
        }
        return Row("torrent", t.hash, own, self._shared)

    def _superior_of(self, t: Torrent) -> tuple[bool | None, bool | None]:
        """(a superior edition of the torrent's book is held, and it is seeding): None
        when an edition's quality is unknown; False, False for a book held once."""
        if not t.book_key:
            return None, None
        if self._superior is None:
            self._superior = _superior_editions(self._policy, self._snapshot)
        return self._superior.get(t.hash, (False, False))


def _quality(
    t: Torrent, releases: dict[str, Release], by_hash: dict[str, LibraryItem], policy: Policy
) -> LadderKey | None:
    if t.release_id and t.release_id in releases:
        return policy.ladder.key(releases[t.release_id])
    item = by_hash.get(t.hash)
    return policy.ladder.key(item) if item else None


def _superior_editions(policy: Policy, snapshot: FactSnapshot) -> dict[str, tuple[bool | None, bool | None]]:
    """For each torrent of a book held more than once: whether a better edition (by the
    ladder; a bigger swarm is not a better edition) is held, and whether it is seeding."""
    by_book: dict[str, list[Torrent]] = defaultdict(list)
    for t in snapshot.torrents:
        if t.book_key:
            by_book[t.book_key].append(t)
    groups = [g for g in by_book.values() if len(g) > 1]
    if not groups:
        return {}
    releases = {r.id: r for r in snapshot.releases}
    by_hash = {i.torrent_hash: i for i in snapshot.library if i.torrent_hash}
    ladder = policy.ladder
    out: dict[str, tuple[bool | None, bool | None]] = {}
    for group in groups:
        keys = {t.hash: _quality(t, releases, by_hash, policy) for t in group}
        for t in group:
            mine = keys[t.hash]
            others = [(other, keys[other.hash]) for other in group if other.hash != t.hash]
            if mine is None or any(k is None for _, k in others):
                out[t.hash] = (None, None)
                continue
            better = [other for other, k in others if k is not None and ladder.better(k, mine)]
            out[t.hash] = (bool(better), any(other.state in _SEEDING for other in better))
    return out
