"""Where mamcrawler may write: every output path (the database file, the decisions
journal, the lock file, the holding folder, ``simulate --json``, ``policy schema
--output``) is checked here first — never the ``.env`` file (SPEC §27: a critical block,
the secrets live there) — and every file or folder mamcrawler creates is private to the
user (files 0600, folders 0700; the store keeps the rotated tracker cookie).

A path is the ``.env`` file when, after ``~``, ``..`` and symlinks are resolved, it is the
settings file in use, the same file under another name (a hard link), or any file named
``.env``. Shared by ``store`` (the database file) and ``app`` (settings, the journal,
the commands). Imports the standard library, sqlalchemy's URL parser and ``errors``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mamcrawler.errors import CriticalBlock

ENV_FILE = Path(".env")
FILE_MODE = 0o600
DIR_MODE = 0o700


def refuse_env_file(path: Path | str, what: str, env_file: Path | None = None) -> Path:
    """``path`` if it is not the ``.env`` file; otherwise a ``CriticalBlock`` naming ``what``."""
    given = Path(path).expanduser()
    resolved = given.resolve()
    env = (env_file or ENV_FILE).expanduser().resolve()
    if ENV_FILE.name in (given.name, resolved.name) or resolved == env or _same_file(resolved, env):
        raise CriticalBlock(
            "env_file_output",
            f"{what} {str(path)!r} is the .env file ({resolved}); mamcrawler never writes it — choose another path",
        )
    return given


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///…`` URL (``None`` for other databases and in-memory SQLite)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700 folders; existing folders are left as they are."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


def private_file(path: Path, *, tighten: bool = True) -> Path:
    """Create ``path`` empty as a 0600 file (in 0700 folders) if it does not exist; with
    ``tighten`` an existing file is made 0600 too (the store and the journal, which older
    versions created world-readable)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    os.close(fd)
    if tighten:
        os.chmod(path, FILE_MODE)
    return path


def tighten_sidecars(database: Path) -> None:
    """SQLite's ``-wal``, ``-shm`` and ``-journal`` files of ``database``, made 0600 if present."""
    for suffix in ("-wal", "-shm", "-journal"):
        sidecar = database.with_name(database.name + suffix)
        if sidecar.exists():
            os.chmod(sidecar, FILE_MODE)


@contextmanager
def open_private(path: Path, mode: str = "a", *, tighten: bool = True) -> Iterator[IO[str]]:
    """Open a text file for writing (``"a"`` or ``"w"``), created 0600 in 0700 folders."""
    private_file(path, tighten=tighten)
    with path.open(mode, encoding="utf-8") as handle:
        yield handle


def write_private(path: Path, text: str) -> None:
    """Replace a file's text; a new file is created 0600 (an existing one keeps its mode)."""
    with open_private(path, "w", tighten=False) as out:
        out.write(text)
