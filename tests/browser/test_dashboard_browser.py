"""The dashboard in a real headless Chromium (Debian's ``chromium`` driven by Playwright;
no browser is downloaded): a cross-site form POST and a DNS-rebinding Host are refused;
the dashboard shows a ratio emergency, then — without a reload — a tracker 403 as its
cause in words; stop and start with the key work, with a confirmation. Screenshots go to
``build/screenshots`` (or ``MAMCRAWLER_SCREENSHOT_DIR``)."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "integration" / "app"))
from web_env import KEY, Served, healthy, served, snapshot

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # evil.test and rebind.test resolve to loopback: a foreign site and a rebinding name
    "--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1",
]
SHOTS = Path(os.environ.get("MAMCRAWLER_SCREENSHOT_DIR", Path(__file__).parents[2] / "build" / "screenshots"))

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh installs it)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Served]:
    with served(tmp_path) as s:
        yield s


class _Evil(BaseHTTPRequestHandler):
    target = ""

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        body = (
            "<!doctype html><html><body><h1>Cute cats</h1>"
            f'<form id="f" method="post" action="{self.target}/api/system/autonomous/stop">'
            '<input name="x" value="1"></form><script>document.getElementById("f").submit()</script>'
            "</body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def evil_site(env: Served) -> Iterator[str]:
    handler = type("Evil", (_Evil,), {"target": env.base})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://evil.test:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_cross_site_form_post_is_refused(browser, env: Served, evil_site: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    with page.expect_navigation(url=f"{env.base}/api/system/autonomous/stop"):
        page.goto(evil_site)
    assert "api_key_required" in page.content()
    page.screenshot(path=str(SHOTS / "cross_site_form_refused.png"))
    assert env.board.autonomous() is True
    page.close()


def test_rebinding_host_is_refused(browser, env: Served) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    answer = page.goto(f"http://rebind.test:{env.port}/?apikey={KEY}")
    assert answer is not None and answer.status == 421
    assert "host_not_allowed" in page.content() and "RATIO" not in page.content()
    page.screenshot(path=str(SHOTS / "rebinding_host_refused.png"))
    page.close()


def test_dashboard_emergency_live_cause_and_controls(browser, env: Served) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    page.goto(f"{env.base}/?apikey={KEY}")
    page.wait_for_url(f"{env.base}/")  # the key leaves the address bar
    page.locator("#ratio-state", has_text="RATIO EMERGENCY").wait_for()
    assert page.get_by_text("VIP AT RISK: renew soon.").is_visible()
    page.screenshot(path=str(SHOTS / "dashboard_ratio_emergency.png"), full_page=True)
    page.evaluate("window.notReloaded = true")

    env.publish(snapshot(refused=True))  # the next cycle: the tracker answers 403
    cause = "the tracker refused the cookie: set a new MAM_ID"
    page.locator("#problems li", has_text=cause).wait_for(timeout=15_000)
    assert page.locator("#ratio-state").inner_text() == f"Ratio unknown: {cause}"
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#ratio-state", has_text="RATIO EMERGENCY").count() == 0
    page.screenshot(path=str(SHOTS / "dashboard_tracker_refused_live.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.dismiss())  # "no" to the confirmation: nothing changes
    page.click("#stop")
    page.wait_for_timeout(300)
    assert env.board.autonomous() is True
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#stop")
    page.get_by_text("Autopilot is stopped").wait_for(timeout=5_000)
    assert env.board.autonomous() is False
    assert page.locator("#control-result").inner_text() == "Autopilot stopped"
    page.screenshot(path=str(SHOTS / "dashboard_stopped.png"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#start")
    page.get_by_text("Autopilot is on").wait_for(timeout=5_000)
    assert env.board.autonomous() is True
    page.close()


def test_dashboard_on_a_phone(browser, env: Served) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page.goto(f"{env.base}/?apikey={KEY}")
    page.locator("#ratio-state", has_text="RATIO EMERGENCY").wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
    page.screenshot(path=str(SHOTS / "dashboard_phone.png"), full_page=True)
    page.close()


def test_healthy_dashboard_with_a_queue(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with served(tmp_path, snap=healthy()) as env:
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(f"{env.base}/?apikey={KEY}")
        score = page.locator(".score").first
        score.wait_for()
        assert "bitrate: 3" in (score.get_attribute("title") or "")
        assert page.locator("#ratio-state").inner_text() == "Ratio healthy."
        page.screenshot(path=str(SHOTS / "dashboard_healthy_queue.png"), full_page=True)
        page.close()
