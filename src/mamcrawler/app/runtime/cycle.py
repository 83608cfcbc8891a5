"""One sense → decide → act cycle, the unit every daemon job runs.

Reads the sensors into a snapshot, decides under the policy in force (which the records
name), appends the decision records to the JSONL journal and the store, and hands the
planned actions to the live executor — which, under ``--dry-run``, journals them as
planned and sends nothing. Purchases left open by an earlier cycle are settled from the
bonus history first, so the memory read next already counts them.

One cycle at a time in a process: ``CYCLE_LOCK`` (re-entrant) is held by ``Cycle.run``
and by every daemon job (``daemon.run_job``) — monitor, daily, weekly, metadata and
post-download work never overlap, so two batches never act on the same counters, caps
or files at once. Imports ``sensors``, ``actuators``, ``engine``, ``store``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mamcrawler.actuators.live import Execution, LiveExecutor
from mamcrawler.engine import DecisionBatch, Evaluator, Policy, decide
from mamcrawler.engine.records import redact
from mamcrawler.facts import FactSnapshot
from mamcrawler.paths import open_private, refuse_env_file
from mamcrawler.sensors.sources import Sensor, gather
from mamcrawler.store import Database, Recorder, StateStore
from mamcrawler.store.decisions import DecisionStore

log = logging.getLogger("mamcrawler.cycle")
CYCLE_LOCK = threading.RLock()  # every job that decides or acts holds it


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
    _gaps: dict[str, str] = field(default_factory=dict, init=False, repr=False)  # source → code, last cycle

    def run(self, policy: Policy, sensors: Sequence[Sensor], *, now: datetime, dry_run: bool) -> CycleResult:
        with CYCLE_LOCK:
            return self._run(policy, sensors, now=now, dry_run=dry_run)

    def _run(self, policy: Policy, sensors: Sequence[Sensor], *, now: datetime, dry_run: bool) -> CycleResult:
        if not dry_run:
            for settled in self.executor.settle_open_purchases():
                log.info("open purchase %s: %s (%s)", settled.key, settled.status, settled.reason)
        snapshot = gather(sensors, self.state, now)
        batch = decide(policy, snapshot, now=now, evaluator=self.evaluator)
        if self.recorder is not None:
            self.recorder.record(policy, snapshot, batch, evaluator=self.evaluator.name)
        self._journal(batch, dry_run=dry_run)
        executions = tuple(self.executor.execute(batch, dry_run=dry_run))
        self._log_gaps(snapshot)
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

    def _log_gaps(self, snapshot: FactSnapshot) -> None:
        """A gap is a warning when it opens or its cause changes, and a line at info level
        while it lasts (a service that is not configured is not news every cycle); its
        end is logged too."""
        now = {gap.source.value: gap.code for gap in snapshot.gaps}
        for source, code in sorted(now.items()):
            if self._gaps.get(source) != code:
                log.warning("fact gap: %s (%s); rules needing it do not act until it closes", source, code)
            else:
                log.info("fact gap continues: %s (%s)", source, code)
        for source in sorted(self._gaps.keys() - now.keys()):
            log.info("fact gap closed: %s answers again", source)
        self._gaps = now

    def _journal(self, batch: DecisionBatch, *, dry_run: bool) -> None:
        records = []
        for record in batch.records:
            body, hidden = redact(record.model_dump(mode="json"), self.secrets)
            if hidden:
                body["redacted"] = sorted({*body.get("redacted", ()), *hidden})
            records.append(record.model_validate(body))
        DecisionStore(self.db).append(records, dry_run=dry_run)  # the journal; the JSONL is its export
        if self.journal_file is not None and records:
            with open_private(refuse_env_file(self.journal_file, "decisions journal")) as out:
                out.write("".join(r.to_json() + "\n" for r in records))
