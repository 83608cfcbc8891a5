"""§5 + §7 release selection for one wanted book: reject below the floor, rank by the
ladder (``Ladder``), then apply free-first (``tie_break``: free wins at an equal key; ``floor``: any
free release that passes the floor wins). Pure; imports ``engine.ladder``,
``engine.params`` and ``facts``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mamcrawler.engine.books.ladder import (
    Ladder,
    LadderKey,
    Rejection,
    StepDecision,
    deciding_step,
    rejection,
)
from mamcrawler.engine.memo import IdentityMemo
from mamcrawler.engine.policy.params import FreeFirstParams, QualityParams
from mamcrawler.facts import Release


@dataclass(frozen=True)
class Selection:
    """The one release chosen for a book, and why."""

    chosen: Release
    key: LadderKey
    reason: (
        str  # free_first_tie_break, paid_strictly_better, no_free_release_passes_floor, free_passes_floor, only_free…
    )
    has_free_alternative: bool
    paid_strictly_better: bool
    versus: StepDecision | None  # the step that beat the runner-up
    rejected: tuple[tuple[str, Rejection], ...]
    considered: int


@dataclass(frozen=True)
class NoSelection:
    reason: str  # no_release_listed | no_release_passes_floor
    rejected: tuple[tuple[str, Rejection], ...]


def _rank(release: Release, key: LadderKey) -> tuple[LadderKey, bool, str]:
    # Equal keys: free first, then the smaller id for determinism (ids sort inversely).
    return (key, release.is_free, _inverse(release.id))


def _inverse(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


_SELECTIONS: IdentityMemo[Selection | NoSelection] = IdentityMemo(20_000)


def select_release(
    releases: Sequence[Release], quality: QualityParams, free_first: FreeFirstParams
) -> Selection | NoSelection:
    """The one release §5/§7 chooses among a book's listings. Pure, and kept for the same
    listing objects under the same parameter objects (a book's listings usually stay the
    same objects from cycle to cycle)."""
    return _SELECTIONS.get((*releases, quality, free_first), lambda: _select(releases, quality, free_first))


def _select(
    releases: Sequence[Release], quality: QualityParams, free_first: FreeFirstParams
) -> Selection | NoSelection:
    if not releases:
        return NoSelection("no_release_listed", ())
    ladder = Ladder.of(quality, free_first)
    rejected: list[tuple[str, Rejection]] = []
    keyed: list[tuple[Release, LadderKey]] = []
    for release in releases:
        why = rejection(release, quality)
        if why is None:
            keyed.append((release, ladder.key(release)))
        else:
            rejected.append((release.id, why))
    rejected.sort(key=lambda item: item[0])
    if not keyed:
        return NoSelection("no_release_passes_floor", tuple(rejected))
    keyed.sort(key=lambda rk: _rank(*rk), reverse=True)
    free = [rk for rk in keyed if rk[0].is_free]
    paid = [rk for rk in keyed if not rk[0].is_free]
    best_free = free[0] if free else None
    best_paid = paid[0] if paid else None
    if free_first.mode == "floor" and best_free is not None:
        chosen, reason = best_free, "free_passes_floor"
    elif best_free is None:
        assert best_paid is not None
        chosen, reason = best_paid, "no_free_release_passes_floor"
    elif best_paid is None or not ladder.better(best_paid[1], best_free[1]):
        chosen = best_free
        equal = best_paid is not None and not ladder.better(best_free[1], best_paid[1])
        reason = "free_preferred_at_equal_quality" if equal else "free_is_best"
    else:
        chosen, reason = best_paid, "paid_strictly_better"
    runner_up = next((rk for rk in keyed if rk[0].id != chosen[0].id), None)
    return Selection(
        chosen=chosen[0],
        key=chosen[1],
        reason=reason,
        has_free_alternative=best_free is not None,
        paid_strictly_better=reason == "paid_strictly_better",
        versus=deciding_step(chosen[1], runner_up[1]) if runner_up else None,
        rejected=tuple(rejected),
        considered=len(releases),
    )
