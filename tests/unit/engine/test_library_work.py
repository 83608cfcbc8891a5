"""Library work the engine derives: an ``AcceptDownload`` carries what the import needs (the
edition's stable metadata and the narrator heard — never the volatile listing fields, so a
re-decided import is the same journal entry), and recorded values of verified fields that
the library no longer shows are put back (``reassert``)."""

from __future__ import annotations

import hashlib

from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.world.library import Download, LibraryWork, build_accept, reassert
from mamcrawler.facts import AudioScan, Release, Torrent, TorrentState

H = hashlib.sha1(b"accept").hexdigest()


def work(seeders: int) -> tuple[LibraryWork, Row]:
    release = Release(
        id="r1", book_key="dune|frank herbert", title="Dune", authors=("Frank Herbert",), narrators=("Scott Brick",),
        series="Dune", series_number=1.0, seeders=seeders, bitrate_kbps=64,
    )  # fmt: skip
    torrent = Torrent(hash=H, name="Dune (64k)", state=TorrentState.SEEDING, release_id="r1", book_key=release.book_key)
    scan = AudioScan(torrent_hash=H, integrity_ok=True, narrator="Scott Brick")
    download = Download(scan, torrent, release, None, True, "", None)
    row = Row("download", H, {}, {})
    return LibraryWork((row,), {H: download}, {}), row


def test_accept_carries_the_stable_edition_and_the_narrator_heard() -> None:
    first = build_accept(*work(seeders=3))
    assert (first.torrent_name, first.heard, first.book_key) == ("Dune (64k)", ("Scott Brick",), "dune|frank herbert")
    assert first.release is not None and first.release.series_number == 1.0
    assert first.release.seeders is None and first.release.bitrate_kbps is None
    assert build_accept(*work(seeders=40)).model_dump_json() == first.model_dump_json()  # same journal body


def test_reassert_puts_back_only_what_the_library_changed() -> None:
    current = {"title": "Dune: Deluxe", "narrators": ["scott brick"], "series": None}
    recorded = {"title": "Dune", "narrators": ["Scott Brick"], "description": "kept by name only", "series": ""}
    assert reassert(current, recorded) == {"title": "Dune"}
