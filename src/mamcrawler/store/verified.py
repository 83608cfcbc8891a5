"""What mamcrawler (or a person) verified about a library item, kept in the store because
Audiobookshelf has no notion of verified: ``verified:<item id>`` holds either the field
names (a list) or the fields with the values that were verified (an object). Verified
fields are never overwritten by a provider (§12, §15); their recorded values are put back
when something else — such as Audiobookshelf's own Quick Match — changed them.
Imports ``facts``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from mamcrawler.facts import LibraryItem
from mamcrawler.store.state import StateStore

__all__ = ["record_verified", "verified_fields", "verified_values"]


def _key(item_id: str) -> str:
    return f"verified:{item_id}"


def verified_values(state: StateStore, item_id: str) -> dict[str, Any]:
    """The recorded values of the item's verified fields (those kept by name only are left out)."""
    stored = state.get(_key(item_id))
    return {k: v for k, v in stored.items() if v is not None} if isinstance(stored, dict) else {}


def record_verified(state: StateStore, item_id: str, values: Mapping[str, Any], *, now: datetime) -> None:
    """Add verified fields with their values (the ones already recorded stay unless replaced)."""
    stored = state.get(_key(item_id))
    merged: dict[str, Any] = dict(stored) if isinstance(stored, dict) else dict.fromkeys(stored or [])
    state.put(_key(item_id), {**merged, **values}, now=now)


def verified_fields(items: Iterable[LibraryItem], state: StateStore) -> list[LibraryItem]:
    """The items with their verified field names added to ``verified_fields``."""
    out = []
    for item in items:
        stored = state.get(_key(item.id))
        names = tuple(str(f) for f in stored) if isinstance(stored, list | dict) else ()
        out.append(item.model_copy(update={"verified_fields": tuple(sorted({*item.verified_fields, *names}))}))
    return out
