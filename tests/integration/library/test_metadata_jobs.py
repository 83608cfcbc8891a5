"""The §2/§3/§12 metadata jobs against the real Audiobookshelf (a library of generated
books, one of them made "The Name of the Wind" with its ASIN) and the metadata fake
(Audnexus, Goodreads): a verified narrator survives monthly drift while an unverified one
is corrected; a provider that is down or a changed page layout changes nothing and is a
warning; only real, non-empty changes are PATCHed and read back from the server; §2 picks
only items new since the last run and §3 only items younger than 13 days; the daemon's
drift job runs over the wired services. And Audiobookshelf's own Quick Match (through a
loopback custom metadata provider): with "Prefer matched metadata" on it overwrites a
verified narrator, and the drift job puts the verified value back; with it off (the
default) it leaves a set narrator and title alone."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from abs_server import AbsLibraryEnv
from recording_proxy import ProxyState

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from loopback import QuietHandler, serve
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
from mamcrawler.store.verified import record_verified, verified_values

pytestmark = [pytest.mark.integration, pytest.mark.slow]
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))


@pytest.fixture
def wind(abs_library: AbsLibraryEnv) -> str:
    """The single-MP3 book made into "The Name of the Wind" (with its ASIN), read by "Wrong Reader"."""
    item_id = abs_library.item_id("mp3")
    metadata = {
        "title": "The Name of the Wind",
        "authors": [{"name": "Patrick Rothfuss"}],
        "narrators": ["Wrong Reader"],
        "asin": "B002UZMLXM",
    }
    abs_library.server.call("PATCH", f"/api/items/{item_id}/media", json={"metadata": metadata})
    return item_id


def drift(
    env: AbsLibraryEnv, meta_state: MetadataState, store: StateStore, proxy: str | None = None
) -> list[Refreshed]:
    with metadata_fake(meta_state) as (meta_url, _), AbsClient(env.server.url, env.server.api_key, proxy=proxy) as lib:
        audnexus = AudnexusClient(meta_url)
        found = lib.items(env.library_id).items
        asins = {i.id: i.asin for i in found if i.asin}
        provider, narrators = audnexus_lookups(audnexus, asins)
        items = verified_fields(items_for_job("drift", [i.fact for i in found], store, NOW), store)
        refresh = MetadataRefresh(lib, provider, narrators, verified=lambda item_id: verified_values(store, item_id))
        results = refresh.run(i for i in items if i.id in asins)
        audnexus.close()
    return results


def narrators_of(env: AbsLibraryEnv, item_id: str) -> list[str]:
    return list(env.server.item(item_id)["media"]["metadata"]["narrators"])


def test_monthly_drift_corrects_an_unverified_narrator(
    abs_library: AbsLibraryEnv, wind: str, store: StateStore, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    results = drift(abs_library, MetadataState(), store, proxy)
    assert list(results[0].changes["narrators"]) == ["Nick Podehl"]
    [patch] = log.requests("PATCH")
    assert patch.path == f"/api/items/{wind}/media"
    assert all(v not in (None, "", [], {}) for v in patch.body["metadata"].values())
    assert narrators_of(abs_library, wind) == ["Nick Podehl"]  # what the server stored


def test_a_verified_narrator_and_title_survive_monthly_drift(
    abs_library: AbsLibraryEnv, wind: str, store: StateStore, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    abs_library.server.call(
        "PATCH",
        f"/api/items/{wind}/media",
        json={"metadata": {"title": "The Name of the Wind (Verified)", "narrators": ["Verified Reader"]}},
    )
    store.put(f"verified:{wind}", ["narrators", "title"], now=NOW)
    results = drift(abs_library, MetadataState(), store, proxy)
    sent = [r.body["metadata"] for r in log.requests("PATCH")]
    assert all("narrators" not in body and "title" not in body for body in sent)
    assert "narrators" not in results[0].changes and "title" not in results[0].changes
    assert narrators_of(abs_library, wind) == ["Verified Reader"]


def test_a_provider_that_is_down_changes_nothing(
    abs_library: AbsLibraryEnv, wind: str, store: StateStore, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    results = drift(abs_library, MetadataState(mode="down"), store, proxy)
    assert log.requests("PATCH") == []
    assert results[0].changes == {} and any("unavailable: server_error" in w for w in results[0].warnings)
    assert narrators_of(abs_library, wind) == ["Wrong Reader"]


def test_new_and_weekly_item_selection(abs_library: AbsLibraryEnv, store: StateStore) -> None:
    with AbsClient(abs_library.server.url, abs_library.server.api_key) as library:
        items = [i.fact for i in library.items(abs_library.library_id).items]
    assert len(items) == 3 and all(i.added_at is not None for i in items)
    assert items_for_job("new", items, store, NOW) == []  # the first run only records what exists
    fresh = items[0].model_copy(update={"id": "li_new", "added_at": NOW - timedelta(days=2)})
    old = items[1].model_copy(update={"added_at": NOW - timedelta(days=20)})
    assert [i.id for i in items_for_job("new", [*items, fresh], store, NOW)] == ["li_new"]
    assert [i.id for i in items_for_job("weekly", [fresh, old], store, NOW)] == ["li_new"]
    assert len(items_for_job("drift", [fresh, old], store, NOW)) == 2
    with pytest.raises(ValueError):
        items_for_job("hourly", items, store, NOW)


def test_the_daemons_drift_job_runs_over_the_wired_services(
    abs_library: AbsLibraryEnv, wind: str, tmp_path: Path
) -> None:
    with metadata_fake() as (meta_url, meta_state):
        settings = Settings.model_validate(
            {
                "ABS_URL": abs_library.server.url,
                "ABS_TOKEN": abs_library.server.api_key,
                "AUDNEXUS_URL": meta_url,
                "GOODREADS_URL": meta_url,
                "MAMCRAWLER_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
                "MAMCRAWLER_POLICIES": str(ROOT / "policies"),
            }
        )
        services = build_services(settings)
        run_metadata_job(services, "drift")
        services.close()
    assert narrators_of(abs_library, wind) == ["Nick Podehl"]
    assert any(r.path == "/search" for r in meta_state.log)  # Goodreads was the provider
    assert all("authorization" not in r.headers for r in meta_state.log)  # the ABS token stays with ABS


def test_goodreads_is_the_provider_and_a_changed_layout_overwrites_nothing(
    abs_library: AbsLibraryEnv, wind: str, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    for mode in ("changed", "ok"):
        meta = MetadataState(mode=mode)
        with (
            metadata_fake(meta) as (meta_url, _),
            AbsClient(abs_library.server.url, abs_library.server.api_key, proxy=proxy) as lib,
        ):
            goodreads = GoodreadsClient(meta_url, min_spacing_s=0.0)
            items = [i.fact for i in lib.items(abs_library.library_id).items if i.id == wind]
            results = MetadataRefresh(lib, goodreads_provider(goodreads), None).run(items)
            goodreads.close()
        if mode == "changed":
            assert log.requests("PATCH") == [] and any("layout_changed" in w for w in results[0].warnings)
    assert [r.path for r in meta.log][:2] == ["/search", "/book/show/186074"]
    description = abs_library.server.item(wind)["media"]["metadata"]["description"]
    assert description.startswith("Told in Kvothe's own voice, this is the tale")


class _MatchHandler(QuietHandler):
    """A custom metadata provider (ABS's protocol): every search finds the same wrong book."""

    def do_GET(self) -> None:
        match = {
            "title": "The Name of the Wind: Tenth Anniversary",
            "author": "Patrick Rothfuss",
            "narrator": "Matched Reader",
            "description": "From the provider.",
            "series": [{"series": "Kingkiller", "sequence": "1"}],
        }
        self.server.state.append(self.path)
        self.reply(200, json.dumps({"matches": [match]}).encode(), "application/json")


@contextmanager
def custom_provider(env: AbsLibraryEnv) -> Iterator[str]:
    """A loopback provider registered in ABS; yields its slug (``custom-<id>``)."""
    searches: list[str] = []
    with serve(_MatchHandler, searches) as url:
        body = {"name": "loopback", "url": url, "mediaType": "book"}
        provider = env.server.call("POST", "/api/custom-metadata-providers", json=body)["provider"]
        try:
            yield f"custom-{provider['id']}"
        finally:
            env.server.call("DELETE", f"/api/custom-metadata-providers/{provider['id']}")
    assert searches, "Quick Match never asked the provider"


def quick_match(env: AbsLibraryEnv, item_id: str, provider: str) -> Any:
    return env.server.call("POST", f"/api/items/{item_id}/match", json={"provider": provider})


def test_quick_match_and_verified_fields(abs_library: AbsLibraryEnv, wind: str, store: StateStore) -> None:
    server = abs_library.server
    server.call("PATCH", f"/api/items/{wind}/media", json={"metadata": {"narrators": ["Nick Podehl"]}})
    record_verified(store, wind, {"narrators": ["Nick Podehl"], "title": "The Name of the Wind"}, now=NOW)
    with custom_provider(abs_library) as provider:
        quick_match(abs_library, wind, provider)  # "Prefer matched metadata" off (the default)
        kept = server.item(wind)["media"]["metadata"]
        assert (kept["title"], kept["narrators"]) == ("The Name of the Wind", ["Nick Podehl"])
        assert kept["description"] == "From the provider."  # only the empty field was filled
        server.settings(scannerPreferMatchedMetadata=True)
        try:
            quick_match(abs_library, wind, provider)
        finally:
            server.settings(scannerPreferMatchedMetadata=False)
    matched = server.item(wind)["media"]["metadata"]
    assert matched["narrators"] == ["Matched Reader"] and matched["title"].endswith("Tenth Anniversary")
    with AbsClient(server.url, server.api_key) as lib:
        items = verified_fields([i.fact for i in lib.items(abs_library.library_id).items if i.id == wind], store)
        [result] = MetadataRefresh(lib, None, None, verified=lambda i: verified_values(store, i)).run(items)
    assert result.changes == {"narrators": ["Nick Podehl"], "title": "The Name of the Wind"}
    restored = server.item(wind)["media"]["metadata"]
    assert (restored["title"], restored["narrators"]) == ("The Name of the Wind", ["Nick Podehl"])
