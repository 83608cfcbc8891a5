"""Library actions (§13 §14 §15 §16): what a finished download or a metadata reading leads
to. Each builds itself from its ``download`` or ``metadata`` row (``engine.world.library``).
Imports pydantic, ``facts`` and ``engine.action_base``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from mamcrawler.engine.action_base import ON_LIBRARY, ActionModel
from mamcrawler.facts import Release

if TYPE_CHECKING:
    from mamcrawler.engine.actions import Action
    from mamcrawler.engine.rules.rows import Row
    from mamcrawler.engine.world.derive import World


class SwapEdition(ActionModel):
    """§16 a finished, better download replaces the library's edition: its files go into the
    item folder (relative paths kept), the old ones to a holding folder unique to this swap,
    the item is rescanned. The old torrent keeps seeding."""

    type: Literal["SwapEdition"] = "SwapEdition"
    targets = ON_LIBRARY
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

    @classmethod
    def build(cls, args: dict[str, Any], row: Row, world: World) -> Action:
        from mamcrawler.engine.world.library import build_swap  # the world module builds on this one

        return build_swap(world.library, row)


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

    @classmethod
    def build(cls, args: dict[str, Any], row: Row, world: World) -> Action:
        from mamcrawler.engine.world.library import build_refuse  # the world module builds on this one

        return build_refuse(world.library, row)


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

    @classmethod
    def build(cls, args: dict[str, Any], row: Row, world: World) -> Action:
        from mamcrawler.engine.world.library import build_mark_bad  # the world module builds on this one

        return build_mark_bad(world.library, row)


class AcceptDownload(ActionModel):
    """A finished download of a book the library lacks passed §13: it is the book's edition."""

    type: Literal["AcceptDownload"] = "AcceptDownload"
    subject = "download"
    torrent_hash: str
    release_id: str | None = None
    book_key: str | None = None
    # what the import of a book the library lacks needs (``actuators.library_import``)
    torrent_name: str = ""
    release: Release | None = None
    heard: tuple[str, ...] = ()

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset({"library"})

    def journal_key(self, now: datetime) -> str:
        return f"accept:{self.torrent_hash}"

    def label(self) -> str:
        return f"AcceptDownload {self.release_id or self.torrent_hash[:12]}"

    @classmethod
    def build(cls, args: dict[str, Any], row: Row, world: World) -> Action:
        from mamcrawler.engine.world.library import build_accept  # the world module builds on this one

        return build_accept(world.library, row)


MetadataValue = str | float | int | tuple[str, ...] | None


class UpdateMetadata(ActionModel):
    """§15 one field of one library item set to the value its highest source gives (never a
    verified field, never an empty value — the engine proposes only real changes)."""

    type: Literal["UpdateMetadata"] = "UpdateMetadata"
    targets = ON_LIBRARY
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

    @classmethod
    def build(cls, args: dict[str, Any], row: Row, world: World) -> Action:
        from mamcrawler.engine.world.library import build_update  # the world module builds on this one

        return build_update(world.library, row)
