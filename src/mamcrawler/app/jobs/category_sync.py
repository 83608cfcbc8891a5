"""§4 weekly category sync: one JSON search per audiobook category (the policy's list —
data, not code) over the week, each with its canonical browse URL recorded; the weekly
top-10 of the top-10 categories compared with the library; titles the library lacks
become wants (source ``top10``) that §7 downloads now or the wishlist drains at §6 pace.
The listings are kept in the store until the next sync, so every cycle decides over
them. Imports the tracker adapter, ``engine`` params, ``store`` and ``facts``."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from mamcrawler.adapters.mam import MamClient, browse_url, category_query
from mamcrawler.adapters.mam.browse import text_query
from mamcrawler.engine.policy.params import CategoriesParams, CompletionParams
from mamcrawler.errors import ServiceError
from mamcrawler.facts import LibraryItem, Release, Want, WantSource
from mamcrawler.sensors.tracker import LISTINGS_KEY
from mamcrawler.store import WISHLIST, StateStore

__all__ = [
    "SyncResult",
    "completion_sync",
    "remember",
    "weekly_sync",
]

log = logging.getLogger("mamcrawler.sync")


@dataclass(frozen=True)
class SyncResult:
    urls: dict[int, str]
    releases: tuple[Release, ...]
    top10: dict[int, tuple[Release, ...]]
    missing: tuple[Want, ...]
    failed: dict[int, str]


def weekly_sync(
    mam: MamClient, params: CategoriesParams, library_keys: Iterable[str] | None, today: date, *, base_url: str
) -> SyncResult:
    """Search every category; a category that fails is reported, the others still count.
    With the library unknown (``None``) nothing is called missing."""
    known = {c.id: c.name for c in params.categories}
    spans: dict[str, int | None] = dict(params.timespans_days)
    all_from = date.fromisoformat(params.all_from)
    urls: dict[int, str] = {}
    found: dict[str, Release] = {}
    top10: dict[int, tuple[Release, ...]] = {}
    failed: dict[int, str] = {}
    for category in [c.id for c in params.categories]:
        query = category_query([category], params.top10_timespan, today, known, timespans=spans, all_from=all_from)
        urls[category] = browse_url(base_url, query)
        try:
            page = mam.search(query)
        except ServiceError as err:
            failed[category] = err.code
            log.warning("category %s sync failed: %s", category, err.code)
            continue
        for release in page.releases:
            found.setdefault(release.id, release)
        if category in params.top10_categories:
            ranked = sorted(page.releases, key=lambda r: (-(r.snatches or 0), r.id))
            top10[category] = tuple(ranked[: params.top10_count])
    missing: dict[str, Want] = {}
    if library_keys is None:
        log.warning("library facts unknown: the top-10 is not compared this week")
    owned = set(library_keys or ())
    for releases in top10.values() if library_keys is not None else ():
        for r in releases:
            if r.book_key not in owned and r.book_key not in missing:
                missing[r.book_key] = Want(
                    book_key=r.book_key, title=r.title, authors=r.authors, series=r.series, source=WantSource.TOP10
                )
    return SyncResult(urls, tuple(found[k] for k in sorted(found)), top10, tuple(missing.values()), failed)


COMPLETION_CURSOR = "completion_search_cursor"


def completion_sync(
    mam: MamClient, library: Sequence[LibraryItem], params: CompletionParams, state: StateStore, now: datetime
) -> tuple[Release, ...]:
    """§8 / §9: search the tracker for the library's series and authors, ``weekly_searches``
    of them per week in rotation; the engine finds the missing titles in what comes back."""
    terms: list[str] = []
    if params.series:
        terms += sorted({i.series for i in library if i.series})
    if params.authors:
        terms += sorted({a for i in library for a in i.authors})
    if not terms or params.weekly_searches == 0:
        return ()
    start = int(state.get(COMPLETION_CURSOR) or 0) % len(terms)
    chosen = [terms[(start + i) % len(terms)] for i in range(min(params.weekly_searches, len(terms)))]
    found: dict[str, Release] = {}
    for term in chosen:
        try:
            page = mam.search(text_query(term))
        except ServiceError as err:
            log.warning("completion search %r failed: %s", term, err.code)
            continue
        for release in page.releases:
            found.setdefault(release.id, release)
    state.put(COMPLETION_CURSOR, start + len(chosen), now=now)
    return tuple(found[k] for k in sorted(found))


def remember(state: StateStore, result: SyncResult, now: datetime, extra: Sequence[Release] = ()) -> None:
    """Keep the listings (and the completion searches' finds) for the cycles of the week and
    queue the missing top-10 titles."""
    releases = {r.id: r for r in (*result.releases, *extra)}
    state.put(
        LISTINGS_KEY,
        {
            "synced_at": now.isoformat(),
            "urls": {str(k): v for k, v in result.urls.items()},
            "releases": [releases[k].model_dump(mode="json") for k in sorted(releases)],
        },
        now=now,
    )
    for want in result.missing:
        state.add_to_list(WISHLIST, want.book_key, {"want": want.model_dump(mode="json")}, now=now)
