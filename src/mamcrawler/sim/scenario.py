"""The simulator's input language: a scenario (start, duration, tick, seed, the world's
initial account / torrents / library / releases / wants, the physics rates and a timeline
of timed happenings), as frozen pydantic models with ``extra="forbid"``.

Pure data and validation; reading a file and locating errors is ``app.scenario``'s job.
``reference_problems`` finds the cross references pydantic cannot check (a stall naming an
unknown torrent …) as ``(path, code, message)`` so the loader can locate them.
Imports pydantic and ``facts``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from mamcrawler.facts import (
    EventKind,
    FreeKind,
    MetadataReading,
    PausedBy,
    Release,
    Source,
    StorePrices,
    TorrentState,
    UserClass,
    Want,
)

GIB = 1024**3
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


def parse_duration(value: Any) -> timedelta:
    """``"1h"``, ``"30m"``, ``"2d12h"``, ``"1w"`` → timedelta (strings only, no bare numbers)."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not value or not (m := _DURATION.match(value.strip())):
        raise ValueError(f"expected a duration like '1h', '30m', '2d12h' or '1w', got {value!r}")
    weeks, days, hours, minutes = (int(g) if g else 0 for g in m.groups())
    try:
        return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    except OverflowError:
        raise ValueError(f"duration {value!r} is too long") from None


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def format_duration(value: timedelta) -> str:
    """The inverse of ``parse_duration`` for display: ``1d12h``, ``30m``."""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n)
    return text or "0m"


def _plain_datetime(value: Any) -> Any:
    """YAML loaders hand over datetime subclasses (ruamel's ``TimeStamp``); the simulator
    works with plain datetimes, and UTC offsets become ``UTC`` so ids and output are stable."""
    if isinstance(value, datetime):
        value = datetime.fromisoformat(value.isoformat())
        if value.utcoffset() == timedelta(0):
            value = value.replace(tzinfo=UTC)
    return value


StartTime = Annotated[AwareDatetime, BeforeValidator(_plain_datetime)]


class SimModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rates(SimModel):
    """The simulated world's physics (tracker and swarm behaviour, not policy)."""

    points_per_seed_hour: float = Field(2.0, ge=0, description="Bonus points per seeding torrent per hour.")
    max_points: int = Field(99999, gt=0, description="The tracker's cap on bonus points held.")
    upload_mib_per_leecher_hour: float = Field(150, ge=0, description="Upload per leecher per hour while seeding.")
    download_mib_per_hour: float = Field(4000, gt=0, description="Download speed of one torrent.")
    external_download_gib_per_day: float = Field(0, ge=0, description="Ratio drift: downloads outside mamcrawler.")
    external_upload_gib_per_day: float = Field(0, ge=0, description="Upload from seeds outside the client view.")
    stall_chance_per_hour: float = Field(0, ge=0, le=1, description="Chance a running torrent stalls in an hour.")
    stall_hours: float = Field(6, gt=0, description="A random stall lasts up to this long unless resumed.")
    jitter: float = Field(0.25, ge=0, le=1, description="Upload varies by ± this fraction (seeded).")
    base_upload_slots: int = Field(20, ge=1, description="Upload slots at which seeding runs at base speed.")
    full_boost_slots: int = Field(100, ge=1, description="Upload slots that give the full allocation boost.")
    allocation_boost: float = Field(0.5, ge=0, description="Extra upload (fraction) at full_boost_slots.")
    vip_max_days: float = Field(90, gt=0, description="The tracker never holds more VIP than this.")
    hnr_seed_hours: float = Field(72, ge=0, description="The tracker counts a snatch unsatisfied until this.")


class AccountSpec(SimModel):
    username: str = "simulated"
    user_class: UserClass = UserClass.VIP
    class_after_vip: UserClass = Field(UserClass.POWER_USER, description="Class once VIP runs out.")
    uploaded_gib: float = Field(ge=0)
    downloaded_gib: float = Field(gt=0)
    bonus_points: int = Field(ge=0)
    wedges: int = Field(0, ge=0)
    vip_days: float = Field(0, ge=0, description="VIP days left at the start (0 = not VIP).")
    unsatisfied_base: int = Field(0, ge=0, description="Unsatisfied snatches besides the listed torrents.")
    unsatisfied_limit: int | None = Field(None, ge=0, description="None: the policy's class limit.")
    auto_wedge: bool = Field(False, description="The site's Automatic Freeleech Wedge preference (2026).")


class ReleaseSpec(SimModel):
    """A tracker listing; ``book_key`` defaults to ``title|first author`` in lower case."""

    id: str = Field(min_length=1)
    tracker_id: int | None = None
    book_key: str | None = None
    title: str = Field(min_length=1)
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series: str | None = None
    series_number: float | None = None
    category_id: int | None = None
    bitrate_kbps: int | None = Field(None, ge=0)
    duration_seconds: int | None = Field(None, ge=0, description="Listed runtime (§13 compares the decode).")
    abridged: bool | None = False
    single_file: bool | None = True
    narrator_verified: bool | None = None
    watermarked: bool | None = None
    chapters_complete: bool | None = None
    size_gib: float = Field(0.5, gt=0)
    seeders: int = Field(10, ge=0)
    leechers: int = Field(1, ge=0)
    snatches: int | None = Field(None, ge=0)
    free: FreeKind = FreeKind.NONE
    vip_only: bool = False

    @property
    def key(self) -> str:
        if self.book_key:
            return self.book_key
        first = self.authors[0] if self.authors else ""
        return f"{self.title}|{first}".lower()

    def to_release(self, added_at: datetime) -> Release:
        return Release(
            id=self.id,
            tracker_id=self.tracker_id,
            book_key=self.key,
            title=self.title,
            authors=self.authors,
            narrators=self.narrators,
            series=self.series,
            series_number=self.series_number,
            category_id=self.category_id,
            bitrate_kbps=self.bitrate_kbps,
            duration_seconds=self.duration_seconds,
            abridged=self.abridged,
            single_file=self.single_file,
            narrator_verified=self.narrator_verified,
            watermarked=self.watermarked,
            chapters_complete=self.chapters_complete,
            size_bytes=int(self.size_gib * GIB),
            seeders=self.seeders,
            leechers=self.leechers,
            snatches=self.snatches,
            free=self.free,
            vip_only=self.vip_only,
            added_at=added_at,
        )


class TorrentSpec(SimModel):
    """A torrent already in the client at the start; ``name`` is its handle in the scenario."""

    name: str = Field(min_length=1)
    book_key: str | None = None
    release: str | None = Field(None, description="Id of the listed release it was downloaded from.")
    size_gib: float = Field(0.5, gt=0)
    state: TorrentState = TorrentState.SEEDING
    progress: float | None = Field(None, ge=0, le=1, description="Default: 1 unless downloading.")
    seed_hours: float = Field(0, ge=0)
    seeders: int = Field(5, ge=0)
    leechers: int = Field(1, ge=0)
    points_per_hour: float | None = Field(None, ge=0, description="Default: rates.points_per_seed_hour.")
    uploaded_30d_gib: float | None = Field(None, ge=0, description="Default: estimated from the leechers.")
    added_by_mamcrawler: bool = False
    paused_by: PausedBy = PausedBy.NOBODY
    free: bool = False


class LibrarySpec(SimModel):
    id: str = Field(min_length=1)
    book_key: str = Field(min_length=1)
    title: str = Field(min_length=1)
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series: str | None = None
    series_number: float | None = None
    bitrate_kbps: int | None = Field(None, ge=0)
    abridged: bool | None = False
    single_file: bool | None = True
    chapters_complete: bool | None = None
    narrator_verified: bool | None = None
    watermarked: bool | None = None
    seeders: int | None = Field(None, ge=0, description="Seeders of the edition on disk (§5 step 7).")
    torrent: str | None = Field(None, description="Name of the torrent that holds its files.")


class AudioSpec(SimModel):
    """What the audio sensor will find in a finished download of ``release`` (§13, §11);
    a release without one downloads sound, full length, narrator not detected."""

    release: str = Field(min_length=1)
    integrity_ok: bool = True
    reason: str | None = Field(None, description="Why §13 failed (undecodable, size_mismatch…).")
    decoded_seconds: float | None = Field(None, ge=0, description="Default: the listed runtime.")
    narrator: str | None = Field(None, description="Who the opening says reads it.")


class MemorySpec(SimModel):
    """What earlier cycles left in the store when the scenario starts (the engine's memory)."""

    downloads_frozen: bool = Field(False, description="A ratio freeze is in force.")
    frozen_torrents: tuple[str, ...] = Field((), description="Torrents (by name) the freeze paused.")
    downloads_today: int = Field(0, ge=0, le=10_000)
    points_spent_today: int = Field(0, ge=0, le=10_000_000)
    purchases_today: int = Field(0, ge=0, le=10_000)
    bought_releases: tuple[str, ...] = Field((), description="Releases whose personal freeleech is bought.")
    pending_releases: tuple[str, ...] = Field((), description="Releases on the VIP pending list.")


class OutageSpec(SimModel):
    """A source that stops answering (``gap``: a FactGap) or stops changing (``stale``: its
    last observation ages past ``schedule.stale_after_minutes``) for ``lasts``."""

    source: Source
    lasts: Duration
    kind: str = Field("gap", pattern="^(gap|stale)$")


class EventSpec(SimModel):
    """A site event starting at the entry's ``at`` and lasting ``lasts``."""

    kind: EventKind
    title: str = ""
    lasts: Duration
    multiplier: float = Field(1.0, ge=1.0, description="Bonus-point multiplier while it runs.")


class RatioShock(SimModel):
    """Bytes counted by the tracker at once (a manual download, a big upload burst)."""

    downloaded_gib: float = Field(0, ge=0)
    uploaded_gib: float = Field(0, ge=0)


class StallSpec(SimModel):
    torrent: str = Field(min_length=1)
    hours: float = Field(gt=0)


class DemandSpec(SimModel):
    """A torrent's swarm changes: leechers (demand) and seeders (supply)."""

    torrent: str = Field(min_length=1)
    leechers: int | None = Field(None, ge=0)
    seeders: int | None = Field(None, ge=0)


_ENTRY_KINDS = (
    "event",
    "release",
    "want",
    "ratio_shock",
    "stall",
    "seeders_leave",
    "demand",
    "set_rates",
    "points",
    "wedges",
    "metadata",
    "outage",
)


class TimelineEntry(SimModel):
    """One timed happenings; exactly one of the optional keys is set."""

    at: Duration
    event: EventSpec | None = None
    release: ReleaseSpec | None = None
    want: Want | None = None
    ratio_shock: RatioShock | None = None
    stall: StallSpec | None = None
    seeders_leave: str | None = Field(None, description="Release id whose seeders all leave.")
    demand: DemandSpec | None = None
    set_rates: dict[str, float] | None = Field(None, description="Change some rates from now on.")
    points: int | None = Field(None, description="Bonus points credited (negative: taken).")
    wedges: int | None = Field(None, ge=1, description="Freeleech wedges awarded (a holiday reward).")
    metadata: MetadataReading | None = Field(None, description="A §15 source reads a library item (one tick).")
    outage: OutageSpec | None = Field(None, description="A source goes missing or stale (fail-closed shown).")

    @model_validator(mode="after")
    def _exactly_one(self) -> TimelineEntry:
        given = [k for k in _ENTRY_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a timeline entry needs exactly one of {', '.join(_ENTRY_KINDS)}; got {given or 'none'}")
        if self.set_rates is not None:
            unknown = sorted(set(self.set_rates) - set(Rates.model_fields))
            if unknown:
                raise ValueError(f"set_rates: unknown rate(s) {', '.join(unknown)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _ENTRY_KINDS if getattr(self, k) is not None)


class Scenario(SimModel):
    """A whole simulated run."""

    name: str = Field(min_length=1)
    description: str = ""
    seed: int = Field(0, description="Drives every random choice of the simulator.")
    start: StartTime
    duration: Duration
    tick: Duration = Field(default_factory=lambda: timedelta(hours=1))
    rates: Rates = Rates()
    upload_slots: int | None = Field(
        20, ge=1, description="The client's upload-slot setting at the start, as the sensors report it."
    )
    account: AccountSpec
    store: StorePrices = StorePrices()
    releases: tuple[ReleaseSpec, ...] = ()
    torrents: tuple[TorrentSpec, ...] = ()
    library: tuple[LibrarySpec, ...] = ()
    wants: tuple[Want, ...] = ()
    memory: MemorySpec = MemorySpec()
    policy: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Parameter overrides per concern, e.g. {free_first: {mode: floor}}."
    )
    audio: tuple[AudioSpec, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()

    @model_validator(mode="after")
    def _positive_times(self) -> Scenario:
        if self.tick <= timedelta(0):
            raise ValueError("tick must be longer than zero")
        if self.duration < self.tick:
            raise ValueError("duration must be at least one tick")
        return self


def reference_problems(s: Scenario) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Cross references pydantic cannot check: duplicates and names that point nowhere."""
    out: list[tuple[tuple[str | int, ...], str, str]] = []
    release_ids: set[str] = set()
    for i, r in enumerate(s.releases):
        if r.id in release_ids:
            out.append((("releases", i, "id"), "duplicate_id", f"release id {r.id!r} repeated"))
        release_ids.add(r.id)
    for i, e in enumerate(s.timeline):
        if e.release is not None:
            if e.release.id in release_ids:
                out.append((("timeline", i, "release", "id"), "duplicate_id", f"release id {e.release.id!r} repeated"))
            release_ids.add(e.release.id)
    names: set[str] = set()
    for i, t in enumerate(s.torrents):
        if t.name in names:
            out.append((("torrents", i, "name"), "duplicate_id", f"torrent name {t.name!r} repeated"))
        names.add(t.name)
        if t.release is not None and t.release not in release_ids:
            out.append((("torrents", i, "release"), "unknown_release", f"no release with id {t.release!r}"))
    items: set[str] = set()
    for i, item in enumerate(s.library):
        if item.id in items:
            out.append((("library", i, "id"), "duplicate_id", f"library id {item.id!r} repeated"))
        items.add(item.id)
        if item.torrent is not None and item.torrent not in names:
            out.append((("library", i, "torrent"), "unknown_torrent", f"no torrent named {item.torrent!r}"))
    for key in ("bought_releases", "pending_releases"):
        for i, rid in enumerate(getattr(s.memory, key)):
            if rid not in release_ids:
                out.append((("memory", key, i), "unknown_release", f"no release with id {rid!r}"))
    for i, name in enumerate(s.memory.frozen_torrents):
        if name not in names:
            out.append((("memory", "frozen_torrents", i), "unknown_torrent", f"no torrent named {name!r}"))
    for i, a in enumerate(s.audio):
        if a.release not in release_ids:
            out.append((("audio", i, "release"), "unknown_release", f"no release with id {a.release!r}"))
    for i, e in enumerate(s.timeline):
        if e.metadata is not None and e.metadata.item_id not in items:
            out.append(
                (("timeline", i, "metadata", "item_id"), "unknown_item", f"no library item {e.metadata.item_id!r}")
            )
        if e.at > s.duration:
            out.append((("timeline", i, "at"), "after_the_end", "happens after the scenario ends"))
        ref = e.stall.torrent if e.stall else e.demand.torrent if e.demand else None
        if ref is not None and ref not in names:
            key = "stall" if e.stall else "demand"
            out.append((("timeline", i, key, "torrent"), "unknown_torrent", f"no torrent named {ref!r}"))
        if e.seeders_leave is not None and e.seeders_leave not in release_ids:
            out.append((("timeline", i, "seeders_leave"), "unknown_release", f"no release with id {e.seeders_leave!r}"))
    return out
