"""Decision records and the decision batch: the audit trail of one ``decide`` call.

A record says what was decided about one subject, by which rule (with ``file:line``),
on which fact values, under which policy version, with the rule-by-rule trace, the
ladder parts, the caps that bit and which fields were redacted. Ids are deterministic
(hash of policy, time, rule, subject and action), so the same inputs give the same
records. Records serialise to JSON lines. Imports pydantic and ``engine.actions``."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from mamcrawler.engine.actions import Action

Outcome = Literal["planned", "blocked", "capped", "guarded", "overridden", "flag", "block", "skipped"]

_SECRET_KEY = re.compile(r"(cookie|password|passwd|secret|token|api_?key|mam_id|authorization)", re.IGNORECASE)


class DecisionRecord(BaseModel):
    """One decision about one subject."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_id: str
    policy_hash: str
    decided_at: AwareDatetime
    subject_kind: str
    subject_id: str
    outcome: Outcome
    reason: str = Field(description="Stable snake_case reason code.")
    rule_id: str | None = None
    rule_at: str | None = Field(None, description="file:line:col of the rule.")
    section: str | None = Field(None, description="SPEC section of the rule's concern.")
    actions: tuple[Action, ...] = ()
    blocked_by: str | None = Field(None, description="Rule id (or guard/cap name) that stopped it.")
    facts: dict[str, Any] = Field(default_factory=dict, description="Fact values the deciding rule read.")
    trace: tuple[dict[str, Any], ...] = Field((), description="Rule-by-rule trace for this subject.")
    ladder: dict[str, Any] = Field(default_factory=dict, description="Ladder parts and the deciding step.")
    caps: tuple[str, ...] = Field((), description="Caps that bit.")
    redacted: tuple[str, ...] = Field((), description="Fields whose values were redacted.")

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)

    @classmethod
    def trusted(cls, **fields: Any) -> DecisionRecord:
        """A record built by the engine from values it typed itself, not validated again:
        validation copied every trace dict of every record, the larger part of a tick in a
        year of simulation. Only the one check the types cannot carry is kept; the fields
        are set as ``model_construct`` would, without its generic per-field machinery."""
        decided_at = fields["decided_at"]
        if not isinstance(decided_at, datetime) or decided_at.tzinfo is None:
            raise ValueError(f"decided_at must be a timezone-aware datetime, not {decided_at!r}")
        unknown, missing = fields.keys() - _RECORD_FIELDS, _RECORD_REQUIRED - fields.keys()
        if unknown or missing:
            raise TypeError(f"decision record: unknown fields {sorted(unknown)}, missing {sorted(missing)}")
        record = cls.__new__(cls)
        values = dict(_RECORD_BASE)  # every field, in field order
        values.update(fields)
        for name, factory in _RECORD_FACTORIES.items():
            if name not in fields:
                values[name] = factory()
        object.__setattr__(record, "__dict__", values)
        object.__setattr__(record, "__pydantic_fields_set__", set(fields))
        object.__setattr__(record, "__pydantic_extra__", None)
        object.__setattr__(record, "__pydantic_private__", None)
        return record


# Every field with its default, in field order (required ones and factories hold None
# until set); the fields whose default is a factory (a fresh one per record).
_RECORD_FIELDS = frozenset(DecisionRecord.model_fields)
_RECORD_REQUIRED = frozenset(name for name, info in DecisionRecord.model_fields.items() if info.is_required())
_RECORD_BASE: dict[str, Any] = {
    name: None if info.is_required() or info.default_factory is not None else info.default
    for name, info in DecisionRecord.model_fields.items()
}
_RECORD_FACTORIES: dict[str, Any] = {
    name: info.default_factory for name, info in DecisionRecord.model_fields.items() if info.default_factory is not None
}


class DecisionBatch(BaseModel):
    """Everything one ``decide`` call returns: the planned actions and every record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy_hash: str
    decided_at: AwareDatetime
    evaluator: str
    actions: tuple[Action, ...]
    records: tuple[DecisionRecord, ...]
    flags: tuple[str, ...] = Field((), description="Flags set this cycle (e.g. vip_at_risk).")
    gapped_sources: tuple[str, ...] = ()

    def planned(self) -> tuple[DecisionRecord, ...]:
        return tuple(r for r in self.records if r.outcome == "planned")

    def record(self, decision_id: str) -> DecisionRecord | None:
        return next((r for r in self.records if r.decision_id == decision_id), None)

    def to_jsonl(self) -> str:
        return "".join(r.to_json() + "\n" for r in self.records)


def decision_id(policy_hash: str, now: datetime, rule_id: str | None, kind: str, subject: str, body: str) -> str:
    text = "|".join((policy_hash, _isoformat(now), rule_id or "-", kind, subject, body))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


_LAST_STAMP: tuple[datetime, str] = (datetime.min, datetime.min.isoformat())


def _isoformat(now: datetime) -> str:
    """``now.isoformat()``, kept for the last ``now`` seen: a cycle's records share one."""
    global _LAST_STAMP
    last = _LAST_STAMP  # one read: another thread may replace it meanwhile
    if last[0] is now:
        return last[1]
    text = now.isoformat()
    _LAST_STAMP = (now, text)
    return text


def redact(values: dict[str, Any], secrets: Iterable[str] = ()) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Mask values under secret-looking keys and any occurrence of a known secret string,
    at any depth (dicts and lists inside the values too). The second result names each
    masked field by its dotted path (``outcome.headers.cookie``, ``notes.2``)."""
    known = sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first: no partial leftovers
    hidden: list[str] = []
    out = {str(k): _redacted(v, str(k), known, hidden) for k, v in values.items()}
    return out, tuple(sorted(hidden))


def _redacted(value: Any, path: str, known: list[str], hidden: list[str]) -> Any:
    if _SECRET_KEY.search(path.rsplit(".", 1)[-1]):
        hidden.append(path)
        return "***"
    if isinstance(value, dict):
        return {str(k): _redacted(v, f"{path}.{k}", known, hidden) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v, f"{path}.{i}", known, hidden) for i, v in enumerate(value)]
    if isinstance(value, str) and any(s in value for s in known):
        for s in known:
            value = value.replace(s, "***")
        hidden.append(path)
    return value


def read_journal(lines: Iterable[str]) -> list[DecisionRecord]:
    """Parse a JSONL decision journal (blank lines and the simulator's ``{"effect": …}``
    lines ignored)."""
    return [
        DecisionRecord.model_validate_json(line)
        for line in lines
        if line.strip() and not line.lstrip().startswith('{"effect":')
    ]
