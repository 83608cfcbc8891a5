"""Real audiobooks for the Audiobookshelf tests, laid out as a user's library folder
(``Author/[Series/]Title/``): one spoken opening (espeak-ng, the audio tests' ``speak``)
encoded by ffmpeg as a single MP3 with ID3 tags (album, artist, composer = narrator, an
ASIN), a split MP3 with no tags (the folder names say what it is), and a chaptered M4B
with tags; plus many tiny copies of one small file for the library benchmark."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

AUDIO_FIXTURES = Path(__file__).resolve().parent / "audio" / "conftest.py"


def audio_fixtures() -> ModuleType:
    """The audio tests' synthesis helpers (``speak``, ``wav_seconds``…), loaded under a private name."""
    if "audio_fixtures" in sys.modules:
        return sys.modules["audio_fixtures"]
    spec = importlib.util.spec_from_file_location("audio_fixtures", AUDIO_FIXTURES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class LibraryBook:
    """What a book folder holds and what Audiobookshelf should read from it."""

    folder: Path
    files: tuple[Path, ...]
    title: str
    author: str
    narrators: tuple[str, ...] = ()
    series: str | None = None
    sequence: str | None = None
    asin: str | None = None
    chapters: int = 0


def run(*args: str) -> None:
    subprocess.run(args, check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)


def opening(base: Path, text: str, *, voice: str = "en-gb") -> Path:
    """A spoken opening as WAV (espeak-ng)."""
    wav = base / "opening.wav"
    audio_fixtures().speak(text, wav, voice=voice)
    return wav


def encode_tagged(
    wav: Path,
    out: Path,
    *,
    tags: Mapping[str, str] | None = None,
    chapters: int = 0,
    start: float | None = None,
    length: float | None = None,
) -> Path:
    """``wav`` (or a slice) as MP3 (ID3 tags) or M4B (iTunes tags, ``chapters`` equal chapters)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    if start is not None:
        args += ["-ss", f"{start:.6f}"]
    if length is not None:
        args += ["-t", f"{length:.6f}"]
    args += ["-i", str(wav)]
    if chapters:
        seconds = audio_fixtures().wav_seconds(wav)
        step = int(seconds * 1000 / chapters)
        lines = [";FFMETADATA1"]
        for i in range(chapters):
            end = int(seconds * 1000) if i == chapters - 1 else (i + 1) * step
            lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={i * step}", f"END={end}", f"title=Chapter {i + 1}"]
        meta = out.with_suffix(".ffmeta")
        meta.write_text("\n".join(lines) + "\n", encoding="utf-8")
        args += ["-i", str(meta), "-map", "0:a", "-map_chapters", "1"]
    for key, value in (tags or {}).items():
        args += ["-metadata", f"{key}={value}"]
    if out.suffix == ".mp3":
        args += ["-c:a", "libmp3lame", "-b:a", "64k", "-id3v2_version", "3"]
    else:
        args += ["-c:a", "aac", "-b:a", "48k", "-movflags", "+faststart+use_metadata_tags"]
    run(*args, str(out))
    if chapters:
        out.with_suffix(".ffmeta").unlink()
    return out


def single_mp3(root: Path, wav: Path) -> LibraryBook:
    folder = root / "Margaret Holloway" / "The Silent River"
    tags = {
        "album": "The Silent River",
        "title": "The Silent River",
        "artist": "Margaret Holloway",
        "composer": "Simon Vance",
        "asin": "B00SILENT1",
    }
    mp3 = encode_tagged(wav, folder / "The Silent River.mp3", tags=tags)
    return LibraryBook(folder, (mp3,), "The Silent River", "Margaret Holloway", ("Simon Vance",), asin="B00SILENT1")


def split_mp3(root: Path, wav: Path, *, parts: int = 3) -> LibraryBook:
    """No tags: title, author, series and number come from the folder names."""
    folder = root / "Thomas Ashford" / "Harbour Trilogy" / "2 - A Harbour in Winter"
    third = audio_fixtures().wav_seconds(wav) / parts
    files = tuple(
        encode_tagged(wav, folder / f"Part {i + 1:02d}.mp3", start=i * third, length=None if i == parts - 1 else third)
        for i in range(parts)
    )
    return LibraryBook(folder, files, "A Harbour in Winter", "Thomas Ashford", series="Harbour Trilogy", sequence="2")


def chaptered_m4b(root: Path, wav: Path) -> LibraryBook:
    folder = root / "Helen Marsh" / "The Glass Orchard"
    tags = {"album": "The Glass Orchard", "title": "The Glass Orchard", "artist": "Helen Marsh"}
    tags["composer"] = "Julia Whelan, Ray Porter"
    m4b = encode_tagged(wav, folder / "The Glass Orchard.m4b", tags=tags, chapters=3)
    return LibraryBook(folder, (m4b,), "The Glass Orchard", "Helen Marsh", ("Julia Whelan", "Ray Porter"), chapters=3)


def write_library(root: Path, wav: Path) -> dict[str, LibraryBook]:
    """The three editions under ``root``: ``mp3``, ``split_mp3``, ``m4b``."""
    return {"mp3": single_mp3(root, wav), "split_mp3": split_mp3(root, wav), "m4b": chaptered_m4b(root, wav)}


def book_folder(root: Path, author: str, title: str, sources: Sequence[Path]) -> Path:
    """``root/author/title/`` holding copies of ``sources``."""
    folder = root / author / title
    folder.mkdir(parents=True, exist_ok=True)
    for source in sources:
        shutil.copy2(source, folder / source.name)
    return folder


def tiny_mp3(out: Path, *, seconds: float = 1.0) -> Path:
    """A very small silent MP3 (the benchmark copies it thousands of times)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    run(
        "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono",
        "-t", f"{seconds}", "-c:a", "libmp3lame", "-b:a", "32k", str(out),
    )  # fmt: skip
    return out


def copy_books(template: tuple[Path, dict[str, LibraryBook]], root: Path) -> dict[str, LibraryBook]:
    """A copy of a written library under ``root``, the books' paths moved with it."""
    source, books = template
    shutil.copytree(source, root)

    def moved(path: Path) -> Path:
        return root / path.relative_to(source)

    return {k: replace(b, folder=moved(b.folder), files=tuple(moved(f) for f in b.files)) for k, b in books.items()}
