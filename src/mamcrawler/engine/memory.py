"""``memory_after(memory, action, outcome)``: what an action does to the engine's memory.

The one statement of each action's effect on ``Memory`` (the freeze, mamcrawler's own
pauses, today's counters, upload slots, bought and pending releases), used by the live
executor after the journal says ``applied`` and by the simulated world alike — so a
simulation remembers exactly what a real run would. Only an applied action changes
memory; a failed, refused or unanswered one leaves it as it was. Pure; imports
``engine.actions`` and ``facts``."""

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
from mamcrawler.facts import Memory

__all__ = ["Outcome", "memory_after"]

Outcome = Literal["applied", "failed", "refused", "left_open"]


def _with(ids: tuple[str, ...], added: str) -> tuple[str, ...]:
    return tuple(sorted({*ids, added}))


def _without(ids: tuple[str, ...], removed: str) -> tuple[str, ...]:
    return tuple(i for i in ids if i != removed)


def memory_after(memory: Memory, action: Action, outcome: Outcome) -> Memory:
    """The memory the next cycle reads once ``action`` ended with ``outcome``."""
    if outcome != "applied":
        return memory
    changes: dict[str, object]
    match action:
        case FreezeDownloads():
            changes = {"downloads_frozen": True}
        case UnfreezeDownloads():
            changes = {"downloads_frozen": False}
        case PauseTorrent(hash=h):
            changes = {"frozen_torrent_hashes": _with(memory.frozen_torrent_hashes, h)}
        case ResumeTorrent(hash=h) | RemoveTorrent(hash=h):
            changes = {"frozen_torrent_hashes": _without(memory.frozen_torrent_hashes, h)}
        case SetSeedingAllocation(upload_slots=slots):
            changes = {"upload_slots": slots}
        case AddTorrent(release_id=release):
            changes = {
                "downloads_today": memory.downloads_today + 1,
                "pending_release_ids": _without(memory.pending_release_ids, release),
            }
        case BuyUploadCredit():
            changes = {
                "points_spent_today": memory.points_spent_today + action.points(),
                "purchases_today": memory.purchases_today + 1,
            }
        case BuyPersonalFreeleech(release_id=release):
            changes = {
                "points_spent_today": memory.points_spent_today + action.points(),
                "purchases_today": memory.purchases_today + 1,
                "bought_release_ids": _with(memory.bought_release_ids, release),
            }
        case AddToVipPending(release_id=release):
            changes = {"pending_release_ids": _with(memory.pending_release_ids, release)}
        case BuyVip() | AddToWishlist() | ReplaceEdition() | Reannounce() | Alert():
            # VIP is paid from points the tracker counts, not from today's spend caps.
            changes = {}
        case SwapEdition() | RefuseEdition() | MarkReleaseBad() | AcceptDownload() | UpdateMetadata():
            changes = {}  # library work: the store's lists and the library remember it
        case _:
            assert_never(action)
    return memory.model_copy(update=changes) if changes else memory
