"""Shared test settings: the hypothesis profiles (``ci`` runs ≥ 200 examples per property,
derandomized so CI is repeatable; ``dev`` is quicker), chosen by HYPOTHESIS_PROFILE; and
``MAMCRAWLER_REQUIRE_ALL_TESTS=1`` (set by ``.ci/run``): a test skipped because a program
or package is missing fails instead (``tests/tool_checks.py`` is the one way to need one;
the hook below also catches skips written another way whose reason says so)."""

from __future__ import annotations

import os
import re
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tool_checks import SWITCH, require_all

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# a skip reason that says something is not there to test with
_SAYS_MISSING = re.compile(
    r"missing|not installed|not available|unavailable|not found|needed|needs|requires|could not import|no module",
    re.IGNORECASE,
)


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_missing(report: pytest.CollectReport | pytest.TestReport) -> None:
    if require_all() and report.skipped and _SAYS_MISSING.search(_skip_reason(report)):
        report.outcome = "failed"
        report.longrepr = f"{_skip_reason(report)} — a skip for a missing tool is a failure under {SWITCH}=1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    _fail_missing(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    _fail_missing(outcome.get_result())
