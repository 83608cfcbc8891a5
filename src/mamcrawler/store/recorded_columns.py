"""The moving part of torrent facts, coded against a key frame for recording.

A torrent's counters (upload, seeding time, ratio, swarm, state …) move every cycle, so a
content-addressed copy of them would never be shared. They are kept apart from the
torrent's static part, column by column, as differences from a *key frame* — the same
columns of an earlier cycle, stored once: ``0`` means "as in the key frame", another
integer is the difference from it, and ``[value]`` is a value given outright (new torrent,
non-integer change, ``None``). Seeding time then moves by the same amount in every row
and idle counters not at all, which compresses to almost nothing. Decoding is exact.
Imports only the standard library."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MOVING = (
    "state",
    "progress",
    "ratio",
    "uploaded_bytes",
    "uploaded_30d_bytes",
    "seeding_seconds",
    "stalled_seconds",
    "upspeed",
    "dlspeed",
    "seeders",
    "leechers",
    "points_per_hour",
)

Rows = Mapping[str, Mapping[str, Any]]  # torrent hash → moving field → value


def split(fact: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A dumped torrent → (static part, moving part)."""
    moving = {k: fact[k] for k in MOVING if k in fact}
    static = {k: v for k, v in fact.items() if k not in moving}
    return static, moving


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def encode(order: list[str], rows: Rows, key: Rows | None) -> dict[str, list[Any]]:
    """Columns of ``rows`` (in ``order``) as differences from ``key``."""
    cols: dict[str, list[Any]] = {name: [] for name in MOVING}
    for hash_ in order:
        row, base = rows[hash_], (key.get(hash_) if key is not None else None)
        for name in MOVING:
            value = row.get(name)
            if base is None:
                cols[name].append([value])
                continue
            old = base.get(name)
            if value == old and type(value) is type(old):
                cols[name].append(0)
            elif isinstance(value, int) and isinstance(old, int) and _is_int(value) and _is_int(old):
                cols[name].append(value - old)
            else:
                cols[name].append([value])
    return cols


def decode(order: list[str], cols: Mapping[str, list[Any]], key: Rows | None) -> dict[str, dict[str, Any]]:
    """The inverse of ``encode``."""
    out: dict[str, dict[str, Any]] = {}
    for i, hash_ in enumerate(order):
        base = key.get(hash_) if key is not None else None
        row: dict[str, Any] = {}
        for name in MOVING:
            cell = cols[name][i]
            if isinstance(cell, list):
                row[name] = cell[0]
            else:
                assert base is not None, "a coded difference needs its key frame"
                row[name] = base.get(name) if cell == 0 else base[name] + cell
        out[hash_] = row
    return out


def key_frame(order: list[str], rows: Rows) -> dict[str, Any]:
    """A key frame's stored form: the order and the raw columns."""
    return {"order": order, "cols": {name: [rows[h].get(name) for h in order] for name in MOVING}}


def key_rows(frame: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    order, cols = frame["order"], frame["cols"]
    return {h: {name: cols[name][i] for name in MOVING} for i, h in enumerate(order)}
