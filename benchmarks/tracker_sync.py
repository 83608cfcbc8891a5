"""Tracker requests for one §4 weekly sync of every audiobook category (goal ≤ 150), counted
from the loopback tracker fake's request log, plus what the sync costs in wall time at the
client's real politeness (2–5 s between requests, a longer pause every 20–40). Figures
printed, nothing asserted.

Run: ``.venv/bin/python benchmarks/tracker_sync.py [--real-spacing]`` (``--real-spacing``
runs at the real pace: about three minutes)."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))

from tracker_fake import tracker_fake  # noqa: E402

from mamcrawler.adapters.mam import MamClient, Politeness, PolitenessLimits  # noqa: E402
from mamcrawler.app.jobs.category_sync import weekly_sync  # noqa: E402
from mamcrawler.engine import load_policy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--real-spacing", action="store_true")
    args = parser.parse_args()
    params = load_policy(ROOT / "policies").categories
    real = PolitenessLimits()
    limits = real if args.real_spacing else PolitenessLimits(0.0, 0.001, long_pause_s=(0.0, 0.001))
    with tracker_fake() as (url, fake):
        mam = MamClient(url, "cookie-0", politeness=Politeness(limits))
        t0 = time.perf_counter()
        result = weekly_sync(mam, params, set(), date.today(), base_url="https://www.myanonamouse.net")
        wall = time.perf_counter() - t0
        mam.close()
    requests = len(fake.log)
    print(f"weekly sync of {len(params.categories)} categories (top-10 from {list(params.top10_categories)})")
    print(f"  tracker requests            {requests:6d}   (goal ≤ 150)")
    print(f"  listings / missing top-10   {len(result.releases):6d} / {len(result.missing)}")
    print(
        f"  requests in flight at once  {1 + max((1 for q in fake.log if q.overlapped), default=0) - 1:6d} overlap(s)"
    )
    if args.real_spacing:
        gaps = [b.at - a.at for a, b in pairwise(fake.log)]
        low, mid = min(gaps), statistics.median(gaps)
        print(f"  wall time at real spacing   {wall:6.1f} s (gaps min {low:.2f} s, median {mid:.2f} s)")
    else:
        mean_gap = (real.min_spacing_s + real.max_spacing_s) / 2
        pauses = requests // sum(real.long_pause_every) * 2 * statistics.mean(real.long_pause_s)
        print(f"  at real spacing (estimate)  {requests * mean_gap + pauses:6.0f} s  (measured with --real-spacing)")


if __name__ == "__main__":
    main()
