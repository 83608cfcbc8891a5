"""§5 ladder and §7 selection on hand-made releases: each step decides in order, the
split-release rule, rejections, free-first in both modes, the deciding step named."""

from __future__ import annotations

import pytest

from mamcrawler.engine.books.ladder import deciding_step, ladder_key, rejection
from mamcrawler.engine.books.selection import NoSelection, Selection, select_release
from mamcrawler.engine.policy.params import FreeFirstParams, QualityParams
from mamcrawler.facts import FreeKind, Release

Q = QualityParams()
TIE = FreeFirstParams()
FLOOR = FreeFirstParams(mode="floor")


def rel(rid: str, **kw: object) -> Release:
    base = {
        "book_key": "dune|frank herbert",
        "title": "Dune",
        "bitrate_kbps": 128,
        "abridged": False,
        "single_file": True,
        "narrator_verified": True,
        "watermarked": False,
        "chapters_complete": True,
        "seeders": 5,
    }
    return Release.model_validate({"id": rid, **base, **kw})


@pytest.mark.parametrize(
    ("better", "worse", "step"),
    [
        (rel("a"), rel("b", abridged=True, bitrate_kbps=320), "unabridged"),
        (rel("a", bitrate_kbps=96), rel("b", bitrate_kbps=64), "bitrate"),
        (rel("a", bitrate_kbps=192), rel("b", bitrate_kbps=192, single_file=False), "completeness"),
        (rel("a"), rel("b", narrator_verified=None), "narrator_verified"),
        (rel("a"), rel("b", watermarked=True), "no_watermark"),
        (rel("a"), rel("b", chapters_complete=False), "chapters"),
        (rel("a", seeders=9), rel("b", seeders=3), "seeders"),
    ],
)
def test_each_step_decides_in_order_and_is_named(better: Release, worse: Release, step: str) -> None:
    hi, lo = ladder_key(better, Q), ladder_key(worse, Q)
    assert hi > lo
    decided = deciding_step(hi, lo)
    assert decided is not None and decided.step == step


def test_split_wins_only_when_clearly_better_in_bitrate() -> None:
    single_96 = rel("single", bitrate_kbps=96)
    split_128 = rel("split", bitrate_kbps=128, single_file=False)  # counts as 96: the single file wins
    split_160 = rel("split2", bitrate_kbps=160, single_file=False)  # counts as 128: clearly better
    assert ladder_key(single_96, Q) > ladder_key(split_128, Q)
    assert ladder_key(split_160, Q) > ladder_key(single_96, Q)


def test_floor_rejects_below_64_and_unknown_only_when_asked() -> None:
    assert rejection(rel("a", bitrate_kbps=63), Q).reason == "below_bitrate_floor"  # type: ignore[union-attr]
    assert rejection(rel("a", bitrate_kbps=64), Q) is None
    assert rejection(rel("a", bitrate_kbps=None), Q) is None
    strict = Q.model_copy(update={"reject_unknown_bitrate": True})
    assert rejection(rel("a", bitrate_kbps=None), strict).reason == "bitrate_unknown"  # type: ignore[union-attr]


def test_free_wins_at_equal_quality_even_with_fewer_seeders() -> None:
    paid, free = rel("paid", seeders=50), rel("free", seeders=1, free=FreeKind.SITE_FREELEECH)
    chosen = select_release([paid, free], Q, TIE)
    assert isinstance(chosen, Selection)
    assert chosen.chosen.id == "free" and chosen.reason == "free_preferred_at_equal_quality"


def test_paid_is_chosen_only_when_strictly_better() -> None:
    paid, free = rel("paid", bitrate_kbps=128), rel("free", bitrate_kbps=64, free=FreeKind.VIP_FREELEECH)
    tie = select_release([paid, free], Q, TIE)
    assert isinstance(tie, Selection) and tie.chosen.id == "paid" and tie.paid_strictly_better
    assert tie.versus is not None and tie.versus.step == "bitrate"
    floor = select_release([paid, free], Q, FLOOR)
    assert isinstance(floor, Selection) and floor.chosen.id == "free" and floor.reason == "free_passes_floor"


def test_free_never_bypasses_the_floor() -> None:
    paid, free = rel("paid", bitrate_kbps=96), rel("free", bitrate_kbps=48, free=FreeKind.SITE_FREELEECH)
    for mode in (TIE, FLOOR):
        chosen = select_release([paid, free], Q, mode)
        assert isinstance(chosen, Selection) and chosen.chosen.id == "paid"
        assert chosen.reason == "no_free_release_passes_floor"
    none = select_release([free], Q, TIE)
    assert isinstance(none, NoSelection) and none.reason == "no_release_passes_floor"


def test_selection_does_not_depend_on_listing_order() -> None:
    releases = [rel(f"r{i}", seeders=5) for i in range(5)]
    first = select_release(releases, Q, TIE)
    last = select_release(list(reversed(releases)), Q, TIE)
    assert isinstance(first, Selection) and isinstance(last, Selection)
    assert first.chosen.id == last.chosen.id


def test_ladder_better_is_strict_and_ignores_seeders_unless_they_count() -> None:
    from mamcrawler.engine.books.ladder import Ladder
    from mamcrawler.facts import LibraryItem

    ladder = Ladder.of(Q, TIE)
    crowded, quiet = rel("a", seeders=90), rel("b", seeders=1)
    assert not ladder.better(crowded, quiet) and not ladder.better(quiet, crowded)  # equal editions: never better
    assert Ladder.of(Q, FreeFirstParams(seeders_count_as_quality=True)).better(crowded, quiet)
    item = LibraryItem(id="li", book_key="dune|frank herbert", title="Dune", bitrate_kbps=64, abridged=False)
    assert ladder.better(rel("c"), item) and not ladder.better(item, rel("c"))
    assert ladder.better(ladder.key(rel("c")), item)  # keys and editions compare alike
