"""§14 full scan with real speech-to-text (faster-whisper, the bundled tiny model) on a
synthesised opening, the Audiobookshelf fake and the Audnexus fake: the opening confirms
the canonical title, series and number and the narrator; the item is corrected by §15;
a second edition of the same book is flagged as the weaker duplicate; with the provider
down nothing is blanked and the scan alone never invents a title."""

from __future__ import annotations

import copy
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
from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.adapters.metadata import AudnexusClient
from mamcrawler.app.jobs.full_scan import FullScan, ScanResult
from mamcrawler.app.jobs.metadata_jobs import audnexus_lookups
from mamcrawler.engine import load_policy
from mamcrawler.store import Database, StateStore
from tool_checks import require_tool

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
INTRO = (
    "The Name of the Wind. The Kingkiller Chronicle, book one. Written by Patrick Rothfuss. Narrated by Nick Podehl."
)

require_tool("espeak-ng", "ffmpeg")


@pytest.fixture(scope="module")
def opening(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesise_book(tmp_path_factory.mktemp("scan"), "wind", INTRO, voice="en-us", seconds=12)


def scan(tmp_path: Path, opening: Path, meta_mode: str) -> tuple[ScanResult, AbsState, StateStore]:
    abs_state = AbsState()
    wind = abs_state.items["li_wind"]
    meta = wind["media"]["metadata"]
    meta.update(title="name_of_wind_unabr", series=[], narrators=[])
    twin = copy.deepcopy(wind)
    twin["id"] = "li_wind_mp3"
    twin["media"]["metadata"].update(title="The Name of the Wind", series=[], narrators=["Nick Podehl"])
    for f in twin["media"]["audioFiles"]:
        f["bitRate"] = 64_000
    abs_state.items["li_wind_mp3"] = twin
    state = StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))
    detector = NarratorDetector()
    with abs_fake(abs_state) as (abs_url, _), metadata_fake(MetadataState(mode=meta_mode)) as (meta_url, _):
        library, audnexus = AbsClient(abs_url, "abs-token"), AudnexusClient(meta_url)
        items = {i.id: i for i in library.items("lib_books").items}
        provider, narrators = audnexus_lookups(audnexus, {k: v.asin for k, v in items.items() if v.asin})
        scanner = FullScan(
            library,
            state,
            lambda: datetime(2026, 11, 25, 12, tzinfo=UTC),
            transcribe=lambda audio: detector.transcribe(audio, window_seconds=15),
            pick_narrator=lambda transcript, names: match_narrator(transcript, names).name,
            provider=provider,
            narrators=narrators,
        )
        others = [i.fact for i in items.values()]
        result = scanner.scan(load_policy(ROOT / "policies"), items["li_wind"].fact, [opening], others)
        audnexus.close()
        library.close()
    return result, abs_state, state


def test_the_opening_confirms_canonical_metadata_and_a_weaker_twin_is_flagged(tmp_path: Path, opening: Path) -> None:
    result, abs_state, state = scan(tmp_path, opening, "ok")
    assert result.changes["title"] == "The Name of the Wind"
    assert result.changes["series"] == "The Kingkiller Chronicle" and result.changes["series_number"] == 1.0
    assert list(result.changes["narrators"]) == ["Nick Podehl"]
    sent = next(body["metadata"] for item, body in abs_state.patches if item == "li_wind")
    assert sent["title"] == "The Name of the Wind" and list(sent["narrators"]) == ["Nick Podehl"]
    assert sent["series"] == [{"name": "The Kingkiller Chronicle", "sequence": "1"}]
    assert result.duplicate_of == "li_wind_mp3"
    assert state.get("duplicate:li_wind_mp3") == {
        "book_key": "the name of the wind|patrick rothfuss",
        "keep": "li_wind",
    }


def test_with_the_provider_down_the_scan_invents_nothing(tmp_path: Path, opening: Path) -> None:
    result, abs_state, _ = scan(tmp_path, opening, "down")
    assert "title" not in result.changes  # only the library's own (messy) title was a candidate
    assert any("provider unavailable" in w for w in result.warnings)
    for _, body in abs_state.patches:
        assert all(v not in (None, "", [], {}) for v in body["metadata"].values())


def test_intro_reading_is_candidate_bound() -> None:
    heard = "the name of the wind, the king killer chronicle book one, written by patrick rothfus"
    assert heard_among(heard, ["The Name of the Wind", "The Wise Man's Fear"]) == "The Name of the Wind"
    assert heard_among(heard, ["Mistborn"]) is None
    assert heard_number(heard) == 1.0 and heard_number("the third book of the cycle") == 3.0
    assert heard_number("no number here") is None
