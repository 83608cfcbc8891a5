"""``MAMCRAWLER_REQUIRE_ALL_TESTS=1`` (set by ``.ci/run``) turns every "tool missing" skip
into a failure — through ``tool_checks.require_tool`` / ``require_module`` and, for a skip
written another way, through the conftest hook — while without it the test is skipped.
The cases run as one small pytest session in a child process, on generated test files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent

NEEDS_TOOL = "from tool_checks import require_tool\n"
CASES = {
    "tool": NEEDS_TOOL + "\ndef test_x():\n    require_tool('no-such-program-xyz')\n",
    "module_level": NEEDS_TOOL + "require_tool('no-such-program-xyz')\n\ndef test_x():\n    pass\n",
    "package": "from tool_checks import require_module\nrequire_module('no_such_xyz')\n\ndef test_x():\n    pass\n",
    "plain_skip": "import pytest\n\ndef test_x():\n    pytest.skip('opentracker is not installed')\n",
    "skipif": "import pytest\n\n@pytest.mark.skipif(True, reason='needs no-such-program')\ndef test_x():\n    pass\n",
    "unrelated_pass": "def test_x():\n    pass\n",
}


KEEP_GOING = ("--continue-on-collection-errors",)


def run_cases(folder: Path, *, switch: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MAMCRAWLER_REQUIRE_ALL_TESTS"}
    if switch:
        env["MAMCRAWLER_REQUIRE_ALL_TESTS"] = "1"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfEs",
            "--continue-on-collection-errors",
            str(folder),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture
def generated() -> Iterator[Path]:
    """The cases as test files under tests/ (so the real conftest and tool_checks apply)."""
    folder = TESTS / "unit" / f"generated_{os.getpid()}"
    folder.mkdir()
    try:
        for name, body in CASES.items():
            (folder / f"test_case_{name}.py").write_text(body, encoding="utf-8")
        yield folder
    finally:
        shutil.rmtree(folder)


def test_missing_tool_skips_without_the_switch_and_fails_with_it(generated: Path) -> None:
    relaxed = run_cases(generated, switch=False)
    strict = run_cases(generated, switch=True)

    assert relaxed.returncode == 0, relaxed.stdout
    assert relaxed.stdout.splitlines()[-1].startswith("1 passed, 5 skipped"), relaxed.stdout
    assert strict.returncode == 1, strict.stdout
    failed = {name for name in CASES if f"test_case_{name}.py" in strict.stdout.split("short test summary")[-1]}
    assert failed == set(CASES) - {"unrelated_pass"}, strict.stdout
    assert "skipped" not in strict.stdout.splitlines()[-1], strict.stdout


def test_ci_sets_the_switch_and_still_runs_exactly_the_readme_command() -> None:
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]

    assert "export MAMCRAWLER_REQUIRE_ALL_TESTS=1" in lines
    assert lines[-1] == "bash scripts/test.sh"
    assert lines.index("export MAMCRAWLER_REQUIRE_ALL_TESTS=1") < lines.index("bash scripts/test.sh")
