"""Settling open journal entries: those a crash left ``intent`` (at start-up, before any
new cycle) and purchases left ``sent_unconfirmed`` by an answer that proved nothing
(again at the start of every cycle).

An added torrent is looked up by the info-hash noted before the call. A purchase is
looked up in the account's bonus history and nowhere else — found → ``applied``;
proven absent (the history read, and the entry older than ``grace``, so a lagging
history is not taken for absence) → ``rolled_back``, the next cycle decides afresh;
history unreadable or slow → left open with a warning. Nothing is ever resent blind.
A person can settle an entry too (``mamcrawler journal settle ID applied|not_applied``).
Each settlement commits the memory it implies (counters, bought releases, lifted doubt)
in the journal's transaction. A pause is looked up in qBittorrent: paused → ``applied``
(remembered as ours, so recovery resumes it), not paused → ``rolled_back`` (forgotten).
Other torrent controls and local list changes are idempotent and rolled back for the
next cycle to re-decide. A wedge-flagged download left ``sent_unconfirmed`` is settled
from the tracker: the torrent shows ``personal_freeleech`` → ``applied`` (the wedge is
spent; the key is never opened again, and the release, remembered as bought, is
downloaded without the flag under its own key — the memory counts no download); the wedge count not below
the count before the fetch once ``wedge_grace`` (the search's 5–20 min lag) has passed
→ ``rolled_back`` (not spent); otherwise it stays open, the release blocked. The same
holds for such a download a crash left ``intent`` once its wedge count was noted (the
request may have left): it is not in the client, so it is settled from the tracker.
Imports ``store``, ``engine.actions``, ``errors`` and the ports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mamcrawler.actuators.ports import BonusStore, TorrentClient, WedgeLookup
from mamcrawler.actuators.remember import Remembering
from mamcrawler.engine.actions import AddTorrent, BuyPersonalFreeleech, BuyUploadCredit, BuyVip, PauseTorrent
from mamcrawler.errors import JournalError, ServiceError
from mamcrawler.store import ActionJournal, JournalEntry, StateStore
from mamcrawler.store.journal import OPEN, Status

log = logging.getLogger("mamcrawler.reconcile")
HISTORY_GRACE = timedelta(minutes=10)  # how long a bonus history may lag behind the store
WEDGE_GRACE = timedelta(minutes=30)  # personal_freeleech shows 5–20 min after a wedge
PURCHASE_TYPES = frozenset({"BuyVip", "BuyUploadCredit", "BuyPersonalFreeleech"})


@dataclass(frozen=True)
class Settled:
    key: str
    status: str  # applied | rolled_back | left_open
    reason: str


def _purchase_detail(entry: JournalEntry) -> tuple[str, str]:
    action = entry.action
    if isinstance(action, BuyPersonalFreeleech):
        return "personal_freeleech", str(action.tracker_id)
    if isinstance(action, BuyVip):
        return "vip", str(action.weeks)
    assert isinstance(action, BuyUploadCredit)
    return "upload", str(action.gib)


def _wedge_in_doubt(entry: JournalEntry) -> bool:
    return isinstance(entry.action, AddTorrent) and entry.status == "sent_unconfirmed"


def _wedge_noted(entry: JournalEntry) -> bool:
    """A wedge-spending download whose intent noted the wedge count before its request
    left: a crash after that point may have spent the wedge, whatever else was noted."""
    action = entry.action
    return isinstance(action, AddTorrent) and action.wedge != "none" and "wedges_before" in (entry.outcome or {})


def _wedge_verdict(entry: JournalEntry, wedges: WedgeLookup | None, now: datetime, grace: timedelta) -> tuple[str, str]:
    assert isinstance(entry.action, AddTorrent)
    tracker_id, before = entry.action.tracker_id, (entry.outcome or {}).get("wedges_before")
    if wedges is None or tracker_id is None:
        return "left_open", "wedge_unverifiable"
    spent = wedges.wedge_spent(tracker_id, before if isinstance(before, int) else None)
    if spent:
        return "applied", "wedge_spent_personal_freeleech"
    if spent is False and entry.updated_at is not None and now - entry.updated_at >= grace:
        return "rolled_back", "wedge_not_spent"
    return "left_open", "wedge_may_lag" if spent is False else "wedge_unsettled"


def _verdict(
    entry: JournalEntry,
    torrents: TorrentClient | None,
    store: BonusStore | None,
    now: datetime,
    grace: timedelta,
) -> tuple[str, str]:
    action = entry.action
    if isinstance(action, AddTorrent):
        info_hash = (entry.outcome or {}).get("hash")
        if info_hash is None:
            return "rolled_back", "never_sent"  # crashed before the hash was noted
        if torrents is None:
            return "left_open", "qbittorrent_not_configured"
        return (
            ("applied", "torrent_present")
            if torrents.has_torrent(str(info_hash))
            else ("rolled_back", "torrent_absent")
        )
    if isinstance(action, BuyVip | BuyUploadCredit | BuyPersonalFreeleech):
        seen = None if store is None else store.purchase_seen(*_purchase_detail(entry))
        if seen is None:
            return "left_open", "purchase_unverifiable"
        if seen:
            return "applied", "purchase_in_history"
        if entry.updated_at is not None and now - entry.updated_at < grace:
            return "left_open", "history_may_lag"
        return "rolled_back", "purchase_absent"
    if isinstance(action, PauseTorrent):  # was our pause made? qBittorrent's state says
        if torrents is None:
            return "left_open", "qbittorrent_not_configured"
        made = torrents.is_paused(action.hash)
        return ("applied", "torrent_paused") if made else ("rolled_back", "torrent_not_paused")
    return "rolled_back", "idempotent_redecide"


def reconcile(
    journal: ActionJournal,
    *,
    state: StateStore,
    torrents: TorrentClient | None,
    store: BonusStore | None,
    clock: Callable[[], datetime],
    wedges: WedgeLookup | None = None,
    purchases_only: bool = False,
    grace: timedelta = HISTORY_GRACE,
    wedge_grace: timedelta = WEDGE_GRACE,
) -> list[Settled]:
    """Settle every open entry (or only the purchases) against the services' real state."""
    settled: list[Settled] = []
    now = clock()
    remember = Remembering(state, today=now.date().isoformat(), now=clock)
    for entry in journal.unfinished(OPEN):
        in_doubt = _wedge_in_doubt(entry) or _wedge_noted(entry)
        if purchases_only and entry.action.type not in PURCHASE_TYPES and not in_doubt:
            continue
        try:
            if _wedge_in_doubt(entry):
                status, reason = _wedge_verdict(entry, wedges, now, wedge_grace)
            else:
                status, reason = _verdict(entry, torrents, store, now, grace)
                if status == "rolled_back" and _wedge_noted(entry):
                    # Not in the client, but the flagged request may have left: the wedge
                    # is settled from the tracker, never taken as unspent.
                    status, reason = _wedge_verdict(entry, wedges, now, wedge_grace)
        except ServiceError as err:
            status, reason = "left_open", err.code
        if status == "left_open":
            log.warning("journal entry %s stays open: %s (it will not be repeated)", entry.key, reason)
        else:
            # A wedge spent on a fetch that never reached qBittorrent: the journal says applied
            # (never again); the memory lifts the doubt, remembers the release as bought, and
            # counts no download (``engine.memory``'s ``wedge_spent``).
            memory_as = "wedge_spent" if reason == "wedge_spent_personal_freeleech" else status
            effect = remember.after_outcome(entry.action, memory_as)
            journal.finish(entry.id, status, now=clock(), outcome=entry.outcome, effect=effect)  # type: ignore[arg-type]
        settled.append(Settled(entry.key, status, reason))
    return settled


def settle_by_person(
    journal: ActionJournal, state: StateStore, entry_id: int, *, applied: bool, clock: Callable[[], datetime]
) -> JournalEntry:
    """A person's word on an open entry: ``applied`` or not (then the next cycle may decide
    afresh). The memory it implies is committed with it."""
    entry = journal.by_id(entry_id)
    if entry is None:
        raise JournalError(f"no journal entry {entry_id}")
    if entry.status not in OPEN:
        raise JournalError(f"journal entry {entry_id} ({entry.key}) is {entry.status}, not open: nothing to settle")
    status: Status = "applied" if applied else "rolled_back"
    remember = Remembering(state, today=clock().date().isoformat(), now=clock)
    journal.finish(
        entry.id,
        status,
        now=clock(),
        outcome={**(entry.outcome or {}), "settled_by": "person"},
        error=entry.error,
        effect=remember.after_outcome(entry.action, status),
    )
    settled = journal.by_id(entry_id)
    assert settled is not None
    return settled
