"""The SPEC's named boundaries, each tested on both sides with the default policy:
ratio exactly 1.00 (and floor + margin), VIP exactly 7 days, bitrate exactly 64 kbps,
exactly 72 h seeded, and the unsatisfied count at the class limit minus the buffer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mamcrawler.engine import DecisionBatch, Policy, decide, load_policy
from mamcrawler.facts import (
    Account,
    FactSnapshot,
    FreeKind,
    PausedBy,
    Release,
    Torrent,
    TorrentState,
    UserClass,
    Want,
)

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
GIB = 1024**3


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy("policies")


def account(**changes: object) -> Account:
    base = Account(
        user_class=UserClass.VIP,
        ratio=2.0,
        uploaded_bytes=400 * GIB,
        downloaded_bytes=200 * GIB,
        bonus_points=60000,
        wedges=0,
        vip_until=NOW + timedelta(days=60),
        unsatisfied_count=0,
        unsatisfied_limit=150,
    )
    return base.model_copy(update=changes)


def release(rid: str = "r1", **changes: object) -> Release:
    base = Release(
        id=rid,
        tracker_id=1,
        book_key="dune|frank herbert",
        title="Dune",
        authors=("Frank Herbert",),
        bitrate_kbps=128,
        abridged=False,
        single_file=True,
        size_bytes=GIB,
        seeders=5,
        leechers=0,
    )
    return base.model_copy(update=changes)


def snapshot(acc: Account, *releases: Release, torrents: tuple[Torrent, ...] = ()) -> FactSnapshot:
    return FactSnapshot(
        taken_at=NOW,
        account=acc,
        releases=releases,
        wants=(Want(book_key="dune|frank herbert", title="Dune"),) if releases else (),
        torrents=torrents,
    )


def planned(batch: DecisionBatch) -> list[str]:
    return [a.type for a in batch.actions]


def reasons(batch: DecisionBatch) -> set[str]:
    return {r.reason for r in batch.records}


# ratio: the floor is 1.00 (emergency strictly below), the freeze at ≤ floor + margin (1.05)
@pytest.mark.parametrize(
    ("ratio", "freeze", "emergency"),
    [(0.99, True, True), (1.0, True, False), (1.05, True, False), (1.0501, False, False), (1.2, False, False)],
)
def test_ratio_floor_and_margin_boundaries(policy: Policy, ratio: float, freeze: bool, emergency: bool) -> None:
    acc = account(ratio=ratio, uploaded_bytes=int(200 * GIB * ratio), bonus_points=99999, wedges=1)
    batch = decide(policy, snapshot(acc, release()), now=NOW)
    assert ("ratio_freeze" in batch.flags) is freeze
    assert ("ratio_emergency" in batch.flags) is emergency
    paid_downloads = [a for a in batch.actions if a.type == "AddTorrent" and not a.free]
    purchases = [a for a in batch.actions if a.type == "BuyPersonalFreeleech" or getattr(a, "wedge", "none") != "none"]
    if freeze:
        assert not paid_downloads
        assert "FreezeDownloads" in planned(batch)
    # §10 strict freeze: a release that needs a wedge or points is paid, so purchases stop at or near the floor
    assert bool(purchases) is not freeze, batch.records


def test_freeze_holds_until_recover_at(policy: Policy) -> None:
    frozen = snapshot(account(ratio=1.09), release()).model_copy(
        update={"memory": snapshot(account()).memory.model_copy(update={"downloads_frozen": True})}
    )
    assert "ratio_freeze" in decide(policy, frozen, now=NOW).flags
    thawed = frozen.model_copy(update={"account": account(ratio=1.10)})
    batch = decide(policy, thawed, now=NOW)
    assert "ratio_freeze" not in batch.flags
    assert "UnfreezeDownloads" in planned(batch)


# VIP: at risk strictly below 7 days
@pytest.mark.parametrize(("days", "at_risk"), [(6.99, True), (7.0, False), (7.01, False)])
def test_vip_floor_boundary(policy: Policy, days: float, at_risk: bool) -> None:
    acc = account(vip_until=NOW + timedelta(days=days), bonus_points=99999)
    batch = decide(policy, snapshot(acc, release()), now=NOW)
    assert ("vip_at_risk" in batch.flags) is at_risk
    assert "BuyVip" in planned(batch)
    if at_risk:
        assert "BuyPersonalFreeleech" not in planned(batch)
        assert "vip_at_risk_renewal" in reasons(batch)
    else:
        assert "vip_renew_early" in reasons(batch)


# §5: below 64 kbps is rejected; exactly 64 passes
@pytest.mark.parametrize(("bitrate", "accepted"), [(63, False), (64, True), (65, True)])
def test_bitrate_floor_boundary(policy: Policy, bitrate: int, accepted: bool) -> None:
    batch = decide(policy, snapshot(account(), release(bitrate_kbps=bitrate, free=FreeKind.SITE_FREELEECH)), now=NOW)
    assert ("AddTorrent" in planned(batch)) is accepted
    if not accepted:
        assert "no_release_passes_floor" in reasons(batch)


def seeded(seconds: int) -> Torrent:
    return Torrent(
        book_key="old|only edition",
        hash="ab" * 20,
        name="old edition",
        state=TorrentState.SEEDING,
        progress=1.0,
        seeding_seconds=seconds,
        points_per_hour=0.0,
        uploaded_30d_bytes=0,
        paused_by=PausedBy.NOBODY,
    )


# §10: removal needs exactly ≥ 72 h seeded (with the other three conditions)
@pytest.mark.parametrize(("seconds", "removed"), [(72 * 3600 - 1, False), (72 * 3600, True)])
def test_minimum_seed_time_boundary(policy: Policy, seconds: int, removed: bool) -> None:
    batch = decide(policy, snapshot(account(), torrents=(seeded(seconds),)), now=NOW)
    assert ("RemoveTorrent" in planned(batch)) is removed


def test_removal_needs_every_condition(policy: Policy) -> None:
    for change in ({"points_per_hour": 0.1}, {"uploaded_30d_bytes": 1}, {"points_per_hour": None}):
        torrent = seeded(100 * 3600).model_copy(update=change)
        assert "RemoveTorrent" not in planned(decide(policy, snapshot(account(), torrents=(torrent,)), now=NOW))


# hit-and-run guard: at limit − buffer no new download starts
@pytest.mark.parametrize(("count", "starts"), [(139, True), (140, False), (150, False)])
def test_unsatisfied_limit_boundary(policy: Policy, count: int, starts: bool) -> None:
    acc = account(unsatisfied_count=count, unsatisfied_limit=150)
    batch = decide(policy, snapshot(acc, release(free=FreeKind.SITE_FREELEECH)), now=NOW)
    assert ("AddTorrent" in planned(batch)) is starts
