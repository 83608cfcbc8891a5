"""The Audiobookshelf adapter over real sockets against the loopback fake: libraries, every
page of items mapped to ``LibraryItem`` facts with their audio files, malformed items
skipped with reasons, one item, scans, swapped files seen after a rescan, metadata PATCHes
that never carry an empty value, and every failure translated (wrong token, down, slow,
HTML, redirect). Only the bearer token is ever sent: never a cookie, never redirected."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from abs_fake import AbsState, abs_fake

from mamcrawler.adapters.audiobookshelf import AbsAudioFile, AbsClient, non_empty, series_number
from mamcrawler.errors import ServiceAuthError, ServiceError, ServiceProtocolError, ServiceUnavailable

pytestmark = pytest.mark.integration
TOKEN = "abs-token"


@pytest.fixture
def fake() -> Iterator[tuple[str, AbsState]]:
    with abs_fake() as running:
        yield running


@pytest.fixture
def abs_client(fake: tuple[str, AbsState]) -> Iterator[AbsClient]:
    with AbsClient(fake[0], TOKEN, timeout=5.0, page_size=2) as client:
        yield client


def test_libraries_with_their_folders(abs_client: AbsClient, fake: tuple[str, AbsState]) -> None:
    libraries = abs_client.libraries()
    assert [(lib.id, lib.name, lib.folders, lib.media_type) for lib in libraries] == [
        ("lib_books", "Audiobooks", ("/audiobooks",), "book"),
        ("lib_pods", "Podcasts", ("/podcasts",), "podcast"),
    ]
    assert fake[1].log[-1].path == "/api/libraries"


def test_items_reads_every_page_into_library_facts(abs_client: AbsClient, fake: tuple[str, AbsState]) -> None:
    _, state = fake
    listing = abs_client.items("lib_books")
    assert listing.skipped == ()
    by_id = {i.id: i for i in listing.items}
    assert list(by_id) == ["li_wind", "li_fear", "li_sot", "li_hail", "li_edge"]
    pages = [dict(r.query) for r in state.log if r.path == "/api/libraries/lib_books/items"]
    assert [(p["limit"], p["page"]) for p in pages] == [("2", "0"), ("2", "1"), ("2", "2")]
    assert all(p["sort"] == "addedAt" for p in pages)

    wind = by_id["li_wind"]
    assert wind.library_id == "lib_books"
    assert wind.path == "/audiobooks/Patrick Rothfuss/The Kingkiller Chronicle/The Name of the Wind"
    assert wind.audio_files == (AbsAudioFile("The Name of the Wind.m4b", 1601011712, 99960.48),)
    fact = wind.fact
    assert (fact.id, fact.title, fact.authors, fact.narrators) == (
        "li_wind",
        "The Name of the Wind",
        ("Patrick Rothfuss",),
        ("Nick Podehl",),
    )
    assert fact.book_key == "the name of the wind|patrick rothfuss"
    assert (fact.series, fact.series_number, fact.bitrate_kbps, fact.duration_seconds) == (
        "The Kingkiller Chronicle",
        1.0,
        128,
        99960,
    )
    assert fact.single_file is True and fact.chapters_complete is True and fact.abridged is False
    assert fact.added_at == datetime.fromtimestamp(1700000000, tz=UTC)
    assert fact.narrator_verified is None and fact.watermarked is None and fact.verified_fields == ()

    fear = by_id["li_fear"].fact
    assert fear.single_file is False and fear.chapters_complete is False
    assert fear.bitrate_kbps == 64  # mean of 64 000 and 63 000 bit/s, rounded
    assert [f.path for f in by_id["li_fear"].audio_files] == [
        "The Wise Man's Fear 01.mp3",
        "The Wise Man's Fear 02.mp3",
    ]
    sot = by_id["li_sot"].fact
    assert sot.series == "Sword of Truth" and sot.series_number is None  # "1-3" is a range: unknown
    assert sot.bitrate_kbps is None  # one part has no bitRate: unknown, not a partial mean
    hail = by_id["li_hail"].fact
    assert hail.series is None and hail.series_number is None and hail.narrators == ()
    edge = by_id["li_edge"].fact
    assert (edge.series, edge.series_number, edge.narrators) == (
        "The Stormlight Archive",
        2.5,
        ("Kate Reading", "Michael Kramer"),
    )


def test_a_minified_listing_is_completed_item_by_item(abs_client: AbsClient, fake: tuple[str, AbsState]) -> None:
    _, state = fake
    minified = abs_client.items("lib_books")
    details = [r for r in state.log if r.path.startswith("/api/items/")]
    assert len(details) == 5 and all(("expanded", "1") in r.query for r in details)
    state.minified, state.log[:] = False, []
    full = abs_client.items("lib_books")
    assert not [r for r in state.log if r.path.startswith("/api/items/")]  # the full shape needs no second call
    assert full == minified


def test_a_second_listing_rereads_only_items_that_changed(abs_client: AbsClient, fake: tuple[str, AbsState]) -> None:
    _, state = fake
    abs_client.items("lib_books")
    first = len(state.log)
    abs_client.update_metadata("li_fear", {"description": "Day two."})  # bumps its updatedAt
    again = abs_client.items("lib_books")
    details = [r.path for r in state.log[first:] if r.path.startswith("/api/items/") and r.method == "GET"]
    assert details == ["/api/items/li_fear"]  # the others were unchanged: no detail request
    fear = next(i for i in again.items if i.id == "li_fear")
    assert fear.fact.title == "The Wise Man's Fear" and len(again.items) == 5


def test_malformed_items_are_skipped_with_reasons(abs_client: AbsClient, fake: tuple[str, AbsState]) -> None:
    _, state = fake
    state.malformed = True
    listing = abs_client.items("lib_books")
    assert [i.id for i in listing.items] == ["li_wind", "li_fear", "li_sot", "li_hail", "li_edge"]
    assert listing.skipped == (
        "result 5: no id",
        "li_bad_title: no title",
        "li_bad_authors: authors is not a list",
        "li_bad_size: audio file 0: size is not a whole number of bytes",
        "result 9: not an object",
    )
    with pytest.raises(ServiceProtocolError) as caught:
        abs_client.item("li_bad_authors")
    assert caught.value.code == "malformed_item"


def test_one_item_and_unknown_ids(abs_client: AbsClient) -> None:
    edge = abs_client.item("li_edge")
    assert edge.fact.title == "Edgedancer" and edge.audio_files[0].size_bytes == 174325760
    with pytest.raises(ServiceError) as caught:
        abs_client.item("li_nothing")
    assert caught.value.code == "not_found" and caught.value.service == "audiobookshelf"
    with pytest.raises(ServiceError) as caught:
        abs_client.items("lib_nothing")
    assert caught.value.code == "not_found"
    with pytest.raises(ValueError):
        abs_client.item(" ")


def test_scans_and_swapped_files(abs_client: AbsClient, fake: tuple[str, AbsState]) -> None:
    _, state = fake
    abs_client.scan_library("lib_books")
    assert abs_client.scan_item("li_fear") == "UPTODATE"
    state.swap_files("li_fear", [("The Wise Man's Fear.m4b", 1610612736, 202214.9, 128000)])
    assert abs_client.scan_item("li_fear") == "UPDATED"
    assert state.scans == [("library", "lib_books"), ("item", "li_fear"), ("item", "li_fear")]
    fear = abs_client.item("li_fear")
    assert fear.audio_files == (AbsAudioFile("The Wise Man's Fear.m4b", 1610612736, 202214.9),)
    assert fear.fact.single_file is True and fear.fact.bitrate_kbps == 128 and fear.fact.duration_seconds == 202215
    state.swap_files("li_fear", [("Bonus.mp3", 1000, 10.0, None)], keep=True)
    fear = abs_client.item("li_fear")
    assert len(fear.audio_files) == 2 and fear.fact.single_file is False and fear.fact.bitrate_kbps is None
    methods = [(r.method, r.path) for r in state.log if r.method == "POST"]
    assert methods[0] == ("POST", "/api/libraries/lib_books/scan")
    with pytest.raises(ServiceError) as caught:
        abs_client.scan_library("lib_nothing")
    assert caught.value.code == "not_found"


def test_update_metadata_never_sends_empty_values(abs_client: AbsClient, fake: tuple[str, AbsState]) -> None:
    _, state = fake
    answer = abs_client.update_metadata(
        "li_hail",
        {
            "title": "Project Hail Mary",
            "subtitle": "",
            "description": None,
            "narrators": ["Ray Porter", " "],
            "genres": [],
            "series": [{"name": "", "sequence": None}],
            "authors": [{"name": "Andy Weir"}],
            "publishedYear": "2021",
            "explicit": False,
            "tags": {},
        },
    )
    assert answer["updated"] is True
    assert state.patches == [
        (
            "li_hail",
            {
                "metadata": {
                    "title": "Project Hail Mary",
                    "narrators": ["Ray Porter"],
                    "authors": [{"name": "Andy Weir"}],
                    "publishedYear": "2021",
                    "explicit": False,
                }
            },
        )
    ]
    patch = next(r for r in state.log if r.method == "PATCH")
    assert patch.path == "/api/items/li_hail/media" and patch.headers["content-type"] == "application/json"
    hail = abs_client.item("li_hail").fact
    assert hail.narrators == ("Ray Porter",) and hail.authors == ("Andy Weir",)
    for nothing in ({}, {"title": "", "narrators": [], "series": [{}], "description": None}):
        with pytest.raises(ValueError, match="no non-empty metadata"):
            abs_client.update_metadata("li_hail", nothing)
    assert len(state.patches) == 1  # nothing was sent for the empty changes
    with pytest.raises(ServiceError) as caught:
        abs_client.update_metadata("li_nothing", {"title": "X"})
    assert caught.value.code == "not_found"


def test_non_empty_keeps_false_and_zero() -> None:
    assert non_empty({"a": False, "b": 0, "c": " ", "d": [None, ""], "e": {"f": {}}}) == {"a": False, "b": 0}
    assert non_empty(({"name": "X", "sequence": ""},)) == [{"name": "X"}]
    assert series_number("1") == 1.0 and series_number("1.5") == 1.5 and series_number(" 3 ") == 3.0
    assert series_number("1-3") is None and series_number("Book 2") is None and series_number(None) is None


def test_a_wrong_token_is_an_auth_error(fake: tuple[str, AbsState]) -> None:
    url, state = fake
    with AbsClient(url, "stale-token", timeout=5.0) as client:
        for call in (client.libraries, lambda: client.items("lib_books"), lambda: client.scan_library("lib_books")):
            with pytest.raises(ServiceAuthError) as caught:
                call()
            assert (caught.value.service, caught.value.code) == ("audiobookshelf", "unauthorized")
    assert state.scans == []
    with pytest.raises(ValueError):
        AbsClient(url, "  ")


def test_down_slow_and_unreachable_are_unavailable(fake: tuple[str, AbsState]) -> None:
    url, state = fake
    state.mode = "down"
    with AbsClient(url, TOKEN, timeout=5.0) as client, pytest.raises(ServiceUnavailable) as caught:
        client.libraries()
    assert caught.value.code == "server_error"
    state.mode, state.delay = "slow", 2.0
    with AbsClient(url, TOKEN, timeout=0.2) as client, pytest.raises(ServiceUnavailable) as caught:
        client.items("lib_books")
    assert caught.value.code == "timeout"
    with abs_fake() as (gone_url, _):
        pass
    with AbsClient(gone_url, TOKEN, timeout=2.0) as client, pytest.raises(ServiceUnavailable) as caught:
        client.libraries()
    assert caught.value.code == "unreachable"


def test_html_and_redirects_are_protocol_errors_and_never_followed(fake: tuple[str, AbsState]) -> None:
    url, state = fake
    state.mode = "html"
    with AbsClient(url, TOKEN, timeout=5.0) as client:
        with pytest.raises(ServiceProtocolError) as caught:
            client.libraries()
        assert caught.value.code == "not_json"
        state.mode, state.log[:] = "redirect", []
        with pytest.raises(ServiceProtocolError) as caught:
            client.libraries()
        assert caught.value.code == "redirected"
    assert [r.path for r in state.log] == ["/api/libraries"]  # /login was never asked for


def test_only_the_bearer_token_is_sent_and_no_cookie_ever(abs_client: AbsClient, fake: tuple[str, AbsState]) -> None:
    _, state = fake
    abs_client.libraries()
    abs_client.items("lib_books")
    abs_client.scan_item("li_wind")
    abs_client.update_metadata("li_wind", {"publisher": "DAW"})
    abs_client.libraries()
    assert len(state.log) > 5
    for request in state.log:
        assert "cookie" not in request.headers
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert "x-api-key" not in request.headers
