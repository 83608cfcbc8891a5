"""Hostile policies (issue 9): whatever rules a policy holds — any action on any subject
with any arguments, at any layer and priority, under random params — the guards under
the YAML keep every invariant. Each invariant is restated here from the facts and the
params (not by calling the guard that enforces it): VIP never at risk and never bought
past the cap or the per-day limit; no paid or non-essential download, no wedge and no
points purchase at or near the ratio floor; never freeleech bought for a free release
or claimed without a purchase; no removal without the four §10 conditions, none below
the floor, no deleted data the library uses or that is an edition's only copy; caps
honoured (downloads/day, points/day, purchases/day, removals/cycle, unsatisfied
headroom); no pause of a torrent owing seed time (except our paid download in a freeze);
never resume and remove one torrent in a batch; never resume what the user paused.

The suite runs 4× the profile's examples (``ci``: 800, about 30 s)."""

from __future__ import annotations

from collections import Counter

from hypothesis import event, given, settings
from strategies import NOW, HostilePolicy, hostile_policies, hostile_snapshots

from mamcrawler.engine import Policy, decide
from mamcrawler.engine.actions import (
    AddTorrent,
    BuyPersonalFreeleech,
    BuyUploadCredit,
    BuyVip,
    PauseTorrent,
    RemoveTorrent,
    ResumeTorrent,
)
from mamcrawler.engine.records import DecisionBatch
from mamcrawler.engine.world.derive import World, build_world
from mamcrawler.facts import FactSnapshot, FreeKind, PausedBy, Release, Source, TorrentState, UserClass

HOSTILE = settings(max_examples=settings.default.max_examples * 4)


class Facts:
    """What the invariants read, computed from the snapshot and the params only."""

    def __init__(self, policy: Policy, snapshot: FactSnapshot, world: World) -> None:
        acc, r = snapshot.account, policy.ratio
        self.policy, self.snapshot, self.world = policy, snapshot, world
        self.account_known = Source.TRACKER_ACCOUNT not in world.gapped
        self.ratio = acc.ratio if self.account_known else None
        self.near_floor = self.ratio is None or self.ratio <= r.floor + r.margin
        self.below_floor = self.ratio is None or self.ratio < r.floor
        until = acc.vip_until
        self.vip_days = max(0.0, (until - NOW).total_seconds() / 86400) if until else 0.0
        self.renewal = world.prices.vip_per_week * policy.vip.renewal_weeks
        self.protected = self.renewal + policy.vip.reserve_points
        self.points = acc.bonus_points if self.account_known else None
        self.releases = {rel.id: rel for rel in snapshot.releases}
        self.vip_member = acc.user_class in (UserClass.VIP, UserClass.ELITE_VIP, UserClass.STAFF) or self.vip_days > 0
        self.torrents = {t.hash: t for t in snapshot.torrents}

    def free_here(self, release: Release) -> bool:
        """Costs this account no ratio: site, global or personal freeleech for anyone; VIP
        freeleech and VIP torrents only for a VIP member (the account known)."""
        if release.free in (FreeKind.SITE_FREELEECH, FreeKind.GLOBAL_FREELEECH, FreeKind.PERSONAL_FREELEECH):
            return True
        vip = self.account_known and self.vip_member
        return vip and (release.vip_only or release.free is FreeKind.VIP_FREELEECH)

    def vip_at_risk(self, points: int | None) -> bool:
        return points is None or self.vip_days < self.policy.vip.floor_days or points < self.renewal

    def freeze_in_force(self) -> bool:
        held = self.snapshot.memory.downloads_frozen and (
            self.ratio is None or self.ratio < self.policy.ratio.recover_at
        )
        return self.near_floor or held


def _check_purchases(f: Facts, batch: DecisionBatch) -> None:
    balance = f.points
    vip, bought = f.policy.vip, set(f.snapshot.memory.bought_release_ids)
    vip_buys = [a for a in batch.actions if isinstance(a, BuyVip)]
    assert len(vip_buys) <= max(0, vip.max_purchases_per_day - f.snapshot.memory.vip_purchases_today)
    for action in batch.actions:
        if isinstance(action, BuyVip):
            assert balance is not None and balance >= action.points()
            assert f.vip_days + 7 * action.weeks <= vip.max_days + 1e-6  # the tracker's cap (days in millionths)
            balance -= action.points()
        elif isinstance(action, BuyUploadCredit | BuyPersonalFreeleech):
            assert balance is not None
            balance -= action.points()
            assert balance >= f.protected, "non-VIP spending dipped into renewal + reserve"
            assert not f.vip_at_risk(balance), "a non-VIP purchase while VIP is at risk"
        if isinstance(action, BuyPersonalFreeleech):
            release = f.releases[action.release_id]
            assert not f.free_here(release) and action.release_id not in bought, "freeleech bought for a free release"
            assert not f.near_floor, "a wedge or points purchase (a paid release) at or near the floor"
            bought.add(action.release_id)
    non_vip = [a for a in batch.actions if isinstance(a, BuyUploadCredit | BuyPersonalFreeleech)]
    memory, pacing = f.snapshot.memory, f.policy.pacing
    assert memory.points_spent_today + sum(a.points() for a in non_vip) <= max(
        pacing.max_points_per_day, memory.points_spent_today
    )
    assert len(non_vip) <= max(0, pacing.max_purchases_per_day - memory.purchases_today)


def _check_downloads(f: Facts, batch: DecisionBatch) -> None:
    adds = [a for a in batch.actions if isinstance(a, AddTorrent)]
    budget = f.world.shared["state.download_budget_today"]
    assert isinstance(budget, int)
    assert len(adds) <= max(0, budget - f.snapshot.memory.downloads_today)
    acc = f.snapshot.account
    limit = acc.unsatisfied_limit or f.policy.snatch.class_limits.get(acc.user_class.value)
    if adds:
        assert f.account_known and limit is not None and acc.unsatisfied_count is not None
        assert acc.unsatisfied_count + len(adds) <= limit - f.policy.snatch.unsat_buffer, "past the H&R headroom"
    assert all(n == 1 for n in Counter(a.book_key for a in adds).values())
    wedges = acc.wedges or 0  # wedges spent (store purchase or download flag/auto) never exceed those held
    for action in batch.actions:
        if (isinstance(action, AddTorrent) and action.wedge != "none") or (
            isinstance(action, BuyPersonalFreeleech) and action.method == "wedge"
        ):
            assert wedges >= 1, "a wedge spent that the account does not hold"
            flag = not isinstance(action, AddTorrent) or action.wedge == "flag"
            assert not flag or wedges - 1 >= f.policy.free_first.wedge_reserve, "a wedge spent from the reserve"
            wedges -= 1
    in_client = {t.release_id for t in f.snapshot.torrents if t.release_id}
    bought_before = set(f.snapshot.memory.bought_release_ids)
    for index, add in enumerate(batch.actions):
        if not isinstance(add, AddTorrent):
            continue
        release = f.releases[add.release_id]
        assert add.release_id not in in_client, "the same release downloaded twice"
        bought = add.release_id in bought_before or any(
            isinstance(a, BuyPersonalFreeleech) and a.release_id == add.release_id for a in batch.actions[:index]
        )
        # free only when the release is free (for this account: a VIP torrent for a VIP member),
        # bought, or a wedge goes on it at download time (a purchase this cycle by another
        # proposal leaves the download counted as paid: stricter, never looser)
        free_here, wedged = f.free_here(release), add.wedge != "none"
        assert not add.free or free_here or bought or wedged, "freeleech claimed without a purchase"
        assert not (wedged and free_here), "a wedge on a release already free for the account"
        assert not (wedged and f.near_floor), "a wedge download (a paid release) at or near the floor"
        assert add.free or not (free_here or add.release_id in bought_before)
        if not add.free:
            assert not f.near_floor, "a paid download at or near the floor"
            assert not f.vip_at_risk(f.points), "a paid download while VIP is at risk"
            assert f.policy.free_first.allow_ratio_costing
        elif f.near_floor:
            leechers = release.leechers
            helps_ratio = leechers is not None and leechers >= f.policy.ratio.helpful_min_leechers
            assert helps_ratio or f.vip_at_risk(f.points), "a non-essential download at or near the floor"


def _check_torrents(f: Facts, batch: DecisionBatch) -> None:
    rows = {row.id: row for row in f.world.torrent_rows}
    resumed = {a.hash for a in batch.actions if isinstance(a, ResumeTorrent)}
    removed = [a for a in batch.actions if isinstance(a, RemoveTorrent)]
    assert not resumed & {a.hash for a in removed}, "resumed and removed in one batch"
    assert len(removed) <= f.policy.pacing.max_removals_per_cycle
    min_seed = f.policy.seeding.min_seed_hours
    for action in batch.actions:
        if isinstance(action, ResumeTorrent):
            t = f.torrents[action.hash]
            assert t.paused_by is not PausedBy.USER
            assert t.progress >= 1.0 or t.free or not f.near_floor, "a paid download resumed at the floor"
        if isinstance(action, PauseTorrent):
            t = f.torrents[action.hash]
            owes = t.seeding_seconds / 3600 < min_seed
            own_paid = t.added_by_mamcrawler and not t.free and t.progress < 1.0
            assert not owes or (own_paid and f.freeze_in_force()), "paused while owing seed time"
        if isinstance(action, RemoveTorrent):
            t, row = f.torrents[action.hash], rows[action.hash]
            assert not f.below_floor, "a removal below the floor"
            assert t.points_per_hour == 0 and t.uploaded_30d_bytes == 0  # earns nothing, adds nothing (known)
            assert t.seeding_seconds / 3600 >= min_seed  # the tracker's minimum seed time
            superior = row.get("torrent.superior_edition_exists")
            assert superior is False or row.get("torrent.superior_edition_seeding") is True
            if action.delete_data:
                assert Source.LIBRARY not in f.world.gapped
                assert action.hash not in {i.torrent_hash for i in f.snapshot.library}, "deleted the library's files"
                assert any(
                    o.hash != t.hash
                    and o.release_id == t.release_id is not None
                    and o.progress >= 1.0
                    and o.state in (TorrentState.SEEDING, TorrentState.STALLED_UPLOAD)
                    for o in f.snapshot.torrents
                ), "deleted the only copy of an edition"


@HOSTILE
@given(hostile_policies(), hostile_snapshots())
def test_guards_hold_every_invariant_under_a_hostile_policy(hostile: HostilePolicy, snapshot: FactSnapshot) -> None:
    policy = hostile.policy
    batch = decide(policy, snapshot, now=NOW)
    world = build_world(policy, snapshot, NOW)
    facts = Facts(policy, snapshot, world)
    for kind in sorted({a.type for a in batch.actions}):
        event(f"planned {kind}")
    for code in sorted({r.blocked_by for r in batch.records if r.outcome in ("guarded", "capped") and r.blocked_by}):
        event(f"bit {code}")
    _check_purchases(facts, batch)
    _check_downloads(facts, batch)
    _check_torrents(facts, batch)
