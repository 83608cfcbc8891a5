"""The identity memo: a value comes back only for the very objects it was made from (it
keeps them alive, so their addresses cannot be reused by others), and it stays bounded."""

from __future__ import annotations

import gc
import weakref

from mamcrawler.engine.memo import IdentityMemo


class Edition:
    def __init__(self, name: str) -> None:
        self.name = name


def test_a_value_is_made_once_per_object_and_equal_objects_are_not_confused() -> None:
    memo: IdentityMemo[str] = IdentityMemo(10)
    made: list[str] = []
    a, b = Edition("same"), Edition("same")

    def make_for(obj: Edition) -> str:
        made.append(obj.name)
        return obj.name

    for obj in (a, a, b):
        memo.get((obj,), lambda obj=obj: make_for(obj))  # type: ignore[misc]
    assert len(made) == 2 and len(memo) == 2


def test_inputs_are_kept_alive_so_no_new_object_can_take_their_address() -> None:
    memo: IdentityMemo[int] = IdentityMemo(10)
    obj = Edition("gone")
    alive = weakref.ref(obj)
    memo.get((obj,), lambda: 1)
    del obj
    gc.collect()
    assert alive() is not None  # the memo holds it: its id stays its own
    fresh = Edition("new")
    assert memo.get((fresh,), lambda: 2) == 2


def test_a_full_memo_is_emptied_inputs_and_values_together() -> None:
    memo: IdentityMemo[int] = IdentityMemo(3)
    objs = [Edition(str(i)) for i in range(3)]
    for i, obj in enumerate(objs):
        memo.get((obj,), lambda i=i: i)  # type: ignore[misc]
    kept = weakref.ref(objs[0])
    memo.get((Edition("fourth"),), lambda: 3)
    assert len(memo) == 1
    del objs
    gc.collect()
    assert kept() is None
