"""Audiobookshelf's JSON shapes → frozen values: a library (``AbsLibrary``) and a book item
(``AbsItem``: the folder, the raw audio-file list and the ``LibraryItem`` fact).

A book item is read from its full ("expanded") shape: ``media.metadata`` with ``authors``
``[{id, name}]``, ``narrators`` ``[str]``, ``series`` ``[{id, name, sequence}]``, and
``media.audioFiles`` with ``metadata.relPath/filename/size``, ``duration`` and ``bitRate``
(bits/s). Anything of the wrong type makes the whole item ``Malformed`` with a reason —
it is skipped by the caller, never guessed. What ABS does not say stays unknown (``None``).
Imports ``facts`` only."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from mamcrawler.facts import LibraryItem, book_key

__all__ = [
    "AbsAudioFile",
    "AbsItem",
    "AbsItems",
    "AbsLibrary",
    "Malformed",
    "parse_item",
    "parse_library",
    "series_number",
]

_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


class Malformed(ValueError):
    """An item whose JSON does not have the documented shape; the message is the reason."""


class AbsAudioFile(NamedTuple):
    """One audio file of an item: path relative to the item folder, size in bytes, seconds."""

    path: str
    size_bytes: int
    duration_seconds: float | None


@dataclass(frozen=True)
class AbsLibrary:
    """A library: its folders (as the server sees them) and the settings mamcrawler checks."""

    id: str
    name: str
    folders: tuple[str, ...] = ()
    media_type: str | None = None
    watcher: bool | None = None  # the folder watcher (``settings.disableWatcher`` negated)
    metadata_precedence: tuple[str, ...] = ()  # the scanner's sources, weakest first


@dataclass(frozen=True)
class AbsItem:
    """A book item: where it lives, its audio files as ABS lists them, and the fact."""

    id: str
    library_id: str
    path: str
    audio_files: tuple[AbsAudioFile, ...]
    fact: LibraryItem
    asin: str | None = None  # the Audible id, for the narrator source
    isbn: str | None = None


@dataclass(frozen=True)
class AbsItems:
    """Every good item of a library, and one ``"<id or result n>: <reason>"`` per skipped one."""

    items: tuple[AbsItem, ...]
    skipped: tuple[str, ...] = ()


def series_number(sequence: Any) -> float | None:
    """``"1"`` → 1.0, ``"1.5"`` → 1.5; a range (``"1-3"``), words or nothing → unknown."""
    if _number(sequence):
        return float(sequence)
    if isinstance(sequence, str) and _NUMBER.match(sequence.strip()):
        return float(sequence.strip())
    return None


def parse_library(raw: Any) -> AbsLibrary:
    library_id = _text(raw.get("id")) if isinstance(raw, dict) else None
    name = _text(raw.get("name")) if isinstance(raw, dict) else None
    if library_id is None or name is None:
        raise Malformed("library without id or name")
    folders = raw.get("folders") or []
    if not isinstance(folders, list):
        raise Malformed(f"library {library_id}: folders is not a list")
    paths = tuple(p for p in (_text(f.get("fullPath")) for f in folders if isinstance(f, dict)) if p)
    settings = raw.get("settings") if isinstance(raw.get("settings"), dict) else {}
    disabled = settings.get("disableWatcher")
    precedence = settings.get("metadataPrecedence")
    return AbsLibrary(
        id=library_id,
        name=name,
        folders=paths,
        media_type=_text(raw.get("mediaType")),
        watcher=(not disabled) if isinstance(disabled, bool) else None,
        metadata_precedence=tuple(str(p) for p in precedence) if isinstance(precedence, list) else (),
    )


def parse_item(raw: Any) -> AbsItem:
    """The full item JSON → ``AbsItem``; raises ``Malformed`` (the reason) on any wrong type."""
    if not isinstance(raw, dict):
        raise Malformed("not an object")
    item_id = _text(raw.get("id"))
    if item_id is None:
        raise Malformed("no id")
    if raw.get("mediaType", "book") != "book":
        raise Malformed(f"not a book ({raw.get('mediaType')})")
    media = raw.get("media")
    if not isinstance(media, dict) or not isinstance(media.get("metadata"), dict):
        raise Malformed("no media.metadata")
    meta: dict[str, Any] = media["metadata"]
    title = _text(meta.get("title"))
    if title is None:
        raise Malformed("no title")
    library_id, path = _text(raw.get("libraryId")), _text(raw.get("path"))
    if library_id is None or path is None:
        raise Malformed("no libraryId or path")
    authors = _names(meta.get("authors"), "authors", key="name")
    narrators = _names(meta.get("narrators"), "narrators", key=None)
    series, number = _series(meta.get("series"))
    files = _audio_files(media.get("audioFiles"))
    chapters = media.get("chapters")
    if chapters is not None and not isinstance(chapters, list):
        raise Malformed("chapters is not a list")
    abridged = meta.get("abridged")
    if abridged is not None and not isinstance(abridged, bool):
        raise Malformed("abridged is not true/false")
    duration = _seconds(media.get("duration"), "media.duration")
    try:
        fact = LibraryItem(
            id=item_id,
            book_key=book_key(title, authors),
            title=title,
            authors=authors,
            narrators=narrators,
            series=series,
            series_number=number,
            bitrate_kbps=_bitrate(media.get("audioFiles") or []),
            duration_seconds=duration,
            abridged=abridged,
            single_file=len(files) == 1 if files else None,
            chapters_complete=bool(chapters) if chapters is not None else None,
            added_at=_added_at(raw.get("addedAt")),
        )
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        raise Malformed(f"not a valid library item ({type(err).__name__})") from None
    return AbsItem(
        id=item_id,
        library_id=library_id,
        path=path,
        audio_files=files,
        fact=fact,
        asin=_text(meta.get("asin")),
        isbn=_text(meta.get("isbn")),
    )


def _text(value: Any) -> str | None:
    """Stripped text, or ``None`` for anything else (blank text included)."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _names(value: Any, field: str, *, key: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Malformed(f"{field} is not a list")
    names = []
    for entry in value:
        name = entry.get(key) if key and isinstance(entry, dict) else entry
        if not isinstance(name, str):
            raise Malformed(f"{field} entry is not " + ("{name: text}" if key else "text"))
        if name.strip() and name.strip() not in names:
            names.append(name.strip())
    return tuple(names)


def _series(value: Any) -> tuple[str | None, float | None]:
    if value is None:
        return None, None
    if not isinstance(value, list) or not all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in value):
        raise Malformed("series is not a list of {name, sequence}")
    named = [s for s in value if s["name"].strip()]
    if not named:
        return None, None
    sequence = named[0].get("sequence")
    if sequence is not None and not isinstance(sequence, str | int | float):
        raise Malformed("series sequence is not text")
    return named[0]["name"].strip(), series_number(sequence)


def _audio_files(value: Any) -> tuple[AbsAudioFile, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Malformed("audioFiles is not a list")
    files = []
    for n, entry in enumerate(value):
        meta = entry.get("metadata") if isinstance(entry, dict) else None
        if not isinstance(meta, dict):
            raise Malformed(f"audio file {n}: no metadata")
        rel = _text(meta.get("relPath")) or _text(meta.get("filename"))
        if rel is None:
            raise Malformed(f"audio file {n}: no relPath or filename")
        size = meta.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise Malformed(f"audio file {n}: size is not a whole number of bytes")
        duration = entry.get("duration")
        if duration is not None and not _number(duration):
            raise Malformed(f"audio file {n}: duration is not a number")
        bit_rate = entry.get("bitRate")
        if bit_rate is not None and not _number(bit_rate):
            raise Malformed(f"audio file {n}: bitRate is not a number")
        files.append(AbsAudioFile(rel, size, float(duration) if duration is not None else None))
    return tuple(files)


def _bitrate(files: list[dict[str, Any]]) -> int | None:
    """Rounded mean of the files' ``bitRate`` in kbps; unknown if any file lacks one."""
    given: list[Any] = [f.get("bitRate") for f in files]
    rates = [float(r) for r in given if _number(r) and r > 0]
    if not rates or len(rates) != len(files):
        return None
    return round(sum(rates) / len(rates) / 1000)


def _seconds(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if not _number(value):
        raise Malformed(f"{field} is not a number of seconds")
    return round(float(value))


def _added_at(value: Any) -> datetime | None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
