"""The simulated world's mutable state and its physics: the tracker account (uploaded /
downloaded bytes, bonus points, wedges, VIP expiry), the client's torrents, the library,
the tracker's listings, wants, site events and the engine's ``Memory``.

``World.snapshot(now)`` turns the state into the ``FactSnapshot`` a sensor would report;
``World.advance(now)`` moves time on (seeding earns points and upload, downloads progress
and cost ratio unless free, stalls start and end, counters reset at midnight). Applying
decided actions lives in ``sim.executor``; what they do to memory is ``engine.memory``. All
randomness comes from one ``random.Random(scenario.seed)``, so a scenario always plays
the same way.

A torrent's lifecycle in the simulator (SPEC §10; STYLE 9 — the legal moves):

    downloading ──complete──► seeding (scanned: §13/§14/§16 decided on its AudioScan)
    downloading ──pause────► paused_download ──resume──► downloading
    downloading ──stall────► stalled_download ──resume/reannounce/time──► downloading
    seeding ─────stall─────► stalled_upload ──resume/reannounce/time──► seeding
    paused_upload ──resume─► seeding                  any ──remove──► (gone)

Imports ``facts`` and ``sim.scenario``."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from mamcrawler.engine.economy.points import Reading, learn_rates
from mamcrawler.engine.economy.wedge import free_for_account, is_vip_member
from mamcrawler.facts import (
    Account,
    AudioScan,
    Event,
    EventKind,
    FactGap,
    FactSnapshot,
    FreeKind,
    LibraryItem,
    Memory,
    MetadataReading,
    PausedBy,
    Provenance,
    Release,
    Source,
    StorePrices,
    TorrentState,
    UserClass,
    Want,
    WantSource,
)
from mamcrawler.sim.library import Completion, from_release, library_item
from mamcrawler.sim.library import scans as library_scans
from mamcrawler.sim.scenario import (
    GIB,
    Rates,
    Scenario,
    TimelineEntry,
    TorrentSpec,
    format_duration,
)
from mamcrawler.sim.torrents import SimTorrent, torrent_hash

MIB = 1024**2
_RUNNING_DOWN = {TorrentState.DOWNLOADING}
_PAUSED = {TorrentState.PAUSED_DOWNLOAD, TorrentState.PAUSED_UPLOAD}
_STALLED = {TorrentState.STALLED_DOWNLOAD, TorrentState.STALLED_UPLOAD}
_SOURCES = (
    Source.TRACKER_ACCOUNT,
    Source.TRACKER_STORE,
    Source.TRACKER_SEARCH,
    Source.QBITTORRENT,
    Source.LIBRARY,
    Source.AUDIO,
)


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
        self.bought: dict[str, str] = dict.fromkeys(scenario.memory.bought_releases, "points")
        self.torrents: dict[str, SimTorrent] = {}
        self.names: dict[str, str] = {}
        self.removed: dict[str, SimTorrent] = {}
        for spec in scenario.torrents:
            self._add_initial(spec)
        by_name = {t.name: t.hash for t in self.torrents.values()}
        self.library: dict[str, LibraryItem] = {
            i.id: library_item(i, by_name, scenario.start) for i in scenario.library
        }
        self.inferior: set[str] = set()
        self.wants: list[Want] = list(scenario.wants)
        for rid in scenario.memory.pending_releases:  # the VIP pending list is a want (as the store's)
            r = self.releases[rid]
            self.wants.append(
                Want(book_key=r.book_key, title=r.title, authors=r.authors, source=WantSource.VIP_PENDING)
            )
        for name in scenario.memory.frozen_torrents:  # the freeze paused them
            t = self.torrents[torrent_hash(name)]
            t.state = TorrentState.PAUSED_UPLOAD if t.complete else TorrentState.PAUSED_DOWNLOAD
            t.paused_by = PausedBy.MAMCRAWLER
        self.events: list[Event] = []
        # The engine's memory, changed only by ``engine.memory.memory_after`` (as live).
        start = scenario.memory
        self.remembered = Memory(
            upload_slots=scenario.upload_slots,
            downloads_frozen=start.downloads_frozen,
            frozen_torrent_hashes=tuple(sorted(torrent_hash(n) for n in start.frozen_torrents)),
            downloads_today=start.downloads_today,
            points_spent_today=start.points_spent_today,
            purchases_today=start.purchases_today,
            bought_release_ids=tuple(sorted(start.bought_releases)),
            pending_release_ids=tuple(sorted(start.pending_releases)),
        )
        self.outages: list[tuple[Source, datetime, datetime, str]] = []  # source, since, until, gap|stale
        self.active_seeds: int | None = None
        self.completions: list[Completion] = []
        self.account_readings: list[Reading] = []  # the account as each cycle read it (points planner)
        self.audio = {a.release: a for a in scenario.audio}  # §13/§11 outcomes by release
        self.bad_releases: set[str] = set()
        self.readings: list[MetadataReading] = []  # §15 readings of this tick (timeline)
        self._release_version = 0
        self._release_cache: tuple[tuple[object, ...], tuple[Release, ...]] | None = None
        self._library_cache: tuple[LibraryItem, ...] | None = None
        self._hash_order: tuple[tuple[int, ...], list[SimTorrent]] = ((), [])

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
        t.start_window(month * GIB / 30)
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
            if r.id in self.bad_releases:
                continue  # §13 failed: never listed to the engine again (as the live store list does)
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

    def free_for_account(self, release: Release, now: datetime) -> bool:
        """Costs this account no ratio: VIP freeleech and VIP torrents only while it is a VIP member."""
        return free_for_account(release, is_vip_member(self.user_class.value, self.vip_days(now) > 0))

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
        if not self.account_readings or self.account_readings[-1].at < now:
            reading = Reading(now, int(self.points), int(self.uploaded), int(self.downloaded))
            self.account_readings = [*self.account_readings[-199:], reading]
        learned = learn_rates(self.account_readings, now=now)
        return {
            "points_per_hour": learned.points_per_hour,
            "upload_gib_per_day": learned.upload_gib_per_day,
            "download_gib_per_day": learned.download_gib_per_day,
        }

    def memory(self) -> Memory:
        return self.remembered

    @property
    def upload_slots(self) -> int | None:
        """The client's upload-slot setting (what the last SetSeedingAllocation set)."""
        return self.remembered.upload_slots

    def snapshot(self, now: datetime) -> FactSnapshot:
        return FactSnapshot(
            taken_at=now,
            account=self.account(now),
            store_prices=self.store,
            events=tuple(e for e in self.events if e.ends_at is None or e.ends_at > now),
            releases=self.release_view(now),
            torrents=tuple(t.fact() for t in self._by_hash()),
            library=self.library_view(),
            scans=self.scans(),
            metadata=tuple(self.readings),
            wants=tuple(self.wants),
            memory=self.memory(),
            provenance=tuple(
                Provenance(source=s, observed_at=self._observed(s, now), origin="simulator")
                for s in _SOURCES
                if self._outage(s, now) != "gap"
            ),
            gaps=tuple(
                FactGap(source=s, code="service_unavailable", message="scenario outage", since=now)
                for s in _SOURCES
                if self._outage(s, now) == "gap"
            ),
        )

    def _by_hash(self) -> list[SimTorrent]:
        """The client's torrents in hash order, the engine's canonical order (so it finds
        them sorted and keeps them as they are). Sorted again only when torrents came or went:
        the key is every torrent's identity (the cached list holds them, so no id is reused)."""
        keys = tuple(map(id, self.torrents.values()))
        if keys != self._hash_order[0]:
            self._hash_order = (keys, [self.torrents[h] for h in sorted(self.torrents)])
        return self._hash_order[1]

    def _outage(self, source: Source, now: datetime) -> str | None:
        return next((kind for s, since, until, kind in self.outages if s is source and since <= now < until), None)

    def _observed(self, source: Source, now: datetime) -> datetime:
        """When a source was last observed: its stale outage's start, or now."""
        return next(
            (
                since
                for s, since, until, kind in self.outages
                if s is source and kind == "stale" and since <= now < until
            ),
            now,
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
        self.remembered = self.remembered.model_copy(
            update={"downloads_today": 0, "points_spent_today": 0, "purchases_today": 0, "vip_purchases_today": 0}
        )
        for t in self.torrents.values():
            t.roll_day()

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
        """A download finished: the audio sensor scans it from the next snapshot on, until
        a decision (swap, refusal, bad release, new book) is applied to it."""
        if t.added_by_mamcrawler:
            self.completions.append(Completion(now, t.hash, t.book_key))

    def scans(self) -> tuple[AudioScan, ...]:
        return library_scans(self)

    def completion(self, hash_: str) -> Completion | None:
        return next((c for c in self.completions if c.hash == hash_ and c.outcome is None), None)

    def land(self, item_id: str, release: Release, hash_: str, now: datetime) -> None:
        """A release's files become the library item ``item_id`` (new or swapped)."""
        self.library[item_id] = from_release(item_id, release, hash_, now)
        self.inferior.discard(item_id)
        self.library_changed()

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
        if entry.outage is not None:
            o = entry.outage
            self.outages.append((o.source, now, now + o.lasts, o.kind))
            what = "stops answering" if o.kind == "gap" else "stops changing (stale)"
            return f"{o.source.value} {what} for {format_duration(o.lasts)}"
        if entry.metadata is not None:
            self.readings.append(entry.metadata)
            return f"{entry.metadata.source} reading for {entry.metadata.item_id}"
        return kind
