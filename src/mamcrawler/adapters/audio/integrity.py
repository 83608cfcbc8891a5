"""The §13 integrity check of a downloaded audiobook: file count and per-file sizes against
the torrent's file list, then a full decode of every audio file with ffmpeg, measuring the
duration that actually decodes (samples counted, not header durations: an MP3 cut short
still declares its full length) and comparing the sum with the expected runtime.

One report, one stable ``reason`` (first failing check wins, in this order): ``missing_file``,
``file_count_mismatch``, ``size_mismatch``, ``no_audio``, ``duration_mismatch``,
``undecodable``, else ``ok``. The size checks run first and skip decoding when they fail.
``duration_mismatch`` outranks ``undecodable`` because a truncated file usually ends with a
decode error on its last partial frame, and the missing audio is the real finding; each
file's own result still says ``undecodable``. Only files with an audio suffix are decoded
(covers, ``.nfo`` and ``.cue`` files are size-checked only). ffmpeg missing or timing out
raises ``ServiceUnavailable``. Imports ``errors``."""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mamcrawler.errors import ServiceUnavailable

__all__ = ["AUDIO_SUFFIXES", "FileCheck", "IntegrityReport", "check_integrity", "decoded_seconds", "pcm_command"]

SERVICE = "ffmpeg"
AUDIO_SUFFIXES = frozenset(
    {".mp3", ".m4b", ".m4a", ".mp4", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wav", ".wma", ".aiff", ".ape"}
)
# Decoded audio is resampled to mono 16-bit PCM at this rate and counted: 16,000 bytes a second.
_RATE = 8000
_BYTES_PER_SECOND = _RATE * 2
_CHUNK = 1 << 16
_MAX_DETAIL = 400


@dataclass(frozen=True)
class FileCheck:
    """One file's result: its size against the torrent's, and what decoded."""

    path: Path
    reason: str
    size: int | None = None
    expected_size: int | None = None
    decoded_seconds: float | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


@dataclass(frozen=True)
class IntegrityReport:
    """The verdict on a set of files; ``reason`` is a stable snake_case code."""

    ok: bool
    reason: str
    detail: str
    decoded_seconds: float
    files: tuple[FileCheck, ...]


def check_integrity(
    files: Sequence[Path],
    *,
    expected_files: Sequence[tuple[str, int]] | None,
    expected_seconds: float | None,
    tolerance: float = 0.01,
    ffmpeg: str = "ffmpeg",
    timeout: float | None = None,
) -> IntegrityReport:
    """Check ``files`` (paths on disk) against the torrent's ``expected_files`` (names relative
    to the torrent's root, sizes in bytes; ``None`` skips the comparison) and the expected
    runtime (``None`` skips it; ``tolerance`` is relative, 0.01 = ±1 %). ``timeout`` bounds
    each ffmpeg run in seconds (default: one minute plus one second per megabyte)."""
    paths = [Path(f) for f in files]
    structural = _structure(paths, expected_files)
    if structural is not None:
        return structural
    checks: list[FileCheck] = []
    total = 0.0
    for path in paths:
        size = path.stat().st_size
        expected_size = _expected_size_of(path, expected_files)
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            checks.append(FileCheck(path, "ok", size, expected_size, None, "not audio: size checked only"))
            continue
        seconds, errors = _decode(path, ffmpeg=ffmpeg, timeout=timeout)
        total += seconds
        if "matches no streams" in errors or "does not contain any stream" in errors:
            checks.append(FileCheck(path, "no_audio", size, expected_size, seconds, "no audio stream"))
        elif errors or seconds <= 0:
            detail = errors or "nothing decoded"
            checks.append(FileCheck(path, "undecodable", size, expected_size, seconds, detail))
        else:
            checks.append(FileCheck(path, "ok", size, expected_size, seconds))
    return _verdict(tuple(checks), total, expected_seconds, tolerance)


def decoded_seconds(path: Path, *, ffmpeg: str = "ffmpeg", timeout: float | None = None) -> float:
    """The seconds of audio that actually decode from ``path`` (first audio stream)."""
    return _decode(Path(path), ffmpeg=ffmpeg, timeout=timeout)[0]


def _verdict(
    checks: tuple[FileCheck, ...], total: float, expected_seconds: float | None, tolerance: float
) -> IntegrityReport:
    audio = [c for c in checks if c.decoded_seconds is not None]
    bad = {c.reason: c for c in reversed(checks) if not c.ok}
    if not audio or "no_audio" in bad:
        culprit = bad.get("no_audio")
        detail = f"{culprit.path.name}: no audio stream" if culprit else "no audio files"
        return IntegrityReport(False, "no_audio", detail, total, checks)
    if expected_seconds is not None and abs(total - expected_seconds) > tolerance * expected_seconds:
        delta = (total - expected_seconds) / expected_seconds if expected_seconds else float("inf")
        detail = f"decoded {total:.2f} s, expected {expected_seconds:.2f} s ({delta:+.1%})"
        if "undecodable" in bad:
            detail += f"; decode errors in {bad['undecodable'].path.name}"
        return IntegrityReport(False, "duration_mismatch", detail, total, checks)
    if "undecodable" in bad:
        culprit = bad["undecodable"]
        return IntegrityReport(False, "undecodable", f"{culprit.path.name}: {culprit.detail}", total, checks)
    detail = f"{len(checks)} files, {total:.2f} s decoded"
    return IntegrityReport(True, "ok", detail, total, checks)


def _structure(paths: list[Path], expected_files: Sequence[tuple[str, int]] | None) -> IntegrityReport | None:
    """The count and size checks; ``None`` when they pass."""
    for path in paths:
        if not path.is_file():
            return _failed("missing_file", f"{path} does not exist", paths, expected_files)
    if expected_files is None:
        return None
    unmatched = list(paths)
    pairs: list[tuple[str, int, Path]] = []
    for name, size in expected_files:
        found = _find(name, unmatched)
        if found is None:
            return _failed("missing_file", f"{name} is not on disk", paths, expected_files)
        unmatched.remove(found)
        pairs.append((name, size, found))
    if unmatched or len(paths) != len(expected_files):
        extra = ", ".join(p.name for p in unmatched)
        detail = f"{len(paths)} files on disk, {len(expected_files)} in the torrent" + (
            f" (extra: {extra})" if extra else ""
        )
        return _failed("file_count_mismatch", detail, paths, expected_files)
    for name, size, path in pairs:
        actual = path.stat().st_size
        if actual != size:
            detail = f"{name}: {actual} bytes on disk, {size} in the torrent"
            return _failed("size_mismatch", detail, paths, expected_files)
    return None


def _failed(
    reason: str, detail: str, paths: list[Path], expected_files: Sequence[tuple[str, int]] | None
) -> IntegrityReport:
    checks = []
    for path in paths:
        size = path.stat().st_size if path.is_file() else None
        expected_size = _expected_size_of(path, expected_files)
        if size is None:
            own = "missing_file"
        elif expected_size is not None and size != expected_size:
            own = "size_mismatch"
        else:
            own = "ok"
        checks.append(FileCheck(path, own, size, expected_size))
    return IntegrityReport(False, reason, detail, 0.0, tuple(checks))


def _find(name: str, paths: Sequence[Path]) -> Path | None:
    """The path whose trailing components are ``name``'s (torrent names are relative)."""
    wanted = PurePosixPath(name.replace("\\", "/")).parts
    for path in paths:
        if path.parts[-len(wanted) :] == wanted:
            return path
    return None


def _expected_size_of(path: Path, expected_files: Sequence[tuple[str, int]] | None) -> int | None:
    if expected_files is None:
        return None
    for name, size in expected_files:
        if _find(name, [path]) is not None:
            return size
    return None


def _tidy(errors: str) -> str:
    """ffmpeg's error lines, without pointer addresses, deduplicated and on one line."""
    lines = (re.sub(r" @ 0x[0-9a-fA-F]+", "", line).strip() for line in errors.splitlines())
    return "; ".join(dict.fromkeys(line for line in lines if line))


def pcm_command(ffmpeg: str, path: Path, rate: int, *, seconds: float | None = None) -> list[str]:
    """ffmpeg arguments that decode the first audio stream (optionally only its opening
    ``seconds``) to mono signed 16-bit PCM at ``rate`` on stdout."""
    window = ["-t", f"{seconds:.3f}"] if seconds is not None else []
    return [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        *window,
        "-i",
        str(path),
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-ac",
        "1",
        "-ar",
        str(rate),
        "-f",
        "s16le",
        "-",
    ]


def _decode(path: Path, *, ffmpeg: str, timeout: float | None) -> tuple[float, str]:
    """Decode the first audio stream to mono PCM, count the samples; (seconds, error text)."""
    if timeout is None:
        timeout = 60.0 + path.stat().st_size / 1_000_000
    args = pcm_command(ffmpeg, path, _RATE)
    with tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        except OSError as exc:
            raise ServiceUnavailable(SERVICE, "not_installed", f"cannot run {ffmpeg}: {exc}") from exc
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            process.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        count = 0
        try:
            assert process.stdout is not None
            with process.stdout:
                while chunk := process.stdout.read(_CHUNK):
                    count += len(chunk)
            returncode = process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        if timed_out.is_set():
            raise ServiceUnavailable(SERVICE, "timeout", f"decoding {path.name} took longer than {timeout:.0f} s")
        stderr.seek(0)
        errors = stderr.read().decode("utf-8", "replace").strip()
    errors = _tidy(errors)
    if returncode != 0 and not errors:
        errors = f"ffmpeg exited with {returncode}"
    if len(errors) > _MAX_DETAIL:
        errors = errors[:_MAX_DETAIL] + "…"
    return count / _BYTES_PER_SECOND, errors
