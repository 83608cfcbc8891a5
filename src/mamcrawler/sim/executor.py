"""The simulated executor: applies planned actions to the simulated world (the twin of
``actuators.live``), dispatching with ``match`` + ``assert_never`` over the closed action
union, and updates the engine's memory with the same ``memory_after`` the live executor
uses, at the same moments (before the call, then its outcome). The world may refuse an
action (not enough points, no such torrent); that is recorded as the action's effect.
Imports ``engine`` and the ``sim`` modules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import assert_never

from mamcrawler.engine import DecisionBatch
from mamcrawler.engine.actions import (
    AcceptDownload,
    Action,
    AddTorrent,
    AddToVipPending,
    AddToWishlist,
    Alert,
    BuyPersonalFreeleech,
    BuyUploadCredit,
    BuyVip,
    FreezeDownloads,
    MarkReleaseBad,
    PauseTorrent,
    Reannounce,
    RefuseEdition,
    RemoveTorrent,
    ReplaceEdition,
    ResumeTorrent,
    SetSeedingAllocation,
    SwapEdition,
    UnfreezeDownloads,
    UpdateMetadata,
)
from mamcrawler.engine.memory import memory_after
from mamcrawler.facts import LibraryItem, PausedBy, Release, TorrentState, UserClass, Want, WantSource
from mamcrawler.sim.results import Download, Effect, Purchase, SimulationResult
from mamcrawler.sim.scenario import GIB
from mamcrawler.sim.torrents import SimTorrent, torrent_hash
from mamcrawler.sim.world import World


class SimExecutor:
    """Applies planned actions to the world (the simulated twin of ``actuators.live``)."""

    def __init__(self, world: World, result: SimulationResult) -> None:
        self.world, self.result = world, result

    def apply(self, batch: DecisionBatch, now: datetime) -> tuple[Effect, ...]:
        pfl = [a for a in batch.actions if isinstance(a, BuyPersonalFreeleech)]
        bought_now: dict[str, str] = {a.release_id: a.method for a in pfl}
        decided_by = {id(a): r.decision_id for r in batch.records if r.outcome == "planned" for a in r.actions}
        effects = []
        w = self.world
        for action in batch.actions:
            w.remembered = memory_after(w.remembered, action, "before_send")  # as live, before the call
            done = self._apply(action, now, bought_now)
            w.remembered = memory_after(w.remembered, action, "applied" if done else "refused")
            if done:
                self.result.applied.append((now, action))
            else:
                self.result.summary.refused.append((now, action.type))
            status = "applied" if done else "refused"
            effects.append(
                Effect(
                    now,
                    decided_by.get(id(action), ""),
                    action.type,
                    status,
                    int(w.points),
                    w.wedges,
                    w.ratio,
                    w.vip_days(now),
                )
            )
        return tuple(effects)

    def _spend(self, now: datetime, kind: str, cost: int, detail: str, method: str | None = None) -> bool:
        w = self.world
        before = int(w.points)
        if cost > before:
            return False  # the store refuses; never a negative balance
        w.points -= cost
        self.result.purchases.append(Purchase(now, kind, cost, before, int(w.points), detail, method))
        self.result.summary.points_spent[kind] += cost
        return True

    def _apply(self, action: Action, now: datetime, bought_now: dict[str, str]) -> bool:
        """Carry ``action`` out in the world; False when the world refuses it."""
        w, s = self.world, self.result.summary
        match action:
            case BuyVip():
                if not self._spend(now, "vip", action.cost_points, f"{action.weeks} weeks"):
                    return False
                start = max(w.vip_until or now, now)
                w.vip_until = min(start + timedelta(weeks=action.weeks), now + timedelta(days=w.rates.vip_max_days))
                w.user_class = UserClass.VIP
                return True
            case BuyUploadCredit():
                if not self._spend(now, "upload_credit", action.cost_points, f"{action.gib} GiB"):
                    return False
                w.uploaded += action.gib * GIB
                return True
            case BuyPersonalFreeleech():
                return self._buy_freeleech(action, now)
            case AddTorrent():
                return self._add(action, now, bought_now)
            case AddToVipPending():
                _want(w, action.book_key, WantSource.VIP_PENDING)
                return True
            case AddToWishlist():
                _want(w, action.book_key, WantSource.WISHLIST)
                return True
            case ReplaceEdition():
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
            case RemoveTorrent():
                t = w.torrents.pop(action.hash, None)
                if t is None:
                    return False
                w.removed[t.hash] = t
                s.removals.append((now, t.name))
                return True
            case SetSeedingAllocation():
                w.active_seeds = action.active_seeds  # the slots are the client setting memory keeps
                return True
            case FreezeDownloads():
                s.freezes += 1
                return True
            case UnfreezeDownloads():
                s.unfreezes += 1
                return True
            case Alert():
                s.alerts.append((now, action.code))
                return True
            case PauseTorrent() | ResumeTorrent() | Reannounce():
                return self._control(action)
            case SwapEdition() | RefuseEdition() | MarkReleaseBad() | AcceptDownload():
                return self._post_download(action, now)
            case UpdateMetadata():
                item = w.library.get(action.library_item_id)
                if item is None or action.field not in LibraryItem.model_fields:
                    return False
                value = action.value
                w.library[item.id] = item.model_copy(update={action.field: value})
                w.library_changed()
                s.metadata.append((now, action.library_item_id, action.field, action.source))
                return True
            case _:
                assert_never(action)

    def _post_download(
        self, action: SwapEdition | RefuseEdition | MarkReleaseBad | AcceptDownload, now: datetime
    ) -> bool:
        """§13/§14/§16 on a finished download the audio sensor reported."""
        w, s = self.world, self.result.summary
        done = w.completion(action.torrent_hash)
        t = w.torrents.get(action.torrent_hash) or w.removed.get(action.torrent_hash)
        if done is None or t is None:
            return False
        release = w.releases.get(t.release_id or "")
        match action:
            case SwapEdition():
                if release is None or action.library_item_id not in w.library:
                    return False
                w.land(action.library_item_id, release, t.hash, now)
                done.outcome, done.item_id = "swapped", action.library_item_id
                s.swaps.append((now, action.library_item_id))
            case RefuseEdition():
                done.outcome, done.item_id = "refused", action.library_item_id
                s.refused_editions.append((now, action.release_id or t.name))
            case MarkReleaseBad():
                done.outcome = "marked_bad"
                if action.release_id is not None:
                    w.bad_releases.add(action.release_id)
                    w.releases_changed()
                if action.book_key is not None:
                    _want(w, action.book_key, WantSource.INTEGRITY_REDOWNLOAD)
                s.integrity_failures.append((now, action.release_id or t.name, action.reason))
            case AcceptDownload():
                if release is None:
                    return False
                item_id = f"abs-{release.id}"
                w.land(item_id, release, t.hash, now)
                done.outcome, done.item_id = "accepted", item_id
            case _:
                assert_never(action)
        return True

    def _buy_freeleech(self, action: BuyPersonalFreeleech, now: datetime) -> bool:
        w = self.world
        release = w.releases.get(action.release_id)
        if release is None or w.free_for_account(release, now) or action.release_id in w.bought:
            return False
        if action.method == "wedge":
            if w.wedges < 1:
                return False
            w.wedges -= 1
            self.result.purchases.append(
                Purchase(now, "personal_freeleech", 0, int(w.points), int(w.points), action.release_id, "wedge")
            )
        elif not self._spend(now, "personal_freeleech", action.cost_points, action.release_id, "points"):
            return False
        w.bought[action.release_id] = action.method
        w.releases_changed()
        return True

    def _control(self, action: PauseTorrent | ResumeTorrent | Reannounce) -> bool:
        w = self.world
        t = w.torrents.get(action.hash)
        if t is None:
            return False
        match action:
            case PauseTorrent():
                if t.state in (TorrentState.PAUSED_DOWNLOAD, TorrentState.PAUSED_UPLOAD):
                    return False
                t.state = TorrentState.PAUSED_UPLOAD if t.complete else TorrentState.PAUSED_DOWNLOAD
                t.paused_by = PausedBy.MAMCRAWLER
            case ResumeTorrent():
                if t.state in (TorrentState.PAUSED_DOWNLOAD, TorrentState.PAUSED_UPLOAD):
                    t.state = TorrentState.SEEDING if t.complete else TorrentState.DOWNLOADING
                w.end_stall(t)
                t.paused_by = PausedBy.NOBODY
            case Reannounce():
                w.end_stall(t)
            case _:
                assert_never(action)
        return True

    def _wedge_at_download(self, action: AddTorrent, release: Release, now: datetime) -> bool:
        """The site's side of a wedge at download time: asked by the flag, or spent by the
        auto-wedge preference on every paid download; none left → nothing spent."""
        w = self.world
        paid = not action.free and not w.free_for_account(release, now) and release.id not in w.bought
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
