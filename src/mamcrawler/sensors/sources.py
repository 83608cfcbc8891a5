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

from mamcrawler.errors import CriticalBlock, MamcrawlerError, ServiceError
from mamcrawler.facts import FactGap, FactSnapshot, PausedBy, Provenance, Source, TorrentState, Want, WantSource
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


def gather(sensors: Sequence[Sensor], state: StateStore, now: datetime) -> FactSnapshot:
    """Read every sensor and the store into one snapshot."""
    fields: dict[str, Any] = {}
    provenance: list[Provenance] = []
    gaps: list[FactGap] = []
    for sensor in sensors:
        reading = sensor.sense(now)
        if reading.gap is not None:
            gaps.append(reading.gap)
            continue
        provenance.append(Provenance(source=reading.source, observed_at=now, origin=reading.origin))
        for key, value in reading.facts.items():
            if key in ("releases", "events") and key in fields:
                fields[key] = (*fields[key], *value)
            else:
                fields[key] = value
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
    who paused a paused torrent (mamcrawler only if the freeze recorded it; anyone
    else's pause counts as the user's and is never undone)."""

    source = Source.QBITTORRENT

    def __init__(self, client: Any, state: StateStore, journal: Any) -> None:
        self.client, self.state, self.journal = client, state, journal

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
            paused_by = PausedBy.NOBODY
            if t.state in (TorrentState.PAUSED_UPLOAD, TorrentState.PAUSED_DOWNLOAD):
                paused_by = PausedBy.MAMCRAWLER if t.hash in frozen else PausedBy.USER
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
