"""§14 full scan with real speech-to-text (faster-whisper, the bundled tiny model) on a
synthesised opening, the real Audiobookshelf server (a library over a messy folder it scans
itself: ``Patrick Rothfuss/name_of_wind_unabr/``, the file tagged with its ASIN only) and
the Audnexus fake, through the decision path (metadata sensor → decide → UpdateMetadata
per field → executor): the opening confirms the canonical title, series and number and the
narrator; the item is corrected by §15 and the server, read back, holds the corrections;
with the provider down nothing is blanked and the scan alone never invents a title."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from abs_server import AbsServer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
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
ASIN = "B002UZMLXM"  # the Audnexus fake's The Name of the Wind

require_tool("espeak-ng", "ffmpeg")


@pytest.fixture(scope="module")
def opening(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesise_book(tmp_path_factory.mktemp("scan"), "wind", INTRO, voice="en-us", seconds=12)


@pytest.fixture
def messy_library(abs_server: AbsServer, opening: Path, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A library on the real server with two books: the new, messily named one (folder title,
    no narrator, no series; only its ASIN tagged) and one already seen. (library, new, seen) ids."""
    root = tmp_path / "library"
    wind = root / "Patrick Rothfuss" / "name_of_wind_unabr" / "name_of_wind_unabr.mp3"
    seen = root / "Jane Austen" / "Emma" / "emma.mp3"
    for out, tags in ((wind, {"asin": ASIN}), (seen, {"album": "Emma", "artist": "Jane Austen"})):
        out.parent.mkdir(parents=True)
        meta = [arg for key, value in tags.items() for arg in ("-metadata", f"{key}={value}")]
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(opening), "-c:a", "copy", *meta, str(out)],
            check=True,
            capture_output=True,
        )
    library_id = str(abs_server.create_library(f"Scan {tmp_path.name}", root)["id"])
    try:
        abs_server.scan(library_id)
        new = abs_server.item_at(library_id, wind.parent)
        assert new["media"]["metadata"]["title"] == "name_of_wind_unabr"  # what the server read: the folder
        yield library_id, str(new["id"]), str(abs_server.item_at(library_id, seen.parent)["id"])
    finally:
        abs_server.call("DELETE", f"/api/libraries/{library_id}")


def scan(
    tmp_path: Path, abs_server: AbsServer, library: tuple[str, str, str], meta_mode: str
) -> tuple[list[DecisionRecord], dict[str, Any], list[str]]:
    """§2 for a new item: the metadata sensor reads the provider, the narrator source and the
    spoken opening of the file the server lists; one cycle decides each field; the executor
    sends the changes. The records, the new item read back from the server, the warnings."""
    library_id, new_id, seen_id = library
    detector = NarratorDetector()
    with metadata_fake(MetadataState(mode=meta_mode)) as (meta_url, _):
        settings = Settings.model_validate(
            {
                "ABS_URL": abs_server.url,
                "ABS_TOKEN": abs_server.api_key,
                "ABS_LIBRARY_ID": library_id,
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
        services.state.put(SEEN_KEY, [seen_id], now=NOW)  # only the messy item is new
        run_metadata_job(services, "new", dry_run=False)
        assert services.board.batch is not None
        records = [r for r in services.board.batch.records if r.subject_kind == "metadata"]
        warnings = list(sensor.warnings)
        services.close()
    return records, abs_server.item(new_id), warnings


def planned(records: list[DecisionRecord], item_id: str) -> dict[str, tuple[object, str]]:
    return {
        a.field: (a.value, a.source)  # type: ignore[union-attr]
        for r in records
        if r.outcome == "planned" and r.subject_id.startswith(f"{item_id}:")
        for a in r.actions
    }


def test_the_opening_confirms_canonical_metadata(
    tmp_path: Path, abs_server: AbsServer, messy_library: tuple[str, str, str]
) -> None:
    records, item, _ = scan(tmp_path, abs_server, messy_library, "ok")
    changes = planned(records, messy_library[1])
    assert changes["title"] == ("The Name of the Wind", "scan")
    assert changes["series"] == ("The Kingkiller Chronicle", "scan") and changes["series_number"][0] == 1.0
    assert changes["narrators"][0] == ("Nick Podehl",)
    stored = item["media"]["metadata"]  # what the real server now holds
    assert stored["title"] == "The Name of the Wind" and stored["narrators"] == ["Nick Podehl"]
    assert [(s["name"], s["sequence"]) for s in stored["series"]] == [("The Kingkiller Chronicle", "1")]
    assert [a["name"] for a in stored["authors"]] == ["Patrick Rothfuss"] and stored["asin"] == ASIN


def test_with_the_provider_down_the_scan_invents_nothing(
    tmp_path: Path, abs_server: AbsServer, messy_library: tuple[str, str, str]
) -> None:
    records, item, warnings = scan(tmp_path, abs_server, messy_library, "down")
    assert "title" not in planned(records, messy_library[1])  # only the library's own (messy) title was a candidate
    assert any("provider unavailable" in w for w in warnings)
    stored = item["media"]["metadata"]
    assert stored["title"] == "name_of_wind_unabr"  # not invented, not blanked
    assert [a["name"] for a in stored["authors"]] == ["Patrick Rothfuss"] and stored["asin"] == ASIN


def test_intro_reading_is_candidate_bound() -> None:
    heard = "the name of the wind, the king killer chronicle book one, written by patrick rothfus"
    assert heard_among(heard, ["The Name of the Wind", "The Wise Man's Fear"]) == "The Name of the Wind"
    assert heard_among(heard, ["Mistborn"]) is None
    assert heard_number(heard) == 1.0 and heard_number("the third book of the cycle") == 3.0
    assert heard_number("no number here") is None
