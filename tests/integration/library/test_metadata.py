"""The metadata adapters over real sockets against the loopback fake: both Goodreads
fixture pages parsed field by field, a changed layout reported as ``layout_changed``
(nothing guessed), the polite spacing measured from the fake's log, Audnexus ok / 404 /
down / slow, blank values kept unknown, and no credential (ABS bearer token or cookie)
ever sent to the metadata hosts."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from abs_fake import abs_fake
from metadata_fake import MetadataState, metadata_fake

from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.adapters.metadata import (
    AudnexusClient,
    BookMetadata,
    GoodreadsClient,
    NarratorMetadata,
    parse_book_page,
    parse_series,
)
from mamcrawler.errors import ServiceError, ServiceProtocolError, ServiceUnavailable

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[2] / "fakes" / "fixtures"


@pytest.fixture
def fake() -> Iterator[tuple[str, MetadataState]]:
    with metadata_fake() as running:
        yield running


def goodreads(url: str, *, spacing: float = 0.0, timeout: float = 5.0) -> GoodreadsClient:
    return GoodreadsClient(url, timeout=timeout, min_spacing_s=spacing)


def test_goodreads_pages_parse_field_by_field(fake: tuple[str, MetadataState]) -> None:
    url, state = fake
    with goodreads(url) as client:
        wind = client.book(186074)
        edge = client.book("34703445")
    assert wind == BookMetadata(
        url=f"{url}/book/show/186074",
        title="The Name of the Wind",
        authors=("Patrick Rothfuss",),  # listed twice on the page (about the author): once here
        series="The Kingkiller Chronicle",
        series_position=1.0,
        cover_url="https://images-na.ssl-images-amazon.com/images/S/compressed.photo.goodreads.com/books/1270352123i/186074.jpg",
        description=wind.description,
        published_date=date(2007, 3, 27),
        published_year=2007,
    )
    assert wind.description is not None
    assert wind.description.startswith("Told in Kvothe's own voice, this is the tale")
    assert "has ever seen.\n\nThe intimate narrative" in wind.description
    assert wind.description.endswith("A high-action story written with a poet's hand.")
    assert (edge.title, edge.authors) == ("Edgedancer", ("Brandon Sanderson",))  # narrators are not authors
    assert (edge.series, edge.series_position) == ("The Stormlight Archive", 2.5)
    assert (edge.published_date, edge.published_year) == (date(2017, 10, 17), 2017)
    assert edge.cover_url is not None and edge.cover_url.endswith("/34703445.jpg")
    assert edge.description == (
        "From #1 New York Times bestselling author Brandon Sanderson, a short novel of the Stormlight Archive.\n\n"
        "Three years ago, Lift asked a goddess to stop her from growing older."
    )
    assert [r.path for r in state.log] == ["/book/show/186074", "/book/show/34703445"]


def test_a_changed_layout_is_reported_not_guessed(fake: tuple[str, MetadataState]) -> None:
    url, state = fake
    state.mode = "changed"
    with goodreads(url) as client, pytest.raises(ServiceProtocolError) as caught:
        client.book(186074)
    assert (caught.value.service, caught.value.code) == ("goodreads", "layout_changed")
    html = (FIXTURES / "goodreads" / "changed_layout.html").read_text(encoding="utf-8")
    with pytest.raises(ServiceProtocolError, match="layout_changed"):
        parse_book_page(html, "https://www.goodreads.com/book/show/186074")
    with pytest.raises(ServiceProtocolError, match="layout_changed"):
        parse_book_page("<html><body>Sign in to continue</body></html>", "https://www.goodreads.com/x")


def test_a_page_without_optional_parts_leaves_them_unknown() -> None:
    page = '<h1 data-testid="bookTitle"> Solo </h1><div data-testid="description"> </div>'
    book = parse_book_page(page, "https://www.goodreads.com/book/show/1")
    assert book == BookMetadata(url="https://www.goodreads.com/book/show/1", title="Solo")
    assert book.series is None and book.cover_url is None and book.description is None and book.authors == ()
    assert BookMetadata(url="u", title="T", series="", description="  ").series is None
    assert parse_series("(The Kingkiller Chronicle, #3)") == ("The Kingkiller Chronicle", 3.0)
    assert parse_series("The Kingkiller Chronicle #1") == ("The Kingkiller Chronicle", 1.0)
    assert parse_series("(Sword of Truth, #1-3)") == ("Sword of Truth", None)
    assert parse_series("(Discworld)") == ("Discworld", None)


def test_goodreads_errors_and_one_same_site_redirect(fake: tuple[str, MetadataState]) -> None:
    url, state = fake
    with goodreads(url) as client:
        with pytest.raises(ServiceError) as caught:
            client.book(999)
        assert caught.value.code == "not_found"
        with pytest.raises(ValueError):
            client.book("../admin")
        state.slug_redirect = True
        assert client.book(186074).url == f"{url}/book/show/186074.Slug"
        state.mode = "down"
        with pytest.raises(ServiceUnavailable):
            client.book(186074)
    state.mode, state.delay = "slow", 2.0
    with goodreads(url, timeout=0.2) as client, pytest.raises(ServiceUnavailable) as caught:
        client.book(186074)
    assert caught.value.code == "timeout"


def test_goodreads_keeps_its_minimum_spacing(fake: tuple[str, MetadataState]) -> None:
    url, state = fake
    with goodreads(url, spacing=0.3) as client:
        for _ in range(3):
            client.book(186074)
    stamps = [r.at for r in state.log]
    assert len(stamps) == 3
    assert all(b - a >= 0.29 for a, b in itertools.pairwise(stamps))
    waits: list[float] = []
    clock = iter([0.0, 0.5, 2.0])
    with GoodreadsClient(url, timeout=5.0, clock=lambda: next(clock), sleep=waits.append) as client:
        client.book(186074)
        client.book(186074)
    assert waits == [1.5]  # the default spacing is 2 s


def test_audnexus_book_ok(fake: tuple[str, MetadataState]) -> None:
    url, state = fake
    with AudnexusClient(url, timeout=5.0) as client:
        wind = client.book("B002UZMLXM")
        edge = client.book("b0763q6wmy", region="us")
    assert wind == NarratorMetadata(
        asin="B002UZMLXM",
        title="The Name of the Wind",
        authors=("Patrick Rothfuss",),
        narrators=("Nick Podehl",),
        series="The Kingkiller Chronicle",
        series_position=1.0,
        release_date=date(2009, 4, 14),
        runtime_minutes=1666,
        cover_url="https://m.media-amazon.com/images/I/91b8oNwaV1L.jpg",
    )
    assert edge.narrators == ("Kate Reading", "Michael Kramer") and edge.series_position == 2.5
    assert [(r.path, r.query) for r in state.log] == [
        ("/books/B002UZMLXM", []),
        ("/books/B0763Q6WMY", [("region", "us")]),
    ]


def test_audnexus_blank_and_wrong_values_stay_unknown(fake: tuple[str, MetadataState]) -> None:
    with AudnexusClient(fake[0], timeout=5.0) as client:
        sparse = client.book("B000SPARSE")
    assert sparse == NarratorMetadata(
        asin="B000SPARSE",
        title=None,
        authors=("Terry Goodkind",),
        narrators=(),
        series="Sword of Truth",
        series_position=None,
    )


def test_audnexus_404_down_and_slow(fake: tuple[str, MetadataState]) -> None:
    url, state = fake
    with AudnexusClient(url, timeout=5.0) as client:
        with pytest.raises(ServiceError) as caught:
            client.book("B000000000")
        assert (caught.value.service, caught.value.code) == ("audnexus", "not_found")
        assert not isinstance(caught.value, ServiceUnavailable)
        with pytest.raises(ValueError):
            client.book("not/an/asin")
        state.mode = "down"
        with pytest.raises(ServiceUnavailable) as caught:
            client.book("B002UZMLXM")
        assert caught.value.code == "server_error"
    state.mode, state.delay = "slow", 2.0
    with AudnexusClient(url, timeout=0.2) as client, pytest.raises(ServiceUnavailable) as caught:
        client.book("B002UZMLXM")
    assert caught.value.code == "timeout"
    with metadata_fake() as (gone, _):
        pass
    with AudnexusClient(gone, timeout=2.0) as client, pytest.raises(ServiceUnavailable) as caught:
        client.book("B002UZMLXM")
    assert caught.value.code == "unreachable"


def test_no_credential_reaches_the_metadata_hosts(fake: tuple[str, MetadataState]) -> None:
    url, state = fake
    token = "abs-secret-token"
    with abs_fake() as (abs_url, abs_state):
        abs_state.token = token
        with (
            AbsClient(abs_url, token, timeout=5.0) as library,
            goodreads(url) as provider,
            AudnexusClient(url, timeout=5.0) as narrators,
        ):
            library.libraries()
            provider.book(186074)
            narrators.book("B002UZMLXM")
            library.items("lib_books")
            provider.book(34703445)
    assert len(state.log) == 3
    for request in state.log:
        assert "authorization" not in request.headers and "cookie" not in request.headers
        assert not any(token in value for value in request.headers.values())
    assert all("cookie" not in r.headers for r in abs_state.log)
