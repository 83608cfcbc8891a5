"""§5 the release quality ladder as a comparable key with one named part per step.

``ladder_key`` turns a release (or the library's copy) into a tuple of integers in the
policy's step order; Python's tuple order on it is a strict weak order, so "better" is
total and deterministic. ``deciding_step`` names the step that separates two keys, with
both values, for the decision record. A split release is banded at its bitrate minus
``split_bitrate_advantage_kbps``, so one complete file wins unless the split is clearly
better in bitrate — a key, not a pairwise exception, keeps the order transitive.

``Ladder`` is the one comparison of editions: built once per policy (``Policy.ladder``),
its ``better(a, b)`` answers "is edition A strictly better than B" for the engine, the
post-download flow and the full scan alike — swarm size (seeders) counts only when
``free_first.seeders_count_as_quality`` says so. Imports ``engine.params`` and ``facts`` only."""

from __future__ import annotations

from dataclasses import dataclass

from mamcrawler.engine.memo import IdentityMemo
from mamcrawler.engine.policy.params import FreeFirstParams, LadderStep, QualityParams
from mamcrawler.facts import LibraryItem, Release

Edition = Release | LibraryItem


@dataclass(frozen=True, order=True)
class LadderKey:
    """The comparable key; ``steps`` names each part of ``parts``."""

    parts: tuple[int, ...]
    steps: tuple[LadderStep, ...]

    def named(self) -> dict[str, int]:
        return {step.value: part for step, part in zip(self.steps, self.parts, strict=True)}


@dataclass(frozen=True)
class Rejection:
    """A release below the §5 floor; ``reason`` is a stable code."""

    reason: str
    detail: str


def _tri(value: bool | None, good_when: bool) -> int:
    if value is None:
        return 1
    return 2 if value is good_when else 0


def _band(bitrate: int | None, params: QualityParams) -> int:
    if bitrate is None:
        return 0
    score = 0
    for band in params.bitrate_bands:
        if bitrate >= band.min_kbps:
            score = band.score
    return score


def _part(step: LadderStep, edition: Edition, params: QualityParams) -> int:
    if step is LadderStep.UNABRIDGED:
        return _tri(edition.abridged, good_when=False)
    if step is LadderStep.BITRATE:
        bitrate = edition.bitrate_kbps
        if bitrate is not None and edition.single_file is False:
            bitrate = max(0, bitrate - params.split_bitrate_advantage_kbps)
        return _band(bitrate, params)
    if step is LadderStep.COMPLETENESS:
        return _tri(edition.single_file, good_when=True)
    if step is LadderStep.NARRATOR_VERIFIED:
        return 1 if edition.narrator_verified else 0
    if step is LadderStep.NO_WATERMARK:
        return _tri(edition.watermarked, good_when=False)
    if step is LadderStep.CHAPTERS:
        return _tri(edition.chapters_complete, good_when=True)
    seeders = edition.seeders
    return -1 if seeders is None else seeders


def ladder_key(edition: Edition, params: QualityParams) -> LadderKey:
    """The edition's key under ``params``, computed once per edition object and parameter
    object (listings and library items usually stay the same objects from cycle to cycle)."""
    return _KEYS.get(
        (edition, params),
        lambda: LadderKey(tuple(_part(step, edition, params) for step in params.ladder), params.ladder),
    )


_KEYS: IdentityMemo[LadderKey] = IdentityMemo(50_000)


def rejection(release: Release, params: QualityParams) -> Rejection | None:
    """Why a release fails the §5 floor, or None when it passes."""
    if release.bitrate_kbps is None:
        if params.reject_unknown_bitrate:
            return Rejection("bitrate_unknown", "bitrate unknown and reject_unknown_bitrate is on")
        return None
    if release.bitrate_kbps < params.min_bitrate_kbps:
        return Rejection("below_bitrate_floor", f"{release.bitrate_kbps} kbps < {params.min_bitrate_kbps} kbps")
    return None


@dataclass(frozen=True)
class StepDecision:
    """Which ladder step separated two editions, with both values."""

    step: str
    winner: int
    loser: int


def deciding_step(winner: LadderKey, loser: LadderKey) -> StepDecision | None:
    """The first step where the keys differ; None when they are equal."""
    for step, a, b in zip(winner.steps, winner.parts, loser.parts, strict=True):
        if a != b:
            return StepDecision(step.value, a, b)
    return None


@dataclass(frozen=True)
class Ladder:
    """A policy's §5 ladder: the key of an edition, the part of it that is quality, and
    ``better`` — the only place where two editions are compared."""

    params: QualityParams
    seeders_count_as_quality: bool = False

    @classmethod
    def of(cls, quality: QualityParams, free_first: FreeFirstParams) -> Ladder:
        return cls(quality, free_first.seeders_count_as_quality)

    def key(self, edition: Edition) -> LadderKey:
        return ladder_key(edition, self.params)

    def quality(self, key: LadderKey) -> tuple[int, ...]:
        """The part of a key that is edition quality (seeders dropped unless they count)."""
        if self.seeders_count_as_quality:
            return key.parts
        return tuple(p for step, p in zip(key.steps, key.parts, strict=True) if step is not LadderStep.SEEDERS)

    def better(self, a: Edition | LadderKey, b: Edition | LadderKey) -> bool:
        """Is ``a`` strictly better than ``b`` (§14: an equal edition is never better)?"""
        ka = a if isinstance(a, LadderKey) else self.key(a)
        kb = b if isinstance(b, LadderKey) else self.key(b)
        return self.quality(ka) > self.quality(kb)
