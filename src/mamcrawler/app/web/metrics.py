"""Prometheus ``/metrics``: gauges read from the status board at scrape time (ratio,
points, VIP days, wedges, unsatisfied, torrents by state), decisions by outcome and mode
from the journal's day counts, and what cycles count as they run (cycle duration, fact
gaps by source and code, tracker requests). Each ``Metrics`` has its own registry.
Imports prometheus_client and ``app.web``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mamcrawler.facts import FactGap

if TYPE_CHECKING:
    from mamcrawler.app.web.status import StatusBoard
    from mamcrawler.store.decisions import DecisionStore


class _BoardCollector(Collector):
    def __init__(self, owner: Metrics) -> None:
        self.owner = owner

    def collect(self) -> Iterator[GaugeMetricFamily]:
        board, decisions, now = self.owner.scrape_args()
        if board is None:
            return
        snapshot = board.snapshot
        if snapshot is not None:
            acc = snapshot.account
            values = {
                "ratio": ("Tracker ratio as reported", acc.ratio),
                "bonus_points": ("Bonus points held", acc.bonus_points),
                "wedges": ("Freeleech wedges held", acc.wedges),
                "unsatisfied": ("Snatches not yet seeded 72 h", acc.unsatisfied_count),
                "unsatisfied_limit": ("The class limit of unsatisfied snatches", acc.unsatisfied_limit),
            }
            if acc.vip_until is not None:
                days = max(0.0, (acc.vip_until - snapshot.taken_at).total_seconds() / 86400)
                values["vip_days_left"] = ("Days of VIP left", days)
            for name, (text, value) in values.items():
                if value is not None:
                    yield GaugeMetricFamily(f"mamcrawler_{name}", text, value=float(value))
            states = GaugeMetricFamily("mamcrawler_torrents", "Torrents by state", labels=["state"])
            counts: dict[str, int] = {}
            for t in snapshot.torrents:
                counts[t.state.value] = counts.get(t.state.value, 0) + 1
            for state, count in sorted(counts.items()):
                states.add_metric([state], count)
            yield states
            up = GaugeMetricFamily("mamcrawler_source_up", "1 when the source answered last cycle", labels=["source"])
            gapped = {g.source.value for g in snapshot.gaps}
            for p in snapshot.provenance:
                up.add_metric([p.source.value], 0.0 if p.source.value in gapped else 1.0)
            for source in sorted(gapped):
                up.add_metric([source], 0.0)
            yield up
        info = board.last_cycle
        if info is not None and now is not None:
            yield GaugeMetricFamily(
                "mamcrawler_last_cycle_age_seconds",
                "Seconds since the last cycle finished",
                value=(now - info.finished_at).total_seconds(),
            )
        if decisions is not None and now is not None:
            report = decisions.report(now=now, days=30)
            family = GaugeMetricFamily(
                "mamcrawler_decisions_30d", "Decisions of the last 30 days by outcome", labels=["outcome", "mode"]
            )
            for mode in ("live", "dry_run"):
                for outcome, count in report[mode]["by_outcome"].items():
                    family.add_metric([outcome, mode], count)
            yield family
        requests = self.owner.tracker_requests()
        if requests is not None:
            yield GaugeMetricFamily(
                "mamcrawler_tracker_requests_today", "Tracker requests this UTC day", value=requests
            )


class Metrics:
    def __init__(self, tracker_requests: Callable[[], int | None] = lambda: None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.tracker_requests = tracker_requests
        self.cycle_seconds = Histogram(
            "mamcrawler_cycle_duration_seconds",
            "Duration of a sense → decide → act cycle",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800),
            registry=self.registry,
        )
        self.errors = Counter(
            "mamcrawler_errors",
            "Sources that could not be read, by source and code",
            ["source", "code"],
            registry=self.registry,
        )
        self.cycles = Counter("mamcrawler_cycles", "Cycles run, by mode", ["mode"], registry=self.registry)
        self._lock = threading.Lock()
        self._args: tuple[StatusBoard | None, DecisionStore | None, datetime | None] = (None, None, None)
        self.registry.register(_BoardCollector(self))

    def observe_cycle(self, seconds: float, gaps: tuple[FactGap, ...], *, dry_run: bool) -> None:
        self.cycle_seconds.observe(seconds)
        self.cycles.labels("dry_run" if dry_run else "live").inc()
        for gap in gaps:
            self.errors.labels(gap.source.value, gap.code).inc()

    def scrape_args(self) -> tuple[StatusBoard | None, DecisionStore | None, datetime | None]:
        return self._args

    def render(self, board: StatusBoard, decisions: DecisionStore, now: datetime) -> tuple[bytes, str]:
        with self._lock:
            self._args = (board, decisions, now)
            try:
                return generate_latest(self.registry), CONTENT_TYPE_LATEST
            finally:
                self._args = (None, None, None)
