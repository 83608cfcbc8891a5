"""Safe edition swaps (§16, issue 9): the new edition's files replace the old ones in a
library item's folder without ever losing audio.

One swap, start to finish:
1. a marker file ``<holding>/.swaps/<swap id>.json`` records the plan (written atomically);
2. the new files are copied, **relative paths kept** (``CD1/01.mp3`` and ``CD2/01.mp3``
   both survive), into a temporary folder beside the item — the destination filesystem;
3. each copy is verified: its size equals the source's, and an optional check (the §13
   decode) passes; any failure rolls the swap back and the item is untouched;
4. the old audio files move into a holding folder **unique to this swap** (never named
   only to the second, never reused), relative paths kept;
5. the verified copies enter the item folder by hard link + unlink — a rename that
   **never overwrites** — and the temporary folder and the marker are removed.

``recover_swaps`` runs at start-up: a swap interrupted before step 4 is rolled back (the
temporary folder removed, the item never changed); one interrupted in steps 4–5 is
finished from its marker (the copies were verified). Imports the standard library and
``adapters.audio`` (for which files are audio)."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mamcrawler.adapters.audio.integrity import AUDIO_SUFFIXES
from mamcrawler.errors import ServiceError

log = logging.getLogger("mamcrawler.actuators.swap")
MARKERS = ".swaps"


class SwapError(ServiceError):
    """A swap that could not be done safely; the item folder is as it was."""

    def __init__(self, message: str) -> None:
        super().__init__("library_files", "swap_failed", message)


@dataclass(frozen=True)
class NewFile:
    """One file of the new edition: where it is, and its path inside the edition."""

    source: Path
    relative: str


@dataclass(frozen=True)
class SwapDone:
    swap_id: str
    holding: Path
    held: tuple[str, ...]
    placed: tuple[str, ...]


def relative_layout(names: Sequence[str]) -> list[str]:
    """Torrent file names → paths inside the item: the torrent's own top folder (shared by
    every file) is dropped, every deeper folder is kept. Refuses absolute or ``..`` paths."""
    parts = [PurePosixPath(n).parts for n in names]
    for n, p in zip(names, parts, strict=True):
        if not p or p[0] in ("/", "\\") or ".." in p or PurePosixPath(n).is_absolute():
            raise SwapError(f"unsafe file name in torrent: {n!r}")
    if parts and all(len(p) > 1 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    out = [str(PurePosixPath(*p)) for p in parts]
    if len(set(out)) != len(out):
        raise SwapError("two files of the new edition would land on the same path")
    return out


def _write_marker(path: Path, body: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(body, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)  # the marker is whole or absent, never half written


def _link_no_overwrite(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst`` on one filesystem; fails if ``dst`` exists (never overwrites)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.link(src, dst)  # FileExistsError when dst exists
    src.unlink()


def _hold(old: Path, target: Path) -> None:
    """Move one old file into holding (any filesystem): copy to a temporary name, verify
    the size, rename into place, then delete the original — never overwrite a held file."""
    if target.exists():
        if old.exists():
            raise SwapError(f"holding already has {target}; nothing overwritten")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copy2(old, partial)
    if partial.stat().st_size != old.stat().st_size:
        partial.unlink()
        raise SwapError(f"copy of {old.name} into holding is incomplete")
    os.link(partial, target)
    partial.unlink()
    old.unlink()


def _old_audio(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder).as_posix())
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".mamcrawler-")
    )


class FileSwapper:
    """Swaps editions in library folders; ``holding_root`` keeps every replaced file."""

    def __init__(self, holding_root: Path, *, verify: Callable[[Path], str | None] | None = None) -> None:
        self.holding_root = holding_root
        self.verify = verify  # returns a problem, or None when the copy is good (e.g. §13 decode)

    def marker_path(self, swap_id: str) -> Path:
        return self.holding_root / MARKERS / f"{swap_id}.json"

    def swap(self, item_id: str, folder: Path, new_files: Sequence[NewFile], *, swap_id: str) -> SwapDone:
        if not folder.is_dir():
            raise SwapError(f"library folder {folder} does not exist")
        if not new_files:
            raise SwapError("the new edition has no files")
        marker = self.marker_path(swap_id)
        if marker.exists():
            raise SwapError(f"swap {swap_id} was already started; recover_swaps finishes or rolls it back")
        holding = self.holding_root / item_id / swap_id
        if holding.exists():
            raise SwapError(f"holding folder {holding} already exists; nothing overwritten")
        staging = folder.parent / f".mamcrawler-swap-{swap_id}"
        plan = {
            "state": "copying",
            "item_id": item_id,
            "folder": str(folder),
            "staging": str(staging),
            "holding": str(holding),
            "new": [f.relative for f in new_files],
            "old": _old_audio(folder),
        }
        _write_marker(marker, plan)
        try:
            self._stage(staging, new_files)
        except Exception:  # a crash (kill, interrupt) leaves the marker: recover() rolls back
            self._roll_back(plan)
            marker.unlink(missing_ok=True)
            raise
        clash = [r for r in plan["new"] if (folder / r).exists() and r not in plan["old"]]
        if clash:
            self._roll_back(plan)
            marker.unlink(missing_ok=True)
            raise SwapError(f"the item folder already has {', '.join(clash)}; nothing overwritten")
        plan["state"] = "swapping"
        _write_marker(marker, plan)
        return self._finish(plan, marker)

    def _stage(self, staging: Path, new_files: Sequence[NewFile]) -> None:
        staging.mkdir(parents=True, exist_ok=False)
        for f in new_files:
            target = staging / f.relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f.source, target)
            if target.stat().st_size != f.source.stat().st_size:
                raise SwapError(f"copy of {f.relative} is {target.stat().st_size} bytes, not {f.source.stat().st_size}")
            if self.verify is not None and target.suffix.lower() in AUDIO_SUFFIXES:
                problem = self.verify(target)
                if problem:
                    raise SwapError(f"copy of {f.relative} fails its check: {problem}")

    def _finish(self, plan: dict[str, Any], marker: Path) -> SwapDone:
        folder, staging, holding = Path(plan["folder"]), Path(plan["staging"]), Path(plan["holding"])
        for rel in plan["old"]:
            old = folder / rel
            if old.exists() or not (holding / rel).exists():
                _hold(old, holding / rel)
        for rel in plan["new"]:
            staged, placed = staging / rel, folder / rel
            if staged.exists():
                _link_no_overwrite(staged, placed)
            elif not placed.exists():
                raise SwapError(f"{rel} is neither staged nor in place; marker {marker} kept for a person")
        shutil.rmtree(staging, ignore_errors=True)
        marker.unlink(missing_ok=True)
        log.info(
            "swapped %s: %d file(s) held in %s, %d placed", plan["item_id"], len(plan["old"]), holding, len(plan["new"])
        )
        return SwapDone(marker.stem, holding, tuple(plan["old"]), tuple(plan["new"]))

    @staticmethod
    def _roll_back(plan: dict[str, Any]) -> None:
        shutil.rmtree(plan["staging"], ignore_errors=True)
        holding = Path(plan["holding"])
        if holding.is_dir() and not any(holding.rglob("*")):
            holding.rmdir()

    def recover(self) -> list[tuple[str, str]]:
        """Finish or roll back every swap a crash interrupted: ``(swap id, outcome)``."""
        out: list[tuple[str, str]] = []
        folder = self.holding_root / MARKERS
        if not folder.is_dir():
            return out
        for marker in sorted(folder.glob("*.json")):
            plan = json.loads(marker.read_text(encoding="utf-8"))
            if plan.get("state") == "swapping":
                self._finish(plan, marker)
                out.append((marker.stem, "finished"))
            else:
                self._roll_back(plan)
                marker.unlink(missing_ok=True)
                out.append((marker.stem, "rolled_back"))
            log.warning("interrupted swap %s of %s %s", marker.stem, plan.get("item_id"), out[-1][1])
        return out
