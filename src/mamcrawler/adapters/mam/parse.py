"""The tracker's JSON answers → facts: search results → ``Release``, ``/jsonLoad.php`` →
``Account`` (with the snatch summary), bonus-store answers → success or a refusal.

Shapes follow ``MAM_API.md``: every field optional, numbers and booleans as strings or
numbers, ``author_info`` / ``narrator_info`` / ``series_info`` as JSON strings that may
be empty or malformed, ``"Nothing returned…"`` meaning zero results. A result that
cannot be read (no id, no title) is skipped and reported, never guessed; an unreadable
narrator list stays unknown (empty, ``narrator_verified`` unset). Imports ``facts``,
``errors`` and ``adapters.mam.values``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mamcrawler.adapters.mam.values import (
    as_bool,
    as_float,
    as_int,
    as_time,
    clean_text,
    json_field,
    names_of,
    parse_size,
    strict_true,
)
from mamcrawler.errors import ServiceProtocolError
from mamcrawler.facts import Account, FreeKind, Release, ReleaseSource, UserClass, book_key

__all__ = ["SearchPage", "StoreAnswer", "parse_account", "parse_release", "parse_search", "parse_store_answer"]

ABRIDGED_FLAG = 32
_CLASSES = {c.value.lower(): c for c in UserClass}
_KBPS = re.compile(r"(\d+(?:\.\d+)?)\s*(k|m)?b(?:it)?/?p?s", re.IGNORECASE)


@dataclass(frozen=True)
class SearchPage:
    releases: tuple[Release, ...]
    total: int
    skipped: tuple[str, ...]  # why results were left out, one line each


@dataclass(frozen=True)
class StoreAnswer:
    ok: bool
    error: str
    body: dict[str, Any]


def _protocol(code: str, message: str) -> ServiceProtocolError:
    return ServiceProtocolError("tracker", code, message)


def parse_search(body: Any) -> SearchPage:
    """A search answer; raises ``ServiceProtocolError`` when it is not one."""
    if not isinstance(body, dict):
        raise _protocol("unexpected_answer", f"search answer is a {type(body).__name__}, not an object")
    error = body.get("error")
    if isinstance(error, str):
        if error.startswith("Nothing returned"):
            return SearchPage((), 0, ())
        raise _protocol("search_error", error[:200])
    data = body.get("data")
    if not isinstance(data, list):
        raise _protocol("unexpected_answer", "search answer has no data list")
    releases, skipped = [], []
    for i, raw in enumerate(data):
        try:
            releases.append(parse_release(raw))
        except ValueError as err:
            skipped.append(f"result {i}: {err}")
    total = as_int(body.get("found")) or as_int(body.get("total")) or len(releases)
    return SearchPage(tuple(releases), total, tuple(skipped))


def _series(value: Any) -> tuple[str | None, float | None]:
    data = json_field(value)
    if not isinstance(data, dict) or not data:
        return None, None
    first = next(iter(data.values()))
    if not isinstance(first, list) or not first or not isinstance(first[0], str):
        return None, None
    name = clean_text(first[0]) or None
    text = first[1] if len(first) > 1 and isinstance(first[1], str) else ""
    if re.search(r"\d\s*[-–,&]\s*\d", text):
        return name, None  # a range like "01-16" is a collection, not one position
    number = as_float(first[2]) if len(first) > 2 else None
    if number is None and (m := re.match(r"^\s*(\d+(?:\.\d+)?)\s*$", text)):
        number = float(m.group(1))
    return name, number


def _media(raw: dict[str, Any]) -> tuple[int | None, int | None]:
    """(bitrate kbps, duration seconds) from ``mediainfo`` when present."""
    info = json_field(raw.get("mediainfo") or raw.get("mediaInfo"))
    if not isinstance(info, dict):
        return None, None
    audio = info.get("Audio1") or info.get("audio1") or {}
    general = info.get("General") or info.get("general") or {}
    bitrate = None
    if isinstance(audio, dict):
        text = audio.get("BitRate") or audio.get("Bitrate")
        if isinstance(text, str) and (m := _KBPS.search(text)):
            value = float(m.group(1)) * (1000 if (m.group(2) or "k").lower() == "m" else 1)
            bitrate = round(value)
        elif (number := as_int(text)) is not None:
            bitrate = number // 1000 if number > 10_000 else number
    duration = None
    if isinstance(general, dict):
        duration = _duration(general.get("Duration"))
    return bitrate, duration


def _duration(value: Any) -> int | None:
    if (number := as_float(value)) is not None:
        return int(number)
    if not isinstance(value, str):
        return None
    parts = re.findall(r"(\d+)\s*(h|mn|min|m|s)\b", value)
    if not parts:
        m = re.fullmatch(r"\s*(\d+):(\d{2}):(\d{2})(?:\.\d+)?\s*", value)
        return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) if m else None
    scale = {"h": 3600, "mn": 60, "min": 60, "m": 60, "s": 1}
    return sum(int(n) * scale[u] for n, u in parts)


def parse_release(raw: Any) -> Release:
    """One search result; ``ValueError`` when it has no usable id or title."""
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    tid = as_int(raw.get("id"))
    title = clean_text(raw.get("title"))
    if tid is None or tid <= 0 or not title:
        raise ValueError("no id or title")
    authors = names_of(raw.get("author_info"))
    narrators = names_of(raw.get("narrator_info"))
    series, number = _series(raw.get("series_info"))
    flags = as_int(raw.get("browseflags"))
    bitrate, duration = _media(raw)
    free = FreeKind.NONE
    if as_bool(raw.get("personal_freeleech")):
        free = FreeKind.PERSONAL_FREELEECH
    elif as_bool(raw.get("free")):
        free = FreeKind.SITE_FREELEECH
    elif as_bool(raw.get("fl_vip")):
        free = FreeKind.VIP_FREELEECH
    file_count = as_int(raw.get("numfiles"))
    formats = tuple(f.lower() for f in str(raw.get("filetype") or "").split() if f)
    return Release(
        id=f"mam-{tid}",
        source=ReleaseSource.TRACKER,
        tracker_id=tid,
        book_key=book_key(title, authors or ()),
        title=title,
        authors=authors or (),
        narrators=narrators or (),
        series=series,
        series_number=number,
        category_id=as_int(raw.get("category")),
        formats=formats,
        bitrate_kbps=bitrate,
        duration_seconds=duration,
        abridged=None if flags is None else bool(flags & ABRIDGED_FLAG),
        single_file=None if file_count is None else file_count == 1,
        file_count=file_count,
        size_bytes=parse_size(raw.get("size")),
        seeders=_count(raw.get("seeders")),
        leechers=_count(raw.get("leechers")),
        snatches=_count(raw.get("times_completed")),
        free=free,
        vip_only=as_bool(raw.get("vip")) or False,
        added_at=as_time(raw.get("added")),
    )


def _count(value: Any) -> int | None:
    number = as_int(value)
    return number if number is not None and number >= 0 else None


def parse_account(body: Any) -> Account:
    """``/jsonLoad.php?snatch_summary``; an answer without ``username`` means the cookie failed."""
    if not isinstance(body, dict) or not isinstance(body.get("username"), str):
        raise _protocol("not_logged_in", "account data has no username (the session cookie was not accepted)")
    classname = str(body.get("classname") or "").strip().lower()
    raw_unsat = body.get("unsat")
    unsat: dict[str, Any] = raw_unsat if isinstance(raw_unsat, dict) else {}
    vip_until = as_time(body.get("vip_until"))
    return Account(
        username=body["username"],
        user_class=_CLASSES.get(classname, UserClass.USER),
        ratio=_non_negative(as_float(body.get("ratio"))),
        uploaded_bytes=_non_negative_int(as_int(body.get("uploaded_bytes"))),
        downloaded_bytes=_non_negative_int(as_int(body.get("downloaded_bytes"))),
        bonus_points=_non_negative_int(_points(body.get("seedbonus"))),
        wedges=_non_negative_int(as_int(body.get("wedges"))) or 0,
        vip_until=vip_until,
        unsatisfied_count=_non_negative_int(as_int(unsat.get("count"))),
        unsatisfied_limit=_non_negative_int(as_int(unsat.get("limit"))),
        inactive_unsatisfied_count=_summary_count(body, "inactUnsat"),
        hit_and_run_count=_hnr_count(body),
    )


def _summary_count(body: dict[str, Any], name: str) -> int | None:
    """``count`` of one snatch-summary object (``{name, count, red, size}``); None when absent."""
    entry = body.get(name)
    return _non_negative_int(as_int(entry.get("count"))) if isinstance(entry, dict) else None


def _hnr_count(body: dict[str, Any]) -> int | None:
    counts = [_summary_count(body, name) for name in ("seedHnr", "inactHnr")]
    known = [c for c in counts if c is not None]
    return sum(known) if known else None


def _points(value: Any) -> int | None:
    number = as_float(value)
    return None if number is None else int(number)


def _non_negative(value: float | None) -> float | None:
    return value if value is not None and value >= 0 else None


def _non_negative_int(value: int | None) -> int | None:
    return value if value is not None and value >= 0 else None


def parse_store_answer(body: Any) -> StoreAnswer:
    """A bonus-store answer: HTTP 200 either way; ``success`` compared strictly."""
    if not isinstance(body, dict):
        raise _protocol("unexpected_answer", "store answer is not a JSON object")
    if strict_true(body.get("success")):
        return StoreAnswer(True, "", body)
    error = body.get("error")
    return StoreAnswer(False, str(error)[:200] if error else "refused without a reason", body)
