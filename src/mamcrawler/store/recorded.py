"""What each live cycle saw, kept for replay: the fact snapshot (provenance and gaps
included), the policy version that decided (its files, once per version) and the
decisions it made (ids, rule, outcome, reason, actions with their points).

Compact by construction: every collection of the snapshot (releases, torrents, library,
scans, wants, events) is cut into buckets by a stable hash of each fact's identity, and
each bucket is stored once as a zlib-compressed, content-addressed blob (keyed by the
SHA-256 of its canonical JSON). A bucket whose facts did not change between cycles is
the same blob, so a cycle costs only its changed buckets plus a small compressed
manifest. Retention is a number of days; blobs no retained cycle uses are dropped.
Imports sqlalchemy, ``facts``, ``engine`` (records, policy) and ``store``."""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from pydantic import TypeAdapter
from sqlalchemy import BigInteger, CursorResult, Integer, LargeBinary, String, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from mamcrawler.engine import DecisionBatch, DecisionRecord, Policy, load_policy
from mamcrawler.facts import AudioScan, Event, FactModel, FactSnapshot, LibraryItem, Release, Torrent, Want
from mamcrawler.store import recorded_columns as columns
from mamcrawler.store.database import Database
from mamcrawler.store.schema import Base, UtcDateTime

log = logging.getLogger("mamcrawler.recorded")

BUCKETS = 64  # per collection; a changed fact rewrites only its bucket
KEY_FRAME_EVERY = timedelta(days=1)
# snapshot field → the attribute(s) naming one fact of it
COLLECTIONS: Mapping[str, tuple[type[FactModel], tuple[str, ...]]] = {
    "releases": (Release, ("id",)),
    "torrents": (Torrent, ("hash",)),
    "library": (LibraryItem, ("id",)),
    "scans": (AudioScan, ("item_id",)),
    "wants": (Want, ("source", "book_key")),
    "events": (Event, ("id",)),
}
_DECISION_FIELDS = ("decision_id", "subject_kind", "subject_id", "outcome", "reason", "rule_id", "blocked_by", "caps")


class FactBlob(Base):
    """One content-addressed, compressed piece of a snapshot (or a policy's files)."""

    __tablename__ = "recorded_blobs"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    raw_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class CycleEntry(Base):
    """One recorded cycle: its time, policy version, snapshot manifest and decisions."""

    __tablename__ = "recorded_cycles"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    policy_hash: Mapped[str] = mapped_column(String(64), index=True)
    evaluator: Mapped[str] = mapped_column(String(32))
    manifest: Mapped[bytes] = mapped_column(LargeBinary)
    decisions: Mapped[bytes] = mapped_column(LargeBinary)
    new_bytes: Mapped[int] = mapped_column(Integer, default=0)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _pack(value: Any) -> bytes:
    return zlib.compress(_canonical(value), 6)


def _unpack(body: bytes) -> Any:
    return json.loads(zlib.decompress(body))


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:32]  # 128 bits: ample to address blobs


def _identity(item: dict[str, Any], names: tuple[str, ...]) -> str:
    return "\x1f".join(str(item[n]) for n in names)


def _buckets(pairs: list[tuple[str, dict[str, Any]]]) -> list[list[tuple[str, dict[str, Any]]]]:
    out: list[list[tuple[str, dict[str, Any]]]] = [[] for _ in range(BUCKETS)]
    for key, body in pairs:
        out[zlib.crc32(key.encode()) % BUCKETS].append((key, body))
    for bucket in out:
        bucket.sort(key=lambda pair: pair[0])
    return out


_RECORDS: TypeAdapter[tuple[DecisionRecord, ...]] = TypeAdapter(tuple[DecisionRecord, ...])


def compact_decisions(records: tuple[DecisionRecord, ...]) -> list[dict[str, Any]]:
    """What replay compares: the ids, subjects, outcomes, reasons, rules and actions."""
    kept = {"__all__": {*_DECISION_FIELDS, "actions"}}
    return list(_RECORDS.dump_python(records, mode="json", include=kept))


@dataclass(frozen=True)
class RecordedCycle:
    """A cycle read back: the snapshot as it was seen and the decisions as they were made."""

    id: int
    taken_at: datetime
    policy_hash: str
    evaluator: str
    snapshot: FactSnapshot
    decisions: tuple[DecisionRecord, ...]


@dataclass(frozen=True)
class DaySize:
    day: date
    cycles: int
    bytes: int  # manifests + decisions + blobs first written that day

    @property
    def per_cycle(self) -> float:
        return self.bytes / self.cycles if self.cycles else 0.0


@dataclass(frozen=True)
class _KeyFrame:
    hash: str
    raw: bytes
    rows: dict[str, dict[str, Any]]
    at: datetime


@dataclass
class Recorder:
    """Records cycles into the store; prunes what is older than ``retention_days`` once a day."""

    db: Database
    retention_days: int = 30
    _policies: dict[str, tuple[str, bytes] | None] = field(default_factory=dict)  # policy hash → its blob
    _pruned_at: datetime | None = None
    _frame: _KeyFrame | None = None
    PRUNE_EVERY: ClassVar[timedelta] = timedelta(days=1)

    def record(self, policy: Policy, snapshot: FactSnapshot, batch: DecisionBatch, *, evaluator: str) -> int | None:
        """Store one cycle; returns its id. A store failure is logged, never raised: the
        record is for audit and replay, the cycle's own journal is elsewhere."""
        if self.retention_days <= 0:
            return None
        try:
            cycle_id = self._write(policy, snapshot, batch, evaluator)
            if self._pruned_at is None or batch.decided_at - self._pruned_at >= self.PRUNE_EVERY:
                self.prune(batch.decided_at)
            return cycle_id
        except SQLAlchemyError as err:
            log.error("could not record the cycle for replay: %s", err.__class__.__name__)
            return None

    def _write(self, policy: Policy, snapshot: FactSnapshot, batch: DecisionBatch, evaluator: str) -> int:
        now = batch.decided_at
        blobs: dict[str, bytes] = {}
        head = snapshot.model_dump(mode="json")  # one serialiser call for every fact
        parts: dict[str, list[str | None]] = {}
        moving: dict[str, dict[str, Any]] = {}
        for name, (_, key_names) in COLLECTIONS.items():
            pairs = [(_identity(item, key_names), item) for item in head.pop(name)]
            if name == "torrents":  # counters apart, coded against a key frame
                for i, (key, body) in enumerate(pairs):
                    static, moving[key] = columns.split(body)
                    pairs[i] = (key, static)
            hashes: list[str | None] = []
            for bucket in _buckets(pairs):
                if not bucket:
                    hashes.append(None)
                    continue
                raw = _canonical([item for _, item in bucket])
                digest = _digest(raw)
                blobs.setdefault(digest, raw)
                hashes.append(digest)
            parts[name] = hashes
        order = sorted(moving)
        frame = self._key_frame(order, moving, now)
        blobs.setdefault(frame.hash, frame.raw)
        counters = {"key": frame.hash, "cols": columns.encode(order, moving, frame.rows)}
        policy_blob = self._policy_blob(policy)
        if policy_blob is not None:
            blobs.setdefault(policy_blob[0], policy_blob[1])
        parts_raw = _canonical(parts)  # the bucket list itself is shared while no bucket changes
        parts_hash = _digest(parts_raw)
        blobs.setdefault(parts_hash, parts_raw)
        manifest = {
            "head": head,
            "parts": parts_hash,
            "counters": counters,
            "policy_blob": policy_blob[0] if policy_blob else None,
        }
        decisions = compact_decisions(batch.records)
        with self.db.session() as s:
            known: set[str] = set()
            wanted = list(blobs)
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                known |= set(s.scalars(select(FactBlob.hash).where(FactBlob.hash.in_(chunk))))
                s.execute(update(FactBlob).where(FactBlob.hash.in_(chunk)).values(last_used_at=now))
            written = 0
            for digest, raw in blobs.items():
                if digest in known:
                    continue
                body = zlib.compress(raw, 6)
                written += len(body)
                s.add(FactBlob(hash=digest, body=body, raw_size=len(raw), created_at=now, last_used_at=now))
            entry = CycleEntry(
                taken_at=now,
                policy_hash=policy.content_hash,
                evaluator=evaluator,
                manifest=_pack(manifest),
                decisions=_pack(decisions),
                new_bytes=0,
            )
            entry.new_bytes = written + len(entry.manifest) + len(entry.decisions)
            s.add(entry)
            s.flush()
            return entry.id

    def _key_frame(self, order: list[str], rows: dict[str, dict[str, Any]], now: datetime) -> _KeyFrame:
        """The key frame torrent counters are coded against: a fresh one a day, or when a
        tenth of the torrents are new to the current one."""
        frame = self._frame
        if frame is not None and timedelta(0) <= now - frame.at < KEY_FRAME_EVERY:
            new = sum(1 for h in order if h not in frame.rows)
            if new * 10 <= len(order):
                return frame
        raw = _canonical(columns.key_frame(order, rows))
        self._frame = _KeyFrame(_digest(raw), raw, {h: dict(rows[h]) for h in order}, now)
        return self._frame

    def _policy_blob(self, policy: Policy) -> tuple[str, bytes] | None:
        """The policy's files, kept once per version so replay can re-run it; only when the
        files on disk are still the ones that were loaded (same content hash)."""
        if policy.content_hash in self._policies:
            return self._policies[policy.content_hash]
        files: dict[str, str] = {}
        digest = hashlib.sha256()
        try:
            for concern in sorted(policy.sources):
                path = Path(policy.sources[concern])
                raw = path.read_bytes()
                digest.update(concern.value.encode() + b"\0" + raw + b"\0")
                files[path.name] = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            self._policies[policy.content_hash] = None
            return None
        if digest.hexdigest() != policy.content_hash:
            log.warning("policy %s changed on disk since it was loaded; its files are not recorded", policy.version)
            self._policies[policy.content_hash] = None
            return None
        raw_files = _canonical({"policy_hash": policy.content_hash, "files": files})
        kept = (_digest(raw_files), raw_files)
        self._policies[policy.content_hash] = kept
        return kept

    def prune(self, now: datetime) -> tuple[int, int]:
        """Drop cycles older than the retention and the blobs only they used."""
        cutoff = now - timedelta(days=self.retention_days)
        with self.db.session() as s:
            cycles: CursorResult[Any] = s.execute(delete(CycleEntry).where(CycleEntry.taken_at < cutoff))  # type: ignore[assignment]
            blobs: CursorResult[Any] = s.execute(delete(FactBlob).where(FactBlob.last_used_at < cutoff))  # type: ignore[assignment]
        self._pruned_at = now
        return cycles.rowcount, blobs.rowcount


class RecordReader:
    """Reads recorded cycles back; blobs shared between cycles are parsed once."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._facts: dict[str, tuple[Any, ...]] = {}

    def cycles(self, since: datetime, until: datetime | None = None) -> Iterator[RecordedCycle]:
        """Cycles in time order, read a batch at a time (a month of them is never all in memory)."""
        with self.db.session() as s:
            query = select(CycleEntry.id).where(CycleEntry.taken_at >= since)
            if until is not None:
                query = query.where(CycleEntry.taken_at <= until)
            ids = list(s.scalars(query.order_by(CycleEntry.taken_at, CycleEntry.id)))
        for i in range(0, len(ids), 100):
            chunk = ids[i : i + 100]
            with self.db.session() as s:
                entries = {e.id: e for e in s.scalars(select(CycleEntry).where(CycleEntry.id.in_(chunk)))}
            for cycle_id in chunk:
                if cycle_id in entries:  # pruned meanwhile: skipped
                    yield self._cycle(entries[cycle_id])

    def cycle(self, cycle_id: int) -> RecordedCycle | None:
        with self.db.session() as s:
            entry = s.get(CycleEntry, cycle_id)
        return None if entry is None else self._cycle(entry)

    def _cycle(self, entry: CycleEntry) -> RecordedCycle:
        manifest = _unpack(entry.manifest)
        body: dict[str, Any] = dict(manifest["head"])
        counters = manifest["counters"]
        if manifest["parts"] not in self._facts:
            self._facts[manifest["parts"]] = (json.loads(self._blobs([manifest["parts"]])[manifest["parts"]]),)
        parts: dict[str, list[str | None]] = self._facts[manifest["parts"]][0]
        wanted = [h for hashes in parts.values() for h in hashes if h]
        missing = [h for h in {*wanted, counters["key"]} if h not in self._facts]
        raw = self._blobs(missing)
        for name, hashes in parts.items():
            item_type = COLLECTIONS[name][0]
            items: list[Any] = []
            for h in hashes:
                if h is None:
                    continue
                if h not in self._facts:
                    parsed = json.loads(raw[h])
                    self._facts[h] = tuple(parsed if name == "torrents" else map(item_type.model_validate, parsed))
                items.extend(self._facts[h])
            body[name] = tuple(items)
        key = counters["key"]
        if key not in self._facts:
            self._facts[key] = (columns.key_rows(json.loads(raw[key])),)
        statics = {t["hash"]: t for t in body["torrents"]}
        order = sorted(statics)
        moving = columns.decode(order, counters["cols"], self._facts[key][0])
        body["torrents"] = tuple(Torrent.model_validate({**statics[h], **moving[h]}) for h in order)
        snapshot = FactSnapshot.model_validate(body)
        decisions = tuple(
            DecisionRecord.model_validate({**d, "policy_hash": entry.policy_hash, "decided_at": entry.taken_at})
            for d in _unpack(entry.decisions)
        )
        return RecordedCycle(entry.id, entry.taken_at, entry.policy_hash, entry.evaluator, snapshot, decisions)

    def _blobs(self, hashes: list[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        with self.db.session() as s:
            for i in range(0, len(hashes), 500):
                chunk = hashes[i : i + 500]
                for digest, body in s.execute(select(FactBlob.hash, FactBlob.body).where(FactBlob.hash.in_(chunk))):
                    out[digest] = zlib.decompress(body)
        lost = set(hashes) - set(out)
        if lost:
            raise LookupError(f"recorded snapshot incomplete: {len(lost)} blob(s) missing from the store")
        return out

    def policy(self, policy_hash: str) -> Policy | None:
        """The recorded policy version, loaded from its kept files (None if not kept)."""
        with self.db.session() as s:
            entry = s.scalars(
                select(CycleEntry).where(CycleEntry.policy_hash == policy_hash).order_by(CycleEntry.id.desc()).limit(1)
            ).first()
            if entry is None:
                return None
            blob_hash = _unpack(entry.manifest).get("policy_blob")
            blob = s.get(FactBlob, blob_hash) if blob_hash else None
            if blob is None:
                return None
            files: dict[str, str] = json.loads(zlib.decompress(blob.body))["files"]
        with tempfile.TemporaryDirectory(prefix="mamcrawler-policy-") as tmp:
            for name, text in files.items():
                (Path(tmp) / name).write_text(text, encoding="utf-8")
            loaded = load_policy(tmp)
        return loaded if loaded.content_hash == policy_hash else None

    def latest_policy_hash(self, since: datetime) -> str | None:
        with self.db.session() as s:
            return s.scalars(
                select(CycleEntry.policy_hash)
                .where(CycleEntry.taken_at >= since)
                .order_by(CycleEntry.taken_at.desc(), CycleEntry.id.desc())
                .limit(1)
            ).first()


def sizes_by_day(db: Database, since: datetime) -> list[DaySize]:
    """Bytes stored per day: each cycle's manifest, decisions and the blobs it added."""
    with db.session() as s:
        rows = s.execute(select(CycleEntry.taken_at, CycleEntry.new_bytes).where(CycleEntry.taken_at >= since)).all()
    days: dict[date, list[int]] = {}
    for taken_at, size in rows:
        day = days.setdefault(taken_at.date(), [0, 0])
        day[0] += 1
        day[1] += size
    return [DaySize(d, c, b) for d, (c, b) in sorted(days.items())]
