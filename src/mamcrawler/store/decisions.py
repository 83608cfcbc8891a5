"""The decision journal in the store: every decision record with searchable columns
(time, outcome, subject, rule, action, points, dry run or live), per-day counts that the
reports read (so a report never scans a million rows), keyset paging, retention, and the
JSONL file as an export/import format whose broken lines are skipped, never fatal.
Imports sqlalchemy, ``engine.records`` and ``store``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select

from mamcrawler.engine.records import DecisionRecord
from mamcrawler.store.database import Database
from mamcrawler.store.schema import DecisionDay, DecisionRow

log = logging.getLogger("mamcrawler.store.decisions")

_CHUNK = 500


@dataclass(frozen=True)
class DecisionFilter:
    outcome: str | None = None
    subject: str | None = None
    rule: str | None = None
    action_type: str | None = None
    dry_run: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


def _points(record: DecisionRecord) -> int:
    return sum(a.points() for a in record.actions)


def _action_type(record: DecisionRecord) -> str:
    return record.actions[0].type if record.actions else ""


def summary(row: DecisionRow, *, explain: bool = False) -> dict[str, Any]:
    """A row as the API shows it; ``explain`` adds the facts, trace, ladder and caps."""
    body: dict[str, Any] = {
        "id": row.decision_id,
        "decided_at": row.decided_at.isoformat(),
        "mode": "dry_run" if row.dry_run else "live",
        "subject_kind": row.subject_kind,
        "subject": row.subject_id,
        "outcome": row.outcome,
        "reason": row.reason,
        "rule": row.rule_id,
        "action": row.action_type,
        "points": row.points,
    }
    if explain:
        full = json.loads(row.record_json)
        body["explain"] = {
            key: full.get(key)
            for key in ("rule_at", "section", "blocked_by", "facts", "trace", "ladder", "caps", "actions", "redacted")
        }
    return body


class DecisionStore:
    """Appends, pages, reports and prunes the decision journal."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, records: Sequence[DecisionRecord], *, dry_run: bool) -> int:
        """Store records (already redacted); ids already stored are skipped. Returns the count added."""
        added = 0
        for start in range(0, len(records), _CHUNK):
            chunk = records[start : start + _CHUNK]
            with self.db.session() as s:
                ids = [r.decision_id for r in chunk]
                known = set(s.scalars(select(DecisionRow.decision_id).where(DecisionRow.decision_id.in_(ids))))
                days: dict[tuple[str, bool, str, str, str], list[int]] = {}
                for record in chunk:
                    if record.decision_id in known:
                        continue
                    known.add(record.decision_id)
                    points, action = _points(record), _action_type(record)
                    s.add(
                        DecisionRow(
                            decision_id=record.decision_id,
                            decided_at=record.decided_at,
                            dry_run=dry_run,
                            policy_hash=record.policy_hash,
                            subject_kind=record.subject_kind[:32],
                            subject_id=record.subject_id[:300],
                            outcome=record.outcome,
                            reason=record.reason[:120],
                            rule_id=(record.rule_id or "")[:120] or None,
                            action_type=action or None,
                            points=points,
                            record_json=record.to_json(),
                        )
                    )
                    key = (record.decided_at.date().isoformat(), dry_run, record.outcome, action, record.reason[:120])
                    counts = days.setdefault(key, [0, 0])
                    counts[0] += 1
                    counts[1] += points
                    added += 1
                for (day, dry, outcome, action, reason), (count, points) in days.items():
                    row = s.scalars(
                        select(DecisionDay).where(
                            DecisionDay.day == day,
                            DecisionDay.dry_run == dry,
                            DecisionDay.outcome == outcome,
                            DecisionDay.action_type == action,
                            DecisionDay.reason == reason,
                        )
                    ).first()
                    if row is None:
                        s.add(
                            DecisionDay(
                                day=day,
                                dry_run=dry,
                                outcome=outcome,
                                action_type=action,
                                reason=reason,
                                decisions=count,
                                points=points,
                            )
                        )
                    else:
                        row.decisions += count
                        row.points += points
        return added

    def prune(self, *, now: datetime, keep_days: int) -> int:
        """Delete records (and day counts) older than ``keep_days``."""
        cutoff = now - timedelta(days=keep_days)
        with self.db.session() as s:
            result = s.execute(delete(DecisionRow).where(DecisionRow.decided_at < cutoff))
            gone = getattr(result, "rowcount", 0)
            s.execute(delete(DecisionDay).where(DecisionDay.day < cutoff.date().isoformat()))
        return int(gone or 0)

    def page(
        self, filters: DecisionFilter = DecisionFilter(), *, before: int | None = None, limit: int = 50
    ) -> tuple[list[tuple[int, DecisionRow]], int | None]:
        """Newest first; ``before`` is the cursor from the previous page. Returns rows and the next cursor."""
        limit = max(1, min(limit, 500))
        query = select(DecisionRow).order_by(DecisionRow.seq.desc()).limit(limit + 1)
        if before is not None:
            query = query.where(DecisionRow.seq < before)
        if filters.outcome:
            query = query.where(DecisionRow.outcome == filters.outcome)
        if filters.subject:
            query = query.where(DecisionRow.subject_id == filters.subject)
        if filters.rule:
            query = query.where(DecisionRow.rule_id == filters.rule)
        if filters.action_type:
            query = query.where(DecisionRow.action_type == filters.action_type)
        if filters.dry_run is not None:
            query = query.where(DecisionRow.dry_run == filters.dry_run)
        if filters.since is not None:
            query = query.where(DecisionRow.decided_at >= filters.since)
        if filters.until is not None:
            query = query.where(DecisionRow.decided_at < filters.until)
        with self.db.session() as s:
            rows = list(s.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return [(r.seq, r) for r in rows], (rows[-1].seq if more and rows else None)

    def get(self, decision_id: str) -> DecisionRow | None:
        with self.db.session() as s:
            return s.scalars(select(DecisionRow).where(DecisionRow.decision_id == decision_id)).first()

    def latest_reason(self, subject_ids: Iterable[str]) -> dict[str, DecisionRow]:
        """The newest record about each subject (the torrent table's "why kept")."""
        ids = list(dict.fromkeys(subject_ids))
        found: dict[str, DecisionRow] = {}
        with self.db.session() as s:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                newest = (
                    select(func.max(DecisionRow.seq))
                    .where(DecisionRow.subject_id.in_(chunk))
                    .group_by(DecisionRow.subject_id)
                    .scalar_subquery()
                )
                for row in s.scalars(select(DecisionRow).where(DecisionRow.seq.in_(newest))):
                    found[row.subject_id] = row
        return found

    def report(self, *, now: datetime, days: int = 30) -> dict[str, Any]:
        """The compliance report, live and dry-run counted apart (from the day counts)."""
        first = (now - timedelta(days=days)).date().isoformat()
        with self.db.session() as s:
            rows = list(s.scalars(select(DecisionDay).where(DecisionDay.day >= first)))
        modes: dict[str, dict[str, Any]] = {}
        for mode in ("live", "dry_run"):
            mine = [r for r in rows if r.dry_run == (mode == "dry_run")]
            by_outcome: dict[str, int] = {}
            guards: dict[str, int] = {}
            points: dict[str, int] = {}
            for r in mine:
                by_outcome[r.outcome] = by_outcome.get(r.outcome, 0) + r.decisions
                if r.outcome == "guarded":
                    guards[r.reason] = guards.get(r.reason, 0) + r.decisions
                if r.outcome == "planned" and r.points:
                    points[r.action_type] = points.get(r.action_type, 0) + r.points
            modes[mode] = {
                "decisions": sum(by_outcome.values()),
                "by_outcome": dict(sorted(by_outcome.items())),
                "guards_that_bit": dict(sorted(guards.items())),
                "points_planned_by_purpose": dict(sorted(points.items())),
            }
        return {"window_days": days, "since": first, **modes}

    def count(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(DecisionRow)) or 0)

    def import_jsonl(self, path: Path, *, dry_run: bool = False) -> tuple[int, int]:
        """Load a JSONL journal into the store (broken lines skipped). Returns (added, skipped)."""
        added = skipped = 0
        batch: list[DecisionRecord] = []
        for record in iter_jsonl(path):
            if record is None:
                skipped += 1
                continue
            batch.append(record)
            if len(batch) >= _CHUNK:
                added += self.append(batch, dry_run=dry_run)
                batch = []
        added += self.append(batch, dry_run=dry_run)
        return added, skipped


def iter_jsonl(path: Path, *, on_bad: Any = None) -> Iterator[DecisionRecord | None]:
    """Records of a JSONL journal; a truncated or invalid line yields ``None`` and is logged
    with its line number (the rest is read)."""
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield DecisionRecord.model_validate_json(line)
            except ValidationError as err:
                (on_bad or _log_bad)(number, err)
                yield None


def _log_bad(number: int, err: ValidationError) -> None:
    log.warning("decision journal line %d is not a record (skipped): %s", number, err.errors()[0]["msg"])
