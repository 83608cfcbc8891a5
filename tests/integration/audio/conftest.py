"""Synthesised audiobooks for the audio tests (built once per session with espeak-ng and
ffmpeg): good editions (one MP3, a split MP3, a chaptered M4B), the bad variants the
integrity check must catch, and a set of spoken intros ("This is Audible. <Title>, written
by <Author>, narrated by <Narrator>.") in several espeak voices for narrator detection.
The builders are plain functions so benchmarks/ can load this file and reuse them."""

from __future__ import annotations

import random
import shutil
import subprocess
import wave
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-us+f2", "en-gb+m3")
NARRATORS = (
    "Simon Vance",
    "Kate Reading",
    "Scott Brick",
    "Julia Whelan",
    "Ray Porter",
    "Michael Kramer",
    "Rosalyn Landor",
    "Steven Pacey",
)
BOOKS = (
    ("The Silent River", "Margaret Holloway"),
    ("A Harbour in Winter", "Thomas Ashford"),
    ("The Glass Orchard", "Helen Marsh"),
    ("Northern Lights Over Dover", "Peter Crane"),
    ("The Clockmaker's Daughter", "Anne Whitfield"),
    ("Salt and Iron", "David Fenwick"),
    ("The Last Lighthouse", "Clara Benson"),
    ("Echoes of the Valley", "George Hartley"),
)
PHRASES = ("narrated by", "narrated by", "read by", "performed by")
FILLER = (
    "The morning came slowly over the hills, and the village below was still asleep.",
    "A cart rolled across the old stone bridge, its wheels loud on the wet cobbles.",
    "Nobody in the house had spoken about the letter since it arrived on Tuesday.",
    "She folded the map twice and put it back into the drawer beside the window.",
    "By noon the wind had turned, bringing the smell of rain from the open sea.",
    "The schoolmaster counted the children again, as he did every single morning.",
    "There were seven lamps along the harbour wall, and only three of them were lit.",
    "He kept the key on a string around his neck, and never once took it off.",
    "In the kitchen the kettle began to sing, and the cat stretched by the stove.",
    "They walked on in silence until the road bent down towards the river.",
)


@dataclass(frozen=True)
class Book:
    """Files on disk, the torrent's file list (relative names, sizes) and the true runtime."""

    files: tuple[Path, ...]
    expected_files: tuple[tuple[str, int], ...]
    seconds: float


@dataclass(frozen=True)
class Case:
    """A bad (or good) variant and the reason code the integrity check must give."""

    files: tuple[Path, ...]
    expected_files: tuple[tuple[str, int], ...] | None
    expected_seconds: float | None
    reason: str


@dataclass(frozen=True)
class Intro:
    """A spoken opening: who narrates it, the names offered as candidates, the voice."""

    path: Path
    narrator: str
    candidates: tuple[str, ...]
    voice: str
    seconds: float


def run(*args: str) -> None:
    subprocess.run(args, check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)


def speak(text: str, wav: Path, *, voice: str = "en-us", speed: int = 165) -> float:
    """Say ``text`` into ``wav``; returns its length in seconds."""
    wav.parent.mkdir(parents=True, exist_ok=True)
    run("espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text)
    return wav_seconds(wav)


def wav_seconds(wav: Path) -> float:
    with wave.open(str(wav), "rb") as w:
        return w.getnframes() / w.getframerate()


def encode(wav: Path, out: Path, *, start: float | None = None, length: float | None = None) -> Path:
    """Encode (a slice of) ``wav`` as MP3 or M4B (by ``out``'s suffix)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    if start is not None:
        args += ["-ss", f"{start:.6f}"]
    if length is not None:
        args += ["-t", f"{length:.6f}"]
    args += ["-i", str(wav)]
    if out.suffix == ".mp3":
        args += ["-c:a", "libmp3lame", "-b:a", "64k"]
    else:
        args += ["-c:a", "aac", "-b:a", "48k", "-movflags", "+faststart"]
    run(*args, str(out))
    return out


def encode_chaptered_m4b(wav: Path, out: Path, *, title: str, author: str, chapters: int = 3) -> Path:
    """An M4B with title/artist tags and ``chapters`` equal chapters (ffmetadata)."""
    seconds = wav_seconds(wav)
    lines = [";FFMETADATA1", f"title={title}", f"artist={author}", "genre=Audiobook"]
    step = int(seconds * 1000 / chapters)
    for i in range(chapters):
        end = int(seconds * 1000) if i == chapters - 1 else (i + 1) * step
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={i * step}", f"END={end}", f"title=Chapter {i + 1}"]
    meta = wav.with_suffix(".ffmeta")
    meta.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    run(
        "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-i", str(meta),
        "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
        "-c:a", "aac", "-b:a", "48k", "-movflags", "+faststart", str(out),
    )  # fmt: skip
    meta.unlink()
    return out


def file_list(root: Path, files: Sequence[Path]) -> tuple[tuple[str, int], ...]:
    """The torrent's view: names relative to ``root``'s parent (the torrent folder included)."""
    return tuple((f.relative_to(root.parent).as_posix(), f.stat().st_size) for f in files)


def book_text(sentences: int, *, seed: int = 1) -> str:
    rng = random.Random(seed)
    picked = [FILLER[i % len(FILLER)] for i in range(sentences)]
    rng.shuffle(picked)
    return "This is Audible. The Silent River, written by Margaret Holloway, narrated by Simon Vance. " + " ".join(
        picked
    )


def make_books(base: Path, *, sentences: int = 14) -> dict[str, Book]:
    """Good editions of one ~60 s book: ``mp3``, ``split_mp3`` (3 parts) and ``m4b`` (chaptered)."""
    wav = base / "source.wav"
    seconds = speak(book_text(sentences), wav, voice="en-gb")
    books = {}

    root = base / "mp3" / "The Silent River"
    single = encode(wav, root / "The Silent River.mp3")
    books["mp3"] = Book((single,), file_list(root, [single]), seconds)

    root = base / "split" / "The Silent River"
    third = seconds / 3
    parts = [
        encode(wav, root / f"The Silent River - Part {i + 1}.mp3", start=i * third, length=None if i == 2 else third)
        for i in range(3)
    ]
    books["split_mp3"] = Book(tuple(parts), file_list(root, parts), seconds)

    root = base / "m4b" / "The Silent River"
    m4b = encode_chaptered_m4b(wav, root / "The Silent River.m4b", title="The Silent River", author="Margaret Holloway")
    books["m4b"] = Book((m4b,), file_list(root, [m4b]), seconds)
    return books


def _copy(book: Book, dest: Path) -> tuple[Path, ...]:
    """Copy ``book``'s torrent folder under ``dest``; the copies, in the same order."""
    src_root = book.files[0].parent
    dst_root = dest / src_root.name
    shutil.copytree(src_root, dst_root)
    return tuple(dst_root / f.name for f in book.files)


def _corrupt(path: Path, *, length: int = 600, seed: int = 3) -> None:
    """Overwrite ``length`` bytes in the middle with random bytes (size unchanged)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + length] = random.Random(seed).randbytes(length)
    path.write_bytes(bytes(data))


def _truncate(path: Path, fraction: float = 0.10) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * (1 - fraction))])


def make_bad_cases(base: Path, books: dict[str, Book]) -> dict[str, Case]:
    """Every variant the integrity check must catch, and the reason code it must give."""
    cases: dict[str, Case] = {}
    mp3, split, m4b = books["mp3"], books["split_mp3"], books["m4b"]

    # A bad upload: the torrent was made from the truncated file, so sizes agree; only the
    # decoded duration shows the missing 10 % (the MP3 header still claims the full length).
    files = _copy(mp3, base / "truncated")
    _truncate(files[0])
    cases["truncated_mp3"] = Case(files, file_list(files[0].parent, files), mp3.seconds, "duration_mismatch")

    # The same truncated file against the original torrent: an incomplete download.
    files = _copy(mp3, base / "incomplete")
    _truncate(files[0])
    cases["incomplete_download"] = Case(files, mp3.expected_files, mp3.seconds, "size_mismatch")

    files = _copy(mp3, base / "padded")
    files[0].write_bytes(files[0].read_bytes() + bytes(4096))
    cases["padded_mp3"] = Case(files, mp3.expected_files, mp3.seconds, "size_mismatch")

    files = _copy(m4b, base / "wrong_size")
    name, size = m4b.expected_files[0]
    cases["wrong_size_m4b"] = Case(files, ((name, size + 1),), m4b.seconds, "size_mismatch")

    files = _copy(split, base / "extra")
    extra = files[0].parent / "Bonus Interview.mp3"
    shutil.copyfile(files[0], extra)
    cases["extra_file"] = Case((*files, extra), split.expected_files, split.seconds, "file_count_mismatch")

    files = _copy(split, base / "missing")
    files[1].unlink()
    cases["missing_file"] = Case((files[0], files[2]), split.expected_files, split.seconds, "missing_file")
    cases["missing_path"] = Case(files, None, split.seconds, "missing_file")

    files = _copy(mp3, base / "corrupt_mp3")
    _corrupt(files[0])
    cases["corrupt_mp3"] = Case(files, file_list(files[0].parent, files), mp3.seconds, "undecodable")

    files = _copy(m4b, base / "corrupt_m4b")
    _corrupt(files[0])
    cases["corrupt_m4b"] = Case(files, file_list(files[0].parent, files), m4b.seconds, "undecodable")

    files = _copy(split, base / "corrupt_split")
    _corrupt(files[1])
    cases["corrupt_split_mp3"] = Case(files, file_list(files[0].parent, files), split.seconds, "undecodable")

    # A different (abridged or padded) edition: 2 % longer than the tracker's runtime says.
    cases["duration_off"] = Case(mp3.files, mp3.expected_files, mp3.seconds / 1.02, "duration_mismatch")
    cases["duration_off_split"] = Case(split.files, split.expected_files, split.seconds * 1.03, "duration_mismatch")

    # A video-only file dressed as an audiobook.
    root = base / "no_audio" / "Picture Book"
    root.mkdir(parents=True)
    video = root / "Picture Book.m4b"
    run(
        "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=64x64:d=2",
        "-c:v", "mpeg4", "-f", "mp4", str(video),
    )  # fmt: skip
    cases["no_audio"] = Case((video,), file_list(root, [video]), None, "no_audio")
    return cases


def intro_text(title: str, author: str, narrator: str | None, phrase: str, sentences: Sequence[str]) -> str:
    opening = f"This is Audible. {title}, written by {author}"
    opening += f", {phrase} {narrator}." if narrator else "."
    return f"{opening} Chapter one. {' '.join(sentences)}"


def make_intros(base: Path, *, count: int = 40, seed: int = 11, workers: int = 2) -> list[Intro]:
    """``count`` spoken openings: voices and narrators cycle, 2–3 wrong names join each
    candidate list, every other one is an M4B."""
    rng = random.Random(seed)
    jobs = []
    for i in range(count):
        voice = VOICES[i % len(VOICES)]
        narrator = NARRATORS[(i + i // len(VOICES)) % len(NARRATORS)]
        title, author = BOOKS[(i * 3) % len(BOOKS)]
        others = rng.sample([n for n in NARRATORS if n != narrator], rng.choice((2, 3)))
        candidates = [narrator, *others]
        rng.shuffle(candidates)
        text = intro_text(title, author, narrator, PHRASES[i % len(PHRASES)], rng.sample(FILLER, 3))
        suffix = ".mp3" if i % 2 == 0 else ".m4b"
        jobs.append((base / f"intro-{i:02d}", text, voice, suffix, narrator, tuple(candidates)))

    def build(job: tuple[Path, str, str, str, str, tuple[str, ...]]) -> Intro:
        stem, text, voice, suffix, narrator, candidates = job
        wav = stem.with_suffix(".wav")
        seconds = speak(text, wav, voice=voice)
        out = encode(wav, stem.with_suffix(suffix))
        wav.unlink()
        return Intro(out, narrator, candidates, voice, seconds)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(build, jobs))


@pytest.fixture(scope="session")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Book]:
    return make_books(tmp_path_factory.mktemp("audio-books"))


@pytest.fixture(scope="session")
def bad_cases(tmp_path_factory: pytest.TempPathFactory, books: dict[str, Book]) -> dict[str, Case]:
    return make_bad_cases(tmp_path_factory.mktemp("audio-bad"), books)


@pytest.fixture(scope="session")
def intros(tmp_path_factory: pytest.TempPathFactory) -> list[Intro]:
    return make_intros(tmp_path_factory.mktemp("audio-intros"))


@pytest.fixture(scope="session")
def no_narrator_intro(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An opening with no narrator phrase and none of the usual narrator names."""
    base = tmp_path_factory.mktemp("audio-anonymous")
    text = intro_text("Salt and Iron", "David Fenwick", None, "", FILLER[:4])
    wav = base / "anonymous.wav"
    speak(text, wav, voice="en-gb")
    return encode(wav, base / "anonymous.mp3")
