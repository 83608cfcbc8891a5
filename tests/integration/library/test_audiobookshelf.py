"""The Audiobookshelf adapter against the real server (2.36.0) and a library of generated
audiobooks (single MP3 with tags, split MP3 named by its folders, chaptered M4B): libraries
with their folders and settings, every page of items mapped to ``LibraryItem`` facts,
full items read in batches and never again while unchanged (one 304 listing per cycle), a
PATCH of title/narrators/series read back as the server stored it, an item rescan after
its files were swapped that keeps the PATCHed metadata, a library scan that finds a new
folder, and what the client sends (the bearer token only, no cookie, no empty value)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from abs_server import AbsLibraryEnv, wait_for
from recording_proxy import ProxyState

from mamcrawler.adapters.audiobookshelf import AbsAudioFile, AbsClient, AbsItem
from mamcrawler.errors import ServiceError

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def client(env: AbsLibraryEnv, proxy: str | None = None, **options: Any) -> AbsClient:
    return AbsClient(env.server.url, env.server.api_key, proxy=proxy, timeout=30.0, **options)


def by_title(items: tuple[AbsItem, ...]) -> dict[str, AbsItem]:
    return {i.fact.title: i for i in items}


def test_libraries_with_their_folders_and_settings(abs_library: AbsLibraryEnv) -> None:
    with client(abs_library) as abs_client:
        libraries = {lib.id: lib for lib in abs_client.libraries()}
        library = libraries[abs_library.library_id]
        assert library.name.startswith("Books ") and library.media_type == "book"
        assert library.folders == (str(abs_library.root),)
        assert library.watcher is False  # the test library was made with its watcher off
        assert library.metadata_precedence[-1] == "absMetadata"  # metadata.json wins, by default
        assert abs_client.library(abs_library.library_id) == library
        settings = abs_client.server_settings()
    assert settings["scannerPreferMatchedMetadata"] is False and settings["version"] == "2.36.0"


def test_items_read_every_page_into_library_facts(abs_library: AbsLibraryEnv, recorded: tuple[str, ProxyState]) -> None:
    proxy, log = recorded
    with client(abs_library, proxy, page_size=2) as abs_client:
        listing = abs_client.items(abs_library.library_id)
    assert listing.skipped == ()
    items = by_title(listing.items)
    assert sorted(items) == ["A Harbour in Winter", "The Glass Orchard", "The Silent River"]

    river = items["The Silent River"]  # one MP3 with ID3 tags
    assert river.path == str(abs_library.books["mp3"].folder) and river.library_id == abs_library.library_id
    assert river.asin == "B00SILENT1"
    [audio] = river.audio_files
    assert audio.path == "The Silent River.mp3" and audio.size_bytes == abs_library.books["mp3"].files[0].stat().st_size
    fact = river.fact
    assert (fact.authors, fact.narrators, fact.series, fact.bitrate_kbps) == (
        ("Margaret Holloway",),
        ("Simon Vance",),
        None,
        64,
    )
    assert fact.book_key == "the silent river|margaret holloway"
    assert fact.single_file is True and fact.chapters_complete is False  # one MP3 without chapters
    assert fact.duration_seconds == round(audio.duration_seconds or 0) > 0
    assert fact.added_at is not None and datetime.now(UTC) - fact.added_at < timedelta(minutes=10)

    harbour = items["A Harbour in Winter"].fact  # three untagged MP3s: the folders say it all
    assert (harbour.authors, harbour.narrators, harbour.series, harbour.series_number) == (
        ("Thomas Ashford",),
        (),
        "Harbour Trilogy",
        2.0,
    )
    assert harbour.single_file is False and harbour.chapters_complete is True  # a chapter per file
    assert [f.path for f in items["A Harbour in Winter"].audio_files] == ["Part 01.mp3", "Part 02.mp3", "Part 03.mp3"]

    orchard = items["The Glass Orchard"].fact  # a chaptered M4B with tags
    assert orchard.narrators == ("Julia Whelan", "Ray Porter") and orchard.authors == ("Helen Marsh",)
    assert orchard.single_file is True and orchard.chapters_complete is True
    assert orchard.bitrate_kbps is not None and 40 <= orchard.bitrate_kbps <= 64

    pages = log.requests("GET", f"/api/libraries/{abs_library.library_id}/items")
    assert [(dict(r.query)["limit"], dict(r.query)["page"]) for r in pages] == [("2", "0"), ("2", "1")]
    [batch] = log.requests("POST", "/api/items/batch/get")  # the full items, in one request
    assert sorted(batch.body["libraryItemIds"]) == sorted(i.id for i in listing.items)
    assert log.requests("GET", "/api/items/") == []


def test_an_unchanged_library_costs_one_304_and_a_change_one_detail(
    abs_library: AbsLibraryEnv, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    river = abs_library.item_id("mp3")
    with client(abs_library, proxy) as abs_client:
        first = abs_client.items(abs_library.library_id)
        start = len(log.log)
        again = abs_client.items(abs_library.library_id)
        assert [(r.method, r.status) for r in log.log[start:]] == [("GET", 304)]  # nothing changed: no details
        assert again == first
        abs_client.update_metadata(river, {"description": "Day two."})
        start = len(log.log)
        third = abs_client.items(abs_library.library_id)
    assert [(r.method, r.path, r.status) for r in log.log[start:]] == [
        ("GET", f"/api/libraries/{abs_library.library_id}/items", 200),
        ("POST", "/api/items/batch/get", 200),
    ]
    assert log.log[-1].body == {"libraryItemIds": [river]}  # only the changed item is read again
    assert by_title(third.items).keys() == by_title(first.items).keys()


def test_one_item_and_unknown_ids(abs_library: AbsLibraryEnv) -> None:
    with client(abs_library) as abs_client:
        orchard = abs_client.item(abs_library.item_id("m4b"))
        assert orchard.fact.title == "The Glass Orchard" and orchard.fact.chapters_complete is True
        for call in (lambda: abs_client.item("li_nothing"), lambda: abs_client.items("lib_nothing")):
            with pytest.raises(ServiceError) as caught:
                call()
            assert (caught.value.service, caught.value.code) == ("audiobookshelf", "not_found")
        with pytest.raises(ValueError):
            abs_client.item(" ")


def test_a_patch_is_stored_as_sent_without_empty_values(
    abs_library: AbsLibraryEnv, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    harbour = abs_library.item_id("split_mp3")
    changes = {
        "title": "A Harbour in Winter",
        "subtitle": "",
        "description": None,
        "narrators": ["Kate Reading", " "],
        "genres": [],
        "series": [{"name": "The Harbour Trilogy", "sequence": "2.5"}],
        "authors": [{"name": "Thomas Ashford"}, {"name": "Anne Whitfield"}],
        "publishedYear": "2021",
        "explicit": False,
    }
    with client(abs_library, proxy) as abs_client:
        answer = abs_client.update_metadata(harbour, changes)
        assert answer["updated"] is True
        assert answer["libraryItem"]["media"]["metadata"]["narrators"] == ["Kate Reading"]
        stored = abs_client.item(harbour).fact
        assert stored.narrators == ("Kate Reading",) and stored.authors == ("Thomas Ashford", "Anne Whitfield")
        assert (stored.series, stored.series_number) == ("The Harbour Trilogy", 2.5)
        assert abs_client.update_metadata(harbour, {"title": "A Harbour in Winter"})["updated"] is False
        abs_client.update_metadata(harbour, {"series": [{"name": "The Harbour Trilogy", "sequence": ""}]})
        assert abs_client.item(harbour).fact.series_number is None  # no number sent: the server keeps none
        for nothing in ({}, {"title": "", "narrators": [], "series": [{}], "description": None}):
            with pytest.raises(ValueError, match="no non-empty metadata"):
                abs_client.update_metadata(harbour, nothing)
        with pytest.raises(ServiceError) as caught:
            abs_client.update_metadata("li_nothing", {"title": "X"})
        assert caught.value.code == "not_found"
    patches = log.requests("PATCH")
    assert patches[0].body == {
        "metadata": {
            "title": "A Harbour in Winter",
            "narrators": ["Kate Reading"],
            "series": [{"name": "The Harbour Trilogy", "sequence": "2.5"}],
            "authors": [{"name": "Thomas Ashford"}, {"name": "Anne Whitfield"}],
            "publishedYear": "2021",
            "explicit": False,
        }
    }
    assert patches[0].headers["content-type"] == "application/json"
    assert len(patches) == 4  # the two empty change sets were never sent


def test_swapped_files_are_seen_after_an_item_scan_and_patched_metadata_stays(abs_library: AbsLibraryEnv) -> None:
    harbour = abs_library.item_id("split_mp3")
    folder, m4b = abs_library.books["split_mp3"].folder, abs_library.books["m4b"].files[0]
    with client(abs_library) as abs_client:
        abs_client.update_metadata(harbour, {"title": "A Harbour in Winter", "narrators": ["Kate Reading"]})
        assert abs_client.scan_item(harbour) == "UPTODATE"
        held = folder.parent / "held"
        held.mkdir()
        for part in abs_library.books["split_mp3"].files:
            shutil.move(part, held / part.name)
        shutil.copy2(m4b, folder / m4b.name)  # tagged "The Glass Orchard", read by two others
        assert abs_client.scan_item(harbour) == "UPDATED"
        swapped = abs_client.item(harbour)
        assert abs_client.scan_item(harbour) == "UPTODATE"
    assert [(f.path, f.size_bytes) for f in swapped.audio_files] == [(m4b.name, m4b.stat().st_size)]
    assert isinstance(swapped.audio_files[0], AbsAudioFile)
    fact = swapped.fact
    assert fact.single_file is True and fact.chapters_complete is True
    # the PATCHed title and narrator outlive the new files' tags (ABS's metadata.json wins)
    assert fact.title == "A Harbour in Winter" and fact.narrators == ("Kate Reading",)


def test_a_library_scan_finds_a_new_folder(abs_library: AbsLibraryEnv) -> None:
    folder = abs_library.root / "Clara Benson" / "The Last Lighthouse"
    folder.mkdir(parents=True)
    shutil.copy2(abs_library.books["mp3"].files[0], folder / "The Last Lighthouse.mp3")
    with client(abs_library) as abs_client:
        abs_client.scan_library(abs_library.library_id)  # answered at once; the scan runs behind it
        wait_for(lambda: len(abs_client.items(abs_library.library_id).items) == 4, 60, step=0.5)
        found = {i.path: i for i in abs_client.items(abs_library.library_id).items}
    lighthouse = found[str(folder)].fact
    assert lighthouse.title == "The Silent River"  # the copied file's own tags outrank its folder name
    assert lighthouse.authors == ("Margaret Holloway",)


def test_only_the_bearer_token_is_sent_and_no_cookie_ever(
    abs_library: AbsLibraryEnv, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    river = abs_library.item_id("mp3")
    with client(abs_library, proxy) as abs_client:
        abs_client.libraries()
        abs_client.items(abs_library.library_id)
        abs_client.scan_item(river)
        abs_client.update_metadata(river, {"publisher": "DAW"})
        abs_client.libraries()
    assert len(log.log) >= 5
    for request in log.log:
        assert "cookie" not in request.headers and "x-api-key" not in request.headers
        assert request.headers["authorization"] == f"Bearer {abs_library.server.api_key}"


def test_items_missing_on_disk_are_skipped_and_an_unmounted_library_is_an_error(abs_library: AbsLibraryEnv) -> None:
    river = abs_library.item_id("mp3")
    shutil.rmtree(abs_library.books["mp3"].folder)
    with client(abs_library) as abs_client:
        abs_library.server.scan(abs_library.library_id)
        listing = abs_client.items(abs_library.library_id)
        assert listing.skipped == (f"{river}: missing on disk",)
        assert len(listing.items) == 2
        unmounted = Path(str(abs_library.root) + ".unmounted")
        abs_library.root.rename(unmounted)
        abs_library.server.scan(abs_library.library_id)
        with pytest.raises(ServiceError) as caught:
            abs_client.items(abs_library.library_id)
        unmounted.rename(abs_library.root)
    assert caught.value.code == "library_missing" and "mounted" in str(caught.value)
