"""The fact snapshot: every fact of one decision cycle with per-source provenance, gaps and
staleness (DESIGN.md "Facts"). Imports only pydantic, ``facts.models`` and ``errors``."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, Field

from mamcrawler.facts.models import (
    Account,
    AudioScan,
    Event,
    FactModel,
    LibraryItem,
    Memory,
    MetadataReading,
    Release,
    RulesSnapshot,
    StorePrices,
    Torrent,
    Want,
)


class Source(StrEnum):
    """Where a group of facts came from; a rule that needs a gapped source fails closed."""

    TRACKER_ACCOUNT = "tracker_account"
    TRACKER_STORE = "tracker_store"
    TRACKER_RULES = "tracker_rules"
    TRACKER_SEARCH = "tracker_search"
    PROWLARR = "prowlarr"
    QBITTORRENT = "qbittorrent"
    LIBRARY = "library"
    METADATA = "metadata"
    AUDIO = "audio"
    STORE = "store"


class Provenance(FactModel):
    """A source that answered: when, and from where (never with credentials)."""

    source: Source
    observed_at: AwareDatetime
    origin: str = Field("", description="Service name or URL without secrets.")


class FactGap(FactModel):
    """A source that could not be read this cycle; its facts are unknown, not empty."""

    source: Source
    code: str = Field(description="Stable snake_case reason, e.g. service_unavailable.")
    message: str = ""
    since: AwareDatetime | None = None
    critical: bool = Field(False, description="A critical block: a human must fix it (the message says what).")


class FactSnapshot(FactModel):
    """All facts of one cycle. Lists are tuples; order carries no meaning."""

    taken_at: AwareDatetime
    account: Account = Account()
    store_prices: StorePrices = StorePrices()
    events: tuple[Event, ...] = ()
    rules: RulesSnapshot | None = None
    releases: tuple[Release, ...] = ()
    torrents: tuple[Torrent, ...] = ()
    library: tuple[LibraryItem, ...] = ()
    scans: tuple[AudioScan, ...] = ()
    metadata: tuple[MetadataReading, ...] = ()
    wants: tuple[Want, ...] = ()
    memory: Memory = Memory()
    provenance: tuple[Provenance, ...] = ()
    gaps: tuple[FactGap, ...] = ()
    free_space_bytes: int | None = Field(None, ge=0)

    def gap_for(self, source: Source) -> FactGap | None:
        return next((g for g in self.gaps if g.source is source), None)

    def observed_at(self, source: Source) -> datetime | None:
        return next((p.observed_at for p in self.provenance if p.source is source), None)

    def is_stale(self, source: Source, now: datetime, max_age: timedelta) -> bool:
        """A source is stale when gapped, never observed (if provenance is kept) or too old."""
        if self.gap_for(source) is not None:
            return True
        seen = self.observed_at(source)
        if seen is None:
            return bool(self.provenance)
        return now - seen > max_age
