"""Closed sets the policy language speaks: subject kinds, action names, policy concerns and
the layer each concern runs in (the SPEC's priority order). Imports nothing."""

from __future__ import annotations

from enum import StrEnum


class SubjectKind(StrEnum):
    """What a rule looks at. Every row also carries account.*, events.*, state.* and flags.*."""

    ACCOUNT = "account"
    CANDIDATE = "candidate"
    TORRENT = "torrent"
    DOWNLOAD = "download"  # a finished download awaiting §13/§14/§16 (its audio scan)
    METADATA = "metadata"  # one field of one library item the §15 order would change
    ITEM = "item"  # a library item that shares its book with another item (§14 duplicates)


class ActionName(StrEnum):
    BUY_VIP = "BuyVip"
    BUY_UPLOAD_CREDIT = "BuyUploadCredit"
    BUY_PERSONAL_FREELEECH = "BuyPersonalFreeleech"
    ADD_TORRENT = "AddTorrent"
    ADD_TO_VIP_PENDING = "AddToVipPending"
    ADD_TO_WISHLIST = "AddToWishlist"
    REPLACE_EDITION = "ReplaceEdition"
    RESUME_TORRENT = "ResumeTorrent"
    REANNOUNCE = "Reannounce"
    SET_SEEDING_ALLOCATION = "SetSeedingAllocation"
    PAUSE_TORRENT = "PauseTorrent"
    FREEZE_DOWNLOADS = "FreezeDownloads"
    UNFREEZE_DOWNLOADS = "UnfreezeDownloads"
    REMOVE_TORRENT = "RemoveTorrent"
    ALERT = "Alert"
    SWAP_EDITION = "SwapEdition"
    REFUSE_EDITION = "RefuseEdition"
    MARK_RELEASE_BAD = "MarkReleaseBad"
    ACCEPT_DOWNLOAD = "AcceptDownload"
    UPDATE_METADATA = "UpdateMetadata"


class Concern(StrEnum):
    """One policy file per concern (DESIGN.md)."""

    VIP = "vip"
    RATIO = "ratio"
    SNATCH = "snatch"
    SEEDING = "seeding"
    COMPLETION = "completion"
    QUALITY = "quality"
    FREE_FIRST = "free_first"
    PACING = "pacing"
    CATEGORIES = "categories"
    SCHEDULE = "schedule"
    LIBRARY = "library"


# Evaluation layers follow SPEC "Priorities": VIP > ratio > free-first/quality > completeness
# and pacing. Flags set in a layer are visible to later layers only; a block applies to
# proposals of its own and later layers, never to an earlier (higher-priority) one.
LAYER_OF: dict[Concern, int] = {
    Concern.VIP: 1,
    Concern.RATIO: 2,
    Concern.SNATCH: 2,
    Concern.SEEDING: 3,
    Concern.COMPLETION: 4,
    Concern.QUALITY: 4,
    Concern.FREE_FIRST: 5,
    Concern.PACING: 6,
    Concern.CATEGORIES: 6,
    Concern.SCHEDULE: 6,
    Concern.LIBRARY: 4,
}

SECTION_OF: dict[Concern, str] = {
    Concern.VIP: "§1",
    Concern.RATIO: "§10",
    Concern.SNATCH: "hit-and-run guard",
    Concern.SEEDING: "§10",
    Concern.COMPLETION: "§8 §9",
    Concern.QUALITY: "§5 §14 §16",
    Concern.FREE_FIRST: "§7",
    Concern.PACING: "§6",
    Concern.CATEGORIES: "§4",
    Concern.SCHEDULE: "schedule",
    Concern.LIBRARY: "§11 §13 §14 §15 §16",
}
