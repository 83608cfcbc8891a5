"""The tracker as a source of facts and ``.torrent`` files for the daemon: the account every
cycle, a few searches per cycle for what is wanted (wishlist and VIP pending, rotated so
every want is looked at in turn), and the rules snapshot with its events once a day (kept
in the store, so a restart does not fetch the seven pages again). Imports the tracker
adapter, ``sensors``, ``store``, ``facts`` and ``errors``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mamcrawler.adapters.mam import RULES_PAGES, MamClient, detect_events, page_text, snapshot_of
from mamcrawler.engine.actions import AddTorrent
from mamcrawler.errors import ServiceUnavailable
from mamcrawler.facts import Event, Release, RulesSnapshot, Source
from mamcrawler.sensors import FunctionSensor, Sensor
from mamcrawler.store import VIP_PENDING, StateStore

__all__ = ["TrackerTorrentFiles", "tracker_sensors"]

SEARCH_CURSOR = "tracker_search_cursor"
RULES_KEY = "tracker_rules_snapshot"


class TrackerTorrentFiles:
    """``.torrent`` bytes for a release: from the tracker by its id."""

    def __init__(self, mam: MamClient) -> None:
        self.mam = mam

    def fetch(self, action: AddTorrent) -> bytes:
        if action.tracker_id is None:
            raise ServiceUnavailable("torrent_files", "no_tracker_id", f"release {action.release_id} has no tracker id")
        return self.mam.download_torrent(action.tracker_id)


def _want_searches(mam: MamClient, state: StateStore, per_cycle: int, now: datetime) -> dict[str, Any]:
    wanted = [(w.title, w.authors[0] if w.authors else "") for w in state.wants()]
    wanted += [(str(i.get("book_key", "")).split("|")[0], "") for i in state.list_items(VIP_PENDING)]
    if not wanted:
        return {"releases": ()}
    start = int(state.get(SEARCH_CURSOR) or 0) % len(wanted)
    chosen = [wanted[(start + i) % len(wanted)] for i in range(min(per_cycle, len(wanted)))]
    releases: list[Release] = []
    for title, author in chosen:
        params = [
            ("tor[text]", f"{title} {author}".strip()),
            ("tor[srchIn][title]", "true"),
            ("tor[srchIn][author]", "true"),
            ("tor[searchType]", "all"),
            ("tor[searchIn]", "torrents"),
            ("tor[main_cat][]", "13"),
            ("perpage", "25"),
        ]
        releases.extend(mam.search(params).releases)
    state.put(SEARCH_CURSOR, start + len(chosen), now=now)
    return {"releases": tuple(releases)}


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


def tracker_sensors(
    mam: MamClient, state: StateStore, clock: Callable[[], datetime], *, searches_per_cycle: int = 5
) -> list[Sensor]:
    origin = mam.host
    return [
        FunctionSensor(Source.TRACKER_ACCOUNT, lambda: {"account": mam.account()}, origin=origin),
        FunctionSensor(
            Source.TRACKER_SEARCH, lambda: _want_searches(mam, state, searches_per_cycle, clock()), origin=origin
        ),
        FunctionSensor(Source.TRACKER_RULES, lambda: _daily_rules(mam, state, clock()), origin=origin),
    ]
