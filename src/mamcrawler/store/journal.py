"""The action journal: every live action is written as an *intent* before it is sent and
finished with its outcome after, under an idempotency key, so a crash never performs an
action twice. Lifecycle (one table, as STYLE.md asks):

    intent ──► applied            the call succeeded (or reconciliation saw its effect)
       │  └──► failed             the service refused, provably nothing done; may be retried
       │  └──► rolled_back        reconciliation proved it never took effect
       │  └──► sent_unconfirmed   a purchase left and its answer proves nothing (5xx,
       │                          timeout, cut or unreadable answer): OPEN, never resent;
       │                          settled only from the bonus history or by a person:
       │           sent_unconfirmed ──► applied | rolled_back
       └─────► planned_dry_run    --dry-run: journalled, never sent

An ``intent`` found at start-up is unfinished: the caller reconciles it against the
service before anything else runs. A key that is ``applied``, ``intent`` or
``sent_unconfirmed`` is never opened again. ``open``, ``finish`` and ``settle`` take an
``effect`` run in the same transaction — the memory the outcome implies (counters,
frozen hashes, bought releases) is committed with it or not at all. Imports sqlalchemy,
``engine.actions`` and ``store``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.engine.actions import Action
from mamcrawler.errors import JournalError
from mamcrawler.store.database import Database
from mamcrawler.store.schema import ActionEntry

Status = Literal["intent", "applied", "failed", "rolled_back", "sent_unconfirmed", "planned_dry_run"]
OPEN: tuple[str, ...] = ("intent", "sent_unconfirmed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "intent": frozenset({"applied", "failed", "rolled_back", "sent_unconfirmed"}),
    "sent_unconfirmed": frozenset({"applied", "rolled_back"}),
    "failed": frozenset({"intent"}),
    "rolled_back": frozenset({"intent"}),
    "applied": frozenset(),
    "planned_dry_run": frozenset({"intent", "planned_dry_run"}),
}
_ACTION: TypeAdapter[Any] = TypeAdapter(Action)
Effect = Callable[[Session], None]  # a change made in the journal's own transaction


@dataclass(frozen=True)
class JournalEntry:
    id: int
    key: str
    action: Action
    status: str
    attempts: int
    decision_id: str
    outcome: dict[str, Any] | None
    error: str | None
    updated_at: datetime | None = None


def _entry(row: ActionEntry) -> JournalEntry:
    return JournalEntry(
        id=row.id,
        key=row.idempotency_key,
        action=_ACTION.validate_json(row.action_json),
        status=row.status,
        attempts=row.attempts,
        decision_id=row.decision_id,
        outcome=json.loads(row.outcome_json) if row.outcome_json else None,
        error=row.error,
        updated_at=row.updated_at,
    )


class ActionJournal:
    """Write-ahead journal of live actions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def open(
        self,
        action: Action,
        *,
        key: str,
        decision_id: str,
        policy_hash: str,
        dry_run: bool,
        now: datetime,
        effect: Effect | None = None,
    ) -> JournalEntry | None:
        """Record the intent (committed before returning, with ``effect`` — what must be
        remembered before the call leaves). ``None`` when the key is already applied or
        still open: the caller must not send the action."""
        status: Status = "planned_dry_run" if dry_run else "intent"
        body = action.model_dump_json()
        with self.db.session() as s:
            row = s.scalars(select(ActionEntry).where(ActionEntry.idempotency_key == key)).first()
            if row is None:
                row = ActionEntry(
                    idempotency_key=key,
                    decision_id=decision_id,
                    policy_hash=policy_hash,
                    action_type=action.type,
                    action_json=body,
                    status=status,
                    dry_run=dry_run,
                    attempts=0 if dry_run else 1,
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
                s.flush()
                if effect is not None and not dry_run:
                    effect(s)
                return _entry(row)
            if row.action_json != body:
                raise JournalError(f"idempotency key {key} reused for a different action")
            if status not in TRANSITIONS[row.status]:
                return None
            row.status, row.dry_run, row.updated_at = status, dry_run, now
            row.decision_id, row.error = decision_id, None
            row.attempts += 0 if dry_run else 1
            s.flush()
            if effect is not None and not dry_run:
                effect(s)
            return _entry(row)

    def finish(
        self,
        entry_id: int,
        status: Status,
        *,
        now: datetime,
        outcome: dict[str, Any] | None = None,
        error: str | None = None,
        effect: Effect | None = None,
    ) -> None:
        """Move an entry to ``status``; ``effect`` commits in the same transaction."""
        with self.db.session() as s:
            row = s.get(ActionEntry, entry_id)
            if row is None:
                raise JournalError(f"no journal entry {entry_id}")
            if status not in TRANSITIONS[row.status]:
                raise JournalError(f"journal entry {entry_id}: {row.status} → {status} is not a legal transition")
            row.status, row.updated_at = status, now
            row.outcome_json = json.dumps(outcome, sort_keys=True) if outcome is not None else row.outcome_json
            row.error = error
            if effect is not None:
                effect(s)

    def annotate(self, entry_id: int, note: dict[str, Any], *, now: datetime) -> None:
        """Attach what reconciliation will need (e.g. the info-hash) before the call is made."""
        with self.db.session() as s:
            row = s.get(ActionEntry, entry_id)
            if row is None or row.status != "intent":
                raise JournalError(f"journal entry {entry_id} is not an open intent")
            row.outcome_json, row.updated_at = json.dumps(note, sort_keys=True), now

    def unfinished(self, statuses: tuple[str, ...] = OPEN) -> list[JournalEntry]:
        """Open entries (``intent`` and ``sent_unconfirmed`` unless told), oldest first."""
        with self.db.session() as s:
            rows = s.scalars(select(ActionEntry).where(ActionEntry.status.in_(statuses)).order_by(ActionEntry.id))
            return [_entry(r) for r in rows]

    def by_id(self, entry_id: int) -> JournalEntry | None:
        with self.db.session() as s:
            row = s.get(ActionEntry, entry_id)
            return _entry(row) if row else None

    def entries(self, *, action_type: str | None = None) -> list[JournalEntry]:
        with self.db.session() as s:
            query = select(ActionEntry).order_by(ActionEntry.id)
            if action_type:
                query = query.where(ActionEntry.action_type == action_type)
            return [_entry(r) for r in s.scalars(query)]

    def get(self, key: str) -> JournalEntry | None:
        with self.db.session() as s:
            row = s.scalars(select(ActionEntry).where(ActionEntry.idempotency_key == key)).first()
            return _entry(row) if row else None
