"""What a simulation run produced: per-tick batches with the applied effect of each action,
the purchases and downloads the world carried out, and the ``Summary`` figures. Imports
``engine`` (records) and the ``sim`` world types."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from mamcrawler.engine import DecisionBatch, DecisionRecord
from mamcrawler.engine.actions import Action
from mamcrawler.sim.scenario import Scenario
from mamcrawler.sim.torrents import SimTorrent
from mamcrawler.sim.world import World

PURPOSES = ("vip", "upload_credit", "personal_freeleech")
DOWNLOAD_KINDS = ("free", "wedge", "points", "ratio_costing")

__all__ = ["Download", "Effect", "Purchase", "SimulationResult", "Summary", "TickResult"]


@dataclass(frozen=True)
class Purchase:
    """A store purchase the world carried out, with the points around it."""

    at: datetime
    kind: str  # vip | upload_credit | personal_freeleech
    cost_points: int
    points_before: int
    points_after: int
    detail: str
    method: str | None = None


@dataclass(frozen=True)
class Download:
    """A torrent added; ``kind`` says what it cost: free | wedge | points | ratio_costing."""

    at: datetime
    release_id: str
    book_key: str
    kind: str
    hash: str


@dataclass(frozen=True)
class Effect:
    """What one planned action did in the world, and the account right after it."""

    at: datetime
    decision_id: str
    action: str
    status: str  # applied | refused (the world said no: not enough points, no such torrent…)
    points_after: int
    wedges_after: int
    ratio_after: float
    vip_days_after: float

    def to_json(self) -> str:
        body = {
            "at": self.at.isoformat(),
            "decision_id": self.decision_id,
            "action": self.action,
            "status": self.status,
            "points_after": self.points_after,
            "wedges_after": self.wedges_after,
            "ratio_after": round(self.ratio_after, 6),
            "vip_days_after": round(self.vip_days_after, 6),
        }
        return json.dumps({"effect": body}, sort_keys=True)


@dataclass(frozen=True)
class TickResult:
    at: datetime
    batch: DecisionBatch | None
    effects: tuple[Effect, ...]
    ratio: float
    vip_days: float
    points: int


@dataclass
class Summary:
    """The figures the simulator reports at the end of a run."""

    ticks: int = 0
    min_ratio: float = float("inf")
    min_ratio_at: datetime | None = None
    final_ratio: float = 0.0
    min_vip_days: float = float("inf")
    min_vip_at: datetime | None = None
    final_vip_days: float = 0.0
    final_points: int = 0
    final_wedges: int = 0
    points_spent: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PURPOSES, 0))
    downloads: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DOWNLOAD_KINDS, 0))
    completed: int = 0
    vip_pending: list[tuple[str, str]] = field(default_factory=list)
    wishlist: list[str] = field(default_factory=list)
    removals: list[tuple[datetime, str]] = field(default_factory=list)
    replacements: list[tuple[datetime, str, str]] = field(default_factory=list)
    swaps: list[tuple[datetime, str]] = field(default_factory=list)
    refused_editions: list[tuple[datetime, str]] = field(default_factory=list)
    integrity_failures: list[tuple[datetime, str, str]] = field(default_factory=list)
    metadata: list[tuple[datetime, str, str, str]] = field(default_factory=list)  # at, item, field, source
    freezes: int = 0
    unfreezes: int = 0
    alerts: list[tuple[datetime, str]] = field(default_factory=list)
    refused: list[tuple[datetime, str]] = field(default_factory=list)
    happenings: list[tuple[datetime, str]] = field(default_factory=list)
    seeding_torrents: int = 0


@dataclass
class SimulationResult:
    scenario: Scenario
    policy_hash: str
    evaluator: str
    ticks: list[TickResult]
    purchases: list[Purchase]
    download_log: list[Download]
    applied: list[tuple[datetime, Action]]
    summary: Summary
    world: World

    def records(self) -> Iterator[DecisionRecord]:
        for tick in self.ticks:
            if tick.batch is not None:
                yield from tick.batch.records

    def to_jsonl(self) -> str:
        """Every decision record, each tick's followed by the applied effect of its actions
        (``{"effect": …}`` lines, which ``read_journal`` passes over)."""
        return "".join(
            t.batch.to_jsonl() + "".join(e.to_json() + "\n" for e in t.effects)
            for t in self.ticks
            if t.batch is not None
        )

    def name_of(self, hash_: str) -> str:
        return self.world.names.get(hash_, hash_[:12])

    def torrent(self, hash_: str) -> SimTorrent | None:
        return self.world.torrents.get(hash_) or self.world.removed.get(hash_)
