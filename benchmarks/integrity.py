"""Benchmark of the §13 integrity check (figures printed, nothing asserted).

Synthesises a few audiobooks with the builders of tests/integration/audio (a ~70 s book as
one MP3, a split MP3 and a chaptered M4B, plus the same speech looped to about 12 minutes
as MP3 and M4B), then times ``check_integrity`` on each and prints the decode speed as a
multiple of real time (decoded audio seconds / wall seconds) and the overall figure.

Run: ``.venv/bin/python benchmarks/integrity.py`` (``--loops 10`` sets the long books'
length in copies of the short one). Needs espeak-ng and ffmpeg. Imports ``adapters.audio``."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from mamcrawler.adapters.audio import check_integrity

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "integration" / "audio" / "conftest.py"


def load_fixtures() -> ModuleType:
    """The synthesis helpers of the audio tests, loaded under a private name."""
    spec = importlib.util.spec_from_file_location("audio_fixtures", FIXTURES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def long_book(fixtures: ModuleType, base: Path, source: Path, loops: int, suffix: str) -> object:
    """``source`` looped ``loops`` times, encoded as one file under a torrent folder."""
    wav = base / f"long-{loops}.wav"
    if not wav.exists():
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", str(loops - 1), "-i", str(source), str(wav)],
            check=True,
            timeout=300,
        )
    root = base / f"long{suffix}" / "The Long River"
    out = fixtures.encode(wav, root / f"The Long River{suffix}")
    return fixtures.Book((out,), fixtures.file_list(root, [out]), fixtures.wav_seconds(wav))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=10)
    args = parser.parse_args()
    fixtures = load_fixtures()

    with tempfile.TemporaryDirectory(prefix="integrity-bench-") as tmp:
        base = Path(tmp)
        books = fixtures.make_books(base / "short")
        for suffix in (".mp3", ".m4b"):
            books[f"long {suffix[1:]}"] = long_book(fixtures, base, base / "short" / "source.wav", args.loops, suffix)

        print("integrity check: full decode with ffmpeg (mono 8 kHz PCM counted)")
        print(f"  {'book':<12} {'files':>5} {'audio s':>9} {'wall s':>8} {'× real time':>12}  reason")
        total_audio = total_wall = 0.0
        for name, book in books.items():
            started = time.perf_counter()
            report = check_integrity(book.files, expected_files=book.expected_files, expected_seconds=book.seconds)
            wall = time.perf_counter() - started
            total_audio += report.decoded_seconds
            total_wall += wall
            print(
                f"  {name:<12} {len(book.files):>5} {report.decoded_seconds:>9.1f} {wall:>8.2f} "
                f"{report.decoded_seconds / wall:>11.0f}×  {report.reason}"
            )
        print(f"  {'all':<12} {'':>5} {total_audio:>9.1f} {total_wall:>8.2f} {total_audio / total_wall:>11.0f}×")


if __name__ == "__main__":
    main()
