"""The real Audiobookshelf's session fixtures, shared by every integration directory that
needs the server (``library/``, ``qbittorrent/``): one server per pytest session (its own
config and metadata folders, root user, API key, login token) and the generated books once
per session. Registered by ``tests/integration/conftest.py`` so a single ``pytest
tests/integration`` run starts the server once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from abs_books import LibraryBook, opening, write_library
from abs_server import AbsServer, audiobookshelf, unavailable
from qbit_env import have

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
