"""The Audiobookshelf adapter against the loopback fake, for what the real server cannot be
made to do: malformed items (skipped with reasons, never guessed), a server that is down,
slow or gone, HTML or a redirect instead of JSON (never followed), and a cookie set on
every answer (never sent back: only the bearer token is ever sent)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from abs_fake import AbsState, abs_fake

from mamcrawler.adapters.audiobookshelf import AbsClient, non_empty, series_number
from mamcrawler.errors import ServiceAuthError, ServiceProtocolError, ServiceUnavailable

pytestmark = pytest.mark.integration
TOKEN = "abs-token"


@pytest.fixture
def fake() -> Iterator[tuple[str, AbsState]]:
    with abs_fake() as running:
        yield running


def test_malformed_items_are_skipped_with_reasons(fake: tuple[str, AbsState]) -> None:
    url, state = fake
    state.malformed = True
    with AbsClient(url, TOKEN, timeout=5.0, page_size=3) as client:
        listing = client.items("lib_books")
        assert [i.id for i in listing.items] == ["li_wind", "li_fear", "li_sot", "li_hail", "li_edge"]
        assert listing.skipped == (
            "result 5: no id",
            "li_bad_title: no title",
            "li_bad_authors: authors is not a list",
            "li_bad_size: audio file 0: size is not a whole number of bytes",
            "result 9: not an object",
        )
        with pytest.raises(ServiceProtocolError) as caught:
            client.item("li_bad_authors")
        assert caught.value.code == "malformed_item"
    batches = [r for r in state.log if r.path == "/api/items/batch/get"]
    assert [len(r.body["libraryItemIds"]) for r in batches] == [8]  # one batch for every listed item with an id


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


def test_a_cookie_on_every_answer_is_never_sent_back(fake: tuple[str, AbsState]) -> None:
    url, state = fake
    with AbsClient(url, TOKEN, timeout=5.0) as client:
        client.libraries()
        client.items("lib_books")
        client.scan_item("li_wind")
        client.update_metadata("li_wind", {"publisher": "DAW"})
        client.items("lib_books")
    assert len(state.log) > 5
    for request in state.log:
        assert "cookie" not in request.headers
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
    with AbsClient(url, "stale-token", timeout=5.0) as client, pytest.raises(ServiceAuthError) as caught:
        client.libraries()
    assert caught.value.code == "unauthorized" and "fix ABS_TOKEN" in str(caught.value)
    with pytest.raises(ValueError):
        AbsClient(url, "  ")


def test_non_empty_keeps_false_and_zero() -> None:
    assert non_empty({"a": False, "b": 0, "c": " ", "d": [None, ""], "e": {"f": {}}}) == {"a": False, "b": 0}
    assert non_empty(({"name": "X", "sequence": ""},)) == [{"name": "X"}]
    assert series_number("1") == 1.0 and series_number("1.5") == 1.5 and series_number(" 3 ") == 3.0
    assert series_number("1-3") is None and series_number("Book 2") is None and series_number(None) is None
