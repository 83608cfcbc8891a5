"""The qBittorrent adapter against real qbittorrent-nox: a real download from a loopback
seeder observed downloading → seeding through incremental sync; idempotent add; pause,
resume, force-resume, reannounce; preferences really change; removal keeps data; and a
stopped server, a wrong password or a server that never answers become clear errors."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from qbit_env import Book, Qbit, qbittorrent

from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.errors import ServiceAuthError, ServiceUnavailable
from mamcrawler.facts import TorrentState

pytestmark = pytest.mark.integration


def wait_for(client: QbitClient, info_hash: str, predicate, seconds: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        client.sync()
        facts = {t.hash: t for t in client.torrent_facts()}
        torrent = facts.get(info_hash)
        if torrent is not None:
            seen.append(torrent.state)
            if predicate(torrent):
                return torrent, seen
        time.sleep(0.2)
    raise AssertionError(f"condition not reached; states seen: {seen[-10:]}")


def test_real_download_goes_downloading_to_seeding(
    seeder: Qbit, leecher: tuple[Qbit, QbitClient], books: dict[str, Book]
) -> None:
    qb, client = leecher
    book = books["dune"]
    assert client.add_torrent(book.data, category="audiobooks", tags=["mamcrawler"], paused=True) == book.info_hash
    before, _ = wait_for(client, book.info_hash, lambda t: t.progress < 1.0)
    client.resume([book.info_hash])
    client.add_peers([book.info_hash], [seeder.peer])
    torrent, seen = wait_for(
        client,
        book.info_hash,
        lambda t: t.progress >= 1.0 and t.state in (TorrentState.SEEDING, TorrentState.STALLED_UPLOAD),
    )
    assert before.state is not TorrentState.SEEDING and before.progress < 1.0
    assert seen[-1] in (TorrentState.SEEDING, TorrentState.STALLED_UPLOAD)
    assert torrent.progress == 1.0
    assert (qb.downloads / book.path.name).read_bytes() == book.path.read_bytes()
    assert torrent.category == "audiobooks" and "mamcrawler" in torrent.tags
    assert client.free_space_bytes() is not None


def test_incremental_sync_sends_only_changes(leecher: tuple[Qbit, QbitClient], books: dict[str, Book]) -> None:
    _, client = leecher
    client.add_torrent(books["emma"].data, category="audiobooks", tags=[], paused=True)
    client.sync()
    first = client.bytes_received
    client.sync()
    second = client.bytes_received - first
    assert client.maindata.rid > 0 and client.maindata.updates == 2
    assert books["emma"].info_hash in client.maindata.torrents  # kept from the first answer
    assert second < first / 2


def test_add_is_idempotent_and_remove_keeps_data(
    seeder: Qbit, leecher: tuple[Qbit, QbitClient], books: dict[str, Book]
) -> None:
    qb, client = leecher
    book = books["solaris"]
    assert client.add_torrent(book.data, category="audiobooks", tags=[]) == book.info_hash
    assert client.add_torrent(book.data, category="audiobooks", tags=[]) == book.info_hash
    client.sync()
    assert [t.hash for t in client.torrent_facts()].count(book.info_hash) == 1
    client.add_peers([book.info_hash], [seeder.peer])
    wait_for(client, book.info_hash, lambda t: t.progress >= 1.0)
    client.remove([book.info_hash])
    assert not client.has_torrent(book.info_hash)
    assert (qb.downloads / book.path.name).exists()


def test_pause_resume_force_and_reannounce(leecher: tuple[Qbit, QbitClient], books: dict[str, Book]) -> None:
    _, client = leecher
    book = books["hyperion"]
    client.add_torrent(book.data, category="audiobooks", tags=[])
    client.pause([book.info_hash])
    wait_for(client, book.info_hash, lambda t: t.state is TorrentState.PAUSED_DOWNLOAD)
    client.resume([book.info_hash], force=True)
    resumed, _ = wait_for(client, book.info_hash, lambda t: t.state is not TorrentState.PAUSED_DOWNLOAD)
    assert resumed.state is not TorrentState.PAUSED_DOWNLOAD
    client.reannounce([book.info_hash])  # accepted without error


def test_seeding_allocation_changes_real_preferences(leecher: tuple[Qbit, QbitClient]) -> None:
    _, client = leecher
    client.set_seeding_allocation(upload_slots=77, active_seeds=33)
    prefs = client.preferences()
    assert prefs["max_uploads"] == 77 and prefs["max_active_uploads"] == 33
    assert prefs["max_active_torrents"] >= 33


def test_wrong_password_is_an_auth_error(tmp_path: Path) -> None:
    with qbittorrent(tmp_path / "auth", auth=True, password="right-password") as qb:
        good = QbitClient(qb.url, "admin", "right-password")
        assert good.version().startswith("v")
        bad = QbitClient(qb.url, "admin", "wrong-password")
        with pytest.raises(ServiceAuthError) as err:
            bad.sync()
        assert err.value.code == "bad_credentials"
        assert "wrong-password" not in str(err.value)
        good.close()
        bad.close()


def test_stopped_server_is_unavailable(tmp_path: Path) -> None:
    with qbittorrent(tmp_path / "down") as qb:
        client = QbitClient(qb.url, qb.username, qb.password, timeout=2)
        client.sync()
    with pytest.raises(ServiceUnavailable) as err:
        client.sync()
    assert err.value.code in ("unreachable", "timeout")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: a hung service."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_server_that_never_answers_times_out(silent_server: str) -> None:
    client = QbitClient(silent_server, "admin", "x", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as err:
        client.sync()
    assert err.value.code == "timeout"
    assert time.monotonic() - started < 10
    client.close()
