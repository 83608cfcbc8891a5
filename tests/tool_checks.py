"""One way for a test to need an outside program or an optional Python package.

``require_tool("ffmpeg", "espeak-ng")`` and ``require_module("faster_whisper")`` skip the
calling test (or module, at import time) with a reason starting ``missing tool:`` — or,
when ``MAMCRAWLER_REQUIRE_ALL_TESTS=1`` (set by ``.ci/run``), fail it instead, so CI can
never pass with a whole suite silently skipped. ``tests/conftest.py`` also turns any
other skip whose reason says something is missing into a failure under the switch."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable
from types import ModuleType

import pytest

SWITCH = "MAMCRAWLER_REQUIRE_ALL_TESTS"
MISSING = "missing tool:"


def require_all() -> bool:
    return os.environ.get(SWITCH, "") == "1"


def missing(reason: str) -> None:
    """Skip (or, under the switch, fail) because ``reason`` is not installed."""
    message = f"{MISSING} {reason}"
    if require_all():
        pytest.fail(f"{message} ({SWITCH}=1: install it, e.g. with scripts/setup.sh)", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def require_tool(*programs: str, find: Callable[[str], str | None] = shutil.which) -> None:
    """Every program must be on PATH (``find`` may look elsewhere, e.g. PostgreSQL's bin)."""
    absent = [p for p in programs if not find(p)]
    if absent:
        missing(", ".join(absent))


def require_module(name: str) -> ModuleType:
    """Import an optional package the test needs (``pytest.importorskip`` under the switch)."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        problem = str(err)
    missing(f"python package {name} ({problem})")
    raise AssertionError("unreachable: missing() raises")
