"""The engine's memory around one action, written in the journal's own transaction.

Two moments: *before the call leaves* (committed with the journal intent) mamcrawler
remembers what it may be about to do — a pause it makes (so a crash never turns its own
pause into a stranger's) and a purchase in doubt (so nothing of the same kind is bought
until the purchase is settled); *with the outcome* it remembers what happened — today's
counters, frozen hashes, bought releases, list changes. Nothing is carried in a variable
across a batch: each change re-reads the stored memory inside the transaction. Imports
``engine``, ``facts`` and ``store``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mamcrawler.engine.actions import (
    Action,
    AddTorrent,
    AddToVipPending,
    AddToWishlist,
    BuyPersonalFreeleech,
    BuyUploadCredit,
    BuyVip,
    FreezeDownloads,
    PauseTorrent,
    ReplaceEdition,
    ResumeTorrent,
    SetSeedingAllocation,
    UnfreezeDownloads,
)
from mamcrawler.engine.guards import doubt_key
from mamcrawler.facts import Memory, Want, WantSource
from mamcrawler.store import VIP_PENDING, WISHLIST, StateStore
from mamcrawler.store.journal import Effect

Change = Callable[[Memory], Memory]
PURCHASES = (BuyVip, BuyUploadCredit, BuyPersonalFreeleech)


def _with(items: tuple[str, ...], item: str) -> tuple[str, ...]:
    return tuple(sorted({*items, item}))


def _without(items: tuple[str, ...], item: str) -> tuple[str, ...]:
    return tuple(i for i in items if i != item)


def before_send(action: Action) -> Change | None:
    """What is remembered with the intent, before the call can have any effect."""
    if isinstance(action, PauseTorrent):
        return lambda m: m.model_copy(update={"frozen_torrent_hashes": _with(m.frozen_torrent_hashes, action.hash)})
    if isinstance(action, PURCHASES):
        key = doubt_key(action)
        return lambda m: m.model_copy(update={"purchases_in_doubt": _with(m.purchases_in_doubt, key)})
    return None


def after_outcome(action: Action, status: str) -> Change | None:
    """The memory change an outcome implies (``applied``, ``failed``, ``rolled_back``,
    ``sent_unconfirmed``)."""
    if status == "sent_unconfirmed":
        return None  # still in doubt: the key stays, nothing is counted yet
    if status == "applied":
        return _applied(action)
    if isinstance(action, PURCHASES):  # provably not made: the doubt is lifted
        key = doubt_key(action)
        return lambda m: m.model_copy(update={"purchases_in_doubt": _without(m.purchases_in_doubt, key)})
    if isinstance(action, PauseTorrent):  # refused, or proven not made: not ours
        return lambda m: m.model_copy(update={"frozen_torrent_hashes": _without(m.frozen_torrent_hashes, action.hash)})
    return None


def _applied(action: Action) -> Change | None:
    if isinstance(action, FreezeDownloads | UnfreezeDownloads):
        frozen = isinstance(action, FreezeDownloads)
        return lambda m: m.model_copy(update={"downloads_frozen": frozen})
    if isinstance(action, PauseTorrent):
        return lambda m: m.model_copy(update={"frozen_torrent_hashes": _with(m.frozen_torrent_hashes, action.hash)})
    if isinstance(action, ResumeTorrent):
        return lambda m: m.model_copy(update={"frozen_torrent_hashes": _without(m.frozen_torrent_hashes, action.hash)})
    if isinstance(action, SetSeedingAllocation):
        return lambda m: m.model_copy(update={"upload_slots": action.upload_slots})
    if isinstance(action, AddTorrent):
        return lambda m: m.model_copy(update={"downloads_today": m.downloads_today + 1})
    if isinstance(action, AddToVipPending):
        return lambda m: m.model_copy(update={"pending_release_ids": _with(m.pending_release_ids, action.release_id)})
    if isinstance(action, PURCHASES):
        return _purchase_applied(action)
    return None


def _purchase_applied(action: BuyVip | BuyUploadCredit | BuyPersonalFreeleech) -> Change:
    key = doubt_key(action)

    def change(m: Memory) -> Memory:
        update: dict[str, object] = {"purchases_in_doubt": _without(m.purchases_in_doubt, key)}
        if not isinstance(action, BuyVip):  # VIP points are not "non-VIP points spent today"
            update["points_spent_today"] = m.points_spent_today + action.points()
            update["purchases_today"] = m.purchases_today + 1
        else:  # the per-day VIP guard reads it
            update["vip_purchases_today"] = m.vip_purchases_today + 1
        if isinstance(action, BuyPersonalFreeleech):
            update["bought_release_ids"] = _with(m.bought_release_ids, action.release_id)
        return m.model_copy(update=update)

    return change


class Remembering:
    """Builds the journal effects for one store, day and clock."""

    def __init__(self, state: StateStore, *, today: str, now: Callable[[], datetime]) -> None:
        self.state, self.today, self.now = state, today, now

    def _effect(self, change: Change | None, lists: Callable[[Session], None] | None = None) -> Effect | None:
        if change is None and lists is None:
            return None

        def effect(s: Session) -> None:
            if change is not None:
                self.state.change_memory_in(s, change, today=self.today, now=self.now())
            if lists is not None:
                lists(s)

        return effect

    def before_send(self, action: Action) -> Effect | None:
        return self._effect(before_send(action))

    def after_outcome(self, action: Action, status: str) -> Effect | None:
        lists = self._lists(action) if status == "applied" else None
        return self._effect(after_outcome(action, status), lists)

    def _lists(self, action: Action) -> Callable[[Session], None] | None:
        state, now = self.state, self.now
        if isinstance(action, AddTorrent):

            def added(s: Session) -> None:
                state.remove_from_list_in(s, VIP_PENDING, action.release_id)
                state.remove_from_list_in(s, WISHLIST, action.book_key)

            return added
        if isinstance(action, AddToVipPending | AddToWishlist):
            body: dict[str, Any]
            if isinstance(action, AddToVipPending):
                name, key, body = VIP_PENDING, action.release_id, {"book_key": action.book_key}
            else:
                want = Want(book_key=action.book_key, title=action.book_key, source=WantSource.WISHLIST)
                name, key, body = WISHLIST, action.book_key, {"want": want.model_dump(mode="json")}

            def listed(s: Session) -> None:
                state.add_to_list_in(s, name, key, body, now=now())

            return listed
        if isinstance(action, ReplaceEdition):
            body = action.model_dump(mode="json")
            return lambda s: state.put_in(s, f"inferior:{action.library_item_id}", body, now=now())
        return None
