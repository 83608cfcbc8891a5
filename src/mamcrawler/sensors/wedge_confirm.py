"""Confirming wedges spent at download time (2026), each cycle with the account read: a
wedge count that did not drop is a wedge not taken; otherwise the torrent's
``personal_freeleech`` must show within the search's lag (5–20 min; ``lag`` here). Either
failure is a warning, an alert line and a record in the store, and from then on the
torrent counts as paid (the qBittorrent sensor reads the record). Imports the tracker
adapter's types, ``store`` and ``facts``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from mamcrawler.store.tracker_account import TrackerAccountMemory

log = logging.getLogger("mamcrawler.tracker")
DEFAULT_LAG = timedelta(minutes=30)


class FreeleechLookup(Protocol):
    def personal_freeleech(self, tracker_id: int) -> bool | None: ...


Outcome = Literal["confirmed", "waiting", "wedge_not_taken", "arrived_paid"]


@dataclass(frozen=True)
class WedgeCheck:
    release_id: str
    tracker_id: int
    outcome: Outcome


def confirm_wedges(
    mam: FreeleechLookup, memory: TrackerAccountMemory, *, now: datetime, lag: timedelta = DEFAULT_LAG
) -> list[WedgeCheck]:
    """Settle wedge downloads awaiting confirmation (see the module docstring)."""
    out: list[WedgeCheck] = []
    for entry in memory.wedges_pending():
        rid, tid = str(entry["key"]), int(entry["tracker_id"])
        before, after = entry.get("wedges_before"), entry.get("wedges_after")
        outcome: Outcome
        if isinstance(before, int) and isinstance(after, int) and after >= before:
            outcome = "wedge_not_taken"
        else:
            shown = mam.personal_freeleech(tid)
            if shown:
                outcome = "confirmed"
            elif now - datetime.fromisoformat(str(entry["at"])) > lag:
                outcome = "arrived_paid"
            else:
                outcome = "waiting"
        if outcome == "confirmed":
            memory.wedge_confirmed(rid)
        elif outcome != "waiting":
            why = (
                f"the wedge count did not drop ({before} → {after})"
                if outcome == "wedge_not_taken"
                else f"personal_freeleech not shown {lag} after the download"
            )
            if memory.wedge_arrived_paid(rid, {"tracker_id": tid, "why": outcome, "detail": why}, now=now):
                log.warning("wedge download %s (torrent %d) counts as paid: %s", rid, tid, why)
                log.warning("alert wedge_%s: release %s downloaded without freeleech; ratio counts it", outcome, rid)
        out.append(WedgeCheck(rid, tid, outcome))
    return out
