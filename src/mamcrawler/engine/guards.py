"""Safety invariants that hold whatever the YAML says, and the running ledger they read.

The default policy already expresses each of these as rules; the guards are the net
under them, so a mistaken or hostile policy cannot spend VIP's points, buy VIP past the
tracker's cap, buy freeleech on a free release, claim a freeleech it never bought, spend a
wedge past the reserve (or one that is not left), send a freeleech purchase through a
store route the tracker refused for good, buy VIP in steps below ``vip.min_purchase_weeks``,
pay for (or start a non-essential) download at or near the ratio floor, start a snatch past
the hit-and-run headroom, pause a torrent that still owes seeding, resume a torrent the
user paused, resume and remove one torrent in the same batch, delete data the library
uses, or remove a torrent without the four §10 conditions. Every threshold comes from
the policy's params; facts are read from the row (never from policy-set flags or tags).
A guard that bites is recorded with its ``guard_*`` code; a cap with its ``cap_*`` code
(``GUARDS`` lists every code with the invariant it protects). Imports sibling engine modules."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from mamcrawler.engine.actions import (
    Action,
    AddTorrent,
    BuyPersonalFreeleech,
    BuyUploadCredit,
    BuyVip,
    PauseTorrent,
    RemoveTorrent,
    ReplaceEdition,
    ResumeTorrent,
)
from mamcrawler.engine.economy.wedge import free_here
from mamcrawler.engine.policy.compiled import Policy
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.world.derive import Candidate, World
from mamcrawler.facts import Memory, PausedBy, TorrentState

_SEEDING_STATES = frozenset({TorrentState.SEEDING, TorrentState.STALLED_UPLOAD})


@dataclass
class Ledger:
    """What this cycle has committed so far; checked before each further proposal."""

    points: int | None
    wedges: int
    protected: int | None
    downloads_left: int
    points_spent_today: int
    purchases_today: int
    vip_purchases_today: int = 0
    downloads_planned: int = 0
    removals: int = 0
    books_added: set[str] = field(default_factory=set)
    releases_bought: set[str] = field(default_factory=set)
    resumed: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    in_doubt: set[str] = field(default_factory=set)  # purchase kinds sent but not yet settled

    @classmethod
    def open(cls, policy: Policy, world: World, memory: Memory) -> Ledger:
        shared = world.shared
        points = shared.get("account.bonus_points")
        protected = shared.get("account.protected_points")
        budget = shared.get("state.download_budget_today")
        return cls(
            points=int(points) if isinstance(points, int | float) else None,
            wedges=int(shared.get("account.wedges") or 0),
            protected=int(protected) if isinstance(protected, int | float) else None,
            downloads_left=max(0, (int(budget) if isinstance(budget, int | float) else 0) - memory.downloads_today),
            points_spent_today=memory.points_spent_today,
            purchases_today=memory.purchases_today,
            vip_purchases_today=memory.vip_purchases_today,
            in_doubt=set(memory.purchases_in_doubt),  # sent, unsettled: never bought again meanwhile
        )

    def copy(self) -> Ledger:
        return replace(
            self,
            books_added=set(self.books_added),
            releases_bought=set(self.releases_bought),
            resumed=set(self.resumed),
            removed=set(self.removed),
            in_doubt=set(self.in_doubt),
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
            if isinstance(action, BuyVip):
                self.vip_purchases_today += 1
            if isinstance(action, AddTorrent):
                self.downloads_left -= 1
                self.wedges -= action.wedge != "none"  # a wedge flag (or auto) spends one at the site
                self.downloads_planned += 1  # each new snatch uses one unit of unsatisfied headroom
                self.books_added.add(action.book_key)
            if isinstance(action, ResumeTorrent):
                self.resumed.add(action.hash)
            if isinstance(action, RemoveTorrent):
                self.removals += 1
                self.removed.add(action.hash)


def _num(row: Row, key: str) -> float | None:
    value = row.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def doubt_key(action: BuyVip | BuyUploadCredit | BuyPersonalFreeleech | AddTorrent) -> str:
    """What an unsettled purchase blocks: any VIP, any upload credit, this release's
    freeleech, or (a wedge spent at download time) any download of this release."""
    if isinstance(action, AddTorrent):
        return f"wedge:{action.release_id}"
    if isinstance(action, BuyPersonalFreeleech):
        return f"pfl:{action.release_id}"
    return "vip" if isinstance(action, BuyVip) else "upload"


def vip_at_risk(policy: Policy, row: Row, points_after: int | None) -> bool:
    """§1: days below the floor, or points that would not cover the next renewal."""
    days = _num(row, "account.vip_days_left")
    renewal = _num(row, "account.vip_renewal_points")
    if days is None or renewal is None or points_after is None:
        return True  # unknown standing is treated as at risk (fail closed)
    return days < policy.vip.floor_days or points_after < renewal


def at_or_near_floor(policy: Policy, row: Row) -> bool:
    """§10 strict freeze zone: ratio ≤ floor + margin (unknown ratio counts as in it)."""
    ratio = _num(row, "account.ratio")
    return ratio is None or ratio <= policy.ratio.floor + policy.ratio.margin


def freeze_in_force(policy: Policy, row: Row) -> bool:
    """At or near the floor, or a recorded freeze not yet lifted at ``recover_at``."""
    ratio = _num(row, "account.ratio")
    held = row.get("state.downloads_frozen") is True and (ratio is None or ratio < policy.ratio.recover_at)
    return at_or_near_floor(policy, row) or held


def essential_download(policy: Policy, row: Row) -> bool:
    """§10: a free release is essential when it helps ratio (leechers waiting) or VIP
    (VIP at risk at the start of the cycle: seeding it earns the points a renewal needs)."""
    leechers = _num(row, "candidate.leechers")
    helps_ratio = leechers is not None and leechers >= policy.ratio.helpful_min_leechers
    points = _num(row, "account.bonus_points")
    return helps_ratio or vip_at_risk(policy, row, None if points is None else int(points))


def check_guards(
    policy: Policy, world: World, ledger: Ledger, actions: tuple[Action, ...], row: Row, candidate: Candidate | None
) -> str | None:
    """The first guard code the proposal violates, or None. A proposal's actions are
    checked in order, each against the ledger as the earlier ones leave it (two downloads,
    a resume and a removal, or two purchases in one proposal count like two proposals)."""
    scratch = ledger  # copied only for a proposal of several actions (the sets grow with the cycle)
    for index, action in enumerate(actions):
        code = _guard(policy, world, scratch, action, row, candidate)
        if code is not None:
            return code
        if index + 1 < len(actions):
            scratch = ledger.copy() if scratch is ledger else scratch
            scratch.commit((action,))
    return None


def _guard(
    policy: Policy,
    world: World,
    ledger: Ledger,
    action: Action,
    row: Row,
    candidate: Candidate | None,
) -> str | None:
    if isinstance(action, BuyVip | BuyUploadCredit | BuyPersonalFreeleech):
        if doubt_key(action) in ledger.in_doubt:
            return "guard_purchase_in_doubt"
        code = _points_guard(policy, ledger, action, row)
        if code is not None:
            return code
    if isinstance(action, BuyVip):
        return vip_cap_guard(policy, action, row)
    if isinstance(action, BuyPersonalFreeleech):
        return _freeleech_purchase_guard(policy, ledger, action, row, candidate)
    if isinstance(action, AddTorrent):
        return _download_guard(policy, ledger, action, row)
    if isinstance(action, ResumeTorrent):
        return _resume_guard(policy, world, ledger, action, row)
    if isinstance(action, PauseTorrent):
        return _pause_guard(policy, world, action, row)
    if isinstance(action, RemoveTorrent):
        return _removal_guard(policy, world, ledger, action, row)
    if isinstance(action, ReplaceEdition) and row.get("candidate.better_than_library") is not True:
        return "guard_not_superior"
    return None


def _points_guard(policy: Policy, ledger: Ledger, action: Action, row: Row) -> str | None:
    if ledger.points is None:
        return "guard_points_unknown"
    if action.points() > ledger.points:
        return "guard_not_enough_points"
    if isinstance(action, BuyUploadCredit | BuyPersonalFreeleech):
        after = ledger.points - action.points()
        if ledger.protected is None or after < ledger.protected:
            return "guard_vip_points_protected"
        if vip_at_risk(policy, row, after):
            return "guard_vip_at_risk"
    return None


def vip_cap_guard(policy: Policy, action: BuyVip, row: Row) -> str | None:
    """API-sized steps (at least ``vip.min_purchase_weeks``) under the tracker's cap:
    days held + days bought ≤ ``vip.max_days`` (unknown days: no buy)."""
    if action.weeks < policy.vip.min_purchase_weeks:
        return "guard_vip_below_min_step"
    days = _num(row, "account.vip_days_left")
    if days is None or days + 7 * action.weeks > policy.vip.max_days:
        return "guard_vip_cap"
    return None


def _freeleech_purchase_guard(
    policy: Policy, ledger: Ledger, action: BuyPersonalFreeleech, row: Row, candidate: Candidate | None
) -> str | None:
    if row.get("account.store_freeleech_refused") is not False:
        return "guard_store_route_refused"  # refused for good (or unknown): never sent
    if candidate is None or free_here(candidate.selection.chosen, row):
        return "guard_already_free"  # for this account (VIP freeleech is free for a VIP member only)
    if candidate.selection.chosen.id in ledger.releases_bought or row.get("candidate.already_bought") is not False:
        return "guard_already_bought"
    if action.method == "wedge" and ledger.wedges - 1 < policy.free_first.wedge_reserve:
        return "guard_wedge_reserve"
    ratio = _num(row, "account.ratio")
    if ratio is None or ratio < policy.ratio.floor:
        return "guard_ratio_below_floor"
    if at_or_near_floor(policy, row):
        return "guard_ratio_freeze"  # §10: a release that needs a wedge or points is a paid one
    return None


def _download_guard(policy: Policy, ledger: Ledger, action: AddTorrent, row: Row) -> str | None:
    if doubt_key(action) in ledger.in_doubt:
        return "guard_wedge_in_doubt"  # a flagged fetch may have spent a wedge: wait for the tracker
    in_client = row.get("candidate.in_client")
    if (
        action.book_key in ledger.books_added
        or row.get("candidate.release_in_client") is not False
        or (in_client is not False and row.get("candidate.better_than_client") is not True)
    ):
        return "guard_duplicate_download"  # §16: only a strictly better edition joins one in the client
    headroom = _num(row, "account.unsat_headroom")
    if headroom is None or headroom - ledger.downloads_planned <= policy.snatch.unsat_buffer:
        return "guard_unsatisfied_limit"
    if action.wedge != "none":
        if at_or_near_floor(policy, row):
            return "guard_ratio_freeze"  # §10: a release that needs a wedge is a paid one
        if ledger.wedges < 1:  # auto: the site would find none and the download would cost ratio unannounced
            return "guard_no_wedge_left"
        if action.wedge == "flag" and ledger.wedges - 1 < policy.free_first.wedge_reserve:
            return "guard_wedge_reserve"
    bought = row.get("candidate.already_bought") is True or action.release_id in ledger.releases_bought
    if action.bought_freeleech and not bought:  # bought earlier, or by a purchase before it in this proposal
        return "guard_freeleech_not_bought"
    if not action.free:
        if vip_at_risk(policy, row, ledger.points):
            return "guard_vip_at_risk"
        if at_or_near_floor(policy, row):
            return "guard_ratio_floor"
        after = _num(row, "candidate.headroom_after_gib")
        if not policy.free_first.allow_ratio_costing:
            return "guard_ratio_costing_not_allowed"
        if after is None or after < policy.free_first.ratio_costing_margin_gib:
            return "guard_upload_buffer"
    elif at_or_near_floor(policy, row) and not essential_download(policy, row):
        return "guard_ratio_freeze_non_essential"
    return None


def _resume_guard(policy: Policy, world: World, ledger: Ledger, action: ResumeTorrent, row: Row) -> str | None:
    torrent = world.torrents.get(action.hash)
    if torrent is None:
        return "guard_torrent_unknown"
    if torrent.paused_by is PausedBy.USER:
        return "guard_user_paused"
    if action.hash in ledger.removed:
        return "guard_resume_and_remove"
    if torrent.progress < 1.0 and not torrent.free and at_or_near_floor(policy, row):
        return "guard_ratio_floor"  # resuming a paid download is downloading it
    return None


def _pause_guard(policy: Policy, world: World, action: PauseTorrent, row: Row) -> str | None:
    """No pause of a torrent still owing its minimum seed time — except our own paid
    download while the ratio freeze is in force (§10)."""
    torrent = world.torrents.get(action.hash)
    if torrent is None:
        return "guard_torrent_unknown"
    if torrent.seeding_seconds / 3600 >= policy.seeding.min_seed_hours:
        return None
    own_paid_download = torrent.added_by_mamcrawler and not torrent.free and torrent.progress < 1.0
    if own_paid_download and freeze_in_force(policy, row):
        return None
    return "guard_pause_owes_seeding"


def _removal_guard(policy: Policy, world: World, ledger: Ledger, action: RemoveTorrent, row: Row) -> str | None:
    ratio = _num(row, "account.ratio")
    if ratio is None or ratio < policy.ratio.floor:
        return "guard_removal_ratio_below_floor"
    if not removal_allowed(policy, row):
        return "guard_removal_conditions"
    if action.hash in ledger.resumed:
        return "guard_resume_and_remove"
    if action.delete_data and not data_deletable(world, action.hash):
        return "guard_delete_data"
    return None


def data_deletable(world: World, torrent_hash: str) -> bool:
    """Deleting files is allowed only when no library item uses them (library known) and
    another complete, seeding copy of the same edition (release) stays in the client."""
    torrent = world.torrents.get(torrent_hash)
    if world.library_hashes is None or torrent_hash in world.library_hashes or torrent is None:
        return False
    if torrent.release_id is None:
        return False
    return any(
        other.hash != torrent_hash
        and other.release_id == torrent.release_id
        and other.progress >= 1.0
        and other.state in _SEEDING_STATES
        for other in world.torrents.values()
    )


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
    """The first cap the proposal would exceed (its actions counted in order), or None."""
    pacing, original = policy.pacing, ledger
    for index, action in enumerate(actions):
        if isinstance(action, AddTorrent) and ledger.downloads_left <= 0:
            return "cap_daily_downloads"
        if isinstance(action, BuyVip) and ledger.vip_purchases_today + 1 > policy.vip.max_purchases_per_day:
            return "cap_vip_purchases_per_day"
        if isinstance(action, BuyUploadCredit | BuyPersonalFreeleech):
            if ledger.points_spent_today + action.points() > pacing.max_points_per_day:
                return "cap_points_per_day"
            if ledger.purchases_today + 1 > pacing.max_purchases_per_day:
                return "cap_purchases_per_day"
        if isinstance(action, RemoveTorrent) and ledger.removals + 1 > pacing.max_removals_per_cycle:
            return "cap_removals_per_cycle"
        if index + 1 < len(actions):  # copied only for a proposal of several actions
            ledger = original.copy() if ledger is original else ledger
            ledger.commit((action,))
    return None


GUARDS: dict[str, str] = {
    "guard_purchase_in_doubt": "a purchase sent but not settled is never bought again meanwhile (same kind)",
    "guard_wedge_in_doubt": "a release whose flagged fetch may have spent a wedge is not downloaded until settled",
    "guard_points_unknown": "§1 no purchase while the points balance is unknown",
    "guard_not_enough_points": "§1 a proposal never spends more points than held",
    "guard_vip_points_protected": "§1 non-VIP spending never dips below VIP renewal + reserve",
    "guard_vip_at_risk": "§1 nothing but VIP (no paid download, no other purchase) while VIP is at risk",
    "guard_vip_cap": "§1 VIP days held + bought ≤ vip.max_days (the tracker's cap)",
    "guard_vip_below_min_step": "MAM API 2026: a VIP purchase adds at least vip.min_purchase_weeks",
    "cap_vip_purchases_per_day": "§1 at most vip.max_purchases_per_day VIP purchases a day",
    "guard_already_free": "§7 never a wedge or points on a free release",
    "guard_already_bought": "§7 personal freeleech is bought once per release",
    "guard_wedge_reserve": "§7 wedges beyond free_first.wedge_reserve only (purchase or download flag)",
    "guard_no_wedge_left": "§7 a download asks for a wedge only while one is held",
    "guard_store_route_refused": "MAM API 2026: no freeleech purchase through a store route refused for good",
    "guard_ratio_below_floor": "§10 no personal-freeleech purchase below the floor",
    "guard_ratio_freeze": "§10 no wedge/points purchase or wedge download (a paid release) at or near the floor",
    "guard_freeleech_not_bought": "§7 a download counts as freeleech only if bought earlier or by this proposal",
    "guard_duplicate_download": "§10 §16 never the same release twice; a second edition only if strictly better",
    "guard_unsatisfied_limit": "hit-and-run: unsatisfied snatches + this cycle's downloads stay above the buffer",
    "guard_ratio_floor": "§10 no paid download (new or resumed) at or near the floor",
    "guard_ratio_freeze_non_essential": "§10 at or near the floor only free downloads that help ratio or VIP",
    "guard_ratio_costing_not_allowed": "§7 ratio-costing downloads only when free_first.allow_ratio_costing",
    "guard_upload_buffer": "§7 a ratio-costing download leaves ratio_costing_margin_gib of headroom",
    "guard_torrent_unknown": "§10 no pause or resume of a torrent qBittorrent did not report",
    "guard_user_paused": "§10 never resume what the user paused",
    "guard_pause_owes_seeding": "hit-and-run: no pause before min_seed_hours, except our paid download in a freeze",
    "guard_resume_and_remove": "§10 a torrent is never resumed and removed in the same batch",
    "guard_removal_ratio_below_floor": "§10 no removal while the ratio is below the floor (or unknown)",
    "guard_removal_conditions": "§10 removal only when all four conditions hold, known",
    "guard_delete_data": "no deletion of files the library uses or the only copy of an edition",
    "guard_not_superior": "§16 an edition is replaced only by a strictly better one",
    "cap_daily_downloads": "§6 downloads per day within the budget",
    "cap_points_per_day": "§6 non-VIP points per day within pacing.max_points_per_day",
    "cap_purchases_per_day": "§6 non-VIP purchases per day within pacing.max_purchases_per_day",
    "cap_removals_per_cycle": "§10 removals per cycle within pacing.max_removals_per_cycle",
}
