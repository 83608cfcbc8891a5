"""Fixtures for the qBittorrent tests: synthesised audiobooks (once per session), a
seeding qbittorrent-nox with their content, and a fresh leeching qbittorrent-nox per
test module, all on 127.0.0.1 and stopped afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from qbit_env import Book, Qbit, make_torrent, qbittorrent, synthesise_book

from mamcrawler.adapters.qbittorrent import QbitClient
from tool_checks import require_tool

require_tool("qbittorrent-nox", "espeak-ng", "ffmpeg")


@pytest.fixture(scope="session")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Book]:
    base = tmp_path_factory.mktemp("books")
    out = {}
    for name, voice in (("dune", "en-us"), ("emma", "en-gb"), ("solaris", "en-us"), ("hyperion", "en-gb")):
        path = synthesise_book(base, name, f"{name}. Narrated by Test Reader. Chapter one.", voice=voice, seconds=30)
        data, info_hash = make_torrent(path, tracker=None)
        out[name] = Book(name, data, info_hash, path)
    return out


@pytest.fixture(scope="module")
def seeder(tmp_path_factory: pytest.TempPathFactory, books: dict[str, Book]) -> Iterator[Qbit]:
    """A qbittorrent-nox that holds every book's content and seeds it."""
    with qbittorrent(tmp_path_factory.mktemp("seeder")) as qb:
        client = QbitClient(qb.url, qb.username, qb.password)
        for book in books.values():
            target = qb.downloads / book.path.name
            target.write_bytes(book.path.read_bytes())
            client._api.torrents_add(torrent_files=book.data, save_path=str(qb.downloads), is_skip_checking=True)
        client.close()
        yield qb


@pytest.fixture
def leecher(tmp_path: Path) -> Iterator[tuple[Qbit, QbitClient]]:
    with qbittorrent(tmp_path / "leecher") as qb:
        client = QbitClient(qb.url, qb.username, qb.password, timeout=5)
        yield qb, client
        client.close()
