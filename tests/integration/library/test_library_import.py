"""The import hand-off against the real Audiobookshelf: a finished download that passed §13
and is not in the library (``AcceptDownload``, decided by the library policy and carried
out by the library actuator) is copied into a new ``Author/Series/N - Title`` folder (the
torrent's own files stay to seed), ABS is asked to scan just that folder through its
watcher hand-off (no full library scan), the book is waited for until it appears, given
the tracker's metadata by §15 and recorded with its item id; a narrator heard in the
opening becomes a verified field. With the watcher off it falls back to one library scan
(with a warning); a run that timed out is retried later without copying or scanning again
when the book has appeared meanwhile."""

from __future__ import annotations

import hashlib
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from abs_books import LibraryBook, copy_books
from abs_server import AbsServer, wait_for
from recording_proxy import ProxyState

from mamcrawler.actuators.library import LibraryActuator
from mamcrawler.actuators.library_import import LibraryImport, folder_name
from mamcrawler.actuators.swap import FileSwapper
from mamcrawler.adapters.audio.integrity import AUDIO_SUFFIXES
from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.engine.actions import AcceptDownload
from mamcrawler.errors import ServiceUnavailable
from mamcrawler.facts import Release, Torrent, TorrentState
from mamcrawler.store import POST_DOWNLOAD_DONE, Database, StateStore
from mamcrawler.store.verified import verified_values

pytestmark = [pytest.mark.integration, pytest.mark.slow]
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
HASH = hashlib.sha1(b"the last lighthouse").hexdigest()


class DownloadFolder:
    """What qBittorrent reports for a finished torrent: its save path and file list."""

    def __init__(self, save_path: Path, files: list[Path]) -> None:
        self.save_path, self.files = save_path, files

    def content(self, info_hash: str) -> tuple[Path, tuple[tuple[str, int], ...]]:
        return self.save_path, tuple((f.relative_to(self.save_path).as_posix(), f.stat().st_size) for f in self.files)


def lighthouse(seconds: int) -> tuple[Torrent, Release]:
    release = Release(
        id="lighthouse-64",
        book_key="the last lighthouse|clara benson",
        title="The Last Lighthouse",
        authors=("Clara Benson",),
        narrators=("Rosalyn Landor",),
        series="Lighthouse Cycle",
        series_number=1.0,
        bitrate_kbps=64,
        duration_seconds=seconds,
    )
    torrent = Torrent(
        hash=HASH,
        name="The Last Lighthouse",
        state=TorrentState.SEEDING,
        progress=1.0,
        added_by_mamcrawler=True,
        book_key=release.book_key,
        release_id=release.id,
    )
    return torrent, release


def library_with_books(
    server: AbsServer, template: tuple[Path, dict[str, LibraryBook]], base: Path, *, watcher: bool
) -> tuple[str, Path, dict[str, LibraryBook]]:
    root = base / "library"
    books = copy_books(template, root)
    library = server.create_library(f"Import {base.name} {watcher}", root, watcher=watcher)
    server.scan(library["id"])
    return library["id"], root, books


def download_of(book: LibraryBook, base: Path) -> tuple[Path, list[Path]]:
    save = base / "downloads"
    folder = save / "Clara Benson - The Last Lighthouse (64k)"
    folder.mkdir(parents=True)
    files = [Path(shutil.copy2(f, folder / f.name)) for f in book.files]
    return save, files


def test_a_new_book_is_imported_scanned_alone_and_given_its_metadata(
    abs_server: AbsServer,
    book_template: tuple[Path, dict[str, LibraryBook]],
    tmp_path: Path,
    recorded: tuple[str, ProxyState],
) -> None:
    proxy, log = recorded
    library_id, root, books = library_with_books(abs_server, book_template, tmp_path, watcher=True)
    save, files = download_of(books["split_mp3"], tmp_path)  # three untagged parts
    torrent, release = lighthouse(8)
    state = StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))
    accept = AcceptDownload(
        torrent_hash=torrent.hash,
        release_id=release.id,
        book_key=release.book_key,
        torrent_name=torrent.name,
        release=release,
    )
    with AbsClient(abs_server.url, abs_server.api_key, proxy=proxy, timeout=30.0) as client:
        importer = LibraryImport(client, state, lambda: NOW, wait_seconds=60, poll_seconds=1)
        actuator = LibraryActuator(
            state,
            FileSwapper(tmp_path / "holding"),
            library=client,
            torrents=DownloadFolder(save, files),
            clock=lambda: NOW,
            importer=importer,
        )
        done = actuator.perform(accept, entry_id=1)
        item = client.item(done["item_id"])
    folder = root / "Clara Benson" / "Lighthouse Cycle" / "1 - The Last Lighthouse"
    assert item.path == str(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f.name for f in files)
    assert all(f.is_file() for f in files)  # the torrent's own copy stays to seed
    fact = item.fact
    assert (fact.title, fact.authors, fact.series, fact.series_number) == (
        "The Last Lighthouse",
        ("Clara Benson",),
        "Lighthouse Cycle",
        1.0,
    )
    assert fact.narrators == ("Rosalyn Landor",)  # the untagged files had none: the tracker's, by §15
    assert state.get(f"imported:{HASH}") == {"item_id": item.id, "folder": str(folder)}
    # settled once: the audio sensor reads this download no more
    assert [(e["key"], e["outcome"]) for e in state.list_items(POST_DOWNLOAD_DONE)] == [(HASH, "imported")]
    watched = log.requests("POST", "/api/watcher/update")
    assert {r.body["path"] for r in watched} == {str(folder / f.name) for f in files}
    assert all(r.body == {"libraryId": library_id, "path": r.body["path"], "type": "add"} for r in watched)
    assert log.requests("POST", f"/api/libraries/{library_id}/scan") == []  # never a full library scan
    titles = [i["media"]["metadata"]["title"] for i in abs_server.items(library_id)]
    assert titles.count("The Last Lighthouse") == 1 and len(titles) == 4


def test_without_the_watcher_one_library_scan_and_a_retry_copies_nothing_twice(
    abs_server: AbsServer,
    book_template: tuple[Path, dict[str, LibraryBook]],
    tmp_path: Path,
    recorded: tuple[str, ProxyState],
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy, log = recorded
    library_id, root, books = library_with_books(abs_server, book_template, tmp_path, watcher=False)
    _, files = download_of(books["m4b"], tmp_path)
    torrent, release = lighthouse(8)
    state = StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))
    caplog.set_level(logging.WARNING, "mamcrawler")
    with AbsClient(abs_server.url, abs_server.api_key, proxy=proxy, timeout=30.0) as client:
        hasty = LibraryImport(client, state, lambda: NOW, library_id=library_id, wait_seconds=0)
        try:  # no wait at all: usually a timeout, unless the server's scan of a tiny library won the race
            first: str | None = hasty.run(torrent.hash, torrent.name, release, files, ("Rosalyn Landor",))
        except ServiceUnavailable as err:
            assert err.code == "import_timeout"
            first = None
        folder = root / folder_name("The Last Lighthouse", ["Clara Benson"], "Lighthouse Cycle", 1.0)
        copied = folder / files[0].name
        stamp = copied.stat().st_mtime_ns
        wait_for(lambda: any(i["path"] == str(folder) for i in abs_server.items(library_id)), 60)  # scanned meanwhile
        patient = LibraryImport(client, state, lambda: NOW, library_id=library_id, wait_seconds=60, poll_seconds=0.5)
        item_id = patient.run(torrent.hash, torrent.name, release, files, ("Rosalyn Landor",))
        item = client.item(item_id)
    assert first in (None, item_id)
    assert copied.stat().st_mtime_ns == stamp  # not copied again
    assert [p.name for p in folder.iterdir() if p.suffix in AUDIO_SUFFIXES] == [files[0].name]
    assert len(log.requests("POST", f"/api/libraries/{library_id}/scan")) == 1 and not log.requests(
        "POST", "/api/watcher/update"
    )
    assert "folder watcher is off" in caplog.text
    # the M4B's own tags say "The Glass Orchard", read by two others: §15 puts the tracker's
    # title and the narrator heard in the opening in their place, and the narrator is verified
    assert item.fact.title == "The Last Lighthouse" and item.fact.narrators == ("Rosalyn Landor",)
    assert verified_values(state, item_id) == {"narrators": ["Rosalyn Landor"]}


def test_folder_names_are_safe() -> None:
    assert folder_name("A/B: C?", ["J. R. R. Tolkien"], None, None) == Path("J. R. R. Tolkien", "A B C")
    assert folder_name("Dune", [], "Dune Chronicles", 1.5) == Path("Unknown Author", "Dune Chronicles", "1.5 - Dune")
    assert folder_name(" .. ", ["..."], None, None) == Path("Unknown Author", "Untitled")
