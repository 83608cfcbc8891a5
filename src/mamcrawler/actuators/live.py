"""The live executor: planned actions → real calls, each journalled before it is sent and
finished after, under an idempotency key, with the memory the engine reads next cycle
updated from what actually happened — in the same transaction as the journal outcome
(:mod:`actuators.remember`), one action at a time, never at the end of a batch.

Keys: purchases of personal freeleech and added torrents are keyed by release (never
twice, ever); VIP and upload credit by day and amount; torrent controls by cycle.
``dry_run`` journals every planned action as ``planned_dry_run`` and sends nothing —
the engine never knows. Bonus-store purchases are sent once: an answer that proves
nothing (5xx, timeout, cut or unreadable) leaves the entry ``sent_unconfirmed``, and
while any purchase of a kind is open none of that kind is sent (whatever the key);
:func:`actuators.reconcile.settle_unconfirmed` settles them from the bonus history at
the start of each cycle. A download that spends a wedge is money-like the same way: a
flagged fetch whose answer proves nothing leaves the AddTorrent ``sent_unconfirmed``
(``wedge:<release>`` in doubt), no download of that release is sent meanwhile, and it is
settled from the tracker (``WedgeDownloads.wedge_spent``). Imports ``engine``, ``store``,
``facts``, ``errors`` and the ports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from mamcrawler.actuators.library import LibraryActuator
from mamcrawler.actuators.ports import BonusStore, TorrentClient, TorrentFiles, WedgeLookup
from mamcrawler.actuators.reconcile import Settled, reconcile
from mamcrawler.actuators.remember import Remembering
from mamcrawler.engine.actions import (
    AcceptDownload,
    Action,
    AddTorrent,
    AddToVipPending,
    AddToWishlist,
    Alert,
    BuyPersonalFreeleech,
    BuyUploadCredit,
    BuyVip,
    FreezeDownloads,
    MarkReleaseBad,
    PauseTorrent,
    Reannounce,
    RefuseEdition,
    RemoveTorrent,
    ReplaceEdition,
    ResumeTorrent,
    SetSeedingAllocation,
    SwapEdition,
    UnfreezeDownloads,
    UpdateMetadata,
)
from mamcrawler.engine.guards import doubt_key
from mamcrawler.engine.records import DecisionBatch
from mamcrawler.errors import MamcrawlerError, PurchaseUnconfirmed, ServiceError, ServiceUnavailable
from mamcrawler.facts import Source
from mamcrawler.store import ActionJournal, StateStore

log = logging.getLogger("mamcrawler.actuators")
MAMCRAWLER_TAG = "mamcrawler"
FREE_TAG = "mamcrawler-free"  # the download costs no ratio (free or bought freeleech)


def journal_key(action: Action, now: datetime) -> str:
    """Idempotency key: money and additions once per release; others once per day/cycle."""
    return action.journal_key(now)


@dataclass(frozen=True)
class Execution:
    """What the executor did with one action (linked to its decision by id)."""

    decision_id: str
    action: Action
    # applied | failed | skipped_already_done | skipped_purchase_in_doubt | planned_dry_run | left_open
    status: str
    detail: str = ""


class LiveExecutor:
    def __init__(
        self,
        journal: ActionJournal,
        state: StateStore,
        *,
        torrents: TorrentClient | None = None,
        files: TorrentFiles | None = None,
        store: BonusStore | None = None,
        library: LibraryActuator | None = None,
        clock: Callable[[], datetime],
    ) -> None:
        self.journal, self.state = journal, state
        self.torrents, self.files, self.store = torrents, files, store
        self.library = library
        self.clock = clock

    def execute(self, batch: DecisionBatch, *, dry_run: bool) -> list[Execution]:
        now = batch.decided_at
        remembering = Remembering(self.state, today=now.date().isoformat(), now=self.clock)
        done: list[Execution] = []
        for record in batch.planned():
            for action in record.actions:
                done.append(self._one(record.decision_id, action, batch.policy_hash, now, remembering, dry_run))
        return done

    def _one(
        self, decision_id: str, action: Action, policy_hash: str, now: datetime, remember: Remembering, dry_run: bool
    ) -> Execution:
        missing = self._missing_port(action)
        if missing is not None:
            log.warning("%s not performed: %s is not configured", action.type, missing)
            return Execution(decision_id, action, "skipped_not_configured", missing)
        if isinstance(action, BuyVip | BuyUploadCredit | BuyPersonalFreeleech | AddTorrent) and not dry_run:
            blocked = doubt_key(action)
            if blocked in self.state.memory(today=now.date().isoformat()).purchases_in_doubt:
                log.warning("%s not sent: %s is still unsettled", action.type, blocked)
                return Execution(decision_id, action, "skipped_purchase_in_doubt", blocked)
        entry = self.journal.open(
            action,
            key=journal_key(action, now),
            decision_id=decision_id,
            policy_hash=policy_hash,
            dry_run=dry_run,
            now=self.clock(),
            effect=remember.before_send(action),
        )
        if entry is None:
            return Execution(decision_id, action, "skipped_already_done")
        if dry_run:
            return Execution(decision_id, action, "planned_dry_run")
        try:
            outcome = self._perform(action, entry.id)
        except PurchaseUnconfirmed as err:
            # The request left and the answer proves nothing: open until the history settles it.
            log.warning("purchase %s sent, unconfirmed (%s): left open, never resent", entry.key, err.code)
            effect = remember.after_outcome(action, "sent_unconfirmed")
            self.journal.finish(
                entry.id, "sent_unconfirmed", now=self.clock(), outcome=err.detail, error=str(err), effect=effect
            )
            return Execution(decision_id, action, "left_open", err.code)
        except MamcrawlerError as err:
            code = err.code if isinstance(err, ServiceError) else type(err).__name__
            log.warning("action %s failed: %s", entry.key, code)
            self.journal.finish(
                entry.id, "failed", now=self.clock(), error=str(err), effect=remember.after_outcome(action, "failed")
            )
            return Execution(decision_id, action, "failed", code)
        self.journal.finish(
            entry.id, "applied", now=self.clock(), outcome=outcome, effect=remember.after_outcome(action, "applied")
        )
        return Execution(decision_id, action, "applied")

    def settle_open_purchases(self) -> list[Settled]:
        """Purchases left open (unconfirmed answer, or a crash) settled from the bonus history,
        and wedge-flagged downloads left open settled from the tracker."""
        return reconcile(
            self.journal,
            state=self.state,
            torrents=self.torrents,
            store=self.store,
            wedges=self.files if isinstance(self.files, WedgeLookup) else None,
            clock=self.clock,
            purchases_only=True,
        )

    def _missing_port(self, action: Action) -> str | None:
        """Which service an action needs but this process has no client for."""
        if Source.TRACKER_ACCOUNT in action.targets and self.store is None:
            return "tracker"
        if isinstance(action, AddTorrent) and self.files is None:
            return "torrent_files"
        if Source.QBITTORRENT in action.targets and self.torrents is None:
            return "qbittorrent"
        library_work = SwapEdition | RefuseEdition | MarkReleaseBad | AcceptDownload | UpdateMetadata
        if isinstance(action, library_work) and self.library is None:
            return "library"
        if isinstance(action, SwapEdition | UpdateMetadata) and (self.library is None or self.library.library is None):
            return "audiobookshelf"
        return None

    # --- the calls ---------------------------------------------------------------------
    def _client(self) -> TorrentClient:
        if self.torrents is None:
            raise ServiceUnavailable("qbittorrent", "not_configured", "no qBittorrent client configured")
        return self.torrents

    def _store(self) -> BonusStore:
        if self.store is None:
            raise ServiceUnavailable("tracker", "not_configured", "no tracker store configured")
        return self.store

    def _perform(self, action: Action, entry_id: int) -> dict[str, Any]:
        match action:
            case AddTorrent():
                if self.files is None:
                    raise ServiceUnavailable("torrent_files", "not_configured", "no .torrent source configured")
                notes: dict[str, object] = {}

                def noted(note: dict[str, object]) -> None:  # what settling a request in doubt needs
                    notes.update(note)
                    self.journal.annotate(entry_id, dict(notes), now=self.clock())

                data = self.files.fetch(action, before_request=noted)
                client = self._client()
                info_hash = client.info_hash(data)
                noted({"hash": info_hash})  # for reconciliation
                tags = (MAMCRAWLER_TAG, FREE_TAG) if action.free else (MAMCRAWLER_TAG,)
                client.add_torrent(data, category=action.category, tags=tags)
                return {"hash": info_hash}
            case PauseTorrent():
                self._client().pause([action.hash])
            case ResumeTorrent():
                self._client().resume([action.hash], force=action.force)
            case Reannounce():
                self._client().reannounce([action.hash])
            case SetSeedingAllocation():
                self._client().set_seeding_allocation(
                    upload_slots=action.upload_slots, active_seeds=action.active_seeds
                )
            case RemoveTorrent():
                self._client().remove([action.hash], delete_files=action.delete_data)
            case BuyVip():
                return self._store().buy_vip(action.weeks)
            case BuyUploadCredit():
                return self._store().buy_upload_credit(action.gib)
            case BuyPersonalFreeleech():
                if action.tracker_id is None:
                    raise ServiceError("tracker", "no_tracker_id", f"release {action.release_id} has no tracker id")
                return self._store().buy_personal_freeleech(action.tracker_id, use_wedge=action.method == "wedge")
            case Alert():
                level = logging.CRITICAL if action.level == "critical" else logging.WARNING
                log.log(level, "alert %s: %s", action.code, action.message)
            case FreezeDownloads() | UnfreezeDownloads() | AddToVipPending() | AddToWishlist() | ReplaceEdition():
                pass  # memory and lists only (``actuators.remember``)
            case SwapEdition() | RefuseEdition() | MarkReleaseBad() | AcceptDownload() | UpdateMetadata():
                assert self.library is not None  # _missing_port checked
                return self.library.perform(action, entry_id)
            case _:
                assert_never(action)
        return {}
