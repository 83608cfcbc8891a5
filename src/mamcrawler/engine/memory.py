"""``memory_after(memory, action, outcome)``: what an action does to the engine's memory.

The one statement of each action's effect on ``Memory`` (the freeze, mamcrawler's own
pauses, today's counters, upload slots, bought and pending releases, purchases in doubt),
used by the live executor inside the journal's transaction (:mod:`actuators.remember`),
by reconciliation, and by the simulated world alike — so a simulation remembers exactly
what a real run would. The moments of one action:

- ``before_send`` (committed with the journal intent, before the call can have any
  effect): a pause mamcrawler makes is remembered as its own (a crash never turns it into
  a stranger's pause), and a purchase is *in doubt* (nothing of its kind is bought until
  it is settled), and so is a download that spends a wedge (``wedge:<release>``: that
  release is not downloaded again until the tracker settles it);
- ``applied``: the effect, and the doubt lifted;
- ``sent_unconfirmed``: nothing — the purchase stays in doubt, nothing counted yet;
- ``failed`` / ``refused`` / ``rolled_back``: provably not made — the doubt is lifted and
  the pause is not ours;
- ``wedge_spent`` (a download in doubt settled from the tracker): the wedge bought the
  release's personal freeleech but no torrent reached the client — the doubt is lifted,
  the release remembered as bought (downloaded next without the flag), no download counted.

Pure; imports ``engine.actions``, ``engine.guards`` and ``facts``."""

from __future__ import annotations

from typing import Literal, assert_never

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
from mamcrawler.engine.guards import doubt_key
from mamcrawler.facts import Memory

__all__ = ["Outcome", "memory_after"]

Outcome = Literal["before_send", "applied", "sent_unconfirmed", "failed", "refused", "rolled_back", "wedge_spent"]


def _with(ids: tuple[str, ...], added: str) -> tuple[str, ...]:
    return tuple(sorted({*ids, added}))


def _without(ids: tuple[str, ...], removed: str) -> tuple[str, ...]:
    return tuple(i for i in ids if i != removed)


def memory_after(memory: Memory, action: Action, outcome: Outcome) -> Memory:
    """The memory the next cycle reads at ``outcome`` of ``action`` (see the module doc)."""
    changes: dict[str, object]
    match outcome:
        case "before_send":
            changes = _before_send(memory, action)
        case "applied":
            changes = _applied(memory, action)
        case "sent_unconfirmed":
            changes = {}  # still in doubt: the key stays, nothing is counted yet
        case "failed" | "refused" | "rolled_back":
            changes = _not_made(memory, action)
        case "wedge_spent":
            changes = {**_not_made(memory, action), **_bought(memory, action)}
        case _:
            assert_never(outcome)
    return memory.model_copy(update=changes) if changes else memory


def _before_send(memory: Memory, action: Action) -> dict[str, object]:
    match action:
        case PauseTorrent(hash=h):
            return {"frozen_torrent_hashes": _with(memory.frozen_torrent_hashes, h)}
        case BuyVip() | BuyUploadCredit() | BuyPersonalFreeleech():
            return {"purchases_in_doubt": _with(memory.purchases_in_doubt, doubt_key(action))}
        case AddTorrent() if action.wedge != "none":  # the fetch may spend a wedge
            return {"purchases_in_doubt": _with(memory.purchases_in_doubt, doubt_key(action))}
        case _:
            return {}


def _not_made(memory: Memory, action: Action) -> dict[str, object]:
    match action:
        case PauseTorrent(hash=h) if h in memory.frozen_torrent_hashes:  # refused or never made: not ours
            return {"frozen_torrent_hashes": _without(memory.frozen_torrent_hashes, h)}
        case BuyVip() | BuyUploadCredit() | BuyPersonalFreeleech() | AddTorrent() if (
            doubt_key(action) in memory.purchases_in_doubt
        ):
            return {"purchases_in_doubt": _without(memory.purchases_in_doubt, doubt_key(action))}
        case _:
            return {}


def _bought(memory: Memory, action: Action) -> dict[str, object]:
    if isinstance(action, AddTorrent) and action.wedge != "none":
        return {"bought_release_ids": _with(memory.bought_release_ids, action.release_id)}
    return {}


def _applied(memory: Memory, action: Action) -> dict[str, object]:
    match action:
        case FreezeDownloads():
            return {"downloads_frozen": True}
        case UnfreezeDownloads():
            return {"downloads_frozen": False}
        case PauseTorrent(hash=h):
            return {"frozen_torrent_hashes": _with(memory.frozen_torrent_hashes, h)}
        case ResumeTorrent(hash=h) | RemoveTorrent(hash=h):
            return {"frozen_torrent_hashes": _without(memory.frozen_torrent_hashes, h)}
        case SetSeedingAllocation(upload_slots=slots):
            return {"upload_slots": slots}
        case AddTorrent(release_id=release):
            return {
                "downloads_today": memory.downloads_today + 1,
                "pending_release_ids": _without(memory.pending_release_ids, release),
                "purchases_in_doubt": _without(memory.purchases_in_doubt, doubt_key(action)),
            }
        case BuyVip():
            # VIP is paid from points the tracker counts, not from today's spend caps; the
            # per-day VIP guard counts it apart.
            return {
                "purchases_in_doubt": _without(memory.purchases_in_doubt, doubt_key(action)),
                "vip_purchases_today": memory.vip_purchases_today + 1,
            }
        case BuyUploadCredit():
            return {
                "purchases_in_doubt": _without(memory.purchases_in_doubt, doubt_key(action)),
                "points_spent_today": memory.points_spent_today + action.points(),
                "purchases_today": memory.purchases_today + 1,
            }
        case BuyPersonalFreeleech(release_id=release):
            return {
                "purchases_in_doubt": _without(memory.purchases_in_doubt, doubt_key(action)),
                "points_spent_today": memory.points_spent_today + action.points(),
                "purchases_today": memory.purchases_today + 1,
                "bought_release_ids": _with(memory.bought_release_ids, release),
            }
        case AddToVipPending(release_id=release):
            return {"pending_release_ids": _with(memory.pending_release_ids, release)}
        case AddToWishlist() | ReplaceEdition() | Reannounce() | Alert():
            return {}  # the store's lists remember these (``actuators.remember``)
        case SwapEdition() | RefuseEdition() | MarkReleaseBad() | AcceptDownload() | UpdateMetadata():
            return {}  # library work: the store's lists and the library remember it
        case _:
            assert_never(action)
