"""Benchmark of the §10 monitor cycle against a real qbittorrent-nox holding 1,000 small
torrents (figures printed, nothing asserted).

Side by side, on the same instance, through a byte-counting TCP proxy in front of the WebUI:

1. mamcrawler's cycle with incremental ``sync/maindata`` (only changes travel after the
   first poll): sense → decide → dry-run act, as ``mamcrawler run --dry-run`` does it;
2. the same cycle fed by a full ``torrents/info`` every time (what a poller without
   ``rid`` pays);
3. ``qbit_manage`` (PyPI ``qbit-manage``) in dry-run over the same instance, one run per
   cycle, installed on demand into ``.cache/bench/qbit_manage`` (its own environment: it is
   not a mamcrawler dependency). Its figure includes its process start, which is part of
   what a scheduled qbit_manage run costs.

Per idle cycle: median wall time and bytes received from qBittorrent. Goal: mamcrawler's
incremental cycle ≥ 5× faster than qbit_manage's.

Run: ``.venv/bin/python benchmarks/monitor.py [--torrents 1000] [--cycles 10] [--skip-qbit-manage]``.
Needs qbittorrent-nox (``scripts/setup.sh`` installs it)."""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import qbittorrentapi
import torf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from qbit_env import Qbit, qbittorrent  # noqa: E402
from tcp_proxy import TcpProxy  # noqa: E402

from mamcrawler.adapters.qbittorrent import QbitClient  # noqa: E402
from mamcrawler.app.runtime.settings import Settings  # noqa: E402
from mamcrawler.app.runtime.wiring import Services, build_services  # noqa: E402

QBIT_MANAGE_ENV = ROOT / ".cache" / "bench" / "qbit_manage"


class CountingProxy(TcpProxy):
    """Counts the bytes qBittorrent sends back."""

    def __init__(self, upstream_port: int) -> None:
        self.received = 0
        self._lock = threading.Lock()
        super().__init__(upstream_port)

    def relay(self, src: socket.socket, dst: socket.socket, outbound: bool) -> None:
        while chunk := src.recv(65536):
            if not outbound:
                with self._lock:
                    self.received += len(chunk)
            dst.sendall(chunk)


class FullInfoClient(QbitClient):
    """The same adapter fed by a full ``torrents/info`` each poll instead of the delta."""

    def sync(self) -> Any:
        torrents = self._call(lambda: [dict(t) for t in self._api.torrents_info()])
        transfer = self._call(lambda: dict(self._api.transfer_info()))
        self.maindata.torrents = {t["hash"]: t for t in torrents}
        self.maindata.server_state = transfer
        return self.maindata


def fill(qb: Qbit, count: int, work: Path) -> None:
    """``count`` tiny single-file torrents, added paused with their data elsewhere: an idle
    client (no state changes between cycles, the case the incremental sync is built for).
    With the data in place qBittorrent hashes added torrents one at a time, ~3 per second."""
    api = qbittorrentapi.Client(host=qb.url, username=qb.username, password=qb.password)
    files: list[bytes] = []
    for i in range(count):
        content = work / f"book-{i:04d}.mp3"  # not in qBittorrent's save path: nothing to hash
        content.write_bytes(os.urandom(16 * 1024))
        t = torf.Torrent(path=content, trackers=["http://127.0.0.1:1/announce"], private=True)
        t.generate()
        files.append(t.dump())
        if len(files) == 100 or i == count - 1:
            api.torrents_add(torrent_files=files, save_path=str(qb.downloads), category="audiobooks", tags="bench")
            files = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        torrents = api.torrents_info()
        if len(torrents) >= count and all(t.state in ("pausedDL", "stoppedDL", "stalledDL") for t in torrents):
            break
        time.sleep(1)
    api.auth_log_out()


def mamcrawler_cycle(base: Path, url: str, qb: Qbit, client_class: type[QbitClient]) -> Callable[[], None]:
    settings = Settings.model_validate(
        {
            "QBIT_URL": url,
            "QBIT_USERNAME": qb.username,
            "QBIT_PASSWORD": qb.password,
            "QBIT_TIMEOUT_SECONDS": 60,
            "MAMCRAWLER_DATABASE_URL": f"sqlite:///{base / f'{client_class.__name__}.sqlite'}",
            "MAMCRAWLER_POLICIES": str(ROOT / "policies"),
            "MAMCRAWLER_JOURNAL": str(base / f"{client_class.__name__}.jsonl"),
            "MAMCRAWLER_EVALUATOR": "durable",
        }
    )
    services: Services = build_services(settings)
    if client_class is not QbitClient and services.qbit is not None:
        services.qbit.__class__ = client_class  # same session and conversion code, other poll
    policy = services.keeper.load_initial()

    def cycle() -> None:
        services.cycle.run(policy, services.sensors, now=datetime.now(UTC), dry_run=True)

    return cycle


def qbit_manage_cycle(base: Path, url: str, qb: Qbit) -> Callable[[], None] | None:
    python = QBIT_MANAGE_ENV / "bin" / "python"
    if not python.exists():
        print("  installing qbit_manage into", QBIT_MANAGE_ENV, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(QBIT_MANAGE_ENV)], check=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "qbit-manage"], capture_output=True, text=True
        )
        if done.returncode != 0:
            print("  qbit_manage could not be installed:", done.stderr.strip().splitlines()[-1:])
            return None
    config_dir = base / "qbm"
    config_dir.mkdir(exist_ok=True)
    host = url.removeprefix("http://")
    (config_dir / "config.yml").write_text(
        "commands:\n  dry_run: true\n  cross_seed: false\n  recheck: false\n  cat_update: true\n"
        "  tag_update: true\n  rem_unregistered: false\n  tag_tracker_error: false\n  rem_orphaned: false\n"
        "  tag_nohardlinks: false\n  share_limits: false\n  skip_cleanup: true\n  skip_qb_version_check: true\n"
        f"qbt:\n  host: {host}\n  user: {qb.username}\n  pass: {qb.password}\n"
        f"settings:\n  force_auto_tmm: false\n  tracker_error_tag: issue\n"
        f"directory:\n  root_dir: {qb.downloads}\n  remote_dir: {qb.downloads}\n"
        "cat:\n  audiobooks: " + str(qb.downloads) + "\n"
        "tracker:\n  other:\n    tag: other\n"
    )
    program = QBIT_MANAGE_ENV / "bin" / "qbit-manage"
    # one run, no scheduler, no web server, dry run: categories and tags checked, nothing changed
    command = [
        str(program),
        "--run",
        "--web-server=False",
        "--config-dir",
        str(config_dir),
        "--dry-run",
        "--cat-update",
        "--tag-update",
    ]
    # No internet here: its version check to GitHub must fail at once, not wait for DNS or a
    # timeout, so the figure is qbit_manage's own work (a closed local port as the proxy).
    env = {
        **os.environ,
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    probe = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=config_dir, env=env)
    if probe.returncode != 0:
        print("  qbit_manage did not run:", (probe.stderr or probe.stdout).strip().splitlines()[-3:])
        return None

    def cycle() -> None:
        subprocess.run(command, capture_output=True, timeout=600, cwd=config_dir, check=True, env=env)

    return cycle


def measure(name: str, cycle: Callable[[], None], proxy: CountingProxy, cycles: int) -> tuple[float, float]:
    cycle()  # the first cycle logs in and fetches everything; idle cycles come after
    walls, sizes = [], []
    for _ in range(cycles):
        before = proxy.received
        t0 = time.perf_counter()
        cycle()
        walls.append(time.perf_counter() - t0)
        sizes.append(proxy.received - before)
    wall, size = statistics.median(walls), statistics.median(sizes)
    print(f"  {name:<44} {wall * 1000:9.1f} ms/cycle {size / 1024:10.1f} KiB/cycle", flush=True)
    return wall, size


def run(torrents: int, cycles: int, with_qbit_manage: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="mamcrawler-bench-") as tmp:
        base = Path(tmp)
        with qbittorrent(base / "qbit") as qb:
            t0 = time.perf_counter()
            fill(qb, torrents, base)
            print(f"qbittorrent-nox with {torrents} torrents ready in {time.perf_counter() - t0:.1f} s", flush=True)
            proxy = CountingProxy(int(qb.url.rsplit(":", 1)[1]))
            try:
                print(f"median of {cycles} idle cycles after a first full one:")
                inc = measure(
                    "mamcrawler, incremental sync/maindata",
                    mamcrawler_cycle(base, proxy.url, qb, QbitClient),
                    proxy,
                    cycles,
                )
                full = measure(
                    "mamcrawler, full torrents/info each cycle",
                    mamcrawler_cycle(base, proxy.url, qb, FullInfoClient),
                    proxy,
                    cycles,
                )
                ratio_bytes = full[1] / max(inc[1], 1)
                print(f"  incremental vs full: {full[0] / inc[0]:.1f}x faster, {ratio_bytes:.0f}x fewer bytes")
                if with_qbit_manage:
                    qbm_cycle = qbit_manage_cycle(base, proxy.url, qb)
                    if qbm_cycle is not None:
                        qbm = measure(
                            "qbit_manage --run --dry-run (incl. process start)", qbm_cycle, proxy, min(cycles, 5)
                        )
                        print(
                            f"  mamcrawler incremental vs qbit_manage: {qbm[0] / inc[0]:.1f}x faster "
                            f"(goal ≥ 5x), {qbm[1] / max(inc[1], 1):.0f}x fewer bytes"
                        )
            finally:
                proxy.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--torrents", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--skip-qbit-manage", action="store_true")
    args = parser.parse_args()
    run(args.torrents, args.cycles, not args.skip_qbit_manage)


if __name__ == "__main__":
    main()
