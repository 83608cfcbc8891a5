"""A purchase sent but not settled (``Memory.purchases_in_doubt``) is never planned again:
the guard names itself in the record; other kinds and other releases are not held back."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mamcrawler.engine import decide, load_policy
from mamcrawler.facts import Account, FactSnapshot, Memory, Release, UserClass, Want

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
GIB = 1024**3


def snapshot(in_doubt: tuple[str, ...], vip_days: int = 5) -> FactSnapshot:
    account = Account(
        user_class=UserClass.VIP,
        ratio=2.0,
        uploaded_bytes=200 * GIB,
        downloaded_bytes=100 * GIB,
        bonus_points=99999,
        vip_until=NOW + timedelta(days=vip_days),  # 5: at risk, VIP would be bought
        unsatisfied_count=0,
        unsatisfied_limit=150,
        store_freeleech_refused=False,  # the bonus-store route still open (it is off by default since 2026)
    )
    release = Release(
        id="paid", tracker_id=1, book_key="b|a", title="B", authors=("A",), bitrate_kbps=128, size_bytes=GIB
    )
    return FactSnapshot(
        taken_at=NOW,
        account=account,
        releases=(release,),
        wants=(Want(book_key="b|a", title="B"),),
        memory=Memory(purchases_in_doubt=in_doubt),
    )


def test_an_unsettled_purchase_is_not_planned_again_and_the_guard_is_named() -> None:
    policy = load_policy("policies")
    before = decide(policy, snapshot(()), now=NOW)
    assert "BuyVip" in {a.type for a in before.actions}
    after = decide(policy, snapshot(("vip",)), now=NOW)
    assert "BuyVip" not in {a.type for a in after.actions}
    guarded = [r for r in after.records if r.blocked_by == "guard_purchase_in_doubt"]
    assert guarded and all(any(a.type == "BuyVip" for a in r.actions) for r in guarded)


def test_an_unsettled_freeleech_blocks_that_release_only(tmp_path: Path) -> None:
    shutil.copytree("policies", tmp_path / "policies")
    free_first = tmp_path / "policies" / "free_first.yaml"
    free_first.write_text(free_first.read_text().replace("store_freeleech: false", "store_freeleech: true"))
    policy = load_policy(tmp_path / "policies")
    before = decide(policy, snapshot((), vip_days=40), now=NOW)
    assert "BuyPersonalFreeleech" in {a.type for a in before.actions}
    assert "BuyPersonalFreeleech" in {
        a.type for a in decide(policy, snapshot(("pfl:other",), vip_days=40), now=NOW).actions
    }
    after = decide(policy, snapshot(("pfl:paid",), vip_days=40), now=NOW)
    assert "BuyPersonalFreeleech" not in {a.type for a in after.actions}
    assert any(r.blocked_by == "guard_purchase_in_doubt" for r in after.records)
