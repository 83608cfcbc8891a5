"""What mamcrawler remembers about the tracker account across cycles (issue 11): wedge
downloads awaiting confirmation and those that arrived paid, the bonus-store routes the
tracker refused for good, and successive ``seedbonus`` readings (with the bytes) from
which the points planner's rates are learned. Everything lives in the state store (lists
and keys), so it survives restarts. Imports ``store``, ``facts`` and the planner's
learner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mamcrawler.engine.economy.points import Reading, learn_rates
from mamcrawler.facts import Account
from mamcrawler.store.state import StateStore

WEDGE_PENDING = "wedge_pending"  # release id → {tracker_id, way, at, wedges_before, wedges_after}
WEDGE_ARRIVED_PAID = "wedge_arrived_paid"  # release id → {tracker_id, why, at}: the ratio counts it as paid
REFUSED_ROUTES = "tracker_refused_routes"  # route → {code, at, message}
SEEDBONUS_KEY = "tracker_seedbonus_readings"
MAX_READINGS = 2000


class TrackerAccountMemory:
    def __init__(self, state: StateStore) -> None:
        self.state = state

    # --- wedges spent at download time ------------------------------------------------
    def wedge_opened(self, release_id: str, body: dict[str, Any], *, now: datetime) -> None:
        self.state.add_to_list(WEDGE_PENDING, release_id, {**body, "at": now.isoformat()}, now=now)

    def wedges_pending(self) -> list[dict[str, Any]]:
        return self.state.list_items(WEDGE_PENDING)

    def wedge_confirmed(self, release_id: str) -> None:
        self.state.remove_from_list(WEDGE_PENDING, release_id)

    def wedge_arrived_paid(self, release_id: str, body: dict[str, Any], *, now: datetime) -> bool:
        """Record it (once); True the first time."""
        self.state.remove_from_list(WEDGE_PENDING, release_id)
        return self.state.add_to_list(WEDGE_ARRIVED_PAID, release_id, {**body, "at": now.isoformat()}, now=now)

    def arrived_paid(self) -> dict[str, dict[str, Any]]:
        return {str(item["key"]): item for item in self.state.list_items(WEDGE_ARRIVED_PAID)}

    # --- routes the tracker refused for good ------------------------------------------
    def refuse_route(self, route: str, code: str, message: str, *, now: datetime) -> bool:
        """Remember a refused route; True the first time (warn and alert once)."""
        return self.state.add_to_list(
            REFUSED_ROUTES, route, {"code": code, "message": message, "at": now.isoformat()}, now=now
        )

    def refused_routes(self) -> dict[str, dict[str, Any]]:
        return {str(item["key"]): item for item in self.state.list_items(REFUSED_ROUTES)}

    # --- seedbonus readings -------------------------------------------------------------
    def add_reading(self, account: Account, *, now: datetime) -> None:
        """Keep this cycle's points (and bytes) for the planner; one reading per moment."""
        if account.bonus_points is None:
            return
        readings = self.readings()
        if readings and readings[-1].at >= now:
            return
        new = Reading(now, account.bonus_points, account.uploaded_bytes, account.downloaded_bytes)
        kept = [*readings, new][-MAX_READINGS:]
        body = [[r.at.isoformat(), r.points, r.uploaded_bytes, r.downloaded_bytes] for r in kept]
        self.state.put(SEEDBONUS_KEY, body, now=now)

    def readings(self) -> list[Reading]:
        raw = self.state.get(SEEDBONUS_KEY)
        if not isinstance(raw, list):
            return []
        return [Reading(datetime.fromisoformat(r[0]), int(r[1]), r[2], r[3]) for r in raw]

    def learned(self, account: Account, *, now: datetime) -> Account:
        """``account`` with the rates learned from the readings (the planner's inputs)."""
        rates = learn_rates(self.readings(), now=now)
        return account.model_copy(
            update={
                "points_per_hour": rates.points_per_hour,
                "upload_gib_per_day": rates.upload_gib_per_day,
                "download_gib_per_day": rates.download_gib_per_day,
            }
        )
