"""The store's tables (SQLAlchemy 2.0 declarative): action journal, decision journal,
key/value state, wishlist and VIP pending list (recorded cycles: ``store.recorded``).
SQLite file by default, PostgreSQL by URL — only portable column types are used.
Imports sqlalchemy only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, DateTime, Dialect, Index, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class ActionEntry(Base):
    """One action's life: intent written before the call, outcome after (journal)."""

    __tablename__ = "action_journal"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_action_idempotency_key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    decision_id: Mapped[str] = mapped_column(String(64), index=True)
    policy_hash: Mapped[str] = mapped_column(String(64))
    action_type: Mapped[str] = mapped_column(String(64), index=True)
    action_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), index=True)
    dry_run: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome_json: Mapped[str | None] = mapped_column(Text, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StateEntry(Base):
    """Small named state: the memory between cycles, the rotated tracker cookie, the policy
    version in force. Values are JSON."""

    __tablename__ = "kv_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ListEntry(Base):
    """Wishlist and VIP pending list rows (``list_name`` tells which)."""

    __tablename__ = "book_lists"
    __table_args__ = (UniqueConstraint("list_name", "item_key", name="uq_list_item"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    list_name: Mapped[str] = mapped_column(String(32), index=True)
    item_key: Mapped[str] = mapped_column(String(300))
    body_json: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class DecisionRow(Base):
    """The decision journal (issue 12): one row per record, searchable columns beside the
    JSON body; ``dry_run`` says whether the cycle could act. Read by ``store.decisions``."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_time", "decided_at"),
        Index("ix_decisions_outcome_time", "outcome", "decided_at"),
        Index("ix_decisions_subject", "subject_id"),
        Index("ix_decisions_rule", "rule_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(String(64), unique=True)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    dry_run: Mapped[bool] = mapped_column(default=False)
    policy_hash: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(120))
    rule_id: Mapped[str | None] = mapped_column(String(120), default=None)
    action_type: Mapped[str | None] = mapped_column(String(64), default=None)
    points: Mapped[int] = mapped_column(Integer, default=0)
    record_json: Mapped[str] = mapped_column(Text)


class DecisionDay(Base):
    """Per-day counts of the decision journal (reports read these, never the million rows)."""

    __tablename__ = "decision_days"
    __table_args__ = (UniqueConstraint("day", "dry_run", "outcome", "action_type", "reason", name="uq_decision_day"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    dry_run: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str] = mapped_column(String(32))
    action_type: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(120), default="")
    decisions: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
