"""The simulated executor and the simulation loop (DESIGN.md "Actuators").

``simulate(scenario, policy)`` plays a scenario tick by tick: the world moves on
(``sim_world``), timeline entries happen, the world's ``FactSnapshot`` goes to the same
``decide()`` the daemon uses, and the *planned* actions are applied to the world — so a
purchase lowers points, a bought wedge makes a release free, a completed paid download
lowers the ratio, and every later decision sees it (STYLE 1: the engine never knows it is
simulated). Nothing is applied that was not decided. The result keeps every batch, the
purchases and downloads with their effects, and a ``Summary``.
Imports ``engine``, ``facts`` and the ``actuators.sim_*`` modules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mamcrawler.engine import REFERENCE, DecisionBatch, DecisionRecord, Evaluator, Policy, decide
from mamcrawler.engine.actions import (
    Action,
    AddTorrent,
    AddToVipPending,
    AddToWishlist,
    Alert,
    BuyPersonalFreeleech,
    BuyUploadCredit,
    BuyVip,
    FreezeDownloads,
    PauseTorrent,
    Reannounce,
    RemoveTorrent,
    ReplaceEdition,
    ResumeTorrent,
    SetSeedingAllocation,
    UnfreezeDownloads,
)
from mamcrawler.facts import PausedBy, Release, TorrentState, UserClass, Want, WantSource
from mamcrawler.sim.scenario import GIB, Scenario
from mamcrawler.sim.world import SimTorrent, World, torrent_hash

PURPOSES = ("vip", "upload_credit", "personal_freeleech")
DOWNLOAD_KINDS = ("free", "wedge", "points", "ratio_costing")

__all__ = ["Download", "Purchase", "SimulationResult", "Summary", "TickResult", "simulate"]


@dataclass(frozen=True)
class Purchase:
    """A store purchase the world carried out, with the points around it."""

    at: datetime
    kind: str  # vip | upload_credit | personal_freeleech
    cost_points: int
    points_before: int
    points_after: int
    detail: str
    method: str | None = None


@dataclass(frozen=True)
class Download:
    """A torrent added; ``kind`` says what it cost: free | wedge | points | ratio_costing."""

    at: datetime
    release_id: str
    book_key: str
    kind: str
    hash: str


@dataclass(frozen=True)
class TickResult:
    at: datetime
    batch: DecisionBatch | None
    ratio: float
    vip_days: float
    points: int


@dataclass
class Summary:
    """The figures the simulator reports at the end of a run."""

    ticks: int = 0
    min_ratio: float = float("inf")
    min_ratio_at: datetime | None = None
    final_ratio: float = 0.0
    min_vip_days: float = float("inf")
    min_vip_at: datetime | None = None
    final_vip_days: float = 0.0
    final_points: int = 0
    final_wedges: int = 0
    points_spent: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PURPOSES, 0))
    downloads: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DOWNLOAD_KINDS, 0))
    completed: int = 0
    vip_pending: list[tuple[str, str]] = field(default_factory=list)
    wishlist: list[str] = field(default_factory=list)
    removals: list[tuple[datetime, str]] = field(default_factory=list)
    replacements: list[tuple[datetime, str, str]] = field(default_factory=list)
    swaps: list[tuple[datetime, str]] = field(default_factory=list)
    freezes: int = 0
    unfreezes: int = 0
    alerts: list[tuple[datetime, str]] = field(default_factory=list)
    refused: list[tuple[datetime, str]] = field(default_factory=list)
    happenings: list[tuple[datetime, str]] = field(default_factory=list)
    seeding_torrents: int = 0


@dataclass
class SimulationResult:
    scenario: Scenario
    policy_hash: str
    evaluator: str
    ticks: list[TickResult]
    purchases: list[Purchase]
    download_log: list[Download]
    applied: list[tuple[datetime, Action]]
    summary: Summary
    world: World

    def records(self) -> Iterator[DecisionRecord]:
        for tick in self.ticks:
            if tick.batch is not None:
                yield from tick.batch.records

    def to_jsonl(self) -> str:
        return "".join(t.batch.to_jsonl() for t in self.ticks if t.batch is not None)

    def name_of(self, hash_: str) -> str:
        return self.world.names.get(hash_, hash_[:12])

    def torrent(self, hash_: str) -> SimTorrent | None:
        return self.world.torrents.get(hash_) or self.world.removed.get(hash_)


class _Executor:
    """Applies planned actions to the world (the simulated twin of ``actuators.live``)."""

    def __init__(self, world: World, result: SimulationResult) -> None:
        self.world, self.result = world, result

    def apply(self, batch: DecisionBatch, now: datetime) -> None:
        pfl = [a for a in batch.actions if isinstance(a, BuyPersonalFreeleech)]
        bought_now: dict[str, str] = {a.release_id: a.method for a in pfl}
        for action in batch.actions:
            done = self._apply(action, now, bought_now)
            if done:
                self.result.applied.append((now, action))
            else:
                self.result.summary.refused.append((now, action.type))

    def _spend(self, now: datetime, kind: str, cost: int, detail: str, method: str | None = None) -> bool:
        w = self.world
        before = int(w.points)
        if cost > before:
            return False  # the store refuses; never a negative balance
        w.points -= cost
        self.result.purchases.append(Purchase(now, kind, cost, before, int(w.points), detail, method))
        self.result.summary.points_spent[kind] += cost
        if kind != "vip":
            w.points_spent_today += cost
            w.purchases_today += 1
        else:
            w.vip_purchases_today += 1
        return True

    def _apply(self, action: Action, now: datetime, bought_now: dict[str, str]) -> bool:
        w, s = self.world, self.result.summary
        if isinstance(action, BuyVip):
            if not self._spend(now, "vip", action.cost_points, f"{action.weeks} weeks"):
                return False
            start = max(w.vip_until or now, now)
            w.vip_until = min(start + timedelta(weeks=action.weeks), now + timedelta(days=w.rates.vip_max_days))
            w.user_class = UserClass.VIP
            return True
        if isinstance(action, BuyUploadCredit):
            if not self._spend(now, "upload_credit", action.cost_points, f"{action.gib} GiB"):
                return False
            w.uploaded += action.gib * GIB
            return True
        if isinstance(action, BuyPersonalFreeleech):
            release = w.releases.get(action.release_id)
            if release is None or release.is_free or action.release_id in w.bought:
                return False
            if action.method == "wedge":
                if w.wedges < 1:
                    return False
                w.wedges -= 1
                self.result.purchases.append(
                    Purchase(now, "personal_freeleech", 0, int(w.points), int(w.points), action.release_id, "wedge")
                )
                w.purchases_today += 1
            elif not self._spend(now, "personal_freeleech", action.cost_points, action.release_id, "points"):
                return False
            w.bought[action.release_id] = action.method
            w.releases_changed()
            return True
        if isinstance(action, AddTorrent):
            return self._add(action, now, bought_now)
        if isinstance(action, AddToVipPending):
            if action.release_id not in w.pending:
                w.pending.append(action.release_id)
            _want(w, action.book_key, WantSource.VIP_PENDING)
            return True
        if isinstance(action, AddToWishlist):
            _want(w, action.book_key, WantSource.WISHLIST)
            return True
        if isinstance(action, ReplaceEdition):
            item = w.library.get(action.library_item_id)
            if item is None:
                return False
            w.inferior.add(item.id)
            old = w.torrents.get(item.torrent_hash or "")
            if old is not None:
                # From now on the client's torrent is known as this book's inferior edition.
                old.book_key, old.tags = action.book_key, (*old.tags, "inferior")
            s.replacements.append((now, item.id, action.release_id))
            return True
        if isinstance(action, RemoveTorrent):
            t = w.torrents.pop(action.hash, None)
            if t is None:
                return False
            w.removed[t.hash] = t
            w.frozen_hashes = [h for h in w.frozen_hashes if h != t.hash]
            s.removals.append((now, t.name))
            return True
        if isinstance(action, SetSeedingAllocation):
            w.upload_slots, w.active_seeds = action.upload_slots, action.active_seeds
            return True
        if isinstance(action, FreezeDownloads):
            w.downloads_frozen = True
            s.freezes += 1
            return True
        if isinstance(action, UnfreezeDownloads):
            w.downloads_frozen = False
            s.unfreezes += 1
            return True
        if isinstance(action, Alert):
            s.alerts.append((now, action.code))
            return True
        return self._control(action)

    def _control(self, action: Action) -> bool:
        w = self.world
        hash_ = getattr(action, "hash", None)
        t = w.torrents.get(hash_ or "")
        if t is None:
            return False
        if isinstance(action, PauseTorrent):
            if t.state in (TorrentState.PAUSED_DOWNLOAD, TorrentState.PAUSED_UPLOAD):
                return False
            t.state = TorrentState.PAUSED_UPLOAD if t.complete else TorrentState.PAUSED_DOWNLOAD
            t.paused_by = PausedBy.MAMCRAWLER
            if t.hash not in w.frozen_hashes:
                w.frozen_hashes.append(t.hash)
            return True
        if isinstance(action, ResumeTorrent):
            if t.state in (TorrentState.PAUSED_DOWNLOAD, TorrentState.PAUSED_UPLOAD):
                t.state = TorrentState.SEEDING if t.complete else TorrentState.DOWNLOADING
            w.end_stall(t)
            t.paused_by = PausedBy.NOBODY
            w.frozen_hashes = [h for h in w.frozen_hashes if h != t.hash]
            return True
        if isinstance(action, Reannounce):
            w.end_stall(t)
            return True
        return False

    def _wedge_at_download(self, action: AddTorrent, release: Release, now: datetime) -> bool:
        """The site's side of a wedge at download time: asked by the flag, or spent by the
        auto-wedge preference on every paid download; none left → nothing spent."""
        w = self.world
        paid = not action.free and not release.is_free and release.id not in w.bought
        site_spends = w.scenario.account.auto_wedge and (action.wedge == "auto" or paid)
        if action.wedge == "none" and not site_spends:
            return False
        if w.wedges < 1:
            return False
        w.wedges -= 1
        self.result.purchases.append(
            Purchase(now, "wedge_download", 0, int(w.points), int(w.points), release.id, "wedge")
        )
        return True

    def _add(self, action: AddTorrent, now: datetime, bought_now: dict[str, str]) -> bool:
        w = self.world
        release = w.releases.get(action.release_id)
        hash_ = torrent_hash(f"release:{action.release_id}")
        if release is None or hash_ in w.torrents:
            return False
        w.torrents[hash_] = SimTorrent(
            hash=hash_,
            name=release.title,
            size_bytes=action.size_bytes or release.size_bytes or GIB // 2,
            state=TorrentState.DOWNLOADING,
            progress=0.0,
            seeding_seconds=0.0,
            seeders=release.seeders or 0,
            leechers=release.leechers or 0,
            points_per_hour=w.rates.points_per_seed_hour,
            added_by_mamcrawler=True,
            paused_by=PausedBy.NOBODY,
            free=action.free,
            book_key=action.book_key,
            release_id=action.release_id,
            added_at=now,
            tags=("mamcrawler",),
        )
        w.names[hash_] = release.title
        w.downloads_today += 1
        w.pending = [r for r in w.pending if r != action.release_id]
        w.wants = [x for x in w.wants if x.book_key != action.book_key]
        method = bought_now.get(action.release_id) or w.bought.get(action.release_id)
        if self._wedge_at_download(action, release, now):
            method = "wedge"  # 2026: the download flag (or the site's auto-wedge) spent one
        elif action.wedge != "none" or (w.scenario.account.auto_wedge and method is None and not action.free):
            w.torrents[hash_].free = False  # no wedge left: the download arrived paid
            action = action.model_copy(update={"free": False})
        if not action.free:
            kind = "ratio_costing"
        elif method is not None:
            kind = method
        else:
            kind = "free"
        self.result.summary.downloads[kind] += 1
        self.result.download_log.append(Download(now, action.release_id, action.book_key, kind, hash_))
        return True


def _want(w: World, book_key: str, source: WantSource) -> None:
    if any(x.book_key == book_key and x.source is source for x in w.wants):
        return
    release = next((r for r in w.releases.values() if r.book_key == book_key), None)
    title = release.title if release is not None else book_key
    authors = release.authors if release is not None else ()
    w.wants.append(Want(book_key=book_key, title=title, authors=authors, source=source))


def simulate(
    scenario: Scenario,
    policy: Policy,
    *,
    evaluator: Evaluator = REFERENCE,
    keep_batches: bool = True,
) -> SimulationResult:
    """Play ``scenario`` under ``policy``; deterministic for a given scenario and policy."""
    world = World(scenario)
    result = SimulationResult(scenario, policy.content_hash, evaluator.name, [], [], [], [], Summary(), world)
    executor = _Executor(world, result)
    summary = result.summary
    pending_entries = sorted(enumerate(scenario.timeline), key=lambda item: (item[1].at, item[0]))
    ticks = int(scenario.duration / scenario.tick)
    for i in range(ticks):
        now = scenario.start + i * scenario.tick
        world.advance(now)
        while pending_entries and pending_entries[0][1].at <= now - scenario.start:
            _, entry = pending_entries.pop(0)
            summary.happenings.append((now, world.happen(entry, now)))
        snapshot = world.snapshot(now)
        ratio, vip_days = world.ratio, world.vip_days(now)
        if ratio < summary.min_ratio:
            summary.min_ratio, summary.min_ratio_at = ratio, now
        if vip_days < summary.min_vip_days:
            summary.min_vip_days, summary.min_vip_at = vip_days, now
        batch = decide(policy, snapshot, now=now, evaluator=evaluator)
        executor.apply(batch, now)
        result.ticks.append(TickResult(now, batch if keep_batches else None, ratio, vip_days, int(world.points)))
    end = scenario.start + ticks * scenario.tick
    world.advance(end)
    summary.ticks = ticks
    summary.final_ratio = world.ratio
    summary.final_vip_days = world.vip_days(end)
    summary.final_points = int(world.points)
    summary.final_wedges = world.wedges
    summary.completed = len(world.completions)
    summary.swaps = [(c.at, c.swapped_item) for c in world.completions if c.swapped_item]
    summary.vip_pending = [(rid, world.releases[rid].title if rid in world.releases else rid) for rid in world.pending]
    summary.wishlist = sorted({x.book_key for x in world.wants if x.source is WantSource.WISHLIST})
    summary.seeding_torrents = sum(1 for t in world.torrents.values() if t.state is TorrentState.SEEDING)
    return result
