"""Fixtures for the library tests against the real Audiobookshelf: one server per session
(its own config and metadata folders, root user, API key, login token), the generated
books once per session, and per test a fresh copy of the books in its own folder with its
own library — scanned, and deleted afterwards — plus a recording proxy when a test must
see what the client sent."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from abs_books import LibraryBook, copy_books, opening, write_library
from abs_server import AbsLibraryEnv, AbsServer, audiobookshelf, unavailable
from qbit_env import have
from recording_proxy import ProxyState, recording_proxy

OPENING = (
    "This is Audible. The Silent River, written by Margaret Holloway, narrated by Simon Vance. "
    "Chapter one. The morning came slowly over the hills, and the village below was still asleep."
)


@pytest.fixture(scope="session")
def abs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AbsServer]:
    with audiobookshelf(tmp_path_factory.mktemp("abs-server")) as server:
        yield server


@pytest.fixture(scope="session")
def book_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, LibraryBook]]:
    if not have("espeak-ng", "ffmpeg"):
        unavailable("espeak-ng and ffmpeg are needed to make the test audiobooks")
    base = tmp_path_factory.mktemp("abs-books")
    return base / "library", write_library(base / "library", opening(base, OPENING))


@pytest.fixture
def abs_library(
    abs_server: AbsServer, book_template: tuple[Path, dict[str, LibraryBook]], tmp_path: Path
) -> Iterator[AbsLibraryEnv]:
    """The three books in a new library of the session's server, scanned."""
    root = tmp_path / "library"
    books = copy_books(book_template, root)
    library = abs_server.create_library(f"Books {tmp_path.name}", root)
    abs_server.scan(library["id"])
    yield AbsLibraryEnv(abs_server, library["id"], root, books)
    abs_server.call("DELETE", f"/api/libraries/{library['id']}")


@pytest.fixture
def recorded() -> Iterator[tuple[str, ProxyState]]:
    with recording_proxy() as running:
        yield running
