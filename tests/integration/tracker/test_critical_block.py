"""A critical block on the tracker (401/403, or an answer without the account: the cookie
expired) says what to fix, makes ``run --once`` exit non-zero, leaves the account's facts
as a gap (never zeros) and is never shown as a ratio emergency or a VIP risk."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from tracker_fake import TrackerState, tracker_fake

from mamcrawler.adapters.mam import Politeness, PolitenessLimits
from mamcrawler.app.cli.main import main
from mamcrawler.app.cli.run import run_cycle
from mamcrawler.app.runtime.settings import Settings
from mamcrawler.app.runtime.wiring import build_services
from mamcrawler.app.web.dashboard import render_dashboard
from mamcrawler.facts import Source

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
FAST = PolitenessLimits(
    min_spacing_s=0.01,
    max_spacing_s=0.02,
    long_pause_every=(50, 60),
    long_pause_s=(0.01, 0.02),
    backoff_base_s=0.01,
    backoff_max_s=0.05,
    max_retries=3,
    slow_mode_after=2,
)
MODES = {"forbidden": ("*", "tracker_session_refused"), "html": ("/jsonLoad.php", "tracker_session_expired")}


@pytest.fixture(params=sorted(MODES))
def blocked(request: pytest.FixtureRequest) -> Iterator[tuple[str, TrackerState, str]]:
    path, code = MODES[request.param]
    state = TrackerState()
    state.hostile[path] = request.param
    with tracker_fake(state) as (url, _):
        yield url, state, code


def env(tmp_path: Path, url: str) -> dict[str, str]:
    return {
        "MAM_ID": "cookie-0",
        "MAM_BASE_URL": url,
        "MAMCRAWLER_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "MAMCRAWLER_POLICIES": str(ROOT / "policies"),
        "MAMCRAWLER_JOURNAL": str(tmp_path / "decisions.jsonl"),
        "MAMCRAWLER_LOCK": str(tmp_path / "mamcrawler.lock"),
    }


def test_run_once_exits_non_zero_and_says_set_a_new_mam_id(
    tmp_path: Path, blocked: tuple[str, TrackerState, str]
) -> None:
    url, _, _ = blocked
    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env(tmp_path, url).items()))
    env_file.chmod(0o600)
    result = CliRunner().invoke(main, ["run", "--once", "--no-api", "--env-file", str(env_file)])
    assert result.exit_code == 3, result.output
    assert "Set a new MAM_ID" in result.output and "tracker_account blocked" in result.output
    assert "cookie-0" not in result.output


def test_a_blocked_tracker_is_a_gap_not_a_ratio_emergency_or_vip_risk(
    tmp_path: Path, blocked: tuple[str, TrackerState, str]
) -> None:
    url, _, code = blocked
    services = build_services(Settings.model_validate(env(tmp_path, url)))
    try:
        assert services.tracker is not None
        services.tracker.polite = Politeness(FAST)
        services.keeper.load_initial()
        run_cycle(services, dry_run=False)
        snapshot, batch = services.board.snapshot, services.board.batch
        assert snapshot is not None and batch is not None
        gap = snapshot.gap_for(Source.TRACKER_ACCOUNT)
        assert gap is not None and gap.critical and gap.code == code and "Set a new MAM_ID" in gap.message
        assert snapshot.account.ratio is None and snapshot.account.bonus_points is None  # unknown, not zero
        for view in (services.board.ratio_status(), services.board.vip_status()):
            assert view["known"] is False and view["critical"] is True and "MAM_ID" in view["fix"]
            assert view.get("emergency") is not True and view.get("at_risk") is not True
        assert services.board.decisions is not None
        page = render_dashboard(services.board, services.board.decisions, now=snapshot.taken_at, api_key="k" * 32)
        assert "Tracker blocked" in page and "set a new mam_id" in page.lower()
        assert "RATIO EMERGENCY" not in page and "VIP AT RISK" not in page and "VIP safe" not in page
        assert not [a for a in batch.actions if a.type in ("BuyVip", "BuyUploadCredit", "AddTorrent")]
        assert not [a for a in batch.actions if a.type == "Alert" and a.code in ("vip_at_risk", "ratio_emergency")]
    finally:
        services.close()
