"""Reading the tracker's loosely typed JSON: numbers and booleans that arrive as strings,
human sizes (``"1,018.3 KiB"``), JSON objects embedded as strings (``author_info``),
HTML entities in titles, ``YYYY-MM-DD HH:MM:SS`` UTC times. Every reader returns
``None`` for what it cannot read instead of guessing. Imports nothing from mamcrawler."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "as_bool",
    "as_float",
    "as_int",
    "as_time",
    "clean_text",
    "json_field",
    "names_of",
    "parse_size",
    "strict_true",
]

_UNITS = {"b": 1, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4, "kb": 1000, "mb": 1000**2, "gb": 1000**3}
_SIZE = re.compile(r"^\s*([\d,]*\.?\d+)\s*([kmgt]?i?b)?\s*$", re.IGNORECASE)


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", ""))
        except ValueError:
            return None
    return None


def as_bool(value: Any) -> bool | None:
    """0/1 flags, as numbers or strings."""
    if isinstance(value, bool):
        return value
    number = as_int(value)
    if number in (0, 1):
        return bool(number)
    return None


def strict_true(value: Any) -> bool:
    """``success`` of a store answer: only ``true`` / ``"true"`` / 1 count (compare strictly)."""
    if value is True:
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in ("true", "1")


def parse_size(value: Any) -> int | None:
    """``"1.5 GiB"``, ``"1,018.3 KiB"`` or bytes (number or string) → bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if not isinstance(value, str):
        return None
    m = _SIZE.match(value)
    if m is None:
        return None
    number = float(m.group(1).replace(",", ""))
    unit = (m.group(2) or "b").lower()
    return int(number * _UNITS.get(unit, 0)) if unit in _UNITS else None


def json_field(value: Any) -> Any:
    """A JSON document embedded as a string; ``None`` when empty or malformed."""
    if isinstance(value, dict | list):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def names_of(value: Any) -> tuple[str, ...] | None:
    """``{"<id>": "Name", …}`` (as a string or object) → names; ``None`` when unreadable."""
    data = json_field(value)
    if data is None:
        return () if value in ("", None) else None
    if not isinstance(data, dict):
        return None
    names = [clean_text(v) for v in data.values() if isinstance(v, str) and v.strip()]
    return tuple(n for n in names if n)


def clean_text(value: Any) -> str:
    """Entities decoded, tags and runs of whitespace removed."""
    if not isinstance(value, str):
        return ""
    text = re.sub(r"<[^>]*>", "", html.unescape(value))
    return re.sub(r"\s+", " ", text).strip()


def as_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
