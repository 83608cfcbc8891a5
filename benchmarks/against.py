"""The simulator's year here and at another commit, both at once (one per core), so both
see the same machine: this machine's speed has been seen to vary two-fold between hours,
which makes figures taken at different times useless for a before/after. Prints each
side's time and outcome and their ratio (figures printed, nothing asserted).

Run: ``.venv/bin/python benchmarks/against.py REV [DAYS]`` (365 days by default). REV is
checked out in a temporary git worktree, removed afterwards. Each side runs its own
``benchmarks/decide.py`` year scenario with its own bundled policies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_ONE_SIDE = """
import json, sys, time
from datetime import timedelta
sys.path.insert(0, "benchmarks")
from decide import year_scenario
from mamcrawler.engine import load_policy
from mamcrawler.sim import run
scenario = year_scenario().model_copy(update={"duration": timedelta(days=int(sys.argv[1]))})
policy = load_policy("policies")
wall, cpu = time.perf_counter(), time.process_time()
result = run.simulate(scenario, policy, keep_batches=False)
s = result.summary
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "ticks": s.ticks,
                  "ratio": round(s.final_ratio, 2), "downloads": sum(s.downloads.values()),
                  "spent": sum(s.points_spent.values())}))
"""


def _start(tree: Path, days: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return subprocess.Popen(
        [sys.executable, "-c", _ONE_SIDE, str(days)], cwd=tree, env=env, stdout=subprocess.PIPE, text=True
    )


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: benchmarks/against.py REV [DAYS]")
    rev, days = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 365
    with tempfile.TemporaryDirectory(prefix="mamcrawler-against-") as tmp:
        other = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(other), rev], cwd=ROOT, check=True)
        try:
            sides = {rev: _start(other, days), "this tree": _start(ROOT, days)}
            found = {name: json.loads(proc.communicate()[0]) for name, proc in sides.items()}
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, check=False)
    print(f"simulator: {days} days at hourly ticks with 500 torrents, both sides at once")
    for name, f in found.items():
        print(
            f"  {name:12} {f['wall']:7.1f} s wall {f['cpu']:7.1f} s cpu   {f['ticks']} ticks, "
            f"ratio {f['ratio']}, {f['downloads']} downloads, {f['spent']} points spent"
        )
    before, after = found[rev]["wall"], found["this tree"]["wall"]
    print(f"  this tree takes {after / before:.2f}× the time of {rev} ({before / after:.2f}× as fast)")


if __name__ == "__main__":
    main()
