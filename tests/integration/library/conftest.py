"""Fixtures for the library tests against the real Audiobookshelf (the session's server
and generated books come from ``abs_fixtures`` via ``tests/integration/conftest.py``):
per test a fresh copy of the books in its own folder with its own library — scanned, and
deleted afterwards — plus a recording proxy when a test must see what the client sent."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from abs_books import LibraryBook, copy_books
from abs_server import AbsLibraryEnv, AbsServer
from recording_proxy import ProxyState, recording_proxy


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
