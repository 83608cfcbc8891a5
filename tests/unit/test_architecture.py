"""The shape DESIGN.md promises, checked on the source: the dependency rule, a pure
engine (no I/O, no clock, no randomness, no dry-run flag — also checked at run time with
an audit hook), module docstrings and small public surfaces."""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import mamcrawler
from mamcrawler.engine import decide, load_policy
from mamcrawler.facts import Account, FactSnapshot, Release, Want

SRC = Path(mamcrawler.__file__).parent

# layer → the mamcrawler layers it may import (besides itself)
ALLOWED = {
    "errors": set(),
    "facts": {"errors"},
    "engine": {"facts", "errors"},
    "adapters": {"facts", "errors"},
    "paths": {"errors"},
    "store": {"engine", "facts", "errors", "paths"},
    "sensors": {"adapters", "store", "facts", "errors"},
    "actuators": {"adapters", "store", "engine", "facts", "errors"},
    "sim": {"engine", "facts", "errors"},
    "app": {"sensors", "actuators", "sim", "adapters", "store", "engine", "facts", "errors", "paths"},
}
ENGINE_FORBIDDEN_PACKAGES = {
    "httpx",
    "qbittorrentapi",
    "sqlalchemy",
    "requests",
    "random",
    "time",
    "socket",
    "subprocess",
}


def modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        layer = rel.parts[0].removesuffix(".py") if rel.parts[0] != "__init__.py" else "root"
        yield layer, path, ast.parse(path.read_text(encoding="utf-8"))


def imported(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_dependency_rule() -> None:
    problems = []
    for layer, path, tree in modules():
        if layer not in ALLOWED:
            continue
        for name in imported(tree):
            parts = name.split(".")
            if parts[0] == "mamcrawler" and len(parts) > 1 and parts[1] not in (layer, *ALLOWED[layer]):
                problems.append(f"{path.relative_to(SRC)} imports {name}")
            if layer == "engine" and parts[0] in ENGINE_FORBIDDEN_PACKAGES:
                problems.append(f"{path.relative_to(SRC)} imports {name}")
    assert not problems, problems


def test_engine_never_reads_the_clock() -> None:
    problems = []
    for layer, path, tree in modules():
        if layer != "engine":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"now", "utcnow", "today", "time", "monotonic"}:
                problems.append(f"{path.relative_to(SRC)}:{node.lineno} .{node.attr}")
    assert not problems, problems


def test_every_module_starts_with_a_docstring() -> None:
    missing = [str(path.relative_to(SRC)) for _, path, tree in modules() if not ast.get_docstring(tree)]
    assert not missing, missing


def test_decide_has_no_dry_run_flag_and_takes_now() -> None:
    params = inspect.signature(decide).parameters
    assert "now" in params and params["now"].kind is inspect.Parameter.KEYWORD_ONLY
    assert not [p for p in params if "dry" in p.lower()]


_WATCHING: list[str] = []
_EVENTS = ("open", "socket.", "subprocess.", "os.system", "os.exec", "os.spawn", "time.sleep")


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _WATCHING and event.startswith(_EVENTS):
        _WATCHING.append(event)


sys.addaudithook(_audit)


@pytest.fixture(scope="module")
def busy_snapshot() -> FactSnapshot:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    return FactSnapshot(
        taken_at=now,
        account=Account(
            ratio=2.0,
            uploaded_bytes=2**40,
            downloaded_bytes=2**39,
            bonus_points=90000,
            vip_until=now + timedelta(days=30),
            unsatisfied_count=0,
            unsatisfied_limit=150,
        ),
        releases=(Release(id="r1", book_key="b|a", title="B", authors=("A",), bitrate_kbps=128, size_bytes=2**30),),
        wants=(Want(book_key="b|a", title="B"),),
    )


def test_decide_performs_no_io_at_run_time(busy_snapshot: FactSnapshot) -> None:
    policy = load_policy("policies")
    now = busy_snapshot.taken_at
    decide(policy, busy_snapshot, now=now)  # warm imports and caches first
    _WATCHING[:] = ["watching"]
    try:
        batch = decide(policy, busy_snapshot, now=now)
    finally:
        seen, _WATCHING[:] = _WATCHING[1:], []
    assert batch.actions
    assert seen == []


def test_sub_packages_declare_their_public_surface() -> None:
    for package in ("facts", "engine"):
        init = ast.parse((SRC / package / "__init__.py").read_text(encoding="utf-8"))
        names = {
            t.id for node in init.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)
        }
        assert "__all__" in names, package
