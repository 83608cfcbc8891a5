"""A child process for the purchase crash tests: executes one bonus-store purchase through
the real live executor against the tracker fake, so the test can SIGKILL it while the
store holds the answer (after the request left, before the outcome was journalled).

Usage: ``python purchase_child.py DATABASE_URL TRACKER_URL ACTION_JSON``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from pydantic import TypeAdapter

from mamcrawler.actuators.live import LiveExecutor
from mamcrawler.adapters.mam import MamClient, Politeness, PolitenessLimits
from mamcrawler.engine.actions import Action
from mamcrawler.engine.records import DecisionBatch, DecisionRecord
from mamcrawler.store import ActionJournal, Database, StateStore

FAST = PolitenessLimits(min_spacing_s=0.01, max_spacing_s=0.02, backoff_base_s=0.01, backoff_max_s=0.02)


def one_action_batch(action: Action, at: datetime) -> DecisionBatch:
    record = DecisionRecord(
        decision_id=f"d-{action.type}",
        policy_hash="test",
        decided_at=at,
        subject_kind="account",
        subject_id="me",
        outcome="planned",
        reason="test_purchase",
        actions=(action,),
    )
    return DecisionBatch(policy_hash="test", decided_at=at, evaluator="reference", actions=(action,), records=(record,))


def main() -> None:
    database_url, tracker_url, action_json = sys.argv[1:4]
    action = TypeAdapter(Action).validate_json(action_json)
    db = Database(database_url)
    state = StateStore(db)
    store = MamClient(tracker_url, "cookie-0", politeness=Politeness(FAST), timeout=60)
    executor = LiveExecutor(ActionJournal(db), state, store=store, clock=lambda: datetime.now(UTC))
    executor.execute(one_action_batch(action, datetime.now(UTC)), dry_run=False)  # killed while in flight


if __name__ == "__main__":
    main()
