"""Hostile policy and scenario files (issue 9): an alias bomb, a 50 MB file, 1 MB of ``[``,
a recursive alias and out-of-range numbers are located errors — exit 1, no traceback,
refused fast and small — and the policy keeper does not re-read an unchanged directory.

The time and memory bounds here are generous sanity limits measured in a child process;
the real figures come from ``benchmarks/hostile_inputs.py``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mamcrawler.app.cli.main import main
from mamcrawler.app.runtime import policy_keeper
from mamcrawler.app.runtime.policy_keeper import PolicyKeeper
from mamcrawler.engine.policy.yaml_source import parse_located

ROOT = Path(__file__).resolve().parents[3]
POLICIES = ROOT / "policies"
SCENARIO = ROOT / "scenarios" / "normal_week.yaml"
FIFTY_MB = 50 * 1024 * 1024


def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    """The classic "billion laughs": each level is ``fan`` aliases of the one before."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * fan) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    return "\n".join(lines) + "\n"


def write_big(path: Path, size: int = FIFTY_MB) -> None:
    line = b"# " + b"x" * 1021 + b"\n"
    with path.open("wb") as out:
        for _ in range(size // len(line)):
            out.write(line)


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


# A child process loads the file and reports its own wall time and peak RSS, so the bounds
# are about this load only (not about other tests in this process).
_MEASURE = """
import json, resource, sys, time
from pathlib import Path

def peak_kib():
    # VmHWM belongs to this program's memory map (ru_maxrss would carry the forking parent's peak over exec)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

from mamcrawler.engine.policy.loader import load_policy_with_issues
from mamcrawler.errors import ScenarioError
from mamcrawler.sim.scenario_file import load_scenario
kind, target = sys.argv[1], Path(sys.argv[2])
# a loader without limits must fail this test, not swallow the machine's memory
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
start = time.perf_counter()
if kind == "policy":
    codes = [i.code for i in load_policy_with_issues(target)[1]]
else:
    try:
        load_scenario(target)
        codes = []
    except ScenarioError as err:
        codes = [i.code for i in err.issues]
elapsed = time.perf_counter() - start
print(json.dumps({"codes": codes, "seconds": elapsed, "rss_kib": peak_kib()}))
"""


def measured_load(kind: str, target: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, kind, str(target)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("kind", ["policy", "scenario"])
@pytest.mark.parametrize("hostile", ["alias_bomb", "fifty_mb", "deep_nesting"])
def test_hostile_file_is_refused_in_under_2_s_and_200_mb(tmp_path: Path, kind: str, hostile: str) -> None:
    if kind == "policy":
        target = tmp_path / "policies"
        shutil.copytree(POLICIES, target)
        path = target / "hostile.yaml"
    else:
        target = path = tmp_path / "scenario.yaml"
    if hostile == "alias_bomb":
        path.write_text(alias_bomb(), encoding="utf-8")
    elif hostile == "deep_nesting":
        path.write_text("[" * (1024 * 1024 - 1), encoding="utf-8")  # just under the size cap
    else:
        write_big(path)

    result = measured_load(kind, target)

    expected = {"alias_bomb": "alias_budget", "fifty_mb": "file_too_large", "deep_nesting": "too_deep"}[hostile]
    assert result["codes"] == [expected]
    assert isinstance(result["seconds"], float) and result["seconds"] < 2.0, result
    assert isinstance(result["rss_kib"], int) and result["rss_kib"] < 200 * 1024, result


def test_policy_check_reports_the_bomb_located_with_exit_1(policy_dir: Path) -> None:
    (policy_dir / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    write_big(policy_dir / "huge.yaml")

    done = CliRunner().invoke(main, ["policy", "check", str(policy_dir)])

    assert done.exit_code == 1
    assert "Traceback" not in done.output
    assert f"{policy_dir / 'bomb.yaml'}:" in done.output and "alias_budget" in done.output
    assert f"{policy_dir / 'huge.yaml'}:1:1: file_too_large:" in done.output


def test_recursive_alias_deep_nesting_and_too_many_aliases_are_located() -> None:
    _, recursive = parse_located("a: &x [1, *x]\n", "r.yaml")
    _, deep = parse_located("a: " + "[" * 5000 + "]" * 5000 + "\n", "d.yaml")
    many = "base: &b 1\nlist: [" + ", ".join(["*b"] * 500) + "]\n"
    _, aliases = parse_located(many, "m.yaml")

    assert [(i.code, i.line) for i in recursive] == [("alias_budget", 1)]
    assert [i.code for i in deep] == ["too_deep"]
    assert [i.code for i in aliases] == ["alias_budget"]


def test_a_few_aliases_still_work() -> None:
    doc, issues = parse_located("a: &x {q: 1}\nb: *x\nc: [*x, *x]\n", "ok.yaml")

    assert issues == [] and doc is not None
    assert doc.data == {"a": {"q": 1}, "b": {"q": 1}, "c": [{"q": 1}, {"q": 1}]}


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("vip_days: 55", "vip_days: 1e300", "number_out_of_range"),
        ("vip_days: 55", "vip_days: 100000", "number_out_of_range"),
        ("vip_days: 55", "vip_days: .inf", "number_out_of_range"),
        ("start: 2026-03-02T00:00:00Z", "start: 9999-12-30T00:00:00Z", "date_out_of_range"),
        ("duration: 7d", "duration: 99999999999w", "invalid_value"),
        ("duration: 7d", "duration: 600w", "duration_out_of_range"),
        ("duration: 7d\ntick: 1h", "duration: 500w\ntick: 1m", "too_many_ticks"),
        ("uploaded_gib: 900", 'uploaded_gib: "1e300"', "number_out_of_range"),
    ],
)
def test_scenario_values_out_of_range_are_located_errors(tmp_path: Path, old: str, new: str, code: str) -> None:
    text = SCENARIO.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "scenario.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    where = new.splitlines()[-1]  # the problem is reported at the last line written
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if where in row)

    done = CliRunner().invoke(main, ["simulate", str(path), "--policies", str(POLICIES)])

    assert done.exit_code == 1, done.output
    assert "Traceback" not in done.output
    assert isinstance(done.exception, SystemExit)
    assert f"{path}:{line}:" in done.output and f": {code}: " in done.output, done.output


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("schedule.yaml", "monitor_minutes: 5", "monitor_minutes: 100000000"),
        ("vip.yaml", "floor_days: 7 ", "floor_days: .inf "),
        ("ratio.yaml", "recover_at: 1.10", "recover_at: 1e300"),
        ("vip.yaml", "reserve_points: 1250", "reserve_points: 9007199254740993"),
    ],
)
def test_policy_numbers_out_of_range_are_located_errors(policy_dir: Path, file: str, old: str, new: str) -> None:
    path = policy_dir / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if new.strip() in row)

    done = CliRunner().invoke(main, ["policy", "check", str(policy_dir)])

    assert done.exit_code == 1
    assert f"{path}:{line}:3: number_out_of_range: params." in done.output, done.output


def test_keeper_reads_nothing_while_the_directory_is_untouched(
    policy_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper = PolicyKeeper(policy_dir)
    first = keeper.load_initial()
    reads: list[Path] = []
    fingerprint = policy_keeper.directory_fingerprint
    monkeypatch.setattr(policy_keeper, "directory_fingerprint", lambda d: reads.append(d) or fingerprint(d))
    write_big(policy_dir / "huge.yaml")

    assert keeper.refresh() is first  # the hostile file is refused once …
    assert keeper.history[-1] == f"rejected change, kept {first.version}"
    for _ in range(5):
        assert keeper.refresh() is first  # … and not looked at again while nothing changes
    assert len(reads) == 1
