"""Named state kept between cycles and restarts: the ``Memory`` the engine reads (freeze,
frozen torrents, today's counters, upload slots, bought/pending releases), the rotated
tracker cookie, the policy version in force; plus the wishlist and the VIP pending list.
Never the ``.env`` file.

Changes that follow an action (counters, frozen hashes, bought releases, list entries)
are made with the ``*_in`` methods inside the journal's own transaction, so an action's
outcome and the memory it implies are committed together or not at all — the memory is
re-read inside that transaction, never carried across a batch. Imports sqlalchemy,
``facts`` and ``store``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mamcrawler.facts import Memory, Want
from mamcrawler.store.database import Database
from mamcrawler.store.schema import ListEntry, StateEntry

WISHLIST = "wishlist"
VIP_PENDING = "vip_pending"
BAD_RELEASES = "bad_releases"  # releases whose download failed the §13 integrity check


class StateStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> Any:
        with self.db.session() as s:
            row = s.get(StateEntry, key)
            return json.loads(row.value_json) if row else None

    def put(self, key: str, value: Any, *, now: datetime) -> None:
        with self.db.session() as s:
            self.put_in(s, key, value, now=now)

    @staticmethod
    def put_in(s: Session, key: str, value: Any, *, now: datetime) -> None:
        row = s.get(StateEntry, key)
        body = json.dumps(value, sort_keys=True)
        if row is None:
            s.add(StateEntry(key=key, value_json=body, updated_at=now))
            s.flush()
        else:
            row.value_json, row.updated_at = body, now

    def memory(self, *, today: str) -> Memory:
        """The engine's memory; daily counters reset when the day changed."""
        with self.db.session() as s:
            return self._memory_in(s, today)

    @staticmethod
    def _memory_in(s: Session, today: str) -> Memory:
        row = s.get(StateEntry, "memory")
        raw = json.loads(row.value_json) if row else {}
        if raw.get("day") != today:
            raw.update(downloads_today=0, points_spent_today=0, purchases_today=0, vip_purchases_today=0, day=today)
        raw.pop("day", None)
        return Memory.model_validate(raw)

    def save_memory(self, memory: Memory, *, today: str, now: datetime) -> None:
        with self.db.session() as s:
            self.put_in(s, "memory", {**memory.model_dump(mode="json"), "day": today}, now=now)

    def change_memory_in(self, s: Session, change: Callable[[Memory], Memory], *, today: str, now: datetime) -> Memory:
        """Read the memory inside ``s``, apply ``change``, write it back in the same transaction."""
        after = change(self._memory_in(s, today))
        self.put_in(s, "memory", {**after.model_dump(mode="json"), "day": today}, now=now)
        return after

    # --- lists -----------------------------------------------------------------------
    def add_to_list(self, list_name: str, key: str, body: dict[str, Any], *, now: datetime) -> bool:
        with self.db.session() as s:
            return self.add_to_list_in(s, list_name, key, body, now=now)

    @staticmethod
    def add_to_list_in(s: Session, list_name: str, key: str, body: dict[str, Any], *, now: datetime) -> bool:
        exists = s.scalars(select(ListEntry).where(ListEntry.list_name == list_name, ListEntry.item_key == key)).first()
        if exists is not None:
            return False
        s.add(ListEntry(list_name=list_name, item_key=key, body_json=json.dumps(body, sort_keys=True), added_at=now))
        s.flush()
        return True

    def remove_from_list(self, list_name: str, key: str) -> None:
        with self.db.session() as s:
            self.remove_from_list_in(s, list_name, key)

    @staticmethod
    def remove_from_list_in(s: Session, list_name: str, key: str) -> None:
        s.execute(delete(ListEntry).where(ListEntry.list_name == list_name, ListEntry.item_key == key))

    def list_items(self, list_name: str) -> list[dict[str, Any]]:
        with self.db.session() as s:
            rows = s.scalars(select(ListEntry).where(ListEntry.list_name == list_name).order_by(ListEntry.id))
            return [{"key": r.item_key, **json.loads(r.body_json)} for r in rows]

    def wants(self) -> tuple[Want, ...]:
        """Wishlist entries as ``Want`` facts."""
        return tuple(Want.model_validate(item["want"]) for item in self.list_items(WISHLIST) if "want" in item)


class StoredCookie:
    """The tracker's rotated ``mam_id`` cookie, kept in the store (never in ``.env``)."""

    KEY = "tracker_cookie"

    def __init__(self, state: StateStore, clock: Any) -> None:
        self.state = state
        self.clock = clock

    def load(self) -> str | None:
        value = self.state.get(self.KEY)
        return value if isinstance(value, str) else None

    def save(self, value: str) -> None:
        self.state.put(self.KEY, value, now=self.clock())
