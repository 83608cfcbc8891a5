"""The §2/§3/§12 metadata jobs against the real Audiobookshelf (a library of generated
books, one of them made "The Name of the Wind" with its ASIN) and the metadata fake
(Audnexus, Goodreads), through the one decision path: the metadata sensor reads the §15
sources, ``decide()`` proposes one ``UpdateMetadata`` per changed field (recorded with its
rule, reason and source), the executor PATCHes it under the journal. A verified narrator
survives monthly drift while an unverified one is corrected; a provider that is down or a
changed page layout changes nothing and is a warning; only real, non-empty changes are
PATCHed and read back from the server; in dry run they are recorded and nothing is sent;
§2 picks only items new since the last run and §3 only items younger than 13 days. And
Audiobookshelf's own Quick Match (through a loopback custom metadata provider): with
"Prefer matched metadata" on it overwrites a verified narrator, and the drift job puts the
verified value back; with it off (the default) it leaves a set narrator and title alone."""

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
from mamcrawler.app.cli.run import run_metadata_job
from mamcrawler.app.runtime.settings import Settings
from mamcrawler.app.runtime.wiring import Services, build_services
from mamcrawler.engine import DecisionRecord
from mamcrawler.sensors.metadata import SEEN_KEY, items_for_job
from mamcrawler.store import Database, StateStore
from mamcrawler.store.verified import record_verified

pytestmark = [pytest.mark.integration, pytest.mark.slow]
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
POLICIES = Path(__file__).resolve().parents[3] / "policies"


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


def services_for(
    tmp_path: Path, env: AbsLibraryEnv, meta_url: str, *, goodreads: bool = False, proxy: str | None = None
) -> Services:
    settings = {
        "ABS_URL": env.server.url,
        "ABS_TOKEN": env.server.api_key,
        **({"ABS_PROXY": proxy} if proxy else {}),
        "AUDNEXUS_URL": meta_url,
        "GOODREADS_URL": meta_url if goodreads else "",  # never the real site from a test
        "MAMCRAWLER_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "MAMCRAWLER_JOURNAL": str(tmp_path / "decisions.jsonl"),  # never into the working directory
        "MAMCRAWLER_POLICIES": str(POLICIES),
    }
    services = build_services(Settings.model_validate(settings), clock=lambda: NOW)
    services.keeper.load_initial()
    return services


def drift(
    tmp_path: Path,
    env: AbsLibraryEnv,
    meta_state: MetadataState,
    *,
    verified: list[str] | dict[str, Any] | None = None,
    dry_run: bool = False,
    goodreads: bool = False,
    proxy: str | None = None,
) -> tuple[list[DecisionRecord], list[str]]:
    with metadata_fake(meta_state) as (meta_url, _):
        services = services_for(tmp_path, env, meta_url, goodreads=goodreads, proxy=proxy)
        wind = env.item_id("mp3")
        if isinstance(verified, list):
            services.state.put(f"verified:{wind}", verified, now=NOW)
        elif verified:
            record_verified(services.state, wind, verified, now=NOW)
        run_metadata_job(services, "drift", dry_run=dry_run)
        assert services.board.batch is not None and services.metadata is not None
        records = [r for r in services.board.batch.records if r.subject_kind == "metadata"]
        warnings = list(services.metadata.warnings)
        services.close()
    return records, warnings


def fields_planned(records: list[DecisionRecord], item: str) -> dict[str, Any]:
    return {
        a.field: a.value  # type: ignore[union-attr]
        for r in records
        if r.outcome == "planned" and r.subject_id.startswith(f"{item}:")
        for a in r.actions
    }


def narrators_of(env: AbsLibraryEnv, item_id: str) -> list[str]:
    return list(env.server.item(item_id)["media"]["metadata"]["narrators"])


def test_monthly_drift_corrects_an_unverified_narrator(
    abs_library: AbsLibraryEnv, wind: str, tmp_path: Path, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    records, _ = drift(tmp_path, abs_library, MetadataState(), proxy=proxy)
    assert fields_planned(records, wind)["narrators"] == ("Nick Podehl",)
    narrator = next(r for r in records if r.subject_id == f"{wind}:narrators")
    assert (narrator.rule_id, narrator.reason) == ("correct_metadata", "metadata_corrected")
    assert narrator.facts["metadata.source"] == "narrator_source"
    patches = log.requests("PATCH")
    assert patches and all(p.path == f"/api/items/{wind}/media" for p in patches)
    for patch in patches:
        assert all(v not in (None, "", [], {}) for v in patch.body["metadata"].values())
    assert narrators_of(abs_library, wind) == ["Nick Podehl"]  # what the server stored


def test_in_dry_run_the_correction_is_recorded_and_nothing_is_sent(
    abs_library: AbsLibraryEnv, wind: str, tmp_path: Path, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    records, _ = drift(tmp_path, abs_library, MetadataState(), dry_run=True, proxy=proxy)
    assert fields_planned(records, wind)["narrators"] == ("Nick Podehl",)
    assert log.requests("PATCH") == []
    assert narrators_of(abs_library, wind) == ["Wrong Reader"]


def test_a_verified_narrator_and_title_survive_monthly_drift(
    abs_library: AbsLibraryEnv, wind: str, tmp_path: Path, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    abs_library.server.call(
        "PATCH",
        f"/api/items/{wind}/media",
        json={"metadata": {"title": "The Name of the Wind (Verified)", "narrators": ["Verified Reader"]}},
    )
    records, _ = drift(tmp_path, abs_library, MetadataState(), verified=["narrators", "title"], proxy=proxy)
    planned = fields_planned(records, wind)
    assert "narrators" not in planned and "title" not in planned
    sent = [r.body["metadata"] for r in log.requests("PATCH")]
    assert all("narrators" not in body and "title" not in body for body in sent)
    assert narrators_of(abs_library, wind) == ["Verified Reader"]


def test_a_provider_that_is_down_changes_nothing(
    abs_library: AbsLibraryEnv, wind: str, tmp_path: Path, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    records, warnings = drift(tmp_path, abs_library, MetadataState(mode="down"), proxy=proxy)
    assert log.requests("PATCH") == [] and fields_planned(records, wind) == {}
    assert any("unavailable: server_error" in w for w in warnings)
    assert narrators_of(abs_library, wind) == ["Wrong Reader"]


def test_new_and_weekly_item_selection(abs_library: AbsLibraryEnv) -> None:
    with AbsClient(abs_library.server.url, abs_library.server.api_key) as library:
        items = [i.fact for i in library.items(abs_library.library_id).items]
    assert len(items) == 3 and all(i.added_at is not None for i in items)
    assert items_for_job("new", items, None, NOW) == []  # the first run only records what exists
    fresh = items[0].model_copy(update={"id": "li_new", "added_at": NOW - timedelta(days=2)})
    old = items[1].model_copy(update={"added_at": NOW - timedelta(days=20)})
    seen = [i.id for i in items]
    assert [i.id for i in items_for_job("new", [*items, fresh], seen, NOW)] == ["li_new"]
    assert [i.id for i in items_for_job("weekly", [fresh, old], seen, NOW)] == ["li_new"]
    assert len(items_for_job("drift", [fresh, old], seen, NOW)) == 2
    with pytest.raises(ValueError):
        items_for_job("hourly", items, seen, NOW)


def test_goodreads_is_the_provider_and_a_changed_layout_overwrites_nothing(
    abs_library: AbsLibraryEnv, wind: str, tmp_path: Path, recorded: tuple[str, ProxyState]
) -> None:
    proxy, log = recorded
    for mode in ("changed", "ok"):
        meta = MetadataState(mode=mode)
        _, warnings = drift(tmp_path / mode, abs_library, meta, goodreads=True, proxy=proxy)
        descriptions = [
            r.body["metadata"]["description"] for r in log.requests("PATCH") if "description" in r.body["metadata"]
        ]
        if mode == "changed":
            assert descriptions == [] and any("layout_changed" in w for w in warnings)
    assert any(r.path == "/search" for r in meta.log)
    assert all("authorization" not in r.headers for r in meta.log)  # the ABS token stays with ABS
    description = abs_library.server.item(wind)["media"]["metadata"]["description"]
    assert description.startswith("Told in Kvothe's own voice, this is the tale")


def test_the_new_items_job_remembers_what_it_saw_only_in_a_live_cycle(
    abs_library: AbsLibraryEnv, tmp_path: Path
) -> None:
    with metadata_fake(MetadataState()) as (meta_url, _):
        services = services_for(tmp_path, abs_library, meta_url)
        run_metadata_job(services, "new", dry_run=True)
        assert services.state.get(SEEN_KEY) is None  # a dry run writes nothing
        run_metadata_job(services, "new", dry_run=False)
        seen = services.state.get(SEEN_KEY)
        services.close()
    assert seen and abs_library.item_id("mp3") in seen


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


def test_quick_match_and_verified_fields(abs_library: AbsLibraryEnv, wind: str, tmp_path: Path) -> None:
    server = abs_library.server
    server.call("PATCH", f"/api/items/{wind}/media", json={"metadata": {"narrators": ["Nick Podehl"]}})
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
    verified = {"narrators": ["Nick Podehl"], "title": "The Name of the Wind"}
    records, _ = drift(tmp_path, abs_library, MetadataState(mode="down"), verified=verified)  # no provider answers
    put_back = {r.subject_id: r for r in records if r.outcome == "planned"}
    assert fields_planned(records, wind) == {"narrators": ("Nick Podehl",), "title": "The Name of the Wind"}
    assert put_back[f"{wind}:narrators"].facts["metadata.source"] == "verified"
    restored = server.item(wind)["media"]["metadata"]
    assert (restored["title"], restored["narrators"]) == ("The Name of the Wind", ["Nick Podehl"])
