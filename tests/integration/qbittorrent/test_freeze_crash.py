"""A ratio freeze killed mid-batch, with the real daemon and a real qbittorrent-nox: the
freeze pauses our two paid downloads; the daemon is SIGKILLed while its second pause is
in flight (the request then reaches qBittorrent). Both pauses are remembered as
mamcrawler's — the first with its journal outcome, the second before it was sent — so
when the ratio recovers the restarted daemon resumes both.

Before issue 9 the memory (``frozen_torrent_hashes``) was saved only at the end of the
batch: the kill lost it, both downloads were then taken for user-paused and never
resumed (a hit-and-run risk)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from qbit_env import Qbit, make_torrent, qbittorrent
from tcp_proxy import TcpProxy

from mamcrawler.adapters.qbittorrent import QbitClient, fold_state
from mamcrawler.facts import TorrentState
from mamcrawler.store import Database, StateStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
MAMCRAWLER = Path(sys.executable).parent / "mamcrawler"
PAUSES = (b"POST /api/v2/torrents/pause", b"POST /api/v2/torrents/stop")


class SecondPauseHeld(TcpProxy):
    """Forwards everything, except that the second pause request is held until ``release``
    (then delivered, or dropped)."""

    def __init__(self, upstream_port: int, *, deliver: bool) -> None:
        self.deliver = deliver
        self.pauses = 0
        self.held_hash = ""
        self.held = threading.Event()
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
            except OSError:  # the killed daemon's socket was reset
                break
            if not chunk:
                break
            if outbound and any(p in chunk for p in PAUSES):
                self.pauses += 1
            if outbound and (buffered or (self.pauses >= 2 and any(p in chunk for p in PAUSES))):
                buffered += chunk
                if b"hashes=" in buffered:  # the whole request (headers and body) is here
                    self.held_hash = buffered.rsplit(b"hashes=", 1)[1][:40].decode()
                    self.held.set()
                continue
            dst.sendall(chunk)
        if outbound and buffered:
            self.release.wait(30)
            if self.deliver:  # on a fresh connection: qBittorrent may have closed the idle one
                with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10) as fresh:
                    fresh.sendall(buffered)
                    fresh.recv(65536)  # answered: qBittorrent has taken it

    def close(self) -> None:
        self.release.set()
        super().close()


def environment(base: Path, qbit_url: str, ratio: float) -> dict[str, str]:
    policies = base / "policies"
    if not policies.exists():
        shutil.copytree(ROOT / "policies", policies, ignore=shutil.ignore_patterns("tests"))
    now = datetime.now(UTC)
    account = {
        "user_class": "VIP",
        "ratio": ratio,
        "uploaded_bytes": int(100 * 2**30 * ratio),
        "downloaded_bytes": 100 * 2**30,
        "bonus_points": 3000,
        "vip_until": (now + timedelta(days=60)).isoformat(),
        "unsatisfied_count": 0,
        "unsatisfied_limit": 150,
    }
    (base / "facts.json").write_text(json.dumps({"account": account}))
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
        MAMCRAWLER_EVALUATOR="reference",
    )
    return env


def frozen(base: Path) -> set[str]:
    db = Database(f"sqlite:///{base / 'store.sqlite'}")
    try:
        return set(StateStore(db).memory(today=datetime.now(UTC).date().isoformat()).frozen_torrent_hashes)
    finally:
        db.dispose()


def paused(client: QbitClient) -> dict[str, bool]:
    return {
        str(t["hash"]): fold_state(str(t["state"])) is TorrentState.PAUSED_DOWNLOAD for t in client._api.torrents_info()
    }


def wait_paused(client: QbitClient, expect: dict[str, bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while paused(client) != expect:
        assert time.monotonic() < deadline, paused(client)
        time.sleep(0.2)


@pytest.fixture
def qbit(tmp_path: Path) -> Iterator[Qbit]:
    with qbittorrent(tmp_path / "qbit") as qb:
        yield qb


@pytest.mark.parametrize("delivered", [True, False], ids=["pause-arrived", "pause-lost"])
def test_a_freeze_killed_mid_batch_keeps_its_pauses_and_recovery_resumes_them(
    tmp_path: Path, qbit: Qbit, delivered: bool
) -> None:
    base = tmp_path / "run"
    base.mkdir()
    client = QbitClient(qbit.url, "admin", "adminadmin")
    hashes = []
    for name in ("first", "second"):
        content = tmp_path / f"{name}.mp3"
        content.write_bytes(name.encode() * 50_000)
        data, info_hash = make_torrent(content, tracker=None)  # no peers: it stays downloading
        client.add_torrent(data, category="audiobooks", tags=["mamcrawler"])
        hashes.append(info_hash)
    wait_paused(client, dict.fromkeys(hashes, False))

    proxy = SecondPauseHeld(int(qbit.url.rsplit(":", 1)[1]), deliver=delivered)
    log = (base / "first.log").open("wb")
    try:
        daemon = subprocess.Popen(
            [str(MAMCRAWLER), "run", "--once", "--no-api", "--env-file", os.devnull],
            cwd=base,
            env=environment(base, proxy.url, ratio=1.03),  # at the floor's margin: freeze
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        assert proxy.held.wait(90), (base / "first.log").read_text()
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait(10)
        assert frozen(base) == set(hashes)  # the kill lost neither: the second is remembered before it left
        proxy.release.set()
        first = next(h for h in hashes if h != proxy.held_hash)
        wait_paused(client, {first: True, proxy.held_hash: delivered})
    finally:
        proxy.close()
        log.close()

    restarted = subprocess.run(
        [str(MAMCRAWLER), "run", "--once", "--no-api", "--env-file", os.devnull],
        cwd=base,
        env=environment(base, qbit.url, ratio=1.2),  # recovered
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restarted.returncode == 0, restarted.stderr
    assert ("torrent_paused" if delivered else "torrent_not_paused") in restarted.stderr  # settled from qBittorrent
    wait_paused(client, dict.fromkeys(hashes, False))  # the freeze's pauses undone, both
    assert frozen(base) == set()
    client.close()
