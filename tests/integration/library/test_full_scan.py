"""§14 full scan with real speech-to-text (faster-whisper, the bundled tiny model) on a
synthesised opening, the Audiobookshelf fake and the Audnexus fake, through the decision
path (metadata sensor → decide → UpdateMetadata per field → executor): the opening
confirms the canonical title, series and number and the narrator; the item is corrected by
§15; with the provider down nothing is blanked and the scan alone never invents a title."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from abs_fake import AbsState, abs_fake
from metadata_fake import MetadataState, metadata_fake
from qbit_env import synthesise_book

from mamcrawler.adapters.audio import NarratorDetector, match_narrator
from mamcrawler.adapters.audio.intro import heard_among, heard_number
from mamcrawler.app.cli.run import run_metadata_job
from mamcrawler.app.runtime.settings import Settings
from mamcrawler.app.runtime.wiring import build_services
from mamcrawler.engine import DecisionRecord
from mamcrawler.sensors.metadata import SEEN_KEY, FullScanReader
from tool_checks import require_tool

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
INTRO = (
    "The Name of the Wind. The Kingkiller Chronicle, book one. Written by Patrick Rothfuss. Narrated by Nick Podehl."
)

require_tool("espeak-ng", "ffmpeg")


@pytest.fixture(scope="module")
def opening(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesise_book(tmp_path_factory.mktemp("scan"), "wind", INTRO, voice="en-us", seconds=12)


def scan(tmp_path: Path, opening: Path, meta_mode: str) -> tuple[list[DecisionRecord], AbsState, list[str]]:
    """§2 for a new item: the metadata sensor reads the provider, the narrator source and the
    spoken opening; one cycle decides each field; the executor sends the changes."""
    abs_state = AbsState()
    meta = abs_state.items["li_wind"]["media"]["metadata"]
    meta.update(title="name_of_wind_unabr", series=[], narrators=[])
    detector = NarratorDetector()
    with abs_fake(abs_state) as (abs_url, _), metadata_fake(MetadataState(mode=meta_mode)) as (meta_url, _):
        settings = Settings.model_validate(
            {
                "ABS_URL": abs_url,
                "ABS_TOKEN": "abs-token",
                "AUDNEXUS_URL": meta_url,
                "GOODREADS_URL": "",  # never the real site from a test
                "MAMCRAWLER_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
                "MAMCRAWLER_JOURNAL": str(tmp_path / "decisions.jsonl"),
                "MAMCRAWLER_POLICIES": str(ROOT / "policies"),
            }
        )
        services = build_services(settings, clock=lambda: NOW)
        services.keeper.load_initial()
        sensor = services.metadata
        assert sensor is not None
        sensor.scanner = FullScanReader(
            lambda audio: detector.transcribe(audio, window_seconds=15),
            lambda transcript, names: match_narrator(transcript, names).name,
        )
        listing = sensor.items
        sensor.items = lambda: [(item, [opening] if item.id == "li_wind" else [], asin) for item, _, asin in listing()]
        services.state.put(SEEN_KEY, [i for i in abs_state.items if i != "li_wind"], now=NOW)  # li_wind is new
        run_metadata_job(services, "new", dry_run=False)
        assert services.board.batch is not None
        records = [r for r in services.board.batch.records if r.subject_kind == "metadata"]
        warnings = list(sensor.warnings)
        services.close()
    return records, abs_state, warnings


def planned(records: list[DecisionRecord]) -> dict[str, tuple[object, str]]:
    return {
        a.field: (a.value, a.source)  # type: ignore[union-attr]
        for r in records
        if r.outcome == "planned" and r.subject_id.startswith("li_wind:")
        for a in r.actions
    }


def test_the_opening_confirms_canonical_metadata(tmp_path: Path, opening: Path) -> None:
    records, abs_state, _ = scan(tmp_path, opening, "ok")
    changes = planned(records)
    assert changes["title"] == ("The Name of the Wind", "scan")
    assert changes["series"] == ("The Kingkiller Chronicle", "scan") and changes["series_number"][0] == 1.0
    assert changes["narrators"][0] == ("Nick Podehl",)
    sent: dict[str, object] = {}
    for item, body in abs_state.patches:
        if item == "li_wind":
            sent.update(body["metadata"])
    assert sent["title"] == "The Name of the Wind" and list(sent["narrators"]) == ["Nick Podehl"]  # type: ignore[call-overload]
    assert sent["series"] == [{"name": "The Kingkiller Chronicle", "sequence": "1"}]


def test_with_the_provider_down_the_scan_invents_nothing(tmp_path: Path, opening: Path) -> None:
    records, abs_state, warnings = scan(tmp_path, opening, "down")
    assert "title" not in planned(records)  # only the library's own (messy) title was a candidate
    assert any("provider unavailable" in w for w in warnings)
    for _, body in abs_state.patches:
        assert all(v not in (None, "", [], {}) for v in body["metadata"].values())


def test_intro_reading_is_candidate_bound() -> None:
    heard = "the name of the wind, the king killer chronicle book one, written by patrick rothfus"
    assert heard_among(heard, ["The Name of the Wind", "The Wise Man's Fear"]) == "The Name of the Wind"
    assert heard_among(heard, ["Mistborn"]) is None
    assert heard_number(heard) == 1.0 and heard_number("the third book of the cycle") == 3.0
    assert heard_number("no number here") is None
