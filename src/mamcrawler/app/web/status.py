"""The status board: what the last cycle saw and decided, kept for the HTTP API and the
dashboard, plus the autonomous on/off switch (off → cycles run as dry runs). Answers
are plain JSON-ready dicts and never carry secrets. Imports ``engine``, ``facts``,
``store``."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mamcrawler.engine import DecisionBatch, Policy
from mamcrawler.engine.economy.forecast import forecast_for, forecast_view
from mamcrawler.engine.economy.points import plan_for
from mamcrawler.engine.records import DecisionRecord, read_journal
from mamcrawler.facts import FactSnapshot, Source, TorrentState
from mamcrawler.store import VIP_PENDING, StateStore

AUTONOMOUS_KEY = "autonomous"


@dataclass
class StatusBoard:
    state: StateStore
    policy: Policy | None = None
    snapshot: FactSnapshot | None = None
    batch: DecisionBatch | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, policy: Policy, snapshot: FactSnapshot, batch: DecisionBatch) -> None:
        with self._lock:
            self.policy, self.snapshot, self.batch = policy, snapshot, batch

    def autonomous(self) -> bool:
        value = self.state.get(AUTONOMOUS_KEY)
        return True if value is None else bool(value)

    def set_autonomous(self, on: bool, *, now: datetime) -> dict[str, Any]:
        self.state.put(AUTONOMOUS_KEY, on, now=now)
        return {"autonomous": on}

    def _view(self) -> tuple[Policy | None, FactSnapshot | None, DecisionBatch | None]:
        with self._lock:
            return self.policy, self.snapshot, self.batch

    def vip_status(self) -> dict[str, Any]:
        policy, snapshot, batch = self._view()
        if snapshot is None or policy is None:
            return {"known": False}
        if (gap := tracker_gap(snapshot)) is not None:
            return gap  # a blocked tracker is not a VIP risk: the facts are unknown
        acc = snapshot.account
        days = None if acc.vip_until is None else (acc.vip_until - snapshot.taken_at).total_seconds() / 86400
        return {
            "known": True,
            "vip_until": acc.vip_until.isoformat() if acc.vip_until else None,
            "vip_days_left": None if days is None else round(max(0.0, days), 2),
            "floor_days": policy.vip.floor_days,
            "at_risk": bool(batch and "vip_at_risk" in batch.flags),
            "bonus_points": acc.bonus_points,
            "reserve_points": policy.vip.reserve_points,
            "pending": [item["key"] for item in self.state.list_items(VIP_PENDING)],
        }

    def snatch_forecast(self) -> dict[str, Any]:
        """The hit-and-run forecaster's view of the last cycle (issue 11)."""
        policy, snapshot, _ = self._view()
        if snapshot is None or policy is None:
            return {"known": False}
        slots = forecast_for(policy, snapshot)
        if slots is None:
            return {"known": False}
        acc = snapshot.account
        extra = {"inactive_unsatisfied": acc.inactive_unsatisfied_count, "hit_and_runs": acc.hit_and_run_count}
        return {"known": True, **forecast_view(slots, policy.snatch.hnr_warn_hours), **extra}

    def points_plan(self) -> dict[str, Any]:
        """The points planner's 30-day plan for the last cycle's account (issue 11)."""
        policy, snapshot, _ = self._view()
        if snapshot is None or policy is None:
            return {"known": False}
        if (gap := tracker_gap(snapshot)) is not None:
            return gap
        plan = plan_for(policy, snapshot, snapshot.taken_at)
        return {"known": False} if plan is None else {"known": True, **plan.as_dict()}

    def ratio_status(self) -> dict[str, Any]:
        policy, snapshot, batch = self._view()
        if snapshot is None or policy is None:
            return {"known": False}
        if (gap := tracker_gap(snapshot)) is not None:
            return gap  # a blocked tracker is not a ratio emergency: the facts are unknown
        flags = set(batch.flags) if batch else set()
        return {
            "known": True,
            "ratio": snapshot.account.ratio,
            "floor": policy.ratio.floor,
            "margin": policy.ratio.margin,
            "recover_at": policy.ratio.recover_at,
            "downloads_frozen": snapshot.memory.downloads_frozen or "ratio_freeze" in flags,
            "emergency": "ratio_emergency" in flags,
        }

    def torrent_status(self) -> dict[str, Any]:
        _, snapshot, _ = self._view()
        if snapshot is None:
            return {"known": False}
        states = Counter(t.state.value for t in snapshot.torrents)
        return {
            "known": not any(g.source.value == "qbittorrent" for g in snapshot.gaps),
            "torrents": len(snapshot.torrents),
            "by_state": dict(sorted(states.items())),
            "seeding": states.get(TorrentState.SEEDING.value, 0),
            "upload_slots": snapshot.memory.upload_slots,
            "frozen": list(snapshot.memory.frozen_torrent_hashes),
        }

    def events(self) -> dict[str, Any]:
        _, snapshot, _ = self._view()
        if snapshot is None:
            return {"known": False, "events": []}
        return {
            "known": True,
            "events": [
                {
                    "id": e.id,
                    "kind": e.kind.value,
                    "title": e.title,
                    "active": e.active_at(snapshot.taken_at),
                    "starts_at": e.starts_at.isoformat(),
                    "ends_at": e.ends_at.isoformat() if e.ends_at else None,
                }
                for e in snapshot.events
            ],
        }

    def rules_version(self) -> dict[str, Any]:
        _, snapshot, _ = self._view()
        rules = snapshot.rules if snapshot else None
        if rules is None:
            return {"known": False}
        return {
            "known": True,
            "content_hash": rules.content_hash,
            "fetched_at": rules.fetched_at.isoformat(),
            "pages": [name for name, _ in rules.pages],
        }

    def queue(self) -> list[dict[str, Any]]:
        """Planned downloads with their ladder parts (the dashboard's queue)."""
        _, _, batch = self._view()
        if batch is None:
            return []
        return [
            {
                "book": r.subject_id,
                "rule": r.rule_id,
                "reason": r.reason,
                "quality": r.ladder.get("parts", {}),
                "actions": [a.type for a in r.actions],
            }
            for r in batch.planned()
            if any(a.type == "AddTorrent" for a in r.actions)
        ]

    @staticmethod
    def compliance_report(records: list[DecisionRecord], *, now: datetime, days: int = 30) -> dict[str, Any]:
        recent = [r for r in records if r.decided_at >= now - timedelta(days=days)]
        spent: Counter[str] = Counter()
        for r in recent:
            if r.outcome == "planned":
                for a in r.actions:
                    spent[a.type] += a.points()
        return {
            "window_days": days,
            "decisions": len(recent),
            "by_outcome": dict(sorted(Counter(r.outcome for r in recent).items())),
            "guards_that_bit": dict(sorted(Counter(r.reason for r in recent if r.outcome == "guarded").items())),
            "points_planned_by_purpose": {k: v for k, v in sorted(spent.items()) if v},
        }


def tracker_gap(snapshot: FactSnapshot) -> dict[str, Any] | None:
    """The tracker account's gap as the board shows it (None when the account was read):
    unknown, with what to fix when it is a critical block."""
    gap = snapshot.gap_for(Source.TRACKER_ACCOUNT)
    if gap is None:
        return None
    return {"known": False, "gap": gap.code, "critical": gap.critical, "fix": gap.message if gap.critical else None}


def journal_records(path: Any) -> list[DecisionRecord]:
    try:
        with open(path, encoding="utf-8") as handle:
            return read_journal(handle)
    except FileNotFoundError:
        return []
