"""The §2/§3/§12 metadata jobs over real sockets: the Audiobookshelf fake and the metadata
fake (Audnexus). A verified narrator survives monthly drift while an unverified one is
corrected; a provider that is down or a book it does not know changes nothing and is a
warning; only real, non-empty changes are PATCHed; §2 picks only items new since the last
run and §3 only items younger than 13 days."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from abs_fake import AbsState, abs_fake
from metadata_fake import MetadataState, metadata_fake

from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.adapters.metadata import AudnexusClient, GoodreadsClient
from mamcrawler.app.cli.run import run_metadata_job
from mamcrawler.app.jobs.metadata_jobs import (
    MetadataRefresh,
    Refreshed,
    audnexus_lookups,
    goodreads_provider,
    items_for_job,
    verified_fields,
)
from mamcrawler.app.runtime.settings import Settings
from mamcrawler.app.runtime.wiring import build_services
from mamcrawler.store import Database, StateStore

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))


def drift(abs_state: AbsState, meta_state: MetadataState, store: StateStore) -> tuple[list[Refreshed], list[Any]]:
    with abs_fake(abs_state) as (abs_url, _), metadata_fake(meta_state) as (meta_url, _):
        library = AbsClient(abs_url, "abs-token")
        audnexus = AudnexusClient(meta_url)
        found = library.items("lib_books").items
        asins = {i.id: i.asin for i in found if i.asin}
        provider, narrators = audnexus_lookups(audnexus, asins)
        items = verified_fields(items_for_job("drift", [i.fact for i in found], store, NOW), store)
        results = MetadataRefresh(library, provider, narrators).run(i for i in items if i.id == "li_wind")
        audnexus.close()
        library.close()
    return results, abs_state.patches


def test_monthly_drift_corrects_an_unverified_narrator(store: StateStore) -> None:
    abs_state = AbsState()
    abs_state.items["li_wind"]["media"]["metadata"]["narrators"] = ["Wrong Reader"]
    results, patches = drift(abs_state, MetadataState(), store)
    assert list(results[0].changes["narrators"]) == ["Nick Podehl"]
    assert patches and patches[0][0] == "li_wind"
    body = patches[0][1]["metadata"]
    assert list(body["narrators"]) == ["Nick Podehl"]
    assert all(v not in (None, "", [], {}) for v in body.values())


def test_a_verified_narrator_and_title_survive_monthly_drift(store: StateStore) -> None:
    abs_state = AbsState()
    meta = abs_state.items["li_wind"]["media"]["metadata"]
    meta["narrators"], meta["title"] = ["Verified Reader"], "The Name of the Wind (Verified)"
    store.put("verified:li_wind", ["narrators", "title"], now=NOW)
    results, patches = drift(abs_state, MetadataState(), store)
    sent = patches[0][1]["metadata"] if patches else {}
    assert "narrators" not in sent and "title" not in sent
    assert "narrators" not in results[0].changes and "title" not in results[0].changes
    assert abs_state.items["li_wind"]["media"]["metadata"]["narrators"] == ["Verified Reader"]


def test_a_provider_that_is_down_changes_nothing(store: StateStore) -> None:
    abs_state = AbsState()
    abs_state.items["li_wind"]["media"]["metadata"]["narrators"] = ["Wrong Reader"]
    results, patches = drift(abs_state, MetadataState(mode="down"), store)
    assert patches == []
    assert results[0].changes == {} and any("unavailable: server_error" in w for w in results[0].warnings)
    assert abs_state.items["li_wind"]["media"]["metadata"]["narrators"] == ["Wrong Reader"]


def test_new_and_weekly_item_selection(store: StateStore) -> None:
    with abs_fake() as (url, _):
        library = AbsClient(url, "abs-token")
        items = [i.fact for i in library.items("lib_books").items]
        library.close()
    assert items_for_job("new", items, store, NOW) == []  # the first run only records what exists
    fresh = items[0].model_copy(update={"id": "li_new", "added_at": NOW - timedelta(days=2)})
    old = items[1].model_copy(update={"added_at": NOW - timedelta(days=20)})
    assert [i.id for i in items_for_job("new", [*items, fresh], store, NOW)] == ["li_new"]
    assert [i.id for i in items_for_job("weekly", [fresh, old], store, NOW)] == ["li_new"]
    assert len(items_for_job("drift", [fresh, old], store, NOW)) == 2
    with pytest.raises(ValueError):
        items_for_job("hourly", items, store, NOW)


def test_the_daemons_drift_job_runs_over_the_wired_services(tmp_path: Path) -> None:
    abs_state = AbsState()
    abs_state.items["li_wind"]["media"]["metadata"]["narrators"] = ["Wrong Reader"]
    with abs_fake(abs_state) as (abs_url, _), metadata_fake() as (meta_url, meta_state):
        settings = Settings.model_validate(
            {
                "ABS_URL": abs_url,
                "ABS_TOKEN": "abs-token",
                "AUDNEXUS_URL": meta_url,
                "GOODREADS_URL": meta_url,
                "MAMCRAWLER_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
                "MAMCRAWLER_POLICIES": str(Path(__file__).resolve().parents[3] / "policies"),
            }
        )
        services = build_services(settings)
        run_metadata_job(services, "drift")
        services.close()
    wind = [body for item, body in abs_state.patches if item == "li_wind"]
    assert wind and list(wind[0]["metadata"]["narrators"]) == ["Nick Podehl"]
    assert any(r.path == "/search" for r in meta_state.log)  # Goodreads was the provider
    assert all("authorization" not in r.headers for r in meta_state.log)  # the ABS token stays with ABS


def test_goodreads_is_the_provider_and_a_changed_layout_overwrites_nothing(store: StateStore) -> None:
    for mode in ("ok", "changed"):
        abs_state = AbsState()
        abs_state.items["li_wind"]["media"]["metadata"]["description"] = None
        with abs_fake(abs_state) as (abs_url, _), metadata_fake(MetadataState(mode=mode)) as (meta_url, meta_state):
            library = AbsClient(abs_url, "abs-token")
            goodreads = GoodreadsClient(meta_url, min_spacing_s=0.0)
            items = [i.fact for i in library.items("lib_books").items if i.id == "li_wind"]
            results = MetadataRefresh(library, goodreads_provider(goodreads), None).run(items)
            goodreads.close()
            library.close()
        if mode == "ok":
            sent = abs_state.patches[0][1]["metadata"]
            assert sent["description"].startswith("Told in Kvothe's own voice, this is the tale")
            assert [r.path for r in meta_state.log][:2] == ["/search", "/book/show/186074"]
        else:
            assert abs_state.patches == [] and any("layout_changed" in w for w in results[0].warnings)
