"""decide() never depends on the order in which facts were listed — also where two facts
claim the same thing (two library items on one torrent, as a library rescan can leave),
which is the order the store hands a recorded cycle back in for replay — and leaves the
process's cyclic garbage collector as it found it."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import pytest

from mamcrawler.engine import decide, load_policy
from mamcrawler.facts import Account, FactSnapshot, LibraryItem, Release, Torrent, TorrentState, UserClass

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
HASH = "0" * 40
DUNE = "dune|frank herbert"


def _snapshot(reverse: bool) -> FactSnapshot:
    releases = tuple(
        Release(id=f"r{i}", tracker_id=1, book_key=DUNE, title="Dune", authors=("Frank Herbert",)) for i in range(4)
    )
    library = (
        LibraryItem(id="li0", book_key=DUNE, title="Dune", authors=("Frank Herbert",), torrent_hash=HASH),
        LibraryItem(
            id="li1",
            book_key="hyperion|dan simmons",
            title="Hyperion",
            authors=("Dan Simmons",),
            abridged=True,
            torrent_hash=HASH,
        ),
    )
    torrent = Torrent(
        hash=HASH, name="t", state=TorrentState.DOWNLOADING, progress=0.0, size_bytes=2**20, book_key=DUNE
    )
    flip = (lambda t: tuple(reversed(t))) if reverse else tuple
    return FactSnapshot(
        taken_at=NOW,
        account=Account(
            user_class=UserClass.MOUSE,
            ratio=0.5,
            uploaded_bytes=2**29,
            downloaded_bytes=2**30,
            bonus_points=0,
            vip_until=NOW + timedelta(days=1),
            unsatisfied_count=0,
            unsatisfied_limit=50,
        ),
        releases=flip(releases),
        torrents=(torrent,),
        library=flip(library),
    )


def test_two_library_items_on_one_torrent_decide_the_same_in_either_order() -> None:
    policy = load_policy("policies")
    forward = decide(policy, _snapshot(reverse=False), now=NOW)
    backward = decide(policy, _snapshot(reverse=True), now=NOW)
    assert forward.to_jsonl() == backward.to_jsonl()


def test_the_cyclic_collector_is_resumed_after_a_decision_even_a_failed_one() -> None:
    policy = load_policy("policies")
    assert gc.isenabled()
    decide(policy, _snapshot(reverse=False), now=NOW)
    assert gc.isenabled()
    with pytest.raises(TypeError):  # a naive time cannot be compared with the facts' times
        decide(policy, _snapshot(reverse=False), now=datetime(2026, 11, 25, 12))
    assert gc.isenabled()
    gc.disable()
    try:
        decide(policy, _snapshot(reverse=False), now=NOW)
        assert not gc.isenabled()  # not resumed by a call that did not pause it
    finally:
        gc.enable()
