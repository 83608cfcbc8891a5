"""Facts → rows for library work: one ``download`` row per finished download the audio
sensor scanned (§11 narrator, §13 integrity, §14/§16 against the library's edition), one
``metadata`` row per field of a library item the §15 order would change — and the
builders of the actions those rows lead to (SwapEdition, RefuseEdition, MarkReleaseBad,
AcceptDownload, UpdateMetadata). The §13 duration verdict is made here from the sensor's
measurement and the listing's runtime. Editions compare only through the policy's
``Ladder``. Pure; imports ``facts`` and sibling engine modules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mamcrawler.engine.actions import (
    AcceptDownload,
    MarkReleaseBad,
    MetadataValue,
    RefuseEdition,
    SwapEdition,
    UpdateMetadata,
)
from mamcrawler.engine.books.canonical import Source as MetaSource
from mamcrawler.engine.books.canonical import metadata_changes, resolve
from mamcrawler.engine.policy.compiled import Policy
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import Scalar
from mamcrawler.facts import AudioScan, FactSnapshot, LibraryItem, MetadataReading, Release, Source, Torrent

__all__ = ["Download", "FieldChange", "LibraryWork", "library_work"]


@dataclass(frozen=True)
class Download:
    """A finished download with its scan, its release and the library's edition of the book."""

    scan: AudioScan
    torrent: Torrent | None
    release: Release | None
    item: LibraryItem | None
    integrity_ok: bool | None
    integrity_reason: str
    better: bool | None


@dataclass(frozen=True)
class FieldChange:
    item_id: str
    field: str
    value: MetadataValue
    source: str
    series: str | None
    series_number: float | None


@dataclass(frozen=True)
class LibraryWork:
    rows: tuple[Row, ...]
    downloads: Mapping[str, Download]
    changes: Mapping[str, FieldChange]


def current_fields(item: LibraryItem) -> dict[str, Any]:
    return {
        "title": item.title,
        "authors": list(item.authors),
        "narrators": list(item.narrators),
        "series": item.series,
        "series_number": item.series_number,
    }


def _integrity(scan: AudioScan, release: Release | None, tolerance: float) -> tuple[bool | None, str]:
    if scan.integrity_ok is None:
        return None, scan.integrity_reason or "not_scanned"
    if not scan.integrity_ok:
        return False, scan.integrity_reason or "integrity_failed"
    expected = release.duration_seconds if release is not None else None
    if expected and scan.decoded_seconds is not None and abs(scan.decoded_seconds - expected) > expected * tolerance:
        return False, "duration_mismatch"
    return True, "ok"


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def _download_rows(
    policy: Policy, snapshot: FactSnapshot, shared: dict[str, Scalar | None], gapped: frozenset[Source]
) -> tuple[list[Row], dict[str, Download]]:
    if Source.AUDIO in gapped or Source.QBITTORRENT in gapped:
        return [], {}
    library_known = Source.LIBRARY not in gapped
    releases = {r.id: r for r in snapshot.releases}
    torrents = {t.hash: t for t in snapshot.torrents}
    library = {i.book_key: i for i in snapshot.library}
    rows: list[Row] = []
    found: dict[str, Download] = {}
    for scan in sorted(snapshot.scans, key=lambda s: s.torrent_hash or ""):
        if scan.torrent_hash is None:
            continue
        torrent = torrents.get(scan.torrent_hash)
        release = releases.get(torrent.release_id or "") if torrent is not None else None
        book = (torrent.book_key if torrent is not None else None) or (release.book_key if release else None)
        item = library.get(book) if book and library_known else None
        ok, reason = _integrity(scan, release, policy.library.integrity_duration_tolerance)
        better: bool | None = None
        if library_known:
            better = item is None or (release is not None and policy.ladder.better(release, item))
        heard = scan.narrator
        matches = None if not heard or release is None else _norm(heard) in {_norm(n) for n in release.narrators}
        own: dict[str, Scalar | None] = {
            "download.hash": scan.torrent_hash,
            "download.release_known": release is not None,
            "download.integrity_ok": ok,
            "download.integrity_reason": reason,
            "download.library_has_book": (item is not None) if library_known else None,
            "download.better_than_library": better,
            "download.narrator_heard": heard,
            "download.narrator_matches": matches,
        }
        rows.append(Row("download", scan.torrent_hash, own, shared))
        found[scan.torrent_hash] = Download(scan, torrent, release, item, ok, reason, better)
    return rows, found


def _readings(snapshot: FactSnapshot, downloads: Mapping[str, Download]) -> dict[str, list[MetadataReading]]:
    """Sensor readings per item, plus — for a download about to replace an item's edition
    — the release's own metadata (§15 torrent and narrator source) and what the scan heard."""
    out: dict[str, list[MetadataReading]] = {}
    for reading in snapshot.metadata:
        out.setdefault(reading.item_id, []).append(reading)
    for d in downloads.values():
        if d.item is None or d.release is None or not d.integrity_ok or not d.better:
            continue
        r = d.release
        heard = (d.scan.narrator,) if d.scan.narrator else ()
        out.setdefault(d.item.id, []).extend(
            [
                MetadataReading(
                    item_id=d.item.id,
                    source="torrent",
                    title=r.title,
                    authors=r.authors,
                    series=r.series,
                    series_number=r.series_number,
                    heard=heard,
                ),
                MetadataReading(item_id=d.item.id, source="narrator_source", narrators=r.narrators, heard=heard),
            ]
        )
    return out


def _values(reading: MetadataReading) -> dict[str, Any]:
    body = reading.model_dump(exclude={"item_id", "source", "heard"})
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in body.items()}


def _same(value: Any) -> Any:
    return [str(v).casefold() for v in value] if isinstance(value, list | tuple) else value


def reassert(current: Mapping[str, Any], recorded: Mapping[str, Any]) -> dict[str, Any]:
    """Recorded values of verified fields the library no longer shows (an Audiobookshelf
    Quick Match or a hand edit changed them): they are put back."""
    return {
        name: value
        for name, value in recorded.items()
        if name in current and value not in (None, "", [], ()) and _same(current[name]) != _same(value)
    }


def _metadata_rows(
    snapshot: FactSnapshot,
    shared: dict[str, Scalar | None],
    gapped: frozenset[Source],
    downloads: Mapping[str, Download],
) -> tuple[list[Row], dict[str, FieldChange]]:
    if Source.LIBRARY in gapped:
        return [], {}
    items = {i.id: i for i in snapshot.library}
    rows: list[Row] = []
    changes: dict[str, FieldChange] = {}
    for item_id, readings in sorted(_readings(snapshot, downloads).items()):
        item = items.get(item_id)
        if item is None:
            continue
        candidates: dict[MetaSource, dict[str, Any]] = {}
        heard: list[str] = []
        recorded: dict[str, Any] = {}
        for reading in readings:
            if reading.source == "verified":
                recorded.update({k: v for k, v in _values(reading).items() if v not in (None, [], "")})
                continue
            candidates.setdefault(MetaSource(reading.source), {}).update(
                {k: v for k, v in _values(reading).items() if v not in (None, [], "")}
            )
            heard.extend(reading.heard)
        verified = frozenset(item.verified_fields)
        current = current_fields(item)
        canonical = resolve(
            {**candidates, MetaSource.LIBRARY: current},
            library_validated=verified,
            narrator_heard=tuple(dict.fromkeys(heard)),
        )
        found = metadata_changes(current, canonical.values, verified=verified)
        chosen_from = {name: canonical.chosen_from[name].value for name in found}
        values = dict(canonical.values)
        for name, value in reassert(current, recorded).items():
            found[name] = values[name] = value
            chosen_from[name] = "verified"
        for name, value in sorted(found.items()):
            row_id = f"{item_id}:{name}"
            source = chosen_from[name]
            own: dict[str, Scalar | None] = {
                "metadata.item_id": item_id,
                "metadata.field": name,
                "metadata.source": source,
                "metadata.conflict": name in canonical.conflicts,
                "metadata.library_empty": current.get(name) in (None, [], ""),
            }
            rows.append(Row("metadata", row_id, own, shared))
            stored: MetadataValue = tuple(value) if isinstance(value, list) else value
            series, number = values.get("series", current.get("series")), values.get("series_number")
            changes[row_id] = FieldChange(
                item_id,
                name,
                stored,
                source,
                series if isinstance(series, str) else None,
                float(number) if isinstance(number, int | float) else None,
            )
    return rows, changes


def _duplicate_rows(policy: Policy, snapshot: FactSnapshot, shared: dict[str, Scalar | None]) -> list[Row]:
    """§14: items of one book held twice; the one to keep is the best by the ladder (the
    smaller id among equals), every other one is a weaker duplicate."""
    groups: dict[str, list[LibraryItem]] = {}
    for item in snapshot.library:
        groups.setdefault(item.book_key, []).append(item)
    rows: list[Row] = []
    ladder = policy.ladder
    for items in groups.values():
        if len(items) < 2:
            continue
        keep = items[0]
        for item in sorted(items[1:], key=lambda i: i.id):
            if ladder.better(item, keep) or (not ladder.better(keep, item) and item.id < keep.id):
                keep = item
        for item in sorted(items, key=lambda i: i.id):
            own: dict[str, Scalar | None] = {"item.weaker_duplicate": item.id != keep.id, "item.keep": keep.id}
            rows.append(Row("item", item.id, own, shared))
    return rows


def library_work(
    policy: Policy, snapshot: FactSnapshot, shared: dict[str, Scalar | None], gapped: frozenset[Source]
) -> LibraryWork:
    download_rows, downloads = _download_rows(policy, snapshot, shared, gapped)
    metadata_rows, changes = _metadata_rows(snapshot, shared, gapped, downloads)
    twins = _duplicate_rows(policy, snapshot, shared) if Source.LIBRARY not in gapped else []
    return LibraryWork((*download_rows, *metadata_rows, *twins), downloads, changes)


# --- builders (the action templates of library rules) -------------------------------------
def _download(work: LibraryWork, row: Row) -> Download:
    if row.kind != "download" or row.id not in work.downloads:
        raise ValueError("needs a download subject")
    return work.downloads[row.id]


def build_swap(work: LibraryWork, row: Row) -> SwapEdition:
    d = _download(work, row)
    if d.item is None:
        raise ValueError("the library has no edition to replace")
    return SwapEdition(
        torrent_hash=row.id,
        library_item_id=d.item.id,
        release_id=d.release.id if d.release else None,
        book_key=d.item.book_key,
    )


def build_refuse(work: LibraryWork, row: Row) -> RefuseEdition:
    d = _download(work, row)
    if d.item is None:
        raise ValueError("the library has no edition to keep")
    return RefuseEdition(torrent_hash=row.id, library_item_id=d.item.id, release_id=d.release.id if d.release else None)


def build_mark_bad(work: LibraryWork, row: Row) -> MarkReleaseBad:
    d = _download(work, row)
    book = (d.torrent.book_key if d.torrent else None) or (d.release.book_key if d.release else None)
    title = d.release.title if d.release else (d.torrent.name if d.torrent else "")
    return MarkReleaseBad(
        torrent_hash=row.id,
        release_id=d.release.id if d.release else None,
        book_key=book,
        title=title,
        reason=d.integrity_reason,
    )


def build_accept(work: LibraryWork, row: Row) -> AcceptDownload:
    d = _download(work, row)
    book = (d.torrent.book_key if d.torrent else None) or (d.release.book_key if d.release else None)
    return AcceptDownload(
        torrent_hash=row.id,
        release_id=d.release.id if d.release else None,
        book_key=book,
        torrent_name=d.torrent.name if d.torrent else row.id,
        release=_edition(d.release),
        heard=(d.scan.narrator,) if d.scan.narrator else (),
    )


# What an import names the book by; the volatile listing fields (seeders, free...) are left
# out, so the action — and its journal entry — is the same whenever it is decided again.
_EDITION = {"id", "source", "tracker_id", "book_key", "title", "authors", "narrators", "series", "series_number"}


def _edition(release: Release | None) -> Release | None:
    return None if release is None else Release.model_validate(release.model_dump(include=_EDITION))


def build_update(work: LibraryWork, row: Row) -> UpdateMetadata:
    if row.kind != "metadata" or row.id not in work.changes:
        raise ValueError("needs a metadata subject")
    c = work.changes[row.id]
    return UpdateMetadata(
        library_item_id=c.item_id,
        field=c.field,
        value=c.value,
        source=c.source,
        series=c.series,
        series_number=c.series_number,
    )
