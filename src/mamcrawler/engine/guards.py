"""Safety invariants that hold whatever the YAML says, and the running ledger they read.

The default policy already expresses each of these as rules; the guards are the net
under them, so a mistaken user edit cannot spend VIP's points, buy freeleech on a free
release, pay for a download at the ratio floor, start a snatch at the hit-and-run limit,
resume a torrent the user paused or remove a torrent without the four §10 conditions.
Every threshold comes from the policy's params. A guard that bites is recorded with its
``guard_*`` code; a cap with its ``cap_*`` code. Imports sibling engine modules."""

from __future__ import annotations

from dataclasses import dataclass, field

from mamcrawler.engine.actions import (
    Action,
    AddTorrent,
    BuyPersonalFreeleech,
    BuyUploadCredit,
    BuyVip,
    RemoveTorrent,
    ResumeTorrent,
)
from mamcrawler.engine.economy.vip_steps import economy_guard
from mamcrawler.engine.policy.compiled import Policy
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.world.derive import Candidate, World
from mamcrawler.facts import PausedBy


@dataclass
class Ledger:
    """What this cycle has committed so far; checked before each further proposal."""

    points: int | None
    wedges: int
    protected: int | None
    downloads_left: int
    points_spent_today: int
    purchases_today: int
    removals: int = 0
    books_added: set[str] = field(default_factory=set)
    releases_bought: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, policy: Policy, world: World, downloads_today: int, spent: int, purchases: int) -> Ledger:
        shared = world.shared
        points = shared.get("account.bonus_points")
        protected = shared.get("account.protected_points")
        budget = shared.get("state.download_budget_today")
        return cls(
            points=int(points) if isinstance(points, int | float) else None,
            wedges=int(shared.get("account.wedges") or 0),
            protected=int(protected) if isinstance(protected, int | float) else None,
            downloads_left=max(0, (int(budget) if isinstance(budget, int | float) else 0) - downloads_today),
            points_spent_today=spent,
            purchases_today=purchases,
        )

    def commit(self, actions: tuple[Action, ...]) -> None:
        for action in actions:
            if self.points is not None:
                self.points -= action.points()
            if isinstance(action, BuyPersonalFreeleech):
                self.releases_bought.add(action.release_id)
                if action.method == "wedge":
                    self.wedges -= 1
            if isinstance(action, BuyUploadCredit | BuyPersonalFreeleech):
                self.points_spent_today += action.points()
                self.purchases_today += 1
            if isinstance(action, AddTorrent):
                self.downloads_left -= 1
                self.wedges -= action.wedge != "none"
                self.books_added.add(action.book_key)
            if isinstance(action, RemoveTorrent):
                self.removals += 1


def _num(row: Row, key: str) -> float | None:
    value = row.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def vip_at_risk(policy: Policy, row: Row, points_after: int | None) -> bool:
    """§1: days below the floor, or points that would not cover the next renewal."""
    days = _num(row, "account.vip_days_left")
    renewal = _num(row, "account.vip_renewal_points")
    if days is None or renewal is None or points_after is None:
        return True  # unknown standing is treated as at risk (fail closed)
    return days < policy.vip.floor_days or points_after < renewal


def check_guards(
    policy: Policy, world: World, ledger: Ledger, actions: tuple[Action, ...], row: Row, candidate: Candidate | None
) -> str | None:
    """The first guard code the proposal violates, or None."""
    spend = sum(a.points() for a in actions)
    non_vip_spend = sum(a.points() for a in actions if not isinstance(a, BuyVip))
    ratio = _num(row, "account.ratio")
    ratio_p = policy.ratio
    for action in actions:
        if code := economy_guard(policy, ledger.wedges, len(ledger.books_added), action, row):
            return code
        if isinstance(action, BuyVip | BuyUploadCredit | BuyPersonalFreeleech):
            if ledger.points is None:
                return "guard_points_unknown"
            if spend > ledger.points:
                return "guard_not_enough_points"
        if isinstance(action, BuyUploadCredit | BuyPersonalFreeleech) and ledger.points is not None:
            after = ledger.points - non_vip_spend
            if ledger.protected is None or after < ledger.protected:
                return "guard_vip_points_protected"
            if vip_at_risk(policy, row, after):
                return "guard_vip_at_risk"
        if isinstance(action, BuyPersonalFreeleech):
            if candidate is None or candidate.selection.chosen.is_free:
                return "guard_already_free"
            if candidate.selection.chosen.id in ledger.releases_bought or row.get("candidate.already_bought"):
                return "guard_already_bought"
            if action.method == "wedge" and ledger.wedges - 1 < policy.free_first.wedge_reserve:
                return "guard_wedge_reserve"
            if ratio is None or ratio < ratio_p.floor:
                return "guard_ratio_below_floor"
        if isinstance(action, AddTorrent):
            code = _download_guard(policy, ledger, action, row, ratio)
            if code:
                return code
        if isinstance(action, ResumeTorrent):
            torrent = world.torrents.get(action.hash)
            if torrent is not None and torrent.paused_by is PausedBy.USER:
                return "guard_user_paused"
        if isinstance(action, RemoveTorrent) and not removal_allowed(policy, row):
            return "guard_removal_conditions"
    return None


def _download_guard(policy: Policy, ledger: Ledger, action: AddTorrent, row: Row, ratio: float | None) -> str | None:
    if action.book_key in ledger.books_added or row.get("candidate.in_client") is not False:
        return "guard_duplicate_download"
    headroom = _num(row, "account.unsat_headroom")
    if headroom is None or headroom <= policy.snatch.unsat_buffer:
        return "guard_unsatisfied_limit"
    if not action.free:
        if ratio is None or ratio <= policy.ratio.floor + policy.ratio.margin:
            return "guard_ratio_floor"
        if not action.bought_freeleech:
            after = _num(row, "candidate.headroom_after_gib")
            if not policy.free_first.allow_ratio_costing:
                return "guard_ratio_costing_not_allowed"
            if after is None or after < policy.free_first.ratio_costing_margin_gib:
                return "guard_upload_buffer"
    return None


def removal_allowed(policy: Policy, row: Row) -> bool:
    """§10: earns no points, adds nothing to ratio, a superior edition seeds (if any), and
    the tracker's minimum seed time is met — all four, known, or no removal."""
    seed_hours = _num(row, "torrent.seed_hours")
    superior = row.get("torrent.superior_edition_exists")
    return (
        row.get("torrent.earns_points") is False
        and row.get("torrent.adds_ratio") is False
        and (superior is False or (superior is True and row.get("torrent.superior_edition_seeding") is True))
        and seed_hours is not None
        and seed_hours >= policy.seeding.min_seed_hours
    )


def check_caps(policy: Policy, ledger: Ledger, actions: tuple[Action, ...]) -> str | None:
    pacing = policy.pacing
    for action in actions:
        if isinstance(action, AddTorrent) and ledger.downloads_left <= 0:
            return "cap_daily_downloads"
        if isinstance(action, BuyUploadCredit | BuyPersonalFreeleech):
            if ledger.points_spent_today + action.points() > pacing.max_points_per_day:
                return "cap_points_per_day"
            if ledger.purchases_today + 1 > pacing.max_purchases_per_day:
                return "cap_purchases_per_day"
        if isinstance(action, RemoveTorrent) and ledger.removals + 1 > pacing.max_removals_per_cycle:
            return "cap_removals_per_cycle"
    return None
