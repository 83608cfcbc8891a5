"""Actions: the imperative, tagged union that decisions carry to actuators (DESIGN.md).

Every action knows its *intrinsic tags* — the words blocks, caps and guards test
(``purchase``, ``download``, ``paid_download``, ``ratio_costing`` …) — and an
``idempotency_key`` so the journal never performs the same action twice. Imports pydantic
and ``engine.vocabulary`` only."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class ActionModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset()

    def points(self) -> int:
        """Bonus points this action spends."""
        return 0

    def idempotency_key(self, day: str) -> str:
        """Same action on the same day → same key (purchases are never repeated)."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(f"{day}|{body}".encode()).hexdigest()[:24]


class BuyVip(ActionModel):
    type: Literal["BuyVip"] = "BuyVip"
    weeks: int = Field(gt=0)
    cost_points: int = Field(gt=0)

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"purchase", "vip_purchase"})

    def points(self) -> int:
        return self.cost_points


class BuyUploadCredit(ActionModel):
    type: Literal["BuyUploadCredit"] = "BuyUploadCredit"
    gib: int = Field(gt=0)
    cost_points: int = Field(gt=0)

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"purchase", "upload_credit_purchase"})

    def points(self) -> int:
        return self.cost_points


class BuyPersonalFreeleech(ActionModel):
    type: Literal["BuyPersonalFreeleech"] = "BuyPersonalFreeleech"
    release_id: str
    tracker_id: int | None = None
    method: Literal["wedge", "points"]
    cost_points: int = Field(0, ge=0)

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"purchase", "personal_freeleech_purchase"})

    def points(self) -> int:
        return self.cost_points if self.method == "points" else 0


class AddTorrent(ActionModel):
    type: Literal["AddTorrent"] = "AddTorrent"
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


class AddToVipPending(ActionModel):
    type: Literal["AddToVipPending"] = "AddToVipPending"
    release_id: str
    book_key: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"pending"})


class AddToWishlist(ActionModel):
    type: Literal["AddToWishlist"] = "AddToWishlist"
    book_key: str
    want_source: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"wishlist"})


class ReplaceEdition(ActionModel):
    type: Literal["ReplaceEdition"] = "ReplaceEdition"
    library_item_id: str
    release_id: str
    book_key: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"replacement"})


class ResumeTorrent(ActionModel):
    type: Literal["ResumeTorrent"] = "ResumeTorrent"
    hash: str
    force: bool = False

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"torrent_control", "resume"})


class PauseTorrent(ActionModel):
    type: Literal["PauseTorrent"] = "PauseTorrent"
    hash: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"torrent_control", "pause"})


class Reannounce(ActionModel):
    type: Literal["Reannounce"] = "Reannounce"
    hash: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"torrent_control"})


class SetSeedingAllocation(ActionModel):
    type: Literal["SetSeedingAllocation"] = "SetSeedingAllocation"
    upload_slots: int = Field(ge=1)
    active_seeds: int | None = Field(None, ge=1)

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"allocation"})


class FreezeDownloads(ActionModel):
    type: Literal["FreezeDownloads"] = "FreezeDownloads"

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"freeze"})


class UnfreezeDownloads(ActionModel):
    type: Literal["UnfreezeDownloads"] = "UnfreezeDownloads"

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"freeze"})


class RemoveTorrent(ActionModel):
    type: Literal["RemoveTorrent"] = "RemoveTorrent"
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
    | Alert,
    Field(discriminator="type"),
]

PURCHASES = (BuyVip, BuyUploadCredit, BuyPersonalFreeleech)
