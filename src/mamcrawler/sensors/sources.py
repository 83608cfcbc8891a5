"""Sensors: adapters → one ``FactSnapshot``. Each sensor reads one source and returns its
facts or a ``FactGap``; a failing source never sinks the cycle and never leaves stale
facts posing as fresh (the engine fails rules on gapped sources closed). Memory, the
wishlist and the VIP pending list come from the store. Imports ``facts``, ``store``,
``errors``; the adapters are passed in."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from mamcrawler.adapters.qbittorrent.states import HOLD_TAG, who_paused
from mamcrawler.errors import CriticalBlock, MamcrawlerError, ServiceError
from mamcrawler.facts import FactGap, FactSnapshot, Provenance, Source, Want, WantSource
from mamcrawler.store import BAD_RELEASES, VIP_PENDING, StateStore
from mamcrawler.store.tracker_account import TrackerAccountMemory

log = logging.getLogger("mamcrawler.sensors.sources")


@dataclass(frozen=True)
class Reading:
    """What one sensor saw: snapshot fields (e.g. ``torrents``) or a gap."""

    source: Source
    facts: dict[str, Any] = field(default_factory=dict)
    gap: FactGap | None = None
    origin: str = ""


class Sensor(Protocol):
    source: Source

    def sense(self, now: datetime) -> Reading: ...


class FunctionSensor:
    """A sensor from a function returning snapshot fields; errors become gaps."""

    def __init__(self, source: Source, read: Callable[[], dict[str, Any]], origin: str = "") -> None:
        self.source, self._read, self.origin = source, read, origin

    def sense(self, now: datetime) -> Reading:
        try:
            return Reading(self.source, self._read(), origin=self.origin)
        except ServiceError as err:
            log.warning("%s unavailable: %s", self.source.value, err.code)
            return Reading(self.source, gap=FactGap(source=self.source, code=err.code, message=str(err), since=now))
        except CriticalBlock as err:  # the facts are unknown, never zeros; a human must act
            log.error("%s blocked: %s", self.source.value, err)
            gap = FactGap(source=self.source, code=err.code, message=str(err), since=now, critical=True)
            return Reading(self.source, gap=gap)
        except MamcrawlerError as err:
            log.warning("%s unavailable: %s", self.source.value, type(err).__name__)
            return Reading(self.source, gap=FactGap(source=self.source, code="error", message=str(err), since=now))


NOT_CONFIGURED = "not_configured"

# the snapshot field that carries a source's facts (to tell when another reader supplied them)
SOURCE_FIELD = {
    Source.LIBRARY: "library",
    Source.QBITTORRENT: "torrents",
    Source.TRACKER_ACCOUNT: "account",
    Source.TRACKER_SEARCH: "releases",
    Source.TRACKER_STORE: "store_prices",
    Source.TRACKER_RULES: "events",
}


class NotConfigured:
    """A service whose settings are missing: its facts are unknown — a gap with code
    ``not_configured`` every cycle — never known and empty (an unconfigured library is not
    an empty library). Rules that need the source fail closed."""

    def __init__(self, source: Source, service: str, missing: Sequence[str]) -> None:
        self.source = source
        keys = " ".join(f"{k}=" for k in missing)
        self.message = f"{service} is not configured" + (f"; add {keys}" if keys else "")

    def sense(self, now: datetime) -> Reading:
        return Reading(self.source, gap=FactGap(source=self.source, code=NOT_CONFIGURED, message=self.message))


def gather(sensors: Sequence[Sensor], state: StateStore, now: datetime) -> FactSnapshot:
    """Read every sensor and the store into one snapshot. A ``not_configured`` gap gives
    way when another reader (a facts file) supplied that source's facts."""
    fields: dict[str, Any] = {}
    provenance: list[Provenance] = []
    gaps: list[FactGap] = []
    supplied: dict[str, str] = {}
    for sensor in sensors:
        reading = sensor.sense(now)
        if reading.gap is not None:
            gaps.append(reading.gap)
            continue
        provenance.append(Provenance(source=reading.source, observed_at=now, origin=reading.origin))
        for key, value in reading.facts.items():
            supplied.setdefault(key, reading.origin)
            if key in ("releases", "events") and key in fields:
                fields[key] = (*fields[key], *value)
            else:
                fields[key] = value
    stood_in = [g for g in gaps if g.code == NOT_CONFIGURED and SOURCE_FIELD.get(g.source) in supplied]
    gaps = [g for g in gaps if g not in stood_in]
    for gap in stood_in:
        origin = supplied[SOURCE_FIELD[gap.source]]
        provenance.append(Provenance(source=gap.source, observed_at=now, origin=origin))
    today = now.date().isoformat()
    wants: list[Want] = list(state.wants())
    for item in state.list_items(VIP_PENDING):
        if "book_key" in item:
            wants.append(Want(book_key=item["book_key"], title=item["book_key"], source=WantSource.VIP_PENDING))
    fields["wants"] = (*fields.get("wants", ()), *wants)
    bad = {str(item["key"]) for item in state.list_items(BAD_RELEASES)}
    if bad and "releases" in fields:  # a release whose download failed §13: the next-best one is chosen
        fields["releases"] = tuple(r for r in fields["releases"] if r.id not in bad)
    provenance.append(Provenance(source=Source.STORE, observed_at=now, origin="store"))
    return FactSnapshot(
        taken_at=now,
        memory=state.memory(today=today),
        provenance=tuple(provenance),
        gaps=tuple(gaps),
        **fields,
    )


class QbitSensor:
    """qBittorrent → torrent facts, joined with what the store knows: which torrents
    mamcrawler added (tag ``mamcrawler``; ``mamcrawler-free`` when they cost no ratio),
    which release and book each one is (from applied AddTorrent journal entries), and
    who paused a paused torrent (``adapters.qbittorrent.who_paused``: a person only by
    the hold tag; mamcrawler when its pause is remembered; qBittorrent at its share
    limits)."""

    source = Source.QBITTORRENT

    def __init__(self, client: Any, state: StateStore, journal: Any, *, hold_tag: str = HOLD_TAG) -> None:
        self.client, self.state, self.journal, self.hold_tag = client, state, journal, hold_tag

    def sense(self, now: datetime) -> Reading:
        try:
            self.client.sync()
            torrents = self.client.torrent_facts()
        except ServiceError as err:
            log.warning("qbittorrent unavailable: %s", err.code)
            return Reading(self.source, gap=FactGap(source=self.source, code=err.code, message=str(err), since=now))
        frozen = set(self.state.memory(today=now.date().isoformat()).frozen_torrent_hashes)
        known = {}
        for entry in self.journal.entries(action_type="AddTorrent"):
            if entry.status == "applied" and entry.outcome and "hash" in entry.outcome:
                known[str(entry.outcome["hash"])] = entry.action
        paid = TrackerAccountMemory(self.state).arrived_paid()  # wedge downloads that arrived paid
        facts = []
        for t in torrents:
            action = known.get(t.hash)
            arrived_paid = getattr(action, "release_id", None) in paid
            paused_by = who_paused(t, frozen, self.hold_tag)  # a person's hold is the hold tag only
            facts.append(
                t.model_copy(
                    update={
                        "added_by_mamcrawler": "mamcrawler" in t.tags or action is not None,
                        "free": ("mamcrawler-free" in t.tags or bool(action is not None and action.free))
                        and not arrived_paid,
                        "paused_by": paused_by,
                        "release_id": getattr(action, "release_id", None),
                        "book_key": getattr(action, "book_key", None),
                    }
                )
            )
        return Reading(
            self.source,
            {"torrents": tuple(facts), "free_space_bytes": self.client.free_space_bytes()},
            origin=str(getattr(self.client, "url", "qbittorrent")),
        )
