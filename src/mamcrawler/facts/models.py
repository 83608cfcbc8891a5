"""Frozen fact models: what sensors observed about the account, store, events, releases,
torrents and the library (DESIGN.md "Facts"). Imports only pydantic and ``errors``.

Conventions: tuples not lists, timezone-aware datetimes, sizes in bytes, bitrates in kbps,
durations in seconds. ``None`` means *unknown* — rules fail closed on unknown values.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class FactModel(BaseModel):
    """Base of every fact: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class UserClass(StrEnum):
    """Tracker user classes, in rising order of the unsatisfied-torrent limit."""

    MOUSE = "Mouse"
    USER = "User"
    POWER_USER = "Power User"
    VIP = "VIP"
    ELITE_VIP = "Elite VIP"
    STAFF = "Staff"


class Account(FactModel):
    """The tracker account's standing (§1), from ``/jsonLoad.php?snatch_summary``."""

    username: str | None = None
    user_class: UserClass = UserClass.USER
    ratio: float | None = Field(None, ge=0, description="Uploaded ÷ downloaded as the tracker reports it.")
    uploaded_bytes: int | None = Field(None, ge=0)
    downloaded_bytes: int | None = Field(None, ge=0)
    bonus_points: int | None = Field(None, ge=0, description="Seedbonus points; the tracker caps them at 99,999.")
    wedges: int = Field(0, ge=0, description="Freeleech wedges held.")
    vip_until: AwareDatetime | None = Field(None, description="When VIP ends; None when not VIP or unknown.")
    unsatisfied_count: int | None = Field(None, ge=0, description="Snatches not yet seeded 72 h.")
    unsatisfied_limit: int | None = Field(None, ge=0, description="The class limit from the snatch summary.")
    inactive_unsatisfied_count: int | None = Field(
        None, ge=0, description="Unsatisfied snatches not seeding (inactUnsat): hit-and-runs in the making."
    )
    hit_and_run_count: int | None = Field(None, ge=0, description="Hit-and-runs (seedHnr + inactHnr).")
    auto_wedge: bool | None = Field(
        None, description="The site's Automatic Freeleech Wedge preference (a setting; None = not told)."
    )
    points_per_hour: float | None = Field(None, ge=0, description="Earning rate learned from seedbonus readings.")
    upload_gib_per_day: float | None = Field(None, ge=0, description="Upload per day learned from readings.")
    download_gib_per_day: float | None = Field(None, ge=0, description="Download per day learned from readings.")
    store_freeleech_refused: bool = Field(
        False, description="The tracker refused personal freeleech through the bonus store for good (2026)."
    )


class EventKind(StrEnum):
    """Site events that change pacing and seeding (§6, §10)."""

    FREELEECH = "freeleech"
    BONUS = "bonus"
    MULTIPLIER = "multiplier"
    HOLIDAY = "holiday"


class Event(FactModel):
    """A site event with its window; detected from the site's own notices."""

    id: str
    kind: EventKind
    title: str = ""
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    multiplier: float = Field(1.0, ge=1.0, description="Bonus multiplier the event announces.")

    def active_at(self, moment: datetime) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


class StorePrices(FactModel):
    """Bonus store prices read from the store (§1, §7); ``None`` = not read, the policy's
    documented defaults apply."""

    vip_points_per_week: int | None = Field(None, gt=0)
    upload_points_per_gib: int | None = Field(None, gt=0)
    personal_freeleech_points: int | None = Field(None, gt=0)
    wedge_points: int | None = Field(None, gt=0)


class RulesSnapshot(FactModel):
    """A versioned copy of the tracker's rules pages (§1)."""

    content_hash: str
    fetched_at: AwareDatetime
    pages: tuple[tuple[str, str], ...] = Field((), description="(page name, page hash) pairs.")


class FreeKind(StrEnum):
    """Why a release costs no ratio (§7 free-first)."""

    NONE = "none"
    SITE_FREELEECH = "site_freeleech"
    GLOBAL_FREELEECH = "global_freeleech"
    VIP_FREELEECH = "vip_freeleech"
    PERSONAL_FREELEECH = "personal_freeleech"


class ReleaseSource(StrEnum):
    TRACKER = "tracker"
    PROWLARR = "prowlarr"


class Release(FactModel):
    """One listing of a book on the tracker or through Prowlarr (§5, §7).

    ``book_key`` groups editions of the same book (normalised title + first author).
    """

    id: str
    source: ReleaseSource = ReleaseSource.TRACKER
    tracker_id: int | None = None
    book_key: str
    title: str
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series: str | None = None
    series_number: float | None = None
    category_id: int | None = None
    formats: tuple[str, ...] = ()
    bitrate_kbps: int | None = Field(None, ge=0)
    duration_seconds: int | None = Field(None, ge=0)
    abridged: bool | None = None
    single_file: bool | None = Field(None, description="One complete file (True) or split (False).")
    file_count: int | None = Field(None, ge=0)
    chapters_complete: bool | None = None
    narrator_verified: bool | None = None
    watermarked: bool | None = None
    size_bytes: int | None = Field(None, ge=0)
    seeders: int | None = Field(None, ge=0)
    leechers: int | None = Field(None, ge=0)
    snatches: int | None = Field(None, ge=0)
    free: FreeKind = FreeKind.NONE
    vip_only: bool = False
    added_at: AwareDatetime | None = None

    @property
    def is_free(self) -> bool:
        return self.free is not FreeKind.NONE


class TorrentState(StrEnum):
    """qBittorrent states, folded over the 4.x (paused*) and 5.x (stopped*) vocabularies."""

    DOWNLOADING = "downloading"
    SEEDING = "seeding"
    PAUSED_DOWNLOAD = "paused_download"
    PAUSED_UPLOAD = "paused_upload"
    STALLED_DOWNLOAD = "stalled_download"
    STALLED_UPLOAD = "stalled_upload"
    QUEUED = "queued"
    CHECKING = "checking"
    ERRORED = "errored"
    MISSING_FILES = "missing_files"
    UNKNOWN = "unknown"


class PausedBy(StrEnum):
    """Who paused a torrent; only mamcrawler's own pauses are ever resumed by a freeze lift.

    ``USER`` is a person's explicit hold (the hold tag, ``mamcrawler-hold`` by default) and
    is never undone; ``SHARE_LIMIT`` is qBittorrent's own stop at a ratio/seeding-time
    limit — not a person's — and a completed torrent so paused is resumed to seed (§10);
    ``NOBODY`` also covers a paused torrent with no known cause and no hold tag."""

    NOBODY = "nobody"
    USER = "user"
    MAMCRAWLER = "mamcrawler"
    SHARE_LIMIT = "share_limit"


class Torrent(FactModel):
    """A torrent in qBittorrent (§10), with what the store knows about it."""

    hash: str = Field(pattern=r"^[0-9a-f]{40}$")
    name: str
    state: TorrentState
    progress: float = Field(0.0, ge=0.0, le=1.0)
    size_bytes: int = Field(0, ge=0)
    ratio: float = Field(0.0, ge=0.0)
    uploaded_bytes: int = Field(0, ge=0)
    uploaded_30d_bytes: int | None = Field(None, ge=0)
    seeding_seconds: int = Field(0, ge=0)
    stalled_seconds: int = Field(0, ge=0, description="How long it has been stalled, 0 if not.")
    upspeed: int = Field(0, ge=0)
    dlspeed: int = Field(0, ge=0)
    seeders: int | None = Field(None, ge=0)
    leechers: int | None = Field(None, ge=0)
    points_per_hour: float | None = Field(None, ge=0, description="Estimated bonus points earned.")
    category: str = ""
    tags: tuple[str, ...] = ()
    added_by_mamcrawler: bool = False
    paused_by: PausedBy = PausedBy.NOBODY
    free: bool = Field(False, description="Downloaded as freeleech (no ratio cost).")
    book_key: str | None = None
    release_id: str | None = None
    completed_at: AwareDatetime | None = None


class LibraryItem(FactModel):
    """A book in Audiobookshelf with the quality facts of the edition on disk."""

    id: str
    book_key: str
    title: str
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series: str | None = None
    series_number: float | None = None
    bitrate_kbps: int | None = Field(None, ge=0)
    duration_seconds: int | None = Field(None, ge=0)
    abridged: bool | None = None
    single_file: bool | None = None
    chapters_complete: bool | None = None
    narrator_verified: bool | None = None
    watermarked: bool | None = None
    seeders: int | None = Field(None, ge=0)
    torrent_hash: str | None = None
    added_at: AwareDatetime | None = None
    verified_fields: tuple[str, ...] = Field((), description="Fields a human or a scan verified.")


class AudioScan(FactModel):
    """What the audio sensor measured on a finished download (or a library item): §13 file
    sizes against the torrent's list and a full decode, and §11 who reads the opening.
    The duration verdict against the listing is the engine's (``library`` params)."""

    item_id: str | None = None
    torrent_hash: str | None = Field(None, description="The finished download scanned.")
    integrity_ok: bool | None = Field(None, description="Files and decode pass (duration judged by the engine).")
    integrity_reason: str | None = None
    decoded_seconds: float | None = None
    narrator: str | None = None
    narrator_confidence: float | None = Field(None, ge=0, le=1)


class MetadataReading(FactModel):
    """What one §15 source says about one library item (empty fields: the source is silent).
    ``source``: scan (speech-to-text of the opening), provider (Goodreads / Audible-style),
    narrator_source, torrent, or verified (the recorded values of the item's verified fields,
    put back when the library shows something else). ``heard`` is the narrator the scan
    recognised, if any."""

    item_id: str
    source: str = Field(pattern=r"^(scan|provider|narrator_source|torrent|verified)$")
    title: str | None = None
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series: str | None = None
    series_number: float | None = None
    description: str | None = None
    cover: str | None = None
    published: int | None = None
    heard: tuple[str, ...] = ()


class WantSource(StrEnum):
    """Why a book is wanted; completion sources are paced, the others are not."""

    TOP10 = "top10"
    WISHLIST = "wishlist"
    SERIES_COMPLETION = "series_completion"
    AUTHOR_COMPLETION = "author_completion"
    INTEGRITY_REDOWNLOAD = "integrity_redownload"
    VIP_PENDING = "vip_pending"


class Want(FactModel):
    """A book the collection wants (wishlist, top-10 miss, VIP pending list…)."""

    book_key: str
    title: str
    authors: tuple[str, ...] = ()
    series: str | None = None
    source: WantSource = WantSource.WISHLIST
    added_at: AwareDatetime | None = None


Ratio = Annotated[float, Field(ge=0)]


class Memory(FactModel):
    """What earlier cycles decided and the store remembers (pure input to ``decide``)."""

    downloads_frozen: bool = False
    frozen_torrent_hashes: tuple[str, ...] = ()
    downloads_today: int = Field(0, ge=0)
    points_spent_today: int = Field(0, ge=0)
    purchases_today: int = Field(0, ge=0)
    vip_purchases_today: int = Field(0, ge=0, description="VIP purchases made today (the per-day VIP guard).")
    upload_slots: int | None = Field(None, ge=-1)
    bought_release_ids: tuple[str, ...] = Field((), description="Personal freeleech already bought.")
    pending_release_ids: tuple[str, ...] = Field((), description="On the VIP pending list.")
    purchases_in_doubt: tuple[str, ...] = Field(
        (),
        description="Bonus-store purchases sent but not settled (vip, upload, pfl:<release>); "
        "none of the same kind is bought again until the bonus history settles them.",
    )
