"""The daemon log says what a cycle did in words: a 52,500-point VIP purchase is one line
with its book-less subject, reason and points, a download names the book's title."""

from __future__ import annotations

from datetime import UTC, datetime

from mamcrawler.actuators.live import Execution
from mamcrawler.app.runtime.cycle_words import cycle_table
from mamcrawler.engine import DecisionBatch
from mamcrawler.engine.actions import AddTorrent, BuyVip
from mamcrawler.engine.records import DecisionRecord

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def record(decision_id: str, subject: str, reason: str) -> DecisionRecord:
    return DecisionRecord(
        decision_id=decision_id,
        policy_hash="p",
        decided_at=NOW,
        subject_kind="x",
        subject_id=subject,
        outcome="planned",
        reason=reason,
    )


def test_a_purchase_reads_as_a_purchase_with_its_points() -> None:
    batch = DecisionBatch(
        policy_hash="p",
        decided_at=NOW,
        evaluator="reference",
        actions=(),
        records=(record("d1", "account", "vip_at_risk_renewal"), record("d2", "dune|frank herbert", "wanted")),
    )
    executions = (
        Execution("d1", BuyVip(weeks=4, cost_points=52_500), "applied"),
        Execution(
            "d2",
            AddTorrent(release_id="r1", book_key="dune|frank herbert", source="tracker", free=True),
            "planned_dry_run",
        ),
    )
    lines = cycle_table(batch, executions, lambda key: "Dune" if key.startswith("dune") else key)
    assert len(lines) == 2
    assert lines[0].split()[:3] == ["done", "buy", "VIP"] and "vip at risk renewal" in lines[0]
    assert lines[0].endswith("52,500 points")
    assert "download" in lines[1] and "Dune" in lines[1] and "dune|frank" not in lines[1]
    assert "planned (dry run)" in lines[1]
    assert cycle_table(batch, (), str) == []
