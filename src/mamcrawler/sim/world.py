"""The simulated world's mutable state and its physics: the tracker account (uploaded /
downloaded bytes, bonus points, wedges, VIP expiry), the client's torrents, the library,
the tracker's listings, wants, site events and the engine's ``Memory``.

``World.snapshot(now)`` turns the state into the ``FactSnapshot`` a sensor would report;
``World.advance(now)`` moves time on (seeding earns points and upload, downloads progress
and cost ratio unless free, stalls start and end, counters reset at midnight). Applying
decided actions lives in ``actuators.simulate``. All randomness comes from one
``random.Random(scenario.seed)``, so a scenario always plays the same way.

A torrent's lifecycle in the simulator (SPEC §10; STYLE 9 — the legal moves):

    downloading ──complete──► seeding
    downloading ──pause────► paused_download ──resume──► downloading
    downloading ──stall────► stalled_download ──resume/reannounce/time──► downloading
    seeding ─────stall─────► stalled_upload ──resume/reannounce/time──► seeding
    paused_upload ──resume─► seeding                  any ──remove──► (gone)

Imports ``facts`` and ``actuators.sim_scenario``."""

from __future__ import annotations

import hashlib
import math
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mamcrawler.engine.economy.points import Reading, learn_rates
from mamcrawler.facts import (
    Account,
    Event,
    EventKind,
    FactSnapshot,
    FreeKind,
    LibraryItem,
    Memory,
    PausedBy,
    Provenance,
    Release,
    Source,
    StorePrices,
    Torrent,
    TorrentState,
    UserClass,
    Want,
)
from mamcrawler.sim.scenario import (
    GIB,
    LibrarySpec,
    Rates,
    Scenario,
    TimelineEntry,
    TorrentSpec,
    format_duration,
)

MIB = 1024**2
_RUNNING_DOWN = {TorrentState.DOWNLOADING}
_PAUSED = {TorrentState.PAUSED_DOWNLOAD, TorrentState.PAUSED_UPLOAD}
_STALLED = {TorrentState.STALLED_DOWNLOAD, TorrentState.STALLED_UPLOAD}
_SOURCES = (Source.TRACKER_ACCOUNT, Source.TRACKER_STORE, Source.TRACKER_SEARCH, Source.QBITTORRENT, Source.LIBRARY)


def torrent_hash(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()  # an id, not a security measure


@dataclass
class SimTorrent:
    """One torrent in the simulated client."""

    hash: str
    name: str
    size_bytes: int
    state: TorrentState
    progress: float
    seeding_seconds: float
    seeders: int
    leechers: int
    points_per_hour: float
    added_by_mamcrawler: bool
    paused_by: PausedBy
    free: bool
    book_key: str | None
    release_id: str | None
    added_at: datetime
    uploaded_bytes: float = 0.0
    window: deque[float] = field(default_factory=lambda: deque(maxlen=30))
    today_upload: float = 0.0
    stalled_seconds: float = 0.0
    stall_left_hours: float = 0.0
    completed_at: datetime | None = None
    tags: tuple[str, ...] = ()
    _last_fact: Torrent | None = field(default=None, repr=False, compare=False)
    _last_values: tuple[object, ...] = field(default=(), repr=False, compare=False)

    @property
    def complete(self) -> bool:
        return self.progress >= 1.0

    def uploaded_30d(self) -> float:
        return sum(self.window) + self.today_upload

    def fact(self) -> Torrent:
        """The torrent as the client reports it. Hot path: the fact of the previous tick is
        copied with only the fields that move, and reused when nothing moved."""
        moving = {
            "state": self.state,
            "progress": self.progress,
            "ratio": round(self.uploaded_bytes / self.size_bytes, 6) if self.size_bytes else 0.0,
            "uploaded_bytes": int(self.uploaded_bytes),
            "uploaded_30d_bytes": int(self.uploaded_30d()),
            "seeding_seconds": int(self.seeding_seconds),
            "stalled_seconds": int(self.stalled_seconds),
            "seeders": self.seeders,
            "leechers": self.leechers,
            "tags": self.tags,
            "paused_by": self.paused_by,
            "free": self.free,
            "book_key": self.book_key,
            "completed_at": self.completed_at,
        }
        last = self._last_fact
        fact: Torrent
        values = tuple(moving.values())
        if values == self._last_values and last is not None:
            return last
        self._last_values = values
        if last is None:
            fixed = {
                "hash": self.hash,
                "name": self.name,
                "size_bytes": self.size_bytes,
                "points_per_hour": self.points_per_hour,
                "category": "audiobooks",
                "added_by_mamcrawler": self.added_by_mamcrawler,
                "release_id": self.release_id,
            }
            fact = Torrent(**fixed, **moving)
        else:
            fact = _moved(last, moving)
        self._last_fact = fact
        return fact


def _moved(last: Torrent, moving: dict[str, object]) -> Torrent:
    """``last.model_copy(update=moving)`` without the generic copy machinery (the hot path
    of every tick): the simulator's own values, already of the fields' types."""
    fact = Torrent.__new__(Torrent)
    object.__setattr__(fact, "__dict__", {**last.__dict__, **moving})
    # The first fact was built with every moving field, so its fields-set already has them all.
    object.__setattr__(fact, "__pydantic_fields_set__", last.__pydantic_fields_set__)
    object.__setattr__(fact, "__pydantic_extra__", None)
    object.__setattr__(fact, "__pydantic_private__", None)
    return fact


@dataclass
class Completion:
    """A download that finished: what the library did with it."""

    at: datetime
    hash: str
    book_key: str | None
    swapped_item: str | None  # library item whose edition was swapped (§16)


class World:
    """The whole simulated state; mutated by ``advance`` and by applied actions."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        self.rates: Rates = scenario.rates
        self.now = scenario.start
        acc = scenario.account
        self.username = acc.username
        self.user_class = acc.user_class
        self.uploaded = acc.uploaded_gib * GIB
        self.downloaded = acc.downloaded_gib * GIB
        self.points = float(acc.bonus_points)
        self.wedges = acc.wedges
        self.vip_until: datetime | None = scenario.start + timedelta(days=acc.vip_days) if acc.vip_days else None
        self.store: StorePrices = scenario.store
        self.releases: dict[str, Release] = {r.id: r.to_release(scenario.start) for r in scenario.releases}
        self.bought: dict[str, str] = {}  # release id → wedge | points
        self.torrents: dict[str, SimTorrent] = {}
        self.names: dict[str, str] = {}
        self.removed: dict[str, SimTorrent] = {}
        for spec in scenario.torrents:
            self._add_initial(spec)
        by_name = {t.name: t.hash for t in self.torrents.values()}
        self.library: dict[str, LibraryItem] = {i.id: _item(i, by_name, scenario.start) for i in scenario.library}
        self.inferior: set[str] = set()
        self.wants: list[Want] = list(scenario.wants)
        self.events: list[Event] = []
        self.downloads_frozen = False
        self.frozen_hashes: list[str] = []
        self.downloads_today = 0
        self.points_spent_today = 0
        self.purchases_today = 0
        self.vip_purchases_today = 0
        self.upload_slots: int | None = scenario.upload_slots
        self.active_seeds: int | None = None
        self.pending: list[str] = []
        self.completions: list[Completion] = []
        self.readings: list[Reading] = []  # the account as each cycle read it (points planner)
        self._release_version = 0
        self._release_cache: tuple[tuple[object, ...], tuple[Release, ...]] | None = None
        self._library_cache: tuple[LibraryItem, ...] | None = None

    # --- set-up -------------------------------------------------------------------------
    def _add_initial(self, spec: TorrentSpec) -> None:
        rates = self.rates
        progress = spec.progress
        if progress is None:
            progress = 0.0 if spec.state in (TorrentState.DOWNLOADING, TorrentState.PAUSED_DOWNLOAD) else 1.0
        t = SimTorrent(
            hash=torrent_hash(spec.name),
            name=spec.name,
            size_bytes=int(spec.size_gib * GIB),
            state=spec.state,
            progress=progress,
            seeding_seconds=spec.seed_hours * 3600,
            seeders=spec.seeders,
            leechers=spec.leechers,
            points_per_hour=rates.points_per_seed_hour if spec.points_per_hour is None else spec.points_per_hour,
            added_by_mamcrawler=spec.added_by_mamcrawler,
            paused_by=spec.paused_by,
            free=spec.free,
            book_key=spec.book_key,
            release_id=spec.release,
            added_at=self.scenario.start - timedelta(hours=spec.seed_hours),
            stall_left_hours=rates.stall_hours if spec.state in _STALLED else 0.0,
        )
        month = spec.uploaded_30d_gib
        if month is None:
            month = spec.leechers * rates.upload_mib_per_leecher_hour * 24 * 30 * MIB / GIB
        t.window.extend([month * GIB / 30] * 30)
        t.uploaded_bytes = month * GIB
        self.torrents[t.hash] = t
        self.names[t.hash] = t.name

    # --- the facts ---------------------------------------------------------------------
    def active_events(self, now: datetime) -> list[Event]:
        return [e for e in self.events if e.active_at(now)]

    def freeleech_active(self, now: datetime) -> bool:
        return any(e.kind is EventKind.FREELEECH for e in self.active_events(now))

    def release_view(self, now: datetime) -> tuple[Release, ...]:
        """Listings as the tracker shows them now: bought ones personal-freeleech, and every
        paid one free while a site-wide freeleech event runs."""
        fl = self.freeleech_active(now)
        key = (id(self.releases), len(self.releases), fl, tuple(sorted(self.bought)), self._release_version)
        if self._release_cache is not None and self._release_cache[0] == key:
            return self._release_cache[1]
        out = []
        for r in self.releases.values():
            if r.id in self.bought and r.free is FreeKind.NONE:
                r = r.model_copy(update={"free": FreeKind.PERSONAL_FREELEECH})
            elif fl and r.free is FreeKind.NONE:
                r = r.model_copy(update={"free": FreeKind.GLOBAL_FREELEECH})
            out.append(r)
        view = tuple(out)
        self._release_cache = (key, view)
        return view

    def releases_changed(self) -> None:
        self._release_version += 1

    def library_view(self) -> tuple[LibraryItem, ...]:
        if self._library_cache is None:
            self._library_cache = tuple(self.library.values())
        return self._library_cache

    def library_changed(self) -> None:
        self._library_cache = None

    def vip_days(self, now: datetime) -> float:
        if self.vip_until is None:
            return 0.0
        return max(0.0, (self.vip_until - now).total_seconds() / 86400)

    @property
    def ratio(self) -> float:
        return self.uploaded / self.downloaded if self.downloaded > 0 else math.inf

    def unsatisfied(self) -> int:
        limit = self.rates.hnr_seed_hours * 3600
        young = sum(1 for t in self.torrents.values() if t.seeding_seconds < limit)
        return self.scenario.account.unsatisfied_base + young

    def account(self, now: datetime) -> Account:
        return Account(
            username=self.username,
            user_class=self.user_class,
            ratio=round(self.ratio, 4),
            uploaded_bytes=int(self.uploaded),
            downloaded_bytes=int(self.downloaded),
            bonus_points=int(self.points),
            wedges=self.wedges,
            vip_until=self.vip_until,
            unsatisfied_count=self.unsatisfied(),
            unsatisfied_limit=self.scenario.account.unsatisfied_limit,
            auto_wedge=self.scenario.account.auto_wedge,
            **self._learned(now),
        )

    def _learned(self, now: datetime) -> dict[str, float | None]:
        """Rates learned from the account's successive readings, as the tracker sensor does."""
        if not self.readings or self.readings[-1].at < now:
            self.readings.append(Reading(now, int(self.points), int(self.uploaded), int(self.downloaded)))
            self.readings = self.readings[-200:]
        learned = learn_rates(self.readings, now=now)
        return {
            "points_per_hour": learned.points_per_hour,
            "upload_gib_per_day": learned.upload_gib_per_day,
            "download_gib_per_day": learned.download_gib_per_day,
        }

    def memory(self) -> Memory:
        return Memory(
            downloads_frozen=self.downloads_frozen,
            frozen_torrent_hashes=tuple(self.frozen_hashes),
            downloads_today=self.downloads_today,
            points_spent_today=self.points_spent_today,
            purchases_today=self.purchases_today,
            vip_purchases_today=self.vip_purchases_today,
            upload_slots=self.upload_slots,
            bought_release_ids=tuple(sorted(self.bought)),
            pending_release_ids=tuple(self.pending),
        )

    def snapshot(self, now: datetime) -> FactSnapshot:
        return FactSnapshot(
            taken_at=now,
            account=self.account(now),
            store_prices=self.store,
            events=tuple(e for e in self.events if e.ends_at is None or e.ends_at > now),
            releases=self.release_view(now),
            torrents=tuple(t.fact() for t in self.torrents.values()),
            library=self.library_view(),
            wants=tuple(self.wants),
            memory=self.memory(),
            provenance=tuple(Provenance(source=s, observed_at=now, origin="simulator") for s in _SOURCES),
        )

    # --- time ---------------------------------------------------------------------------
    def advance(self, now: datetime) -> None:
        """Move the world from ``self.now`` to ``now``."""
        hours = (now - self.now).total_seconds() / 3600
        if hours <= 0:
            return
        if now.date() != self.now.date():
            self._midnight()
        rates, rng = self.rates, self.rng
        events = self.active_events(self.now)
        earning = (EventKind.BONUS, EventKind.MULTIPLIER, EventKind.HOLIDAY)
        points_mult = max([1.0, *(e.multiplier for e in events if e.kind in earning)])
        slots = self.upload_slots or rates.base_upload_slots
        span = max(1, rates.full_boost_slots - rates.base_upload_slots)
        boost = 1 + rates.allocation_boost * min(1.0, max(0.0, (slots - rates.base_upload_slots) / span))
        per_leecher = rates.upload_mib_per_leecher_hour * MIB * hours * boost
        down_step = rates.download_mib_per_hour * MIB * hours
        for t in list(self.torrents.values()):
            if t.state in _STALLED:
                t.stalled_seconds += hours * 3600
                t.stall_left_hours -= hours
                if t.stall_left_hours <= 0 and not self._no_seeders(t):
                    self._unstall(t)
                continue
            if t.state in _RUNNING_DOWN:
                if self._no_seeders(t):
                    self._stall(t, math.inf)
                    continue
                got = min(t.size_bytes * (1 - t.progress), down_step)
                t.progress = min(1.0, t.progress + (got / t.size_bytes if t.size_bytes else 1.0))
                if not t.free:
                    self.downloaded += got  # a paid download costs ratio as it arrives
                if t.progress >= 1.0:
                    t.state, t.completed_at = TorrentState.SEEDING, now
                    self._completed(t, now)
            elif t.state is TorrentState.SEEDING:
                t.seeding_seconds += hours * 3600
                self.points += t.points_per_hour * points_mult * hours
                if t.leechers:
                    up = t.leechers * per_leecher * (1 + rates.jitter * (2 * rng.random() - 1))
                    t.uploaded_bytes += up
                    t.today_upload += up
                    self.uploaded += up
            running = t.state in (TorrentState.DOWNLOADING, TorrentState.SEEDING)
            if rates.stall_chance_per_hour and running and rng.random() < rates.stall_chance_per_hour * hours:
                self._stall(t, rng.uniform(1.0, rates.stall_hours))
        self.downloaded += rates.external_download_gib_per_day * GIB * hours / 24
        self.uploaded += rates.external_upload_gib_per_day * GIB * hours / 24
        self.points = min(self.points, float(rates.max_points))
        if self.vip_until is not None and self.vip_until <= now and self.user_class is UserClass.VIP:
            self.user_class = self.scenario.account.class_after_vip
        self.now = now

    def _midnight(self) -> None:
        self.downloads_today = self.points_spent_today = self.purchases_today = self.vip_purchases_today = 0
        for t in self.torrents.values():
            t.window.append(t.today_upload)
            t.today_upload = 0.0

    def _no_seeders(self, t: SimTorrent) -> bool:
        if t.complete:
            return False
        release = self.releases.get(t.release_id or "")
        return (release.seeders if release is not None else t.seeders) == 0

    def _stall(self, t: SimTorrent, hours: float) -> None:
        t.state = TorrentState.STALLED_UPLOAD if t.complete else TorrentState.STALLED_DOWNLOAD
        t.stall_left_hours = hours

    def _unstall(self, t: SimTorrent) -> None:
        t.state = TorrentState.SEEDING if t.complete else TorrentState.DOWNLOADING
        t.stalled_seconds = 0.0
        t.stall_left_hours = 0.0

    def end_stall(self, t: SimTorrent) -> None:
        """Resume / reannounce clears a stall, unless the swarm has no seeder at all."""
        if t.state in _STALLED and not self._no_seeders(t):
            self._unstall(t)

    def _completed(self, t: SimTorrent, now: datetime) -> None:
        """§13/§14 pass in the simulator: the book lands in the library, or (§16) the
        marked inferior copy is swapped for the new edition."""
        release = self.releases.get(t.release_id or "")
        swapped = None
        if release is not None and t.book_key is not None:
            current = next((i for i in self.library.values() if i.book_key == t.book_key), None)
            if current is None:
                item_id = f"abs-{release.id}"
                self.library[item_id] = _from_release(item_id, release, t.hash, now)
                self.library_changed()
            elif current.id in self.inferior:
                self.library[current.id] = _from_release(current.id, release, t.hash, now)
                self.inferior.discard(current.id)
                swapped = current.id
                self.library_changed()
        self.completions.append(Completion(now, t.hash, t.book_key, swapped))

    # --- timeline -----------------------------------------------------------------------
    def happen(self, entry: TimelineEntry, now: datetime) -> str:
        """Apply one timeline entry; returns a one-line description for the report."""
        kind = entry.kind
        if entry.event is not None:
            e = entry.event
            eid = f"{e.kind.value}-{now.strftime('%Y%m%dT%H%M')}"
            self.events.append(
                Event(id=eid, kind=e.kind, title=e.title, starts_at=now, ends_at=now + e.lasts, multiplier=e.multiplier)
            )
            return f"{e.kind.value} event {e.title!r} starts, lasts {format_duration(e.lasts)}"
        if entry.release is not None:
            self.releases[entry.release.id] = entry.release.to_release(now)
            self.releases_changed()
            return f"release {entry.release.id} listed"
        if entry.want is not None:
            self.wants.append(entry.want)
            return f"want {entry.want.book_key}"
        if entry.ratio_shock is not None:
            self.downloaded += entry.ratio_shock.downloaded_gib * GIB
            self.uploaded += entry.ratio_shock.uploaded_gib * GIB
            return f"ratio shock (+{entry.ratio_shock.downloaded_gib} GiB down, +{entry.ratio_shock.uploaded_gib} up)"
        if entry.stall is not None:
            t = self.torrents.get(torrent_hash(entry.stall.torrent))
            if t is not None:
                self._stall(t, entry.stall.hours)
            return f"{entry.stall.torrent} stalls for {entry.stall.hours} h"
        if entry.seeders_leave is not None:
            r = self.releases[entry.seeders_leave]
            self.releases[r.id] = r.model_copy(update={"seeders": 0})
            self.releases_changed()
            return f"seeders of {r.id} leave"
        if entry.demand is not None:
            t = self.torrents.get(torrent_hash(entry.demand.torrent))
            if t is not None:
                t.leechers = t.leechers if entry.demand.leechers is None else entry.demand.leechers
                t.seeders = t.seeders if entry.demand.seeders is None else entry.demand.seeders
            return f"demand on {entry.demand.torrent} changes"
        if entry.set_rates is not None:
            self.rates = self.rates.model_copy(update=entry.set_rates)
            return "rates change: " + ", ".join(f"{k}={v}" for k, v in sorted(entry.set_rates.items()))
        if entry.points is not None:
            self.points = min(max(0.0, self.points + entry.points), float(self.rates.max_points))
            return f"{entry.points:+d} bonus points"
        if entry.wedges is not None:
            self.wedges += entry.wedges
            return f"+{entry.wedges} freeleech wedge(s)"
        return kind


def _item(spec: LibrarySpec, by_name: dict[str, str], now: datetime) -> LibraryItem:
    return LibraryItem(
        id=spec.id,
        book_key=spec.book_key,
        title=spec.title,
        authors=spec.authors,
        narrators=spec.narrators,
        series=spec.series,
        series_number=spec.series_number,
        bitrate_kbps=spec.bitrate_kbps,
        abridged=spec.abridged,
        single_file=spec.single_file,
        chapters_complete=spec.chapters_complete,
        narrator_verified=spec.narrator_verified,
        watermarked=spec.watermarked,
        seeders=spec.seeders,
        torrent_hash=by_name.get(spec.torrent) if spec.torrent else None,
        added_at=now,
    )


def _from_release(item_id: str, r: Release, hash_: str, now: datetime) -> LibraryItem:
    return LibraryItem(
        id=item_id,
        book_key=r.book_key,
        title=r.title,
        authors=r.authors,
        narrators=r.narrators,
        series=r.series,
        series_number=r.series_number,
        bitrate_kbps=r.bitrate_kbps,
        duration_seconds=r.duration_seconds,
        abridged=r.abridged,
        single_file=r.single_file,
        chapters_complete=r.chapters_complete,
        narrator_verified=r.narrator_verified,
        watermarked=r.watermarked,
        seeders=r.seeders,
        torrent_hash=hash_,
        added_at=now,
    )
