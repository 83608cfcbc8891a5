"""The snapshot in one canonical order, so a decision never depends on the order in which
a sensor (or the store, when a recorded cycle is read back for replay) listed the facts:
releases and library items by id, torrents by hash. Where two facts claim the same thing
(two library items on one torrent, two items of one book), the later one in this order
is the one a lookup keeps, whatever order they came in. Already-ordered collections are
kept as they are (the usual case, and cheap to check). Pure; imports ``facts``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TypeVar

from mamcrawler.facts import FactSnapshot

T = TypeVar("T")


def _ordered(items: Sequence[T], key: Callable[[T], str]) -> tuple[T, ...] | None:
    """``items`` sorted by ``key`` (stable), or None when they already are."""
    keys = [key(i) for i in items]
    if all(a <= b for a, b in pairwise(keys)):
        return None
    return tuple(sorted(items, key=key))


def in_canonical_order(snapshot: FactSnapshot) -> FactSnapshot:
    changes: dict[str, object] = {}
    releases = _ordered(snapshot.releases, lambda r: r.id)
    if releases is not None:
        changes["releases"] = releases
    torrents = _ordered(snapshot.torrents, lambda t: t.hash)
    if torrents is not None:
        changes["torrents"] = torrents
    library = _ordered(snapshot.library, lambda i: i.id)
    if library is not None:
        changes["library"] = library
    return snapshot.model_copy(update=changes) if changes else snapshot
