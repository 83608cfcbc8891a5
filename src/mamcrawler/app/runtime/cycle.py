"""One sense → decide → act cycle, the unit every daemon job runs.

Reads the sensors into a snapshot, decides under the policy in force (which the records
name), appends the decision records to the JSONL journal and the store, and hands the
planned actions to the live executor — which, under ``--dry-run``, journals them as
planned and sends nothing. Imports ``sensors``, ``actuators``, ``engine``, ``store``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from mamcrawler.actuators.live import Execution, LiveExecutor
from mamcrawler.engine import DecisionBatch, Evaluator, Policy, decide
from mamcrawler.engine.records import redact
from mamcrawler.facts import FactSnapshot
from mamcrawler.sensors.sources import Sensor, gather
from mamcrawler.store import Database, Recorder, StateStore
from mamcrawler.store.schema import DecisionEntry

log = logging.getLogger("mamcrawler.cycle")


@dataclass(frozen=True)
class CycleResult:
    snapshot: FactSnapshot
    batch: DecisionBatch
    executions: tuple[Execution, ...]


@dataclass
class Cycle:
    db: Database
    state: StateStore
    executor: LiveExecutor
    evaluator: Evaluator
    journal_file: Path | None
    secrets: Sequence[str] = ()
    recorder: Recorder | None = None  # keeps what the cycle saw and decided, for replay

    def run(self, policy: Policy, sensors: Sequence[Sensor], *, now: datetime, dry_run: bool) -> CycleResult:
        snapshot = gather(sensors, self.state, now)
        batch = decide(policy, snapshot, now=now, evaluator=self.evaluator)
        if self.recorder is not None:
            self.recorder.record(policy, snapshot, batch, evaluator=self.evaluator.name)
        self._journal(batch)
        executions = tuple(self.executor.execute(batch, dry_run=dry_run))
        for gap in snapshot.gaps:
            log.warning("fact gap: %s (%s); rules needing it did not act", gap.source.value, gap.code)
        applied = sum(1 for e in executions if e.status == "applied")
        log.info(
            "cycle done: policy %s, %d planned, %d applied, %d records%s",
            policy.version,
            len(batch.actions),
            applied,
            len(batch.records),
            " (dry run)" if dry_run else "",
        )
        return CycleResult(snapshot, batch, executions)

    def _journal(self, batch: DecisionBatch) -> None:
        lines = []
        with self.db.session() as s:
            for record in batch.records:
                body, hidden = redact(record.model_dump(mode="json"), self.secrets)
                if hidden:
                    body["redacted"] = sorted({*body.get("redacted", ()), *hidden})
                lines.append(record.model_validate(body).to_json())
                if s.get(DecisionEntry, record.decision_id) is None:
                    s.add(
                        DecisionEntry(
                            decision_id=record.decision_id,
                            decided_at=record.decided_at,
                            policy_hash=record.policy_hash,
                            outcome=record.outcome,
                            record_json=lines[-1],
                        )
                    )
            try:
                s.flush()
            except IntegrityError:
                s.rollback()
        if self.journal_file is not None and lines:
            self.journal_file.parent.mkdir(parents=True, exist_ok=True)
            with self.journal_file.open("a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
