"""Crash safety of the action journal with the real daemon and a real qbittorrent-nox: the
daemon is SIGKILLed while its ``torrents/add`` request is held in flight (after the
journal intent, before the outcome). Restarted, it reconciles the open entry against
qBittorrent — finishing it when the add arrived, rolling it back and adding once when
it did not — and the torrent exists exactly once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from qbit_env import Book, Qbit, qbittorrent
from tcp_proxy import TcpProxy

from mamcrawler.adapters.qbittorrent import QbitClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
MAMCRAWLER = Path(sys.executable).parent / "mamcrawler"


class HoldingProxy(TcpProxy):
    """Holds any ``POST /api/v2/torrents/add`` until released: then forwards it (``deliver``)
    or drops it."""

    def __init__(self, upstream_port: int, *, deliver: bool) -> None:
        self.deliver = deliver
        self.add_seen = threading.Event()
        self.release = threading.Event()
        super().__init__(upstream_port)

    def relay(self, src: socket.socket, dst: socket.socket, outbound: bool) -> None:
        src.settimeout(0.2)
        buffered = b""
        while not self.stop.is_set():
            try:
                chunk = src.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # the killed client resets its socket: what we hold still goes on
                break
            if not chunk:
                break
            if outbound and (b"POST /api/v2/torrents/add" in chunk or buffered):
                buffered += chunk
                if _complete(buffered):  # the whole request is held: the kill cannot cut it short
                    self.add_seen.set()
                if not self.release.wait(0.05):
                    continue
                chunk, buffered = buffered, b""
                if not self.deliver:
                    return
            dst.sendall(chunk)
        if outbound and buffered:
            self.release.wait(30)
            if self.deliver:
                dst.sendall(buffered)
                time.sleep(1.0)  # let qBittorrent process the add before we hang up

    def close(self) -> None:
        self.release.set()
        super().close()


def _complete(request: bytes) -> bool:
    """Whether ``request`` holds its headers and the whole body its Content-Length names."""
    head, sep, body = request.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return True


def environment(base: Path, qbit_url: str, book: Book) -> dict[str, str]:
    policies = base / "policies"
    if not policies.exists():
        shutil.copytree(ROOT / "policies", policies, ignore=shutil.ignore_patterns("tests"))
    torrents = base / "torrents"
    torrents.mkdir(exist_ok=True)
    (torrents / "rel-1.torrent").write_bytes(book.data)
    now = datetime.now(UTC)
    facts = {
        "account": {
            "user_class": "VIP",
            "ratio": 2.0,
            "uploaded_bytes": 200 * 2**30,
            "downloaded_bytes": 100 * 2**30,
            "bonus_points": 3000,
            "vip_until": (now + timedelta(days=60)).isoformat(),
            "unsatisfied_count": 0,
            "unsatisfied_limit": 150,
        },
        "releases": [
            {
                "id": "rel-1",
                "tracker_id": 1,
                "book_key": "dune|author",
                "title": "Dune",
                "authors": ["Author"],
                "bitrate_kbps": 64,
                "size_bytes": 1000,
                "seeders": 1,
                "leechers": 0,
                "free": "site_freeleech",
            }
        ],
        "wants": [{"book_key": "dune|author", "title": "Dune"}],
        "library": [],  # no Audiobookshelf here: the library is known and empty
    }
    (base / "facts.json").write_text(json.dumps(facts))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QBIT_", "MAM", "MAMCRAWLER_"))}
    env.update(
        QBIT_URL=qbit_url,
        QBIT_USERNAME="admin",
        QBIT_PASSWORD="adminadmin",
        QBIT_TIMEOUT_SECONDS="20",
        MAMCRAWLER_DATABASE_URL=f"sqlite:///{base / 'store.sqlite'}",
        MAMCRAWLER_POLICIES=str(policies),
        MAMCRAWLER_JOURNAL=str(base / "decisions.jsonl"),
        MAMCRAWLER_LOCK=str(base / "lock"),
        MAMCRAWLER_FACTS_FILE=str(base / "facts.json"),
        MAMCRAWLER_TORRENT_DIR=str(torrents),
        MAMCRAWLER_EVALUATOR="reference",
    )
    return env


def journal_rows(base: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(base / "store.sqlite") as db:
        return list(db.execute("SELECT idempotency_key, status FROM action_journal WHERE action_type='AddTorrent'"))


@pytest.fixture
def qbit(tmp_path: Path) -> Iterator[Qbit]:
    with qbittorrent(tmp_path / "qbit") as qb:
        yield qb


@pytest.mark.parametrize("request_arrives", [True, False], ids=["add-arrived", "add-lost"])
def test_sigkill_between_intent_and_outcome_adds_nothing_twice(
    tmp_path: Path, qbit: Qbit, books: dict[str, Book], request_arrives: bool
) -> None:
    book = books["dune"]
    base = tmp_path / "daemon"
    base.mkdir()
    proxy = HoldingProxy(int(qbit.url.rsplit(":", 1)[1]), deliver=request_arrives)
    first_log = (base / "first-run.log").open("wb")
    try:
        env = environment(base, f"http://127.0.0.1:{proxy.port}", book)
        daemon = subprocess.Popen(
            [str(MAMCRAWLER), "run", "--once", "--no-api", "--env-file", os.devnull],
            cwd=base,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=first_log,
            start_new_session=True,
        )
        assert proxy.add_seen.wait(60), "the daemon never sent the add"
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait(10)
        assert journal_rows(base) == [("add:rel-1", "intent")]  # intent on disk, no outcome
        proxy.release.set()
        if request_arrives:  # wait until qBittorrent has really taken the add (slow under load)
            probe = QbitClient(qbit.url, "admin", "adminadmin")
            deadline = time.monotonic() + 30
            while not probe.has_torrent(book.info_hash) and time.monotonic() < deadline:
                time.sleep(0.2)
            probe.close()
        else:
            time.sleep(1.5)
    finally:
        proxy.close()
        first_log.close()

    restarted = subprocess.run(
        [str(MAMCRAWLER), "run", "--once", "--no-api", "--env-file", os.devnull],
        cwd=base,
        env=environment(base, qbit.url, book),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restarted.returncode == 0, restarted.stderr
    expected = "torrent_present" if request_arrives else "torrent_absent"
    assert expected in restarted.stderr
    client = QbitClient(qbit.url, "admin", "adminadmin")
    client.sync()
    hashes = [t.hash for t in client.torrent_facts()]
    client.close()
    assert hashes == [book.info_hash]  # exactly once
    assert journal_rows(base) == [("add:rel-1", "applied")]
