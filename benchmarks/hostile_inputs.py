"""Benchmark: how fast and how small hostile policy / scenario files are refused (issue 9;
goal: each under 2 s and 200 MB peak RSS), next to loading the bundled policy and a
bundled scenario as the baseline.

Each case runs in a fresh child process that loads the file and reports the wall time of
the load and its own peak RSS (``resource.getrusage``), so one case cannot inflate another.
Run: ``.venv/bin/python benchmarks/hostile_inputs.py``. Imports ``engine`` and ``sim``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
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
base = peak_kib()
start = time.perf_counter()
if kind == "policy":
    codes = sorted({i.code for i in load_policy_with_issues(target)[1]})
else:
    try:
        load_scenario(target)
        codes = []
    except ScenarioError as err:
        codes = sorted({i.code for i in err.issues})
seconds = time.perf_counter() - start
peak = peak_kib()
print(json.dumps({"codes": codes, "seconds": seconds, "peak_kib": peak, "before_kib": base}))
"""


def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * fan) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def big_file(path: Path, size: int = 50 * 1024 * 1024) -> None:
    line = b"# " + b"x" * 1021 + b"\n"
    with path.open("wb") as out:
        for _ in range(size // len(line)):
            out.write(line)


def measure(kind: str, target: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _CHILD, kind, str(target)], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases: list[tuple[str, str, Path]] = [
            ("bundled policy (baseline)", "policy", ROOT / "policies"),
            ("bundled scenario (baseline)", "scenario", ROOT / "scenarios" / "normal_week.yaml"),
        ]
        for name, writer in (
            ("alias bomb (9 levels x 9)", lambda p: p.write_text(alias_bomb(), encoding="utf-8")),
            ("50 MB file", big_file),
            ("1 MB of '['", lambda p: p.write_text("[" * (1024 * 1024 - 1), encoding="utf-8")),
        ):
            policy = work / f"policy-{len(cases)}"
            shutil.copytree(ROOT / "policies", policy)
            writer(policy / "hostile.yaml")
            scenario = work / f"scenario-{len(cases)}.yaml"
            writer(scenario)
            cases += [(f"{name} in a policy dir", "policy", policy), (f"{name} as a scenario", "scenario", scenario)]
        print(f"{'case':<42} {'load s':>8} {'peak RSS MiB':>13} {'of which before load':>21}  codes")
        for name, kind, target in cases:
            r = measure(kind, target)
            peak, before = int(str(r["peak_kib"])) / 1024, int(str(r["before_kib"])) / 1024
            seconds = float(str(r["seconds"]))
            print(f"{name:<42} {seconds:>8.3f} {peak:>13.1f} {before:>21.1f}  {','.join(map(str, r['codes'])) or 'ok'}")
        print("goal: every hostile case refused in < 2 s with < 200 MB peak RSS")


if __name__ == "__main__":
    main()
