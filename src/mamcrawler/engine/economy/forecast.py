"""The hit-and-run forecaster, pure: from qBittorrent's seeding times and the tracker's
snatch summary, when each unsatisfied snatch clears its seeding minimum (72 h within 30
days by default), when an unsatisfied slot frees, when new snatches can start without
crossing the class limit minus the buffer, and which inactive unsatisfied torrents are
heading for a hit-and-run (and how many hours are left to resume them).

A snatch seeding now clears after its missing hours; an inactive one (paused, errored,
missing files) never clears on its own and becomes a hit-and-run at the end of its window
(snatch time + ``seed_window_days``), so it must be resumed at least its missing hours
before that. The tracker's unsatisfied count may include snatches the client no longer
holds; those are taken as not clearing within the horizon (fail closed). ``now`` is an
argument. Imports ``facts`` and the compiled policy type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mamcrawler.engine.policy.compiled import Policy
from mamcrawler.facts import FactSnapshot, Source, Torrent, TorrentState

_ACTIVE = frozenset(
    {
        TorrentState.SEEDING,
        TorrentState.STALLED_UPLOAD,
        TorrentState.DOWNLOADING,
        TorrentState.STALLED_DOWNLOAD,
        TorrentState.QUEUED,
        TorrentState.CHECKING,
    }
)


@dataclass(frozen=True)
class SnatchForecast:
    hash: str
    name: str
    seeded_hours: float
    missing_hours: float  # 0 when satisfied
    active: bool
    clears_at: datetime | None  # when an active snatch reaches the minimum; None if it will not on its own
    deadline: datetime | None  # end of the seeding window (a hit-and-run after it); None if unknown
    hours_to_act: float | None  # inactive: hours left to resume it and still make the minimum; None if unknown

    @property
    def unsatisfied(self) -> bool:
        return self.missing_hours > 0


@dataclass(frozen=True)
class SlotForecast:
    at: datetime  # the moment forecast (the cycle's now)
    unsatisfied: int  # the tracker's count (or the client's when the tracker's is unknown)
    limit: int
    buffer: int
    free_now: int  # new snatches that may start now
    frees_at: tuple[datetime, ...]  # when further slots free, earliest first
    snatches: tuple[SnatchForecast, ...]

    def schedule(self, count: int) -> tuple[datetime | None, ...]:
        """Start times for ``count`` new snatches (None: no slot frees within the forecast)."""
        slots: list[datetime] = [self.at] * self.free_now + list(self.frees_at)
        return tuple(slots[i] if i < len(slots) else None for i in range(count))

    def at_risk(self, warn_hours: float) -> tuple[SnatchForecast, ...]:
        """Inactive unsatisfied snatches with at most ``warn_hours`` left to act (or unknown)."""
        return tuple(
            s
            for s in self.snatches
            if s.unsatisfied and not s.active and (s.hours_to_act is None or s.hours_to_act <= warn_hours)
        )


def unsatisfied_clock_stopped(state: TorrentState) -> bool:
    """An active torrent (seeding, downloading, queued, checking) has no hours to act:
    its hit-and-run clock only runs while it sits inactive."""
    return state in _ACTIVE


def _missing_and_to_act(
    t: Torrent, now: datetime, min_seed_hours: float, window_days: int
) -> tuple[float, float, bool, datetime | None, float | None]:
    """(seeded hours, missing hours, active, deadline, hours to act): the one computation
    behind a snatch's forecast and its row's facts."""
    seeded = t.seeding_seconds / 3600
    missing = max(0.0, min_seed_hours - seeded)
    active = unsatisfied_clock_stopped(t.state)
    snatched = t.completed_at
    deadline = snatched + timedelta(days=window_days) if snatched is not None else None
    hours_to_act = None
    if missing > 0 and not active and deadline is not None:
        hours_to_act = (deadline - now).total_seconds() / 3600 - missing
    return seeded, missing, active, deadline, hours_to_act


def forecast_snatch(t: Torrent, now: datetime, *, min_seed_hours: float, window_days: int) -> SnatchForecast:
    seeded, missing, active, deadline, hours_to_act = _missing_and_to_act(t, now, min_seed_hours, window_days)
    clears_at = None
    if missing > 0 and active and t.progress >= 1.0:
        clears_at = now + timedelta(hours=missing)
    return SnatchForecast(
        t.hash, t.name, round(seeded, 6), round(missing, 6), active, clears_at, deadline, hours_to_act
    )


def forecast_slots(
    torrents: tuple[Torrent, ...],
    now: datetime,
    *,
    unsatisfied: int | None,
    limit: int,
    buffer: int,
    min_seed_hours: float,
    window_days: int,
) -> SlotForecast:
    """Every snatch's forecast and when unsatisfied slots free (see the module docstring)."""
    snatches = tuple(
        forecast_snatch(t, now, min_seed_hours=min_seed_hours, window_days=window_days)
        for t in sorted(torrents, key=lambda t: t.hash)
    )
    open_ = [s for s in snatches if s.unsatisfied]
    count = unsatisfied if unsatisfied is not None else len(open_)
    clearing = sorted(s.clears_at for s in open_ if s.clears_at is not None)
    free_now = max(0, limit - buffer - count)
    return SlotForecast(now, count, limit, buffer, free_now, tuple(clearing), snatches)


def torrent_fields(
    t: Torrent, now: datetime, *, min_seed_hours: float, window_days: int
) -> dict[str, bool | float | None]:
    """The torrent row's hit-and-run facts (the forecast's values, without building it:
    this runs for every torrent of every cycle)."""
    _, missing, _, _, hours_to_act = _missing_and_to_act(t, now, min_seed_hours, window_days)
    missing = round(missing, 6)
    return {
        "torrent.unsatisfied": missing > 0,
        "torrent.seed_hours_missing": missing,
        "torrent.hnr_hours_to_act": None if hours_to_act is None else round(hours_to_act, 6),
    }


def forecast_for(policy: Policy, snapshot: FactSnapshot) -> SlotForecast | None:
    """The forecast for a cycle's snapshot; None when qBittorrent is a gap."""
    if snapshot.gap_for(Source.QBITTORRENT) is not None:
        return None
    acc = snapshot.account
    known = snapshot.gap_for(Source.TRACKER_ACCOUNT) is None
    limit = (acc.unsatisfied_limit if known else None) or policy.snatch.class_limits.get(acc.user_class.value, 50)
    return forecast_slots(
        snapshot.torrents,
        snapshot.taken_at,
        unsatisfied=acc.unsatisfied_count if known else None,
        limit=limit,
        buffer=policy.snatch.unsat_buffer,
        min_seed_hours=policy.seeding.min_seed_hours,
        window_days=policy.seeding.seed_window_days,
    )


def forecast_view(slots: SlotForecast, warn_hours: float, *, schedule: int = 10) -> dict[str, object]:
    """JSON-ready: slots free now, when more free, start times for the next snatches, risks."""
    return {
        "unsatisfied": slots.unsatisfied,
        "limit": slots.limit,
        "buffer": slots.buffer,
        "free_now": slots.free_now,
        "frees_at": [t.isoformat() for t in slots.frees_at],
        "next_snatch_starts": [None if t is None else t.isoformat() for t in slots.schedule(schedule)],
        "hit_and_run_risks": [
            {
                "hash": s.hash,
                "name": s.name,
                "missing_hours": s.missing_hours,
                "hours_to_act": s.hours_to_act,
                "deadline": s.deadline.isoformat() if s.deadline else None,
            }
            for s in slots.at_risk(warn_hours)
        ],
    }
