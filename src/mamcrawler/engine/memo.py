"""Values kept by the identity of the immutable objects they were computed from — a
compiled rule's tests, a policy's evaluation layout, an edition's ladder key, a book's
release selection — so work that depends only on objects that stay the same from cycle to
cycle is done once.

An entry holds its input objects as well as the value. While it does, no other live object
can have any of their ids, so a lookup by the tuple of ids finds an entry only for those
very objects: no stale value can come back for a new object at a reused address. Bounded:
when full, the memo is emptied (inputs and values go together). Imports nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    """``get(inputs, make)``: the value made earlier from these very objects, else ``make()``."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._entries: dict[tuple[int, ...], tuple[tuple[object, ...], V]] = {}

    def get(self, inputs: tuple[object, ...], make: Callable[[], V]) -> V:
        key = tuple(map(id, inputs))
        found = self._entries.get(key)
        if found is not None:
            return found[1]
        value = make()
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[key] = (inputs, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)
