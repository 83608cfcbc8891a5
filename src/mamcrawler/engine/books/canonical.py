"""§15 metadata conflict resolution: candidate values from several sources → one canonical
record, and the changes to send to the library. Pure.

Priority per field (SPEC §15): 1. the scan's speech-to-text for title / series /
sequence; 2. the metadata provider's canonical data (titles, series names, order,
description, cover, publication); 3. the narrator from the torrent or the Audible-style
source, confirmed by a fuzzy match with what the scan heard; 4. the torrent's technical
metadata; 5. the library's existing value, only if it was validated. Empty values never
count as a candidate, so nothing is ever overwritten with an empty value; a field a human
or a scan verified (``verified_fields``) is never overwritten at all — the §12 monthly
drift relies on that. Imports nothing from mamcrawler."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["FIELD_PRIORITY", "Resolution", "Source", "metadata_changes", "resolve"]


class Source(StrEnum):
    SCAN = "scan"  # speech-to-text of the opening
    PROVIDER = "provider"  # Goodreads-style canonical data
    NARRATOR_SOURCE = "narrator_source"  # the torrent's narrator_info or the Audible-style source
    TORRENT = "torrent"  # technical metadata of the release
    LIBRARY = "library"  # what ABS holds now (counts only when validated)


FIELD_PRIORITY: Mapping[str, tuple[Source, ...]] = {
    "title": (Source.SCAN, Source.PROVIDER, Source.TORRENT, Source.LIBRARY),
    "series": (Source.SCAN, Source.PROVIDER, Source.TORRENT, Source.LIBRARY),
    "series_number": (Source.SCAN, Source.PROVIDER, Source.TORRENT, Source.LIBRARY),
    "authors": (Source.PROVIDER, Source.TORRENT, Source.SCAN, Source.LIBRARY),
    "narrators": (Source.NARRATOR_SOURCE, Source.TORRENT, Source.LIBRARY),
    "description": (Source.PROVIDER, Source.LIBRARY),
    "cover": (Source.PROVIDER, Source.LIBRARY),
    "published": (Source.PROVIDER, Source.TORRENT, Source.LIBRARY),
    "bitrate_kbps": (Source.TORRENT, Source.LIBRARY),
}


@dataclass(frozen=True)
class Resolution:
    values: dict[str, Any]
    chosen_from: dict[str, Source]
    conflicts: dict[str, dict[str, Any]]  # field → {source: value} where sources disagreed


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict | set) and not value)


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    return value


def resolve(
    candidates: Mapping[Source, Mapping[str, Any]],
    *,
    library_validated: frozenset[str] = frozenset(),
    narrator_heard: Sequence[str] = (),
) -> Resolution:
    """The canonical value of every field some source knows. The library's own value counts
    only for fields in ``library_validated``; a narrator from the narrator source counts
    only when the scan heard it or the scan heard nobody (``narrator_heard`` empty)."""
    values: dict[str, Any] = {}
    chosen: dict[str, Source] = {}
    conflicts: dict[str, dict[str, Any]] = {}
    heard = {_norm(n) for n in narrator_heard}
    for name, order in FIELD_PRIORITY.items():
        offered: dict[Source, Any] = {}
        for source in order:
            value = candidates.get(source, {}).get(name)
            if _empty(value):
                continue
            if source is Source.LIBRARY and name not in library_validated:
                continue
            disputed = name == "narrators" and source is Source.NARRATOR_SOURCE and heard
            if disputed and not heard & {_norm(n) for n in (value or ())}:
                continue  # the recording names someone else: the scan wins below
            offered[source] = value
        if name == "narrators" and heard and not offered:
            offered[Source.SCAN] = tuple(narrator_heard)
        if not offered:
            continue
        first = next(iter(offered))
        values[name], chosen[name] = offered[first], first
        if len({_norm(v) for v in offered.values()}) > 1:
            conflicts[name] = {s.value: v for s, v in offered.items()}
    return Resolution(values, chosen, conflicts)


def metadata_changes(
    current: Mapping[str, Any], canonical: Mapping[str, Any], *, verified: frozenset[str]
) -> dict[str, Any]:
    """What to send to the library: canonical values that differ from the current ones,
    never for a verified field, never an empty value."""
    changes = {}
    for name, value in canonical.items():
        if name in verified or _empty(value):
            continue
        if _norm(current.get(name)) != _norm(value):
            changes[name] = value
    return changes
