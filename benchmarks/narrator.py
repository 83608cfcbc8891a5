"""Benchmark of §11 narrator detection (figures printed, nothing asserted).

Synthesises a set of spoken intros (espeak-ng voices, narrators and candidate lists as in
tests/integration/audio, whose builders it reuses), loads the whisper model once, then runs
``NarratorDetector.detect`` on every intro and prints top-1 accuracy, seconds per book, the
real-time factor (seconds of audio transcribed / wall seconds; goal ≥ 20× on 2 cores), the
model load time and the peak RSS of this process.

Run: ``.venv/bin/python benchmarks/narrator.py`` (``--count 40 --window 30 --threads 2``;
``--model small.en`` tries a bigger model, which faster-whisper downloads once).
Needs espeak-ng, ffmpeg and the ``audio`` extra. Imports ``adapters.audio``."""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from integrity import load_fixtures  # the same loader of the audio tests' synthesis helpers

from mamcrawler.adapters.audio import NarratorDetector


def peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024 / (1024 if sys.platform == "darwin" else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    fixtures = load_fixtures()

    with tempfile.TemporaryDirectory(prefix="narrator-bench-") as tmp:
        started = time.perf_counter()
        intros = fixtures.make_intros(Path(tmp), count=args.count)
        synth = time.perf_counter() - started

        detector = NarratorDetector(args.model, cpu_threads=args.threads, beam_size=args.beam)
        started = time.perf_counter()
        _ = detector.model
        load = time.perf_counter() - started

        correct = prompted = 0
        audio = 0.0
        started = time.perf_counter()
        for intro in intros:
            guess = detector.detect(intro.path, intro.candidates, window_seconds=args.window)
            correct += guess.name == intro.narrator
            prompted += guess.prompted
            audio += min(intro.seconds, args.window)
        wall = time.perf_counter() - started

    voices = len({i.voice for i in intros})
    narrators = len({i.narrator for i in intros})
    print(f"narrator detection: {len(intros)} intros, {voices} voices, {narrators} narrators, window {args.window:g} s")
    print(f"  model              {detector.model_name}")
    print(f"  cores / threads    {os.cpu_count()} / {args.threads}, beam {args.beam}")
    print(f"  synthesis          {synth:.1f} s (not counted)")
    print(f"  model load         {load:.2f} s (once per process)")
    print(f"  top-1 accuracy     {correct / len(intros):.1%} ({correct}/{len(intros)}; {prompted} via the primed pass)")
    print(f"  seconds per book   {wall / len(intros):.2f} s")
    print(f"  real-time factor   {audio / wall:.1f}× ({audio:.0f} s of audio in {wall:.1f} s; goal ≥ 20×)")
    print(f"  peak RSS           {peak_mib(resource.RUSAGE_SELF):.0f} MiB (this process: model, PCM, transcripts)")


if __name__ == "__main__":
    main()
