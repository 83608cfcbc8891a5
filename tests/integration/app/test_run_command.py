"""``mamcrawler run`` as a user starts it (a real subprocess): an empty ``.env`` stops with
the ``KEY=`` lines one per line and the features that stay off; a named ``--env-file``
that does not exist is an error; a busy port is one clear line; SIGTERM at start-up or
while serving ends cleanly with exit 0; the API key is made once (0600) and printed by
``mamcrawler apikey``; the log is JSON lines with no third-party noise."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[3]
ENTRY = 'import sys; from mamcrawler.app.cli.entry import main; sys.argv[0] = "mamcrawler"; main()'


def mamcrawler(*args: str, cwd: Path, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    for key in list(env):
        if key.startswith(("MAMCRAWLER_", "QBIT_", "MAM_", "ABS_", "PROWLARR_")):
            del env[key]
    return subprocess.Popen(
        [sys.executable, "-c", ENTRY, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,  # type: ignore[arg-type]
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def daemon_env(tmp_path: Path, port: int) -> Path:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"account": {"ratio": 1.5, "bonus_points": 1000}}), encoding="utf-8")
    env = tmp_path / "daemon.env"
    env.write_text(
        "\n".join(
            [
                f"MAMCRAWLER_FACTS_FILE={facts}",
                f"MAMCRAWLER_DATA_DIR={tmp_path / 'data'}",
                f"MAMCRAWLER_DATABASE_URL=sqlite:///{tmp_path / 'data' / 'm.sqlite'}",
                f"MAMCRAWLER_JOURNAL={tmp_path / 'data' / 'decisions.jsonl'}",
                f"MAMCRAWLER_LOCK={tmp_path / 'data' / 'm.lock'}",
                f"MAMCRAWLER_HOLDING_DIR={tmp_path / 'data' / 'inferior'}",
                f"MAMCRAWLER_POLICIES={REPO / 'policies'}",
                "MAMCRAWLER_EVALUATOR=reference",
                "GOODREADS_URL=",
                "AUDNEXUS_URL=",
                f"MAMCRAWLER_API_PORT={port}",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return env


def test_an_empty_env_file_stops_with_the_lines_to_add(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("", encoding="utf-8")
    proc = mamcrawler("run", "--once", cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    lines = err.splitlines()
    for key in ("MAM_ID=", "QBIT_URL=", "QBIT_USERNAME=", "QBIT_PASSWORD="):
        assert key in lines, err
    assert any(line.startswith("features that stay off") and "audiobookshelf" in line for line in lines), err


def test_a_named_env_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    proc = mamcrawler("run", "--once", "--env-file", str(tmp_path / "nope.env"), cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "nope.env does not exist" in err


def test_a_busy_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = mamcrawler("run", "--env-file", str(daemon_env(tmp_path, port)), cwd=tmp_path)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert f"error: port {port} on 127.0.0.1 is already in use" in err
    assert "Traceback" not in err


def _wait_healthy(base: str, proc: subprocess.Popen[str], timeout: float = 90) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            health = httpx.get(f"{base}/health", timeout=2).json()
            if health.get("last_cycle_age_seconds") is not None:
                return dict(health)
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the daemon never finished its first cycle")


def test_sigterm_while_serving_exits_cleanly_and_the_key_is_kept_private(tmp_path: Path) -> None:
    port = free_port()
    env_file = daemon_env(tmp_path, port)
    proc = mamcrawler("run", "--env-file", str(env_file), cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    health = _wait_healthy(base, proc)
    assert health["status"] == "ok"
    key_file = tmp_path / "data" / "api_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    printed = subprocess.run(
        [sys.executable, "-c", ENTRY, "apikey", "--env-file", str(env_file)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert printed.stdout.strip() == key
    assert httpx.get(f"{base}/api/vip/status", timeout=5).status_code == 401
    assert httpx.get(f"{base}/api/compliance/ratio", headers={"X-Api-Key": key}, timeout=5).json()["ratio"] == 1.5
    assert httpx.post(f"{base}/api/system/sync-now", headers={"X-Api-Key": key}, timeout=5).status_code == 202
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert records and all(r["logger"].startswith("mamcrawler") for r in records), err
    assert any(r["msg"] == "daemon stopped" for r in records)
    assert any(r["msg"].startswith("cycle did") for r in records)
    assert key not in err


@pytest.mark.parametrize("delay", [0.3, 1.5, 3.0])
def test_sigterm_during_start_up_exits_cleanly(tmp_path: Path, delay: float) -> None:
    proc = mamcrawler("run", "--env-file", str(daemon_env(tmp_path, free_port())), cwd=tmp_path)
    time.sleep(delay)  # importing, reading settings and checking the policy, first cycle
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_a_ratio_emergency_is_notified_once_and_a_dry_run_not_at_all(tmp_path: Path) -> None:
    """The daemon wired end to end: facts say ratio 0.5, Apprise posts to a loopback receiver."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    received: list[dict[str, object]] = []

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        env_file = daemon_env(tmp_path, free_port())
        (tmp_path / "facts.json").write_text(json.dumps({"account": {"ratio": 0.5, "bonus_points": 1000}}))
        with env_file.open("a") as out:
            out.write(f"MAMCRAWLER_APPRISE_URLS=json://127.0.0.1:{httpd.server_address[1]}/hook\n")
        for args in (("--dry-run",), (), ()):
            proc = mamcrawler("run", "--once", "--no-api", *args, "--env-file", str(env_file), cwd=tmp_path)
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        # two live runs, each incident told once (the account has no VIP end date: VIP at risk too)
        assert sorted(str(m["title"]) for m in received) == ["mamcrawler: Ratio emergency", "mamcrawler: VIP at risk"]
        ratio = next(m for m in received if m["title"] == "mamcrawler: Ratio emergency")
        assert "0.50 is below the floor" in str(ratio["message"])
    finally:
        httpd.shutdown()
        httpd.server_close()
