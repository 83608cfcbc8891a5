"""The simulated library side: finished downloads awaiting their §13/§14/§16 decision
(``Completion``), what the audio sensor would report on them (``scans``, from the
scenario's audio outcomes), and library items built from specs and releases.
Imports ``facts`` and ``sim.scenario``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from mamcrawler.facts import AudioScan, LibraryItem, Release
from mamcrawler.sim.scenario import LibrarySpec

if TYPE_CHECKING:
    from mamcrawler.sim.world import World


@dataclass
class Completion:
    """A download that finished: what the library did with it (once decided)."""

    at: datetime
    hash: str
    book_key: str | None
    outcome: str | None = None  # swapped | refused | marked_bad | accepted (the applied action)
    item_id: str | None = None


def scans(world: World) -> tuple[AudioScan, ...]:
    """What the audio sensor reports: every finished download not yet decided, with the
    scenario's §13/§11 outcome for its release (sound, full length, unknown narrator
    by default)."""
    out = []
    for c in world.completions:
        t = world.torrents.get(c.hash) or world.removed.get(c.hash)
        if c.outcome is not None or t is None:
            continue
        release = world.releases.get(t.release_id or "")
        spec = world.audio.get(t.release_id or "")
        expected = release.duration_seconds if release is not None else None
        ok = True if spec is None else spec.integrity_ok
        seconds = spec.decoded_seconds if spec is not None and spec.decoded_seconds is not None else expected
        out.append(
            AudioScan(
                torrent_hash=c.hash,
                integrity_ok=ok,
                integrity_reason=(spec.reason if spec is not None and spec.reason else None) if not ok else "ok",
                decoded_seconds=seconds,
                narrator=spec.narrator if spec is not None else None,
            )
        )
    return tuple(out)


def library_item(spec: LibrarySpec, by_name: dict[str, str], now: datetime) -> LibraryItem:
    return LibraryItem(
        id=spec.id,
        book_key=spec.book_key,
        title=spec.title,
        authors=spec.authors,
        narrators=spec.narrators,
        series=spec.series,
        series_number=spec.series_number,
        bitrate_kbps=spec.bitrate_kbps,
        abridged=spec.abridged,
        single_file=spec.single_file,
        chapters_complete=spec.chapters_complete,
        narrator_verified=spec.narrator_verified,
        watermarked=spec.watermarked,
        seeders=spec.seeders,
        torrent_hash=by_name.get(spec.torrent) if spec.torrent else None,
        added_at=now,
    )


def from_release(item_id: str, r: Release, hash_: str, now: datetime) -> LibraryItem:
    return LibraryItem(
        id=item_id,
        book_key=r.book_key,
        title=r.title,
        authors=r.authors,
        narrators=r.narrators,
        series=r.series,
        series_number=r.series_number,
        bitrate_kbps=r.bitrate_kbps,
        duration_seconds=r.duration_seconds,
        abridged=r.abridged,
        single_file=r.single_file,
        chapters_complete=r.chapters_complete,
        narrator_verified=r.narrator_verified,
        watermarked=r.watermarked,
        seeders=r.seeders,
        torrent_hash=hash_,
        added_at=now,
    )
