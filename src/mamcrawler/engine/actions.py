"""Actions: the imperative, tagged union that decisions carry to actuators (DESIGN.md).

Each action class (here, or in ``engine.library_actions`` for library work; the base is
``engine.action_base``) carries its whole meaning, so adding one touches one class (plus
the policy vocabulary's name): its *intrinsic tags* — the words blocks, caps and guards test
(``purchase``, ``download``, ``paid_download``, ``ratio_costing`` …); ``targets``, the
sources it acts on (a rule proposing it while one is gapped would act blind); ``slot``,
shared by actions that contradict each other (pause/resume); ``sent_once`` for money,
whose unanswered request is never retried blind; its journal key (``journal_key``: money
and additions once per release, ever; others once per cycle); and a one-line ``label``.
What an applied action does to the engine's memory is ``engine.memory.memory_after``;
the executors dispatch on the closed union with ``match`` + ``assert_never``, so mypy
names every executor that lacks a case for a new action. Imports pydantic, ``facts`` and
the two action modules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import Field

from mamcrawler.engine.action_base import ON_LIBRARY, ON_TORRENTS, ON_TRACKER, ActionModel
from mamcrawler.engine.library_actions import (
    AcceptDownload,
    MarkReleaseBad,
    MetadataValue,
    RefuseEdition,
    SwapEdition,
    UpdateMetadata,
)

__all__ = [
    "ACTION_CLASSES",
    "AcceptDownload",
    "Action",
    "ActionModel",
    "AddToVipPending",
    "AddToWishlist",
    "AddTorrent",
    "Alert",
    "BuyPersonalFreeleech",
    "BuyUploadCredit",
    "BuyVip",
    "FreezeDownloads",
    "MarkReleaseBad",
    "MetadataValue",
    "PauseTorrent",
    "Reannounce",
    "RefuseEdition",
    "RemoveTorrent",
    "ReplaceEdition",
    "ResumeTorrent",
    "SetSeedingAllocation",
    "SwapEdition",
    "UnfreezeDownloads",
    "UpdateMetadata",
    "action_class",
]


class BuyVip(ActionModel):
    type: Literal["BuyVip"] = "BuyVip"
    targets = ON_TRACKER
    sent_once = True
    weeks: int = Field(gt=0)
    cost_points: int = Field(gt=0)

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"purchase", "vip_purchase"})

    def points(self) -> int:
        return self.cost_points

    def journal_key(self, now: datetime) -> str:
        return f"vip:{now.date().isoformat()}:{self.weeks}"

    def label(self) -> str:
        return f"BuyVip {self.weeks} wk ({self.cost_points:,} pts)"


class BuyUploadCredit(ActionModel):
    type: Literal["BuyUploadCredit"] = "BuyUploadCredit"
    targets = ON_TRACKER
    sent_once = True
    gib: int = Field(gt=0)
    cost_points: int = Field(gt=0)

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"purchase", "upload_credit_purchase"})

    def points(self) -> int:
        return self.cost_points

    def journal_key(self, now: datetime) -> str:
        return f"upload:{now.date().isoformat()}:{self.gib}"

    def label(self) -> str:
        return f"BuyUploadCredit {self.gib} GiB ({self.cost_points:,} pts)"


class BuyPersonalFreeleech(ActionModel):
    type: Literal["BuyPersonalFreeleech"] = "BuyPersonalFreeleech"
    subject = "candidate"
    targets = ON_TRACKER
    sent_once = True
    release_id: str
    tracker_id: int | None = None
    method: Literal["wedge", "points"]
    cost_points: int = Field(0, ge=0)

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"purchase", "personal_freeleech_purchase"})

    def points(self) -> int:
        return self.cost_points if self.method == "points" else 0

    def journal_key(self, now: datetime) -> str:
        return f"pfl:{self.release_id}"

    def label(self) -> str:
        cost = f", {self.cost_points:,} pts" if self.method == "points" else ""
        return f"BuyPersonalFreeleech {self.release_id} ({self.method}{cost})"


class AddTorrent(ActionModel):
    type: Literal["AddTorrent"] = "AddTorrent"
    subject = "candidate"
    targets = ON_TORRENTS
    release_id: str
    book_key: str
    source: str
    tracker_id: int | None = None
    size_bytes: int | None = None
    free: bool
    bought_freeleech: bool = False
    category: str = "audiobooks"
    want_source: str = "wishlist"
    # 2026: a wedge spent at download time — by our download flag, or by the site's auto-wedge.
    wedge: Literal["none", "flag", "auto"] = "none"

    def intrinsic_tags(self) -> frozenset[str]:
        tags = {"download", f"want_{self.want_source}"}
        if self.bought_freeleech:
            tags.add("bought_freeleech")
        if self.wedge != "none":
            # A personal freeleech bought with a wedge at download time: the blocks on
            # personal-freeleech purchases (VIP at risk, ratio emergency) cover it too.
            tags.update({"wedge_spend", "personal_freeleech_purchase"})
        # A personal freeleech bought for it makes a download free for ratio (§7).
        tags.update({"free_download"} if self.free else {"paid_download", "ratio_costing"})
        return frozenset(tags)

    def journal_key(self, now: datetime) -> str:
        # A download that spends a wedge has its own key: once it is settled as spent it is
        # never opened again, and the release's later free download is a different entry.
        return f"add:{self.release_id}" if self.wedge == "none" else f"add:{self.release_id}:wedge"

    def label(self) -> str:
        kind = "bought freeleech" if self.bought_freeleech else "free" if self.free else "ratio-costing"
        return f"AddTorrent {self.release_id} ({kind})"


class AddToVipPending(ActionModel):
    type: Literal["AddToVipPending"] = "AddToVipPending"
    subject = "candidate"
    release_id: str
    book_key: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"pending"})

    def journal_key(self, now: datetime) -> str:
        return f"{self.type}:{self.book_key}"

    def label(self) -> str:
        return f"AddToVipPending {self.release_id}"


class AddToWishlist(ActionModel):
    type: Literal["AddToWishlist"] = "AddToWishlist"
    subject = "candidate"
    book_key: str
    want_source: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"wishlist"})

    def journal_key(self, now: datetime) -> str:
        return f"{self.type}:{self.book_key}"

    def label(self) -> str:
        return f"AddToWishlist {self.book_key}"


class ReplaceEdition(ActionModel):
    type: Literal["ReplaceEdition"] = "ReplaceEdition"
    subject = "candidate"
    targets = ON_LIBRARY
    library_item_id: str
    release_id: str
    book_key: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"replacement"})

    def label(self) -> str:
        return f"ReplaceEdition {self.library_item_id} → {self.release_id}"


class ResumeTorrent(ActionModel):
    type: Literal["ResumeTorrent"] = "ResumeTorrent"
    subject = "torrent"
    targets = ON_TORRENTS
    slot = "run_state"
    hash: str
    force: bool = False

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"torrent_control", "resume"})

    def label(self) -> str:
        return "ResumeTorrent (force)" if self.force else "ResumeTorrent"


class PauseTorrent(ActionModel):
    type: Literal["PauseTorrent"] = "PauseTorrent"
    subject = "torrent"
    targets = ON_TORRENTS
    slot = "run_state"
    hash: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"torrent_control", "pause"})


class Reannounce(ActionModel):
    type: Literal["Reannounce"] = "Reannounce"
    subject = "torrent"
    targets = ON_TORRENTS
    hash: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"torrent_control"})


class SetSeedingAllocation(ActionModel):
    type: Literal["SetSeedingAllocation"] = "SetSeedingAllocation"
    targets = ON_TORRENTS
    upload_slots: int = Field(ge=1)
    active_seeds: int | None = Field(None, ge=1)

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"allocation"})

    def label(self) -> str:
        return f"SetSeedingAllocation {self.upload_slots} slots / {self.active_seeds} seeds"


class FreezeDownloads(ActionModel):
    type: Literal["FreezeDownloads"] = "FreezeDownloads"
    slot = "freeze"

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"freeze"})


class UnfreezeDownloads(ActionModel):
    type: Literal["UnfreezeDownloads"] = "UnfreezeDownloads"
    slot = "freeze"

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"freeze"})


class RemoveTorrent(ActionModel):
    type: Literal["RemoveTorrent"] = "RemoveTorrent"
    subject = "torrent"
    targets = ON_TORRENTS
    hash: str
    delete_data: bool = False

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"removal"})


class Alert(ActionModel):
    type: Literal["Alert"] = "Alert"
    level: Literal["info", "warning", "critical"] = "warning"
    code: str
    message: str = ""

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"alert"})

    def label(self) -> str:
        return f"Alert {self.level}: {self.code}"


Action = Annotated[
    BuyVip
    | BuyUploadCredit
    | BuyPersonalFreeleech
    | AddTorrent
    | AddToVipPending
    | AddToWishlist
    | ReplaceEdition
    | ResumeTorrent
    | PauseTorrent
    | Reannounce
    | SetSeedingAllocation
    | FreezeDownloads
    | UnfreezeDownloads
    | RemoveTorrent
    | Alert
    | SwapEdition
    | RefuseEdition
    | MarkReleaseBad
    | AcceptDownload
    | UpdateMetadata,
    Field(discriminator="type"),
]

ACTION_CLASSES: dict[str, type[ActionModel]] = {
    cls.model_fields["type"].default: cls for cls in get_args(get_args(Action)[0])
}
"""Every action class by its ``type`` name (the policy vocabulary's ``ActionName``)."""


def action_class(name: str) -> type[ActionModel]:
    return ACTION_CLASSES[name]
