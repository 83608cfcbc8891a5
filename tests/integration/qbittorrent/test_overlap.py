"""One cycle at a time in a process, against a real qbittorrent-nox: two daemon jobs
(monitor and the daily check) started together through ``daemon.run_job``, the second
arriving while the first is half-way through adding its downloads. With a daily budget
of 5 and ten wanted free releases, exactly 5 are added and ``downloads_today`` is 5.

Before issue 9 the jobs overlapped on the scheduler's thread pool: the second read
``downloads_today`` = 0 (the first saved its counters only at the end of its batch) and
added its own 4, so 9 torrents were added while the counter said 5."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from qbit_env import Book, make_torrent
from test_monitor_cycle import World

from mamcrawler.actuators.ports import BeforeRequest, TorrentFiles
from mamcrawler.app.cli.run import run_cycle
from mamcrawler.app.runtime import daemon
from mamcrawler.engine.actions import AddTorrent

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BUDGET = 5


class HalfwayGate:
    """The torrent folder, with a pause before the first job's last add: there the first
    job waits (a few seconds at most) for the second to finish — which it can only do if
    the two run at the same time."""

    def __init__(self, inner: TorrentFiles) -> None:
        self.inner, self.fetched = inner, 0
        self.first_halfway, self.second_done = threading.Event(), threading.Event()

    def fetch(self, action: AddTorrent, *, before_request: BeforeRequest | None = None) -> bytes:
        self.fetched += 1
        if self.fetched == BUDGET:
            self.first_halfway.set()
            self.second_done.wait(5)
        return self.inner.fetch(action, before_request=before_request)


def tiny_books(base: Path, count: int) -> list[Book]:
    base.mkdir(parents=True, exist_ok=True)
    out = []
    for n in range(count):
        path = base / f"book{n:02d}.mp3"
        path.write_bytes(bytes([n]) * (20_000 + n))
        data, info_hash = make_torrent(path, tracker=None)
        out.append(Book(f"book{n:02d}", data, info_hash, path))
    return out


def test_overlapping_jobs_honour_the_daily_cap_and_count_exactly(tmp_path: Path, leecher: tuple) -> None:  # type: ignore[type-arg]
    qb, client = leecher
    world = World(tmp_path / "world", qb)
    try:
        pacing = Path(world.settings.policies_dir) / "pacing.yaml"
        pacing.write_text(pacing.read_text().replace("daily_downloads: 10", f"daily_downloads: {BUDGET}"))
        for n, book in enumerate(tiny_books(tmp_path / "books", 10)):
            world.offer(f"r{n:02d}", book, free=True)
        services = world.services
        assert services.executor.files is not None
        gate = HalfwayGate(services.executor.files)
        services.executor.files = gate
        daemon.register_job("monitor", lambda: run_cycle(services, dry_run=False))
        daemon.register_job("daily_tracker_check", lambda: run_cycle(services, dry_run=False))

        def second() -> None:
            gate.first_halfway.wait(60)
            daemon.run_job("daily_tracker_check")
            gate.second_done.set()

        jobs = [threading.Thread(target=daemon.run_job, args=("monitor",)), threading.Thread(target=second)]
        for job in jobs:
            job.start()
        for job in jobs:
            job.join(120)

        client.sync()
        added = [t for t in client.torrent_facts() if "mamcrawler" in t.tags]
        applied = [e for e in services.journal.entries(action_type="AddTorrent") if e.status == "applied"]
        memory = services.state.memory(today=datetime.now(UTC).date().isoformat())
        assert (len(added), len(applied), memory.downloads_today) == (BUDGET, BUDGET, BUDGET)
    finally:
        world.services.close()
