"""Action templates + one subject row → concrete actions.

A YAML action names *what* to do; the subject says *to what*: a ``BuyVip`` takes its
weeks from the template's ``with`` (a literal, a param or ``{fact: …}``) and its price
from the store facts; an ``AddTorrent`` takes the release from the candidate. A template
that cannot apply (zero weeks, no release) yields ``NotApplicable`` with a reason code.
Imports sibling engine modules and ``facts``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

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
    action_class,
)
from mamcrawler.engine.economy.wedge import download_terms, free_here
from mamcrawler.engine.policy.compiled import CompiledAction
from mamcrawler.engine.policy.vocabulary import ActionName
from mamcrawler.engine.rules.rows import Row
from mamcrawler.engine.rules.trees import Scalar
from mamcrawler.engine.world.derive import Candidate, World


@dataclass(frozen=True)
class NotApplicable:
    reason: str
    detail: str = ""


Args = dict[str, Scalar | None]
Builder = Callable[[Args, Row, World, "Candidate | None"], Action]


def _args(template: CompiledAction, row: Row) -> Args:
    out: Args = {}
    for key, value in template.args.items():
        if isinstance(value, str) and value.startswith("fact:"):
            out[key] = row.get(value.removeprefix("fact:"))
        else:
            out[key] = value
    return out


def _int(args: Args, key: str) -> int:
    value = args.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{key} is unknown")
    return int(value)


def _need(candidate: Candidate | None) -> Candidate:
    if candidate is None:
        raise ValueError("needs a candidate subject")
    return candidate


def _buy_vip(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    weeks = _int(args, "weeks")
    return BuyVip(weeks=weeks, cost_points=weeks * world.prices.vip_per_week)


def _buy_upload(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    gib = _int(args, "gib")
    return BuyUploadCredit(gib=gib, cost_points=gib * world.prices.upload_per_gib)


def _buy_pfl(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    chosen = _need(c).selection.chosen
    method = args.get("method", "points")
    if method not in ("wedge", "points"):
        raise ValueError("method must be wedge or points")
    return BuyPersonalFreeleech(
        release_id=chosen.id,
        tracker_id=chosen.tracker_id,
        method="wedge" if method == "wedge" else "points",
        cost_points=0 if method == "wedge" else world.prices.personal_freeleech,
    )


def _add_torrent(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    cand = _need(c)
    chosen = cand.selection.chosen
    # The YAML may claim a purchase (the guards then ask for it); one made earlier always counts.
    claimed = bool(args.get("bought_freeleech", False)) or row.get("candidate.already_bought") is True
    bought = claimed and not free_here(chosen, row)
    free, wedge = download_terms(chosen, row, wedge_asked=bool(args.get("wedge", False)), bought=bought)
    return AddTorrent(
        release_id=chosen.id,
        book_key=cand.want.book_key,
        source=chosen.source.value,
        tracker_id=chosen.tracker_id,
        size_bytes=chosen.size_bytes,
        free=free,
        bought_freeleech=bought,
        wedge=wedge,
        category=str(args.get("category", "audiobooks")),
        want_source=cand.want.source.value,
    )


def _pending(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    cand = _need(c)
    return AddToVipPending(release_id=cand.selection.chosen.id, book_key=cand.want.book_key)


def _wishlist(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    cand = _need(c)
    return AddToWishlist(book_key=cand.want.book_key, want_source=cand.want.source.value)


def _replace(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    cand = _need(c)
    if cand.library_item is None:
        raise ValueError("no library copy to replace")
    return ReplaceEdition(
        library_item_id=cand.library_item.id, release_id=cand.selection.chosen.id, book_key=cand.want.book_key
    )


def _torrent_hash(row: Row) -> str:
    if row.kind != "torrent":
        raise ValueError("needs a torrent subject")
    return row.id


def _resume(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    return ResumeTorrent(hash=_torrent_hash(row), force=bool(args.get("force", False)))


def _pause(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    return PauseTorrent(hash=_torrent_hash(row))


def _reannounce(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    return Reannounce(hash=_torrent_hash(row))


def _remove(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    return RemoveTorrent(hash=_torrent_hash(row), delete_data=bool(args.get("delete_data", False)))


def _allocation(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    seeds = args.get("active_seeds")
    return SetSeedingAllocation(
        upload_slots=_int(args, "upload_slots"), active_seeds=None if seeds is None else _int(args, "active_seeds")
    )


def _alert(args: Args, row: Row, world: World, c: Candidate | None) -> Action:
    level = args.get("level", "warning")
    return Alert(
        level="critical" if level == "critical" else "info" if level == "info" else "warning",
        code=str(args.get("code", "policy_alert")),
        message=str(args.get("message", "")),
    )


BUILDERS: dict[ActionName, Builder] = {
    ActionName.BUY_VIP: _buy_vip,
    ActionName.BUY_UPLOAD_CREDIT: _buy_upload,
    ActionName.BUY_PERSONAL_FREELEECH: _buy_pfl,
    ActionName.ADD_TORRENT: _add_torrent,
    ActionName.ADD_TO_VIP_PENDING: _pending,
    ActionName.ADD_TO_WISHLIST: _wishlist,
    ActionName.REPLACE_EDITION: _replace,
    ActionName.RESUME_TORRENT: _resume,
    ActionName.PAUSE_TORRENT: _pause,
    ActionName.REANNOUNCE: _reannounce,
    ActionName.SET_SEEDING_ALLOCATION: _allocation,
    ActionName.FREEZE_DOWNLOADS: lambda a, r, w, c: FreezeDownloads(),
    ActionName.UNFREEZE_DOWNLOADS: lambda a, r, w, c: UnfreezeDownloads(),
    ActionName.REMOVE_TORRENT: _remove,
    ActionName.ALERT: _alert,
}


def build_action(
    template: CompiledAction, row: Row, world: World, candidate: Candidate | None
) -> Action | NotApplicable:
    try:
        builder = BUILDERS.get(template.name)
        if builder is None:  # an action that builds itself from its subject (engine.actions)
            return action_class(template.name.value).build(_args(template, row), row, world)
        return builder(_args(template, row), row, world, candidate)
    except (ValueError, ValidationError) as err:
        first = str(err).splitlines()[0]
        return NotApplicable("action_not_applicable", f"{template.name.value}: {first}")
