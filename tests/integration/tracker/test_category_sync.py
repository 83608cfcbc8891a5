"""§4 weekly category sync against the tracker fake: one search per policy category with
the canonical browse URL recorded (same parameter set as the JSON call), the top-10 of
41 and 47 compared with the library, missing titles queued as top-10 wants in the real
store, a failing category reported while the others count, an unknown library queuing
nothing."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from tracker_fake import tracker_fake

from mamcrawler.adapters.mam import MamClient, Politeness, PolitenessLimits
from mamcrawler.app.jobs.category_sync import completion_sync, remember, weekly_sync
from mamcrawler.engine import load_policy
from mamcrawler.facts import LibraryItem, WantSource
from mamcrawler.sensors.tracker import stored_listings
from mamcrawler.store import Database, StateStore

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
FAST = PolitenessLimits(
    min_spacing_s=0.0,
    max_spacing_s=0.001,
    long_pause_s=(0.0, 0.001),
    backoff_base_s=0.001,
    backoff_max_s=0.002,
    max_retries=3,
)
TODAY = date(2026, 11, 25)


def test_weekly_sync_covers_every_category_and_queues_missing_top10(tmp_path: Path) -> None:
    params = load_policy(ROOT / "policies").categories
    with tracker_fake() as (url, fake):
        mam = MamClient(url, "cookie-0", politeness=Politeness(FAST))
        result = weekly_sync(
            mam, params, {"project hail mary|andy weir"}, TODAY, base_url="https://www.myanonamouse.net"
        )
        mam.close()
    assert len(params.categories) == 35 and set(result.urls) == {c.id for c in params.categories}
    searches = [q for q in fake.log if q.path == "/tor/js/loadSearchJSONbasic.php"]
    assert len(searches) == 35 and result.failed == {}
    for logged in searches:  # the JSON call carries exactly the browse URL's parameters
        category = int(dict(logged.query)["tor[cat][]"])
        browse = parse_qsl(urlsplit(result.urls[category]).query, keep_blank_values=True)
        assert [p for p in logged.query if p[0] != "mediaInfo"] == browse
        assert ("tor[startDate]", "2026-11-18") in browse and ("tor[sortType]", "snatchedDesc") in browse
    assert {k: [r.tracker_id for r in v] for k, v in result.top10.items()} == {41: [700101], 47: [700102, 700103]}
    assert {w.book_key for w in result.missing} == {
        "the name of the wind|patrick rothfuss",
        "dune & other stories (abridged)|frank herbert",
    }
    assert all(w.source is WantSource.TOP10 for w in result.missing)

    state = StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))
    remember(state, result, datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert {r.tracker_id for r in stored_listings(state)} == {700101, 700102, 700103}
    assert {w.book_key for w in state.wants()} == {w.book_key for w in result.missing}


def test_a_failing_category_is_reported_and_the_rest_still_count() -> None:
    params = load_policy(ROOT / "policies").categories
    with tracker_fake() as (url, fake):
        fake.hostile["/tor/js/loadSearchJSONbasic.php"] = "error:4"  # the first category's tries, all 500
        mam = MamClient(url, "cookie-0", politeness=Politeness(FAST))
        result = weekly_sync(mam, params, None, TODAY, base_url=url)
        mam.close()
    first = params.categories[0].id
    assert result.failed == {first: "server_error"}
    assert len(result.urls) == 35 and result.top10 and result.missing == ()  # library unknown: nothing missing


def test_completion_searches_library_series_and_authors_in_rotation(tmp_path: Path) -> None:
    policy = load_policy(ROOT / "policies")
    params = policy.completion.model_copy(update={"weekly_searches": 2})
    library = [
        LibraryItem(
            id="a",
            book_key="children of dune|frank herbert",
            title="Children of Dune",
            authors=("Frank Herbert",),
            series="Dune",
        ),
        LibraryItem(id="b", book_key="artemis|andy weir", title="Artemis", authors=("Andy Weir",)),
    ]
    state = StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    with tracker_fake() as (url, fake):
        mam = MamClient(url, "cookie-0", politeness=Politeness(FAST))
        first = completion_sync(mam, library, params, state, now)
        second = completion_sync(mam, library, params, state, now)
        mam.close()
    texts = [dict(q.query)["tor[text]"] for q in fake.log]
    assert texts == ["Dune", "Andy Weir", "Frank Herbert", "Dune"]  # series, then authors, 2 a week, rotated
    assert {r.tracker_id for r in first} == {700103, 700102}
    assert {r.tracker_id for r in second} == {700103}
