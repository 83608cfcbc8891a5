"""decide()'s records and explanations: deterministic ids, the rule's file:line, the facts
it read, a rule-by-rule trace with reason codes ("why not"), gap semantics (blocks held,
actions dropped, fact_unavailable), and the priority order between layers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mamcrawler.engine import Policy, decide, load_policy
from mamcrawler.facts import Account, FactGap, FactSnapshot, FreeKind, Release, Source, UserClass, Want

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
GIB = 1024**3


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("policies")


def snap(ratio: float = 2.0, points: int = 99999, days: float = 40, **kw: object) -> FactSnapshot:
    account = Account(
        user_class=UserClass.VIP,
        ratio=ratio,
        uploaded_bytes=int(100 * GIB * ratio),
        downloaded_bytes=100 * GIB,
        bonus_points=points,
        wedges=1,
        vip_until=NOW + timedelta(days=days),
        unsatisfied_count=0,
        unsatisfied_limit=150,
    )
    releases = (
        Release(id="paid", tracker_id=1, book_key="b|a", title="B", authors=("A",), bitrate_kbps=128, size_bytes=GIB),
        Release(
            id="free",
            tracker_id=2,
            book_key="c|a",
            title="C",
            authors=("A",),
            bitrate_kbps=128,
            size_bytes=GIB,
            free=FreeKind.SITE_FREELEECH,
        ),
    )
    wants = (Want(book_key="b|a", title="B"), Want(book_key="c|a", title="C"))
    return FactSnapshot(taken_at=NOW, account=account, releases=releases, wants=wants).model_copy(update=kw)


def test_records_are_deterministic_and_name_rule_location_and_facts(policy: Policy) -> None:
    first, second = decide(policy, snap(), now=NOW), decide(policy, snap(), now=NOW)
    assert [r.decision_id for r in first.records] == [r.decision_id for r in second.records]
    bought = next(r for r in first.records if r.rule_id == "download_with_wedge")
    assert bought.outcome == "planned"
    assert bought.facts["candidate.wedge_gate"] == "spend"  # the record says which condition decided
    assert bought.rule_at is not None and bought.rule_at.startswith("policies/free_first.yaml:")
    assert bought.facts["candidate.is_free"] is False
    assert bought.policy_hash == policy.content_hash
    assert bought.ladder["parts"]["bitrate"] == 3
    traced = {t["rule"]: t for t in bought.trace}
    assert traced["download_free"]["matched"] is False
    assert traced["download_free"]["reason"] == "condition_not_met"
    why_not = traced["download_free"]["conditions"][0]
    assert (why_not["fact"], why_not["actual"], why_not["expected"]) == ("candidate.is_free", False, True)


def test_a_gap_holds_blocks_drops_actions_and_says_fact_unavailable(policy: Policy) -> None:
    gapped = snap(gaps=(FactGap(source=Source.TRACKER_ACCOUNT, code="service_unavailable"),))
    batch = decide(policy, gapped, now=NOW)
    assert not [a for a in batch.actions if a.type in ("BuyVip", "BuyPersonalFreeleech", "BuyUploadCredit")]
    assert "ratio_freeze" in batch.flags and "vip_at_risk" in batch.flags
    assert any(r.reason == "fact_unavailable" and r.outcome in ("flag", "block") for r in batch.records)
    assert batch.gapped_sources == ("tracker_account",)


def test_stale_facts_count_as_gaps(policy: Policy) -> None:
    from mamcrawler.facts import Provenance

    old = snap(provenance=(Provenance(source=Source.TRACKER_ACCOUNT, observed_at=NOW - timedelta(days=3)),))
    assert "tracker_account" in decide(policy, old, now=NOW).gapped_sources


def test_vip_outranks_everything_and_ratio_never_blocks_vip(policy: Policy) -> None:
    batch = decide(policy, snap(ratio=0.8, points=20000, days=3), now=NOW)
    types = [a.type for a in batch.actions]
    assert "BuyVip" in types
    assert "BuyPersonalFreeleech" not in types
    assert {"vip_at_risk", "ratio_emergency"} <= set(batch.flags)


def test_every_planned_action_has_exactly_one_planned_record(policy: Policy) -> None:
    batch = decide(policy, snap(), now=NOW)
    planned = [a for r in batch.planned() for a in r.actions]
    assert planned == list(batch.actions)
