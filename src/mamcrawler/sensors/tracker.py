"""The tracker as a source of facts and ``.torrent`` files for the daemon: the account every
cycle, the week's category listings plus a few searches per cycle for what is wanted
(wishlist and VIP pending, rotated so every want is looked at in turn; Prowlarr first
when configured), and the rules snapshot with its events once a day (kept
in the store, so a restart does not fetch the seven pages again). The account reading also
confirms wedges spent at download time and keeps the points for the planner. Imports the tracker
adapter, ``sensors``, ``store``, ``facts`` and ``errors``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mamcrawler.adapters.mam import RULES_PAGES, MamClient, detect_events, page_text, snapshot_of
from mamcrawler.adapters.mam.browse import text_query
from mamcrawler.adapters.prowlarr import ProwlarrClient
from mamcrawler.errors import ServiceError
from mamcrawler.facts import Event, Release, ReleaseSource, RulesSnapshot, Source
from mamcrawler.sensors.sources import FunctionSensor, Sensor
from mamcrawler.sensors.wedge_confirm import confirm_wedges
from mamcrawler.store import VIP_PENDING, StateStore
from mamcrawler.store.tracker_account import TrackerAccountMemory

__all__ = ["LISTINGS_KEY", "stored_listings", "tracker_sensors"]

log = logging.getLogger("mamcrawler.tracker")

SEARCH_CURSOR = "tracker_search_cursor"
RULES_KEY = "tracker_rules_snapshot"
LISTINGS_KEY = "tracker_weekly_listings"


def _want_searches(
    mam: MamClient, prowlarr: ProwlarrClient | None, state: StateStore, per_cycle: int, now: datetime
) -> dict[str, Any]:
    """This week's listings plus a few searches for wanted books: Prowlarr first (§7),
    the tracker when Prowlarr has nothing or fails."""
    found: dict[str, Release] = {r.id: r for r in stored_listings(state)}
    wanted = [(w.book_key, w.title, w.authors[0] if w.authors else "") for w in state.wants()]
    for item in state.list_items(VIP_PENDING):
        key = str(item.get("book_key", ""))
        wanted.append((key, key.split("|")[0], key.split("|")[1] if "|" in key else ""))
    if wanted:
        start = int(state.get(SEARCH_CURSOR) or 0) % len(wanted)
        chosen = [wanted[(start + i) % len(wanted)] for i in range(min(per_cycle, len(wanted)))]
        for key, title, author in chosen:
            text = f"{title} {author}".strip()
            results: tuple[Release, ...] = ()
            if prowlarr is not None:
                try:
                    results = prowlarr.search(text, book_key=key)
                except ServiceError as err:
                    log.warning("prowlarr search failed (%s); asking the tracker", err.code)
            if not results:
                results = mam.search(text_query(text)).releases
            for release in results:
                if release.id not in found or release.source is ReleaseSource.TRACKER:
                    found[release.id] = release  # the tracker's record knows more
        state.put(SEARCH_CURSOR, start + len(chosen), now=now)
    return {"releases": tuple(found[k] for k in sorted(found))}


def _daily_rules(mam: MamClient, state: StateStore, now: datetime) -> dict[str, Any]:
    kept = state.get(RULES_KEY)
    if isinstance(kept, dict) and kept.get("day") == now.date().isoformat():
        return {
            "rules": RulesSnapshot.model_validate(kept["rules"]),
            "events": tuple(Event.model_validate(e) for e in kept["events"]),
        }
    pages = [page_text(name, html) for name, html in mam.rules_pages(RULES_PAGES)]
    snapshot, events = snapshot_of(pages, now), detect_events(pages, now)
    body = {
        "day": now.date().isoformat(),
        "rules": snapshot.model_dump(mode="json"),
        "events": [e.model_dump(mode="json") for e in events],
    }
    state.put(RULES_KEY, body, now=now)
    return {"rules": snapshot, "events": events}


def _account(mam: MamClient, memory: TrackerAccountMemory, auto_wedge: bool, now: datetime) -> dict[str, Any]:
    """The account, told the auto-wedge setting and the refused store route; its points
    kept for the planner; wedges spent at download time confirmed."""
    account = mam.account()
    memory.add_reading(account, now=now)
    account = memory.learned(account, now=now)
    try:
        confirm_wedges(mam, memory, now=now)
    except ServiceError as err:
        log.warning("wedge confirmation postponed: %s", err.code)
    refused = "personal_freeleech" in memory.refused_routes()
    return {"account": account.model_copy(update={"auto_wedge": auto_wedge, "store_freeleech_refused": refused})}


def tracker_sensors(
    mam: MamClient,
    state: StateStore,
    clock: Callable[[], datetime],
    *,
    prowlarr: ProwlarrClient | None = None,
    searches_per_cycle: int = 5,
    auto_wedge: bool = False,
) -> list[Sensor]:
    origin = mam.host
    memory = TrackerAccountMemory(state)
    return [
        FunctionSensor(Source.TRACKER_ACCOUNT, lambda: _account(mam, memory, auto_wedge, clock()), origin=origin),
        FunctionSensor(
            Source.TRACKER_SEARCH,
            lambda: _want_searches(mam, prowlarr, state, searches_per_cycle, clock()),
            origin=origin,
        ),
        FunctionSensor(Source.TRACKER_RULES, lambda: _daily_rules(mam, state, clock()), origin=origin),
    ]


def stored_listings(state: StateStore) -> tuple[Release, ...]:
    kept = state.get(LISTINGS_KEY)
    if not isinstance(kept, dict):
        return ()
    return tuple(Release.model_validate(r) for r in kept.get("releases", []))
