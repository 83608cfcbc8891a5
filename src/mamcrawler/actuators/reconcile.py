"""Start-up reconciliation of journal entries left ``intent`` by a crash or a lost answer.

Before any new cycle runs, every open entry is settled against the service's real state:
an added torrent is looked up by the info-hash noted before the call; a purchase is
looked up in the account's bonus history — found → ``applied``, proven absent →
``rolled_back`` (the next cycle decides afresh), unknown → left open with a warning, so
nothing is ever bought twice. Torrent controls and local list changes are idempotent and
simply rolled back for the next cycle to re-decide. Imports ``store``, ``engine.actions``,
``errors`` and the ports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mamcrawler.actuators.ports import BonusStore, TorrentClient
from mamcrawler.engine.actions import AddTorrent, BuyPersonalFreeleech, BuyUploadCredit, BuyVip
from mamcrawler.errors import ServiceError
from mamcrawler.store import ActionJournal, JournalEntry

log = logging.getLogger("mamcrawler.reconcile")


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


def reconcile(
    journal: ActionJournal,
    *,
    torrents: TorrentClient | None,
    store: BonusStore | None,
    clock: Callable[[], datetime],
) -> list[Settled]:
    settled: list[Settled] = []
    for entry in journal.unfinished():
        action = entry.action
        try:
            if isinstance(action, AddTorrent):
                info_hash = (entry.outcome or {}).get("hash")
                if info_hash is None:
                    status, reason = "rolled_back", "never_sent"  # crashed before the hash was noted
                elif torrents is None:
                    status, reason = "left_open", "qbittorrent_not_configured"
                elif torrents.has_torrent(str(info_hash)):
                    status, reason = "applied", "torrent_present"
                else:
                    status, reason = "rolled_back", "torrent_absent"
            elif isinstance(action, BuyVip | BuyUploadCredit | BuyPersonalFreeleech):
                seen = None if store is None else store.purchase_seen(*_purchase_detail(entry))
                if seen is None:
                    status, reason = "left_open", "purchase_unverifiable"
                else:
                    status, reason = ("applied", "purchase_in_history") if seen else ("rolled_back", "purchase_absent")
            else:
                status, reason = "rolled_back", "idempotent_redecide"
        except ServiceError as err:
            status, reason = "left_open", err.code
        if status == "left_open":
            log.warning("journal entry %s stays open: %s (it will not be repeated)", entry.key, reason)
        else:
            journal.finish(entry.id, status, now=clock(), outcome=entry.outcome, error=None)  # type: ignore[arg-type]
        settled.append(Settled(entry.key, status, reason))
    return settled
