"""Actions: the imperative, tagged union that decisions carry to actuators (DESIGN.md).

Each action class carries its whole meaning, so adding one touches one class (plus the
policy vocabulary's name): its *intrinsic tags* — the words blocks, caps and guards test
(``purchase``, ``download``, ``paid_download``, ``ratio_costing`` …); ``targets``, the
sources it acts on (a rule proposing it while one is gapped would act blind); ``slot``,
shared by actions that contradict each other (pause/resume); ``sent_once`` for money,
whose unanswered request is never retried blind; its journal key (``journal_key``: money
and additions once per release, ever; others once per cycle); and a one-line ``label``.
What an applied action does to the engine's memory is ``engine.memory.memory_after``;
the executors dispatch on the closed union with ``match`` + ``assert_never``.
Imports pydantic and ``facts`` only."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from mamcrawler.facts import Source

_TORRENTS = frozenset({Source.QBITTORRENT})
_TRACKER = frozenset({Source.TRACKER_ACCOUNT})
_LIBRARY = frozenset({Source.LIBRARY})


class ActionModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    targets: ClassVar[frozenset[Source]] = frozenset()
    """The services this action changes; a rule proposing it while one is gapped never acts."""
    slot: ClassVar[str | None] = None
    """Actions sharing a slot contradict each other: per subject, one rule decides a slot."""
    sent_once: ClassVar[bool] = False
    """Money: once the request has left, an unclear answer leaves the entry open (never retried)."""
    subject: ClassVar[str | None] = None
    """The subject kind a rule proposing it must look at (None: any)."""

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset()

    def points(self) -> int:
        """Bonus points this action spends."""
        return 0

    def idempotency_key(self, day: str) -> str:
        """Same action on the same day → same key (purchases are never repeated)."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(f"{day}|{body}".encode()).hexdigest()[:24]

    def journal_key(self, now: datetime) -> str:
        """The journal's idempotency key; by default the same action is done once per cycle."""
        return f"{self.type_name()}:{self.idempotency_key(now.isoformat())}"

    def type_name(self) -> str:
        value: Any = getattr(self, "type", type(self).__name__)
        return str(value)

    def label(self) -> str:
        """One short line for tables and logs."""
        return self.type_name()


class BuyVip(ActionModel):
    type: Literal["BuyVip"] = "BuyVip"
    targets = _TRACKER
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
    targets = _TRACKER
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
    targets = _TRACKER
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
    targets = _TORRENTS
    release_id: str
    book_key: str
    source: str
    tracker_id: int | None = None
    size_bytes: int | None = None
    free: bool
    bought_freeleech: bool = False
    category: str = "audiobooks"
    want_source: str = "wishlist"

    def intrinsic_tags(self) -> frozenset[str]:
        tags = {"download", f"want_{self.want_source}"}
        if self.bought_freeleech:
            tags.add("bought_freeleech")
        # A personal freeleech bought for it makes a download free for ratio (§7).
        tags.update({"free_download"} if self.free else {"paid_download", "ratio_costing"})
        return frozenset(tags)

    def journal_key(self, now: datetime) -> str:
        return f"add:{self.release_id}"

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
    targets = _LIBRARY
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
    targets = _TORRENTS
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
    targets = _TORRENTS
    slot = "run_state"
    hash: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"torrent_control", "pause"})


class Reannounce(ActionModel):
    type: Literal["Reannounce"] = "Reannounce"
    subject = "torrent"
    targets = _TORRENTS
    hash: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"torrent_control"})


class SetSeedingAllocation(ActionModel):
    type: Literal["SetSeedingAllocation"] = "SetSeedingAllocation"
    targets = _TORRENTS
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
    targets = _TORRENTS
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


class SwapEdition(ActionModel):
    """§16 a finished, better download replaces the library's edition: its files go into the
    item folder (relative paths kept), the old ones to a holding folder unique to this swap,
    the item is rescanned. The old torrent keeps seeding."""

    type: Literal["SwapEdition"] = "SwapEdition"
    targets = _LIBRARY
    subject = "download"
    torrent_hash: str
    library_item_id: str
    release_id: str | None = None
    book_key: str | None = None

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"replacement", "library_write", "file_move"})

    def journal_key(self, now: datetime) -> str:
        return f"swap:{self.torrent_hash}"  # one swap per download, ever

    def label(self) -> str:
        return f"SwapEdition {self.library_item_id} ← {self.release_id or self.torrent_hash[:12]}"


class RefuseEdition(ActionModel):
    """§14 a finished download no better than the library's copy never enters the library
    (it keeps seeding; nothing is deleted)."""

    type: Literal["RefuseEdition"] = "RefuseEdition"
    subject = "download"
    torrent_hash: str
    library_item_id: str
    release_id: str | None = None

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"library"})

    def journal_key(self, now: datetime) -> str:
        return f"refuse:{self.torrent_hash}"

    def label(self) -> str:
        return f"RefuseEdition {self.release_id or self.torrent_hash[:12]} (keeps {self.library_item_id})"


class MarkReleaseBad(ActionModel):
    """§13 a download failed integrity: its release is never chosen again and the book is
    queued as an integrity re-download (the next-best release)."""

    type: Literal["MarkReleaseBad"] = "MarkReleaseBad"
    subject = "download"
    torrent_hash: str
    release_id: str | None = None
    book_key: str | None = None
    title: str = ""
    reason: str

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"integrity", "wishlist"})

    def journal_key(self, now: datetime) -> str:
        return f"bad:{self.torrent_hash}"

    def label(self) -> str:
        return f"MarkReleaseBad {self.release_id or self.torrent_hash[:12]} ({self.reason}) + re-download"


class AcceptDownload(ActionModel):
    """A finished download of a book the library lacks passed §13: it is the book's edition."""

    type: Literal["AcceptDownload"] = "AcceptDownload"
    subject = "download"
    torrent_hash: str
    release_id: str | None = None
    book_key: str | None = None

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"library"})

    def journal_key(self, now: datetime) -> str:
        return f"accept:{self.torrent_hash}"

    def label(self) -> str:
        return f"AcceptDownload {self.release_id or self.torrent_hash[:12]}"


MetadataValue = str | float | int | tuple[str, ...] | None


class UpdateMetadata(ActionModel):
    """§15 one field of one library item set to the value its highest source gives (never a
    verified field, never an empty value — the engine proposes only real changes)."""

    type: Literal["UpdateMetadata"] = "UpdateMetadata"
    targets = _LIBRARY
    subject = "metadata"
    library_item_id: str
    field: str
    value: MetadataValue
    source: str
    series: str | None = Field(None, description="The canonical series name (series_number needs it).")
    series_number: float | None = Field(None, description="The canonical number (a series change keeps it).")

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"metadata", "library_write"})

    def journal_key(self, now: datetime) -> str:
        return f"meta:{now.date().isoformat()}:{self.library_item_id}:{self.field}:{self.idempotency_key('')[:12]}"

    def label(self) -> str:
        return f"UpdateMetadata {self.library_item_id} {self.field} = {self.value!r} ({self.source})"


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
