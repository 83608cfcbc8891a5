"""The §2/§3/§12 metadata jobs over real sockets — the Audiobookshelf fake and the metadata
fake (Audnexus, Goodreads) — through the one decision path: the metadata sensor reads the
§15 sources, ``decide()`` proposes one ``UpdateMetadata`` per changed field (recorded with
its rule, reason and source), the executor PATCHes it under the journal. A verified
narrator survives monthly drift while an unverified one is corrected; a provider that is
down or a book it does not know changes nothing and is a warning; only real, non-empty
changes are sent; in dry run they are recorded and nothing is sent; §2 picks only items
new since the last run and §3 only items younger than 13 days."""

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
from mamcrawler.app.cli.run import run_metadata_job
from mamcrawler.app.runtime.settings import Settings
from mamcrawler.app.runtime.wiring import Services, build_services
from mamcrawler.engine import DecisionRecord
from mamcrawler.sensors.metadata import SEEN_KEY, items_for_job
from mamcrawler.store import Database, StateStore

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
POLICIES = Path(__file__).resolve().parents[3] / "policies"


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))


def services_for(tmp_path: Path, abs_url: str, meta_url: str, *, goodreads: bool = False) -> Services:
    env = {
        "ABS_URL": abs_url,
        "ABS_TOKEN": "abs-token",
        "AUDNEXUS_URL": meta_url,
        "GOODREADS_URL": meta_url if goodreads else "",  # never the real site from a test
        "MAMCRAWLER_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "MAMCRAWLER_JOURNAL": str(tmp_path / "decisions.jsonl"),  # never into the working directory
        "MAMCRAWLER_POLICIES": str(POLICIES),
    }
    services = build_services(Settings.model_validate(env), clock=lambda: NOW)
    services.keeper.load_initial()
    return services


def drift(
    tmp_path: Path,
    abs_state: AbsState,
    meta_state: MetadataState,
    *,
    verified: list[str] | None = None,
    dry_run: bool = False,
    goodreads: bool = False,
) -> tuple[list[DecisionRecord], list[Any], list[str]]:
    with abs_fake(abs_state) as (abs_url, _), metadata_fake(meta_state) as (meta_url, _):
        services = services_for(tmp_path, abs_url, meta_url, goodreads=goodreads)
        if verified:
            services.state.put("verified:li_wind", verified, now=NOW)
        run_metadata_job(services, "drift", dry_run=dry_run)
        assert services.board.batch is not None and services.metadata is not None
        records = [r for r in services.board.batch.records if r.subject_kind == "metadata"]
        warnings = list(services.metadata.warnings)
        services.close()
    return records, abs_state.patches, warnings


def fields_planned(records: list[DecisionRecord], item: str = "li_wind") -> dict[str, Any]:
    return {
        a.field: a.value  # type: ignore[union-attr]
        for r in records
        if r.outcome == "planned" and r.subject_id.startswith(f"{item}:")
        for a in r.actions
    }


def test_monthly_drift_corrects_an_unverified_narrator(tmp_path: Path) -> None:
    abs_state = AbsState()
    abs_state.items["li_wind"]["media"]["metadata"]["narrators"] = ["Wrong Reader"]
    records, patches, _ = drift(tmp_path, abs_state, MetadataState())
    assert fields_planned(records)["narrators"] == ("Nick Podehl",)
    narrator = next(r for r in records if r.subject_id == "li_wind:narrators")
    assert (narrator.rule_id, narrator.reason) == ("correct_metadata", "metadata_corrected")
    assert narrator.facts["metadata.source"] == "narrator_source"
    sent = [body["metadata"] for item, body in patches if item == "li_wind" and "narrators" in body["metadata"]]
    assert sent and list(sent[0]["narrators"]) == ["Nick Podehl"]
    for _, body in patches:
        assert all(v not in (None, "", [], {}) for v in body["metadata"].values())


def test_in_dry_run_the_correction_is_recorded_and_nothing_is_sent(tmp_path: Path) -> None:
    abs_state = AbsState()
    abs_state.items["li_wind"]["media"]["metadata"]["narrators"] = ["Wrong Reader"]
    records, patches, _ = drift(tmp_path, abs_state, MetadataState(), dry_run=True)
    assert fields_planned(records)["narrators"] == ("Nick Podehl",)
    assert patches == []
    assert abs_state.items["li_wind"]["media"]["metadata"]["narrators"] == ["Wrong Reader"]


def test_a_verified_narrator_and_title_survive_monthly_drift(tmp_path: Path) -> None:
    abs_state = AbsState()
    meta = abs_state.items["li_wind"]["media"]["metadata"]
    meta["narrators"], meta["title"] = ["Verified Reader"], "The Name of the Wind (Verified)"
    records, patches, _ = drift(tmp_path, abs_state, MetadataState(), verified=["narrators", "title"])
    planned = fields_planned(records)
    assert "narrators" not in planned and "title" not in planned
    assert all("narrators" not in body["metadata"] and "title" not in body["metadata"] for _, body in patches)
    assert abs_state.items["li_wind"]["media"]["metadata"]["narrators"] == ["Verified Reader"]


def test_a_provider_that_is_down_changes_nothing(tmp_path: Path) -> None:
    abs_state = AbsState()
    abs_state.items["li_wind"]["media"]["metadata"]["narrators"] = ["Wrong Reader"]
    records, patches, warnings = drift(tmp_path, abs_state, MetadataState(mode="down"))
    assert patches == [] and fields_planned(records) == {}
    assert any("unavailable: server_error" in w for w in warnings)
    assert abs_state.items["li_wind"]["media"]["metadata"]["narrators"] == ["Wrong Reader"]


def test_new_and_weekly_item_selection(store: StateStore) -> None:
    with abs_fake() as (url, _):
        library = AbsClient(url, "abs-token")
        items = [i.fact for i in library.items("lib_books").items]
        library.close()
    assert items_for_job("new", items, None, NOW) == []  # the first run only records what exists
    fresh = items[0].model_copy(update={"id": "li_new", "added_at": NOW - timedelta(days=2)})
    old = items[1].model_copy(update={"added_at": NOW - timedelta(days=20)})
    seen = [i.id for i in items]
    assert [i.id for i in items_for_job("new", [*items, fresh], seen, NOW)] == ["li_new"]
    assert [i.id for i in items_for_job("weekly", [fresh, old], seen, NOW)] == ["li_new"]
    assert len(items_for_job("drift", [fresh, old], seen, NOW)) == 2
    with pytest.raises(ValueError):
        items_for_job("hourly", items, seen, NOW)


def test_goodreads_is_the_provider_and_a_changed_layout_overwrites_nothing(tmp_path: Path) -> None:
    for mode in ("ok", "changed"):
        abs_state = AbsState()
        abs_state.items["li_wind"]["media"]["metadata"]["description"] = None
        meta_state = MetadataState(mode=mode)
        _, patches, warnings = drift(tmp_path / mode, abs_state, meta_state, goodreads=True)
        wind = [body["metadata"] for item, body in patches if item == "li_wind"]
        descriptions = [sent["description"] for sent in wind if "description" in sent]
        if mode == "ok":
            assert descriptions and descriptions[0].startswith("Told in Kvothe's own voice, this is the tale")
            assert any(r.path == "/search" for r in meta_state.log)
            assert all("authorization" not in r.headers for r in meta_state.log)  # the ABS token stays with ABS
        else:
            assert descriptions == [] and any("layout_changed" in w for w in warnings)


def test_the_new_items_job_remembers_what_it_saw_only_in_a_live_cycle(tmp_path: Path) -> None:
    with abs_fake(AbsState()) as (abs_url, _), metadata_fake(MetadataState()) as (meta_url, _):
        services = services_for(tmp_path, abs_url, meta_url)
        run_metadata_job(services, "new", dry_run=True)
        assert services.state.get(SEEN_KEY) is None  # a dry run writes nothing
        run_metadata_job(services, "new", dry_run=False)
        seen = services.state.get(SEEN_KEY)
        services.close()
    assert seen and "li_wind" in seen
