"""Facts → rows: the shared cycle values, one row per candidate book and per torrent
(torrent rows are built on first use, by class: ``engine.world.torrent_rows``).

Everything a rule may compare is computed here, in plain Python, from the snapshot and
the policy's parameters — derived values such as ``account.points_spendable`` or
``torrent.superior_edition_seeding`` — so rules stay simple comparisons. Facts of a
gapped or stale source are treated as unknown (``None``). Pure: ``now`` is an argument.
Imports ``facts`` and sibling engine modules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mamcrawler.engine.books.ladder import LadderKey
from mamcrawler.engine.books.selection import Selection
from mamcrawler.engine.economy.points import account_plan
from mamcrawler.engine.economy.vip_steps import largest_step
from mamcrawler.engine.policy.compiled import Policy
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import Scalar
from mamcrawler.engine.world.catalogue import FIELDS
from mamcrawler.engine.world.library import LibraryWork, library_work
from mamcrawler.engine.world.order import in_canonical_order
from mamcrawler.engine.world.torrent_rows import TorrentRows
from mamcrawler.facts import (
    EventKind,
    FactSnapshot,
    LibraryItem,
    Source,
    Torrent,
    Want,
)

GIB = 1024**3


@dataclass(frozen=True)
class Prices:
    vip_per_week: int
    upload_per_gib: int
    personal_freeleech: int


@dataclass(frozen=True)
class Candidate:
    """One wanted (or owned) book with the release chosen for it."""

    want: Want
    selection: Selection
    library_item: LibraryItem | None
    library_key: LadderKey | None
    row: Row


@dataclass(frozen=True)
class Skipped:
    """A wanted book for which no release could be chosen (for the records)."""

    book_key: str
    reason: str
    detail: str


@dataclass(frozen=True)
class World:
    shared: dict[str, Scalar | None]
    account_row: Row
    candidates: tuple[Candidate, ...]
    torrents: dict[str, Torrent]
    torrent_rows: Sequence[Row]  # built on first use (engine.world.torrent_rows)
    skipped: tuple[Skipped, ...]
    gapped: frozenset[Source]
    prices: Prices
    library_hashes: frozenset[str] | None = None  # torrents the library's items use; None when unknown
    library: LibraryWork = field(default_factory=lambda: LibraryWork((), {}, {}))  # download + metadata rows


def gapped_sources(policy: Policy, snapshot: FactSnapshot, now: datetime) -> frozenset[Source]:
    """Sources with a FactGap, or older than ``schedule.stale_after_minutes`` allows."""
    out = {gap.source for gap in snapshot.gaps}
    for name, minutes in policy.schedule.stale_after_minutes.items():
        try:
            source = Source(name)
        except ValueError:
            continue
        seen = snapshot.observed_at(source)
        if seen is not None and now - seen > timedelta(minutes=minutes):
            out.add(source)
    return frozenset(out)


def _prices(policy: Policy, snapshot: FactSnapshot, gapped: frozenset[Source]) -> Prices:
    store = snapshot.store_prices if Source.TRACKER_STORE not in gapped else None
    return Prices(
        vip_per_week=(store and store.vip_points_per_week) or policy.vip.points_per_week,
        upload_per_gib=(store and store.upload_points_per_gib) or policy.vip.upload_points_per_gib,
        personal_freeleech=(store and store.personal_freeleech_points) or policy.free_first.personal_freeleech_points,
    )


def _account_values(
    policy: Policy, snapshot: FactSnapshot, now: datetime, prices: Prices, known: bool
) -> dict[str, Scalar | None]:
    keys = [k for k in FIELDS if k.startswith("account.")]
    if not known:
        return dict.fromkeys(keys)
    acc, vip, ratio = snapshot.account, policy.vip, policy.ratio
    days_left = max(0.0, (acc.vip_until - now).total_seconds() / 86400) if acc.vip_until else 0.0
    renewal = prices.vip_per_week * vip.renewal_weeks
    protected = renewal + vip.reserve_points
    points = acc.bonus_points

    def weeks_within(budget: int | None) -> int | None:
        if budget is None:
            return None
        return largest_step(days_left, budget, prices.vip_per_week, vip)  # API-sized steps, under the cap

    spendable = None if points is None else points - protected
    gib = None
    if spendable is not None:
        gib = max(0, spendable) // prices.upload_per_gib
        gib = gib if gib >= vip.upload_min_lot_gib and vip.surplus_to_upload else 0
    headroom = None
    if acc.uploaded_bytes is not None and acc.downloaded_bytes is not None:
        allowed = acc.uploaded_bytes / ratio.floor if ratio.floor > 0 else math.inf
        headroom = min((allowed - acc.downloaded_bytes) / GIB, 1e12)
    plan = account_plan(points, days_left, (prices.vip_per_week, prices.upload_per_gib), acc, vip, ratio)
    limit = acc.unsatisfied_limit
    if limit is None:
        limit = policy.snatch.class_limits.get(acc.user_class.value)
    return {
        "account.ratio": acc.ratio,
        "account.ratio_over_floor": None if acc.ratio is None else round(acc.ratio - ratio.floor, 9),
        "account.bonus_points": points,
        "account.wedges": acc.wedges,
        "account.auto_wedge": bool(acc.auto_wedge),
        "account.store_freeleech_refused": acc.store_freeleech_refused,
        "account.user_class": acc.user_class.value,
        "account.is_vip": days_left > 0,
        "account.vip_days_left": round(days_left, 6),
        "account.vip_renewal_points": renewal,
        "account.protected_points": protected,
        "account.points_spendable": spendable,
        "account.can_afford_renewal": None if points is None else points >= renewal,
        "account.vip_weeks_affordable": weeks_within(points),
        "account.vip_weeks_from_surplus": weeks_within(None if points is None else points - vip.reserve_points),
        "account.vip_at_cap": days_left + 7 * min(vip.purchase_weeks) > vip.max_days,
        "account.upload_gib_buyable": gib,
        "account.planned_upload_gib": None if plan is None else plan.upload_gib_now,
        "account.download_headroom_gib": headroom,
        "account.unsat_count": acc.unsatisfied_count,
        "account.unsat_limit": limit,
        "account.unsat_headroom": None
        if acc.unsatisfied_count is None or limit is None
        else limit - acc.unsatisfied_count,
    }


def _event_values(policy: Policy, snapshot: FactSnapshot, now: datetime, known: bool) -> dict[str, Scalar | None]:
    memory, pacing = snapshot.memory, policy.pacing
    if not known:
        events: dict[str, Scalar | None] = dict.fromkeys(
            ("events.freeleech_active", "events.bonus_active", "events.holiday_active", "events.any_active")
        )
        budget: int | None = pacing.daily_downloads
    else:
        active = {e.kind for e in snapshot.events if e.active_at(now)}
        events = {
            "events.freeleech_active": EventKind.FREELEECH in active,
            "events.bonus_active": bool(active & {EventKind.BONUS, EventKind.MULTIPLIER}),
            "events.holiday_active": EventKind.HOLIDAY in active,
            "events.any_active": bool(active),
        }
        multiplier = max(
            [1.0]
            + ([pacing.freeleech_multiplier] if EventKind.FREELEECH in active else [])
            + ([pacing.bonus_multiplier] if active & {EventKind.BONUS, EventKind.MULTIPLIER} else [])
            + ([pacing.holiday_multiplier] if EventKind.HOLIDAY in active else [])
        )
        budget = math.floor(pacing.daily_downloads * multiplier)
    return {
        **events,
        "state.downloads_frozen": memory.downloads_frozen,
        "state.downloads_today": memory.downloads_today,
        "state.download_budget_today": budget,
        "state.points_spent_today": memory.points_spent_today,
        "state.upload_slots": memory.upload_slots,
        "state.upload_slots_set": memory.upload_slots is not None,
    }


def build_world(policy: Policy, snapshot: FactSnapshot, now: datetime) -> World:
    """Every row of the cycle, with gapped or stale sources treated as unknown, from the
    snapshot in its canonical order (the order facts were listed in never matters)."""
    from mamcrawler.engine.world.candidates import build_candidates  # candidates builds on this module

    snapshot = in_canonical_order(snapshot)

    gapped = gapped_sources(policy, snapshot, now)
    prices = _prices(policy, snapshot, gapped)
    shared: dict[str, Scalar | None] = {
        **_account_values(policy, snapshot, now, prices, Source.TRACKER_ACCOUNT not in gapped),
        **_event_values(policy, snapshot, now, Source.TRACKER_RULES not in gapped),
    }
    account_row = Row("account", "account", {}, shared)
    candidates, skipped = build_candidates(policy, snapshot, shared, prices, gapped)
    torrents_known = Source.QBITTORRENT not in gapped
    torrent_rows: Sequence[Row] = TorrentRows(policy, snapshot, shared, now) if torrents_known else ()
    return World(
        shared=shared,
        account_row=account_row,
        candidates=candidates,
        torrents={t.hash: t for t in snapshot.torrents} if torrents_known else {},
        torrent_rows=torrent_rows,
        skipped=skipped,
        gapped=gapped,
        prices=prices,
        library_hashes=None
        if Source.LIBRARY in gapped
        else frozenset(i.torrent_hash for i in snapshot.library if i.torrent_hash),
        library=library_work(policy, snapshot, shared, gapped),
    )
