"""The effect of a policy edit, played forward in the simulated world from the recorded
starting state.

``recorded_scenario`` turns recorded cycles into a ``Scenario``: the first snapshot's
account, store prices, listings, torrents (with their sizes, swarms, upload and points
rates), library and wants are the start; listings and wants first seen later arrive on
the timeline when they were first seen; the span and the tick follow the recording.
``play_forward`` plays that scenario under the policy that decided and under the edited
one — both in the same seeded world, so the difference between the two runs is the
effect of the changed decisions on ratio, points, VIP days and downloads.
Imports ``engine``, ``facts`` and ``sim``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from mamcrawler.engine import REFERENCE, Evaluator, Policy
from mamcrawler.facts import FactSnapshot, Release, Torrent, TorrentState
from mamcrawler.sim.replay import Recorded
from mamcrawler.sim.run import DOWNLOAD_KINDS, PURPOSES, Summary, simulate
from mamcrawler.sim.scenario import (
    GIB,
    AccountSpec,
    LibrarySpec,
    ReleaseSpec,
    Scenario,
    TimelineEntry,
    TorrentSpec,
)

MIN_TICK = timedelta(hours=1)  # a coarser tick keeps a month's forward play quick
_DOWNLOADING = (TorrentState.DOWNLOADING, TorrentState.PAUSED_DOWNLOAD, TorrentState.STALLED_DOWNLOAD)


def _release_spec(r: Release) -> ReleaseSpec:
    return ReleaseSpec(
        id=r.id,
        tracker_id=r.tracker_id,
        book_key=r.book_key,
        title=r.title,
        authors=r.authors,
        narrators=r.narrators,
        series=r.series,
        series_number=r.series_number,
        category_id=r.category_id,
        bitrate_kbps=r.bitrate_kbps,
        abridged=r.abridged,
        single_file=r.single_file,
        narrator_verified=r.narrator_verified,
        watermarked=r.watermarked,
        chapters_complete=r.chapters_complete,
        size_gib=max(r.size_bytes or GIB // 2, 1) / GIB,
        seeders=r.seeders or 0,
        leechers=r.leechers or 0,
        snatches=r.snatches,
        free=r.free,
        vip_only=r.vip_only,
    )


def _torrent_spec(t: Torrent, name: str, release_ids: set[str]) -> TorrentSpec:
    return TorrentSpec(
        name=name,
        book_key=t.book_key,
        release=t.release_id if t.release_id in release_ids else None,
        size_gib=max(t.size_bytes, 1) / GIB,
        state=t.state,
        progress=t.progress,
        seed_hours=t.seeding_seconds / 3600,
        seeders=t.seeders or 0,
        leechers=t.leechers or 0,
        points_per_hour=t.points_per_hour,
        uploaded_30d_gib=None if t.uploaded_30d_bytes is None else t.uploaded_30d_bytes / GIB,
        added_by_mamcrawler=t.added_by_mamcrawler,
        paused_by=t.paused_by,
        free=t.free,
    )


def _account(snapshot: FactSnapshot, start: datetime) -> AccountSpec:
    a = snapshot.account
    downloaded = (a.downloaded_bytes or 0) / GIB
    uploaded = (a.uploaded_bytes or 0) / GIB
    if not downloaded:  # unknown bytes: keep the reported ratio on a 1 GiB base
        downloaded, uploaded = 1.0, (a.ratio if a.ratio is not None else 1.0)
    vip_days = max(0.0, (a.vip_until - start).total_seconds() / 86400) if a.vip_until else 0.0
    return AccountSpec(
        username=a.username or "recorded",
        user_class=a.user_class,
        uploaded_gib=uploaded,
        downloaded_gib=downloaded,
        bonus_points=a.bonus_points or 0,
        wedges=a.wedges,
        vip_days=vip_days,
        unsatisfied_limit=a.unsatisfied_limit,
    )


class History:
    """What the forward play needs from recorded cycles, gathered in one pass (so a month of
    cycles need not be held in memory): the first state, when listings and wants appeared,
    and the cycle times."""

    def __init__(self) -> None:
        self.first: Recorded | None = None
        self.account: FactSnapshot | None = None
        self.times: list[datetime] = []
        self.releases: dict[str, ReleaseSpec] = {}
        self.wants: set[tuple[str, str]] = set()
        self.timeline: list[TimelineEntry] = []
        self.last_policy = ""  # the version that decided the latest cycle

    def add(self, cycle: Recorded) -> None:
        snap = cycle.snapshot
        if self.account is None and snap.account.bonus_points is not None:
            self.account = snap
        self.times.append(cycle.taken_at)
        self.last_policy = cycle.policy_hash
        if self.first is None:
            self.first = cycle
            self.releases = {r.id: _release_spec(r) for r in snap.releases}
            self.wants = {(w.source.value, w.book_key) for w in snap.wants}
            return
        at = cycle.taken_at - self.first.taken_at
        for r in snap.releases:
            if r.id not in self.releases:
                self.releases[r.id] = _release_spec(r)
                self.timeline.append(TimelineEntry(at=at, release=self.releases[r.id]))
        for w in snap.wants:
            if (w.source.value, w.book_key) not in self.wants:
                self.wants.add((w.source.value, w.book_key))
                self.timeline.append(TimelineEntry(at=at, want=w))

    def scenario(self, *, min_tick: timedelta = MIN_TICK) -> Scenario:
        """The recorded history as a scenario starting from its first cycle's state."""
        if self.first is None:
            raise ValueError("no recorded cycles to play forward")
        return _scenario(self, self.first, min_tick)


def recorded_scenario(cycles: Iterable[Recorded], *, min_tick: timedelta = MIN_TICK) -> Scenario:
    history = History()
    for cycle in cycles:
        history.add(cycle)
    return history.scenario(min_tick=min_tick)


def _scenario(history: History, first: Recorded, min_tick: timedelta) -> Scenario:
    start, snap = first.taken_at, first.snapshot
    times = history.times
    gaps = sorted(b - a for a, b in pairwise(times) if b > a)
    tick = max(gaps[len(gaps) // 2] if gaps else min_tick, min_tick)
    duration = max(times[-1] - start + tick, tick)
    account_snap = history.account or snap
    releases, timeline = history.releases, history.timeline
    first_ids = {r.id for r in snap.releases}
    names: dict[str, str] = {}
    taken: set[str] = set()
    torrents = []
    for t in snap.torrents:
        name = t.name if t.name not in taken else f"{t.name} [{t.hash[:8]}]"
        names[t.hash] = name
        taken.add(name)
        torrents.append(_torrent_spec(t, name, first_ids))
    library = tuple(
        LibrarySpec(
            id=i.id,
            book_key=i.book_key,
            title=i.title,
            authors=i.authors,
            narrators=i.narrators,
            series=i.series,
            series_number=i.series_number,
            bitrate_kbps=i.bitrate_kbps,
            abridged=i.abridged,
            single_file=i.single_file,
            chapters_complete=i.chapters_complete,
            narrator_verified=i.narrator_verified,
            watermarked=i.watermarked,
            seeders=i.seeders,
            torrent=names.get(i.torrent_hash or ""),
        )
        for i in snap.library
    )
    return Scenario(
        name="recorded history",
        description=f"{len(times)} recorded cycles from {start.isoformat()}",
        start=start,
        duration=duration,
        tick=tick,
        upload_slots=snap.memory.upload_slots if snap.memory.upload_slots and snap.memory.upload_slots > 0 else 20,
        account=_account(account_snap, start),
        store=snap.store_prices,
        releases=tuple(r for rid, r in releases.items() if rid in first_ids),
        torrents=tuple(torrents),
        library=library,
        wants=snap.wants,
        timeline=tuple(timeline),
    )


@dataclass(frozen=True)
class Effect:
    """Both forward plays' figures and their difference (edited − as decided)."""

    before: Summary
    after: Summary
    ticks: int

    def figures(self) -> dict[str, Any]:
        def of(s: Summary) -> dict[str, Any]:
            return {
                "final_ratio": round(s.final_ratio, 4),
                "min_ratio": round(s.min_ratio, 4),
                "final_points": s.final_points,
                "final_vip_days": round(s.final_vip_days, 2),
                "min_vip_days": round(s.min_vip_days, 2),
                "final_wedges": s.final_wedges,
                **{f"points_spent_{k}": s.points_spent[k] for k in PURPOSES},
                **{f"downloads_{k}": s.downloads[k] for k in DOWNLOAD_KINDS},
            }

        before, after = of(self.before), of(self.after)
        delta = {k: round(after[k] - before[k], 4) for k in before}
        return {"ticks": self.ticks, "as_decided": before, "edited": after, "delta": delta}


def play_forward(
    history: History | Iterable[Recorded], decided_by: Policy, edited: Policy, *, evaluator: Evaluator = REFERENCE
) -> Effect:
    """Play the recorded start forward under both policies in the same simulated world."""
    scenario = history.scenario() if isinstance(history, History) else recorded_scenario(history)
    before = simulate(scenario, decided_by, evaluator=evaluator, keep_batches=False)
    after = simulate(scenario, edited, evaluator=evaluator, keep_batches=False)
    return Effect(before.summary, after.summary, before.summary.ticks)
