"""The status board: what the last cycle saw and decided, kept for the web app, the
metrics and the notifications, plus the autonomous on/off switch (off → cycles run as
dry runs). Answers are plain JSON-ready dicts (titles and authors, not internal keys)
and never carry secrets. Imports ``engine``, ``facts``, ``store`` and ``app.web``."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mamcrawler.app.web.causes import TRACKER_SOURCES, Cause, causes
from mamcrawler.engine import DecisionBatch, Policy
from mamcrawler.engine.economy.forecast import forecast_for, forecast_view
from mamcrawler.engine.economy.points import plan_for
from mamcrawler.facts import FactSnapshot, LibraryItem, Release, Source, TorrentState, Want
from mamcrawler.store import VIP_PENDING, StateStore
from mamcrawler.store.decisions import DecisionStore

AUTONOMOUS_KEY = "autonomous"
_TRI_MAX = {"unabridged": 2, "completeness": 2, "no_watermark": 2, "chapters": 2, "narrator_verified": 1}


@dataclass(frozen=True)
class CycleInfo:
    finished_at: datetime
    seconds: float
    dry_run: bool


@dataclass
class StatusBoard:
    state: StateStore
    policy: Policy | None = None
    snapshot: FactSnapshot | None = None
    batch: DecisionBatch | None = None
    decisions: DecisionStore | None = None
    last_cycle: CycleInfo | None = None
    next_cycle: Callable[[], datetime | None] = lambda: None
    policy_replay: dict[str, Any] | None = None  # the policy keeper's latest pre-live replay
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _titles: dict[str, tuple[str, str]] | None = None
    version: int = 0  # bumped by every change the dashboard shows (a cycle, the switch)

    def publish(
        self, policy: Policy, snapshot: FactSnapshot, batch: DecisionBatch, cycle: CycleInfo | None = None
    ) -> None:
        with self._lock:
            self.policy, self.snapshot, self.batch = policy, snapshot, batch
            self._titles = None
            self.version += 1
            self.last_cycle = cycle or CycleInfo(batch.decided_at, 0.0, False)

    def set_policy_replay(self, summary: dict[str, Any]) -> None:
        with self._lock:
            self.policy_replay = summary

    def policy_replay_status(self) -> dict[str, Any]:
        with self._lock:
            return {"known": False} if self.policy_replay is None else {"known": True, **self.policy_replay}

    def autonomous(self) -> bool:
        value = self.state.get(AUTONOMOUS_KEY)
        return True if value is None else bool(value)

    def set_autonomous(self, on: bool, *, now: datetime) -> dict[str, Any]:
        self.state.put(AUTONOMOUS_KEY, on, now=now)
        with self._lock:
            self.version += 1
        return {"autonomous": on}

    def _view(self) -> tuple[Policy | None, FactSnapshot | None, DecisionBatch | None]:
        with self._lock:
            return self.policy, self.snapshot, self.batch

    # --- names ---------------------------------------------------------------------
    def titles(self) -> dict[str, tuple[str, str]]:
        """book key → (title, authors) from everything the snapshot knows about the book (kept per cycle)."""
        _, snapshot, _ = self._view()
        cached = self._titles
        if cached is not None:
            return cached
        names: dict[str, tuple[str, str]] = {}
        if snapshot is None:
            return names
        items: list[LibraryItem | Release | Want] = [*snapshot.library, *snapshot.releases, *snapshot.wants]
        for item in items:
            if item.title and item.book_key not in names:
                names[item.book_key] = (item.title, ", ".join(item.authors))
        with self._lock:
            if self.snapshot is snapshot:
                self._titles = names
        return names

    def book(self, key: str | None, fallback: str = "") -> dict[str, str]:
        if not key:
            return {"title": fallback or "(unknown)", "authors": ""}
        title, authors = self.titles().get(key, ("", ""))
        if not title:
            raw_title, _, raw_author = key.partition("|")
            title, authors = raw_title.title(), raw_author.title()
        return {"title": title, "authors": authors}

    # --- the eight SPEC answers ----------------------------------------------------------
    def critical(self) -> list[Cause]:
        _, snapshot, _ = self._view()
        return causes(snapshot.gaps) if snapshot is not None else []

    def vip_status(self) -> dict[str, Any]:
        policy, snapshot, batch = self._view()
        if snapshot is None or policy is None:
            return {"known": False}
        if (gap := tracker_gap(snapshot)) is not None:
            return gap  # a blocked (or unread) tracker is not a VIP risk: the facts are unknown
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
            "wedges": acc.wedges,
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
        """An emergency is claimed only on a ratio the tracker actually reported."""
        policy, snapshot, batch = self._view()
        if snapshot is None or policy is None:
            return {"known": False, "reason": "no cycle has run yet"}
        flags = set(batch.flags) if batch else set()
        ratio = snapshot.account.ratio
        gap = next((g for g in snapshot.gaps if g.source in TRACKER_SOURCES), None)
        known = ratio is not None and snapshot.gap_for(Source.TRACKER_ACCOUNT) is None
        answer: dict[str, Any] = {
            "known": known,
            "ratio": ratio if known else None,
            "floor": policy.ratio.floor,
            "margin": policy.ratio.margin,
            "recover_at": policy.ratio.recover_at,
            "downloads_frozen": snapshot.memory.downloads_frozen or "ratio_freeze" in flags,
            "emergency": known and "ratio_emergency" in flags,
        }
        if not known:
            answer["reason"] = causes((gap,))[0].words if gap else "the tracker did not report a ratio"
        if (blocked := tracker_gap(snapshot)) is not None and blocked["critical"]:
            answer.update(blocked)  # a blocked tracker is not a ratio emergency: what to fix instead
        return answer

    def torrent_status(self) -> dict[str, Any]:
        _, snapshot, _ = self._view()
        if snapshot is None:
            return {"known": False}
        states = Counter(t.state.value for t in snapshot.torrents)
        return {
            "known": snapshot.gap_for(Source.QBITTORRENT) is None,
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
            "version": f"{rules.fetched_at.date().isoformat()} · {rules.content_hash[:8]}",
            "content_hash": rules.content_hash,
            "fetched_at": rules.fetched_at.isoformat(),
            "pages": [name for name, _ in rules.pages],
        }

    # --- dashboard lists -----------------------------------------------------------------
    def quality_score(self, parts: dict[str, int]) -> int:
        """One 0–100 score from the ladder parts, earlier steps weighing more (display only)."""
        policy, _, _ = self._view()
        band_max = max((b.score for b in policy.quality.bitrate_bands), default=3) if policy else 3
        steps = list(parts.items())
        total = weight_sum = 0.0
        for index, (step, value) in enumerate(steps):
            weight = 2.0 ** (len(steps) - index)
            top = band_max if step == "bitrate" else _TRI_MAX.get(step, 10)
            total += weight * max(0.0, min(1.0, value / top if top else 0.0))
            weight_sum += weight
        return round(100 * total / weight_sum) if weight_sum else 0

    def queue(self) -> list[dict[str, Any]]:
        """Planned downloads with titles, one score and its ladder parts."""
        _, _, batch = self._view()
        if batch is None:
            return []
        out = []
        for r in batch.planned():
            adds = [a for a in r.actions if a.type == "AddTorrent"]
            if not adds:
                continue
            parts = dict(r.ladder.get("parts", {}))
            out.append(
                {
                    **self.book(getattr(adds[0], "book_key", None) or r.subject_id),
                    "book_key": r.subject_id,
                    "rule": r.rule_id,
                    "reason": r.reason,
                    "score": self.quality_score(parts),
                    "quality": parts,
                    "free": bool(getattr(adds[0], "free", False)),
                }
            )
        return out

    def torrents(self) -> list[dict[str, Any]]:
        """Every torrent with its book, state, ratio, seed time and the last decision about it."""
        _, snapshot, _ = self._view()
        if snapshot is None:
            return []
        why = self.decisions.latest_reason(t.hash for t in snapshot.torrents) if self.decisions else {}
        rows = []
        for t in sorted(snapshot.torrents, key=lambda t: t.name.lower()):
            last = why.get(t.hash)
            rows.append(
                {
                    "hash": t.hash,
                    **self.book(t.book_key, fallback=t.name),
                    "state": t.state.value,
                    "progress": round(t.progress, 4),
                    "ratio": round(t.ratio, 3),
                    "seeding_seconds": t.seeding_seconds,
                    "size_bytes": t.size_bytes,
                    "free": t.free,
                    "frozen": t.hash in snapshot.memory.frozen_torrent_hashes,
                    "why": last.reason if last is not None else _seeding_duty(t.seeding_seconds, t.state),
                    "why_outcome": last.outcome if last is not None else "",
                }
            )
        return rows

    def cycle(self) -> dict[str, Any]:
        info, upcoming = self.last_cycle, self.next_cycle()
        return {
            "last_finished_at": info.finished_at.isoformat() if info else None,
            "last_seconds": round(info.seconds, 2) if info else None,
            "last_dry_run": info.dry_run if info else None,
            "next_at": upcoming.isoformat() if upcoming else None,
            "autonomous": self.autonomous(),
        }


def tracker_gap(snapshot: FactSnapshot) -> dict[str, Any] | None:
    """The tracker account's gap as the board shows it (None when the account was read):
    unknown, with what to fix (the same words as the dashboard's problem list) when it is
    a critical block."""
    gap = snapshot.gap_for(Source.TRACKER_ACCOUNT)
    if gap is None:
        return None
    cause = causes((gap,))[0]
    return {
        "known": False,
        "gap": gap.code,
        "critical": cause.critical,
        "fix": cause.words if cause.critical else None,
        "reason": cause.words,
    }


_DOWNLOADING = frozenset(
    {TorrentState.DOWNLOADING, TorrentState.STALLED_DOWNLOAD, TorrentState.PAUSED_DOWNLOAD, TorrentState.QUEUED}
)


def _seeding_duty(seeding_seconds: int, state: TorrentState) -> str:
    """When no decision names a torrent: the 72-hour seeding duty, if it still runs."""
    if state in _DOWNLOADING:
        return "still downloading"
    left = 72 * 3600 - seeding_seconds
    return f"seeding duty: {left // 3600 + 1} h of 72 h left" if left > 0 else ""
