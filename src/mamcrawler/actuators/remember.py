"""The engine's memory around one action, written in the journal's own transaction.

Two moments: *before the call leaves* (committed with the journal intent) mamcrawler
remembers what it may be about to do — a pause it makes (so a crash never turns its own
pause into a stranger's) and a purchase in doubt (so nothing of the same kind is bought
until the purchase is settled); *with the outcome* it remembers what happened — today's
counters, frozen hashes, bought releases, list changes. What each moment does to the
memory is :func:`engine.memory.memory_after` (the simulator uses the same); this module
adds the store's lists and the transaction. Nothing is carried in a variable across a
batch: each change re-reads the stored memory inside the transaction. Imports
``engine``, ``facts`` and ``store``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast, get_args

from sqlalchemy.orm import Session

from mamcrawler.engine.actions import Action, AddTorrent, AddToVipPending, AddToWishlist, ReplaceEdition
from mamcrawler.engine.memory import Outcome, memory_after
from mamcrawler.facts import Memory, Want, WantSource
from mamcrawler.store import VIP_PENDING, WISHLIST, StateStore
from mamcrawler.store.journal import Effect

Change = Callable[[Memory], Memory]


def _change(action: Action, outcome: Outcome) -> Change:
    """The one statement of the change (:func:`engine.memory.memory_after`), read and
    applied inside the transaction — nothing carried in a variable across a batch."""
    return lambda memory: memory_after(memory, action, outcome)


class Remembering:
    """Builds the journal effects for one store, day and clock."""

    def __init__(self, state: StateStore, *, today: str, now: Callable[[], datetime]) -> None:
        self.state, self.today, self.now = state, today, now

    def _effect(self, change: Change, lists: Callable[[Session], None] | None = None) -> Effect:
        """Memory (written only when ``change`` changes it) and lists, in the caller's transaction."""

        def effect(s: Session) -> None:
            self.state.change_memory_in(s, change, today=self.today, now=self.now())
            if lists is not None:
                lists(s)

        return effect

    def before_send(self, action: Action) -> Effect:
        return self._effect(_change(action, "before_send"))

    def after_outcome(self, action: Action, status: str) -> Effect:
        """The effect of a journal status (``applied``, ``failed``, ``rolled_back``, ``sent_unconfirmed``)."""
        if status not in get_args(Outcome):
            raise ValueError(f"{status!r} is not an outcome of an action")
        lists = self._lists(action) if status == "applied" else None
        return self._effect(_change(action, cast(Outcome, status)), lists)

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
