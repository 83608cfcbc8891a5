"""The §13 integrity check on synthesised audiobooks: good MP3, split MP3 and chaptered M4B
editions pass; every bad variant (truncated, incomplete, padded, wrong size, extra file,
missing file, corrupted bytes, wrong runtime, no audio) fails with its own reason code."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import mutagen
import pytest

from mamcrawler.adapters.audio import check_integrity
from mamcrawler.errors import ServiceUnavailable
from tool_checks import require_tool

pytestmark = [
    pytest.mark.integration,
]
require_tool("ffmpeg", "espeak-ng")

BAD = (
    "truncated_mp3",
    "incomplete_download",
    "padded_mp3",
    "wrong_size_m4b",
    "extra_file",
    "missing_file",
    "missing_path",
    "corrupt_mp3",
    "corrupt_m4b",
    "corrupt_split_mp3",
    "duration_off",
    "duration_off_split",
    "no_audio",
)


@pytest.mark.parametrize("kind", ["mp3", "split_mp3", "m4b"])
def test_good_editions_pass(books: dict[str, Any], kind: str) -> None:
    book = books[kind]
    report = check_integrity(book.files, expected_files=book.expected_files, expected_seconds=book.seconds)
    assert report.ok, report
    assert report.reason == "ok"
    assert report.decoded_seconds == pytest.approx(book.seconds, rel=0.005)
    assert [c.reason for c in report.files] == ["ok"] * len(book.files)


def test_checks_can_be_skipped_without_a_torrent_or_a_runtime(books: dict[str, Any]) -> None:
    book = books["split_mp3"]
    report = check_integrity(book.files, expected_files=None, expected_seconds=None)
    assert report.ok and report.decoded_seconds == pytest.approx(book.seconds, rel=0.005)


def test_within_tolerance_passes_and_outside_fails(books: dict[str, Any]) -> None:
    book = books["m4b"]
    near = check_integrity(book.files, expected_files=book.expected_files, expected_seconds=book.seconds * 1.006)
    far = check_integrity(book.files, expected_files=book.expected_files, expected_seconds=book.seconds * 1.015)
    loose = check_integrity(
        book.files, expected_files=book.expected_files, expected_seconds=book.seconds * 1.015, tolerance=0.02
    )
    assert (near.reason, far.reason, loose.reason) == ("ok", "duration_mismatch", "ok")


@pytest.mark.parametrize("name", BAD)
def test_bad_variant_is_caught(bad_cases: dict[str, Any], name: str) -> None:
    case = bad_cases[name]
    report = check_integrity(case.files, expected_files=case.expected_files, expected_seconds=case.expected_seconds)
    assert not report.ok
    assert report.reason == case.reason, report.detail
    assert report.detail


def test_truncated_mp3_header_still_claims_the_full_length(bad_cases: dict[str, Any], books: dict[str, Any]) -> None:
    case = bad_cases["truncated_mp3"]
    header = mutagen.File(case.files[0]).info.length
    report = check_integrity(case.files, expected_files=None, expected_seconds=case.expected_seconds)
    assert header == pytest.approx(books["mp3"].seconds, rel=0.01)  # the header lies
    assert report.reason == "duration_mismatch"
    assert report.decoded_seconds == pytest.approx(0.9 * books["mp3"].seconds, rel=0.03)


def test_corruption_is_reported_per_file(bad_cases: dict[str, Any]) -> None:
    case = bad_cases["corrupt_split_mp3"]
    report = check_integrity(case.files, expected_files=case.expected_files, expected_seconds=case.expected_seconds)
    assert [c.reason for c in report.files] == ["ok", "undecodable", "ok"]
    assert case.files[1].name in report.detail


def test_size_mismatch_names_the_file(bad_cases: dict[str, Any]) -> None:
    case = bad_cases["padded_mp3"]
    report = check_integrity(case.files, expected_files=case.expected_files, expected_seconds=case.expected_seconds)
    assert report.files[0].size == report.files[0].expected_size + 4096  # type: ignore[operator]
    assert report.decoded_seconds == 0  # nothing decoded once the sizes are wrong


def test_non_audio_files_are_size_checked_only(books: dict[str, Any], tmp_path: Path) -> None:
    book = books["mp3"]
    root = tmp_path / book.files[0].parent.name
    shutil.copytree(book.files[0].parent, root)
    cover = root / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    files = [root / book.files[0].name, cover]
    expected = [*book.expected_files, (f"{root.name}/cover.jpg", cover.stat().st_size)]
    report = check_integrity(files, expected_files=expected, expected_seconds=book.seconds)
    assert report.ok, report
    assert report.files[1].decoded_seconds is None


def test_no_files_is_no_audio() -> None:
    assert check_integrity([], expected_files=None, expected_seconds=None).reason == "no_audio"


def test_missing_ffmpeg_raises_service_unavailable(books: dict[str, Any]) -> None:
    book = books["mp3"]
    with pytest.raises(ServiceUnavailable) as caught:
        check_integrity(book.files, expected_files=None, expected_seconds=None, ffmpeg="/nonexistent/ffmpeg")
    assert (caught.value.service, caught.value.code) == ("ffmpeg", "not_installed")


def test_slow_decode_times_out_as_service_unavailable(books: dict[str, Any]) -> None:
    book = books["m4b"]
    with pytest.raises(ServiceUnavailable) as caught:
        check_integrity(book.files, expected_files=None, expected_seconds=None, timeout=0.001)
    assert caught.value.code == "timeout"
