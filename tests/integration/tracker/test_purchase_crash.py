"""A bonus-store purchase interrupted by SIGKILL after the request left and before its
answer was stored: the real daemon (``mamcrawler run --once``) against the tracker fake,
which makes the purchase and holds the answer while the daemon is killed. Restarted, the
daemon reconciles the open journal entry from the bonus history and never buys again —
even though the account (lagging, as the site's does) still shows the old VIP expiry and
the policy decides the same purchase once more."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from tracker_fake import tracker_fake

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
MAMCRAWLER = Path(sys.executable).parent / "mamcrawler"


def environment(base: Path, tracker_url: str) -> dict[str, str]:
    policies = base / "policies"
    if not policies.exists():
        shutil.copytree(ROOT / "policies", policies, ignore=shutil.ignore_patterns("tests"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QBIT_", "MAM", "MAMCRAWLER_", "PROWLARR", "ABS"))}
    env.update(
        MAM_ID="cookie-0",
        MAM_BASE_URL=tracker_url,
        MAMCRAWLER_DATABASE_URL=f"sqlite:///{base / 'store.sqlite'}",
        MAMCRAWLER_POLICIES=str(policies),
        MAMCRAWLER_JOURNAL=str(base / "decisions.jsonl"),
        MAMCRAWLER_LOCK=str(base / "lock"),
        MAMCRAWLER_EVALUATOR="reference",
    )
    return env


def journal(base: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(base / "store.sqlite") as db:
        rows = db.execute("SELECT idempotency_key, status FROM action_journal WHERE action_type='BuyVip'")
        return list(rows)


def test_purchase_killed_in_flight_is_never_made_twice(tmp_path: Path) -> None:
    vip_until = datetime.now(UTC) + timedelta(days=46)  # 46 + 28 ≤ 90: four weeks are bought early
    with tracker_fake() as (url, state):
        state.account["vip_until"] = vip_until.strftime("%Y-%m-%d %H:%M:%S")
        state.account["seedbonus"] = "12000"
        state.history.clear()
        state.apply_to_account = False  # the account keeps showing the old expiry
        state.hostile["/json/bonusBuy.php"] = "hold"
        log = (tmp_path / "first.log").open("wb")
        try:
            daemon = subprocess.Popen(
                [str(MAMCRAWLER), "run", "--once", "--no-api", "--env-file", os.devnull],
                cwd=tmp_path,
                env=environment(tmp_path, url),
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
            deadline = time.monotonic() + 90
            while not state.purchases and time.monotonic() < deadline and daemon.poll() is None:
                time.sleep(0.05)
            assert state.purchases, (tmp_path / "first.log").read_text()
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(10)
        finally:
            log.close()
            state.release.set()
        key = f"vip:{datetime.now(UTC).date().isoformat()}:4"
        assert journal(tmp_path) == [(key, "intent")]  # sent, answer never stored
        state.hostile.clear()

        restarted = subprocess.run(
            [str(MAMCRAWLER), "run", "--once", "--no-api", "--env-file", os.devnull],
            cwd=tmp_path,
            env=environment(tmp_path, url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restarted.returncode == 0, restarted.stderr
        assert "purchase_in_history" in restarted.stderr
        assert journal(tmp_path) == [(key, "applied")]
        assert [(p["type"], p["amount"]) for p in state.purchases] == [("VIP", 4)]  # bought exactly once
        assert not any("cookie-0" in line for line in (tmp_path / "decisions.jsonl").read_text().splitlines())
