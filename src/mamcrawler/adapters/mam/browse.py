"""§4 browse URLs and the matching JSON search parameters, built from one fixed base query:
search in title, author and narrator; ``searchType=all``; English; sorted by most
snatched; from the first result; one ``tor[cat][]`` per category; the timespan as
``startDate``/``endDate``. The base never changes; a category the policy does not list
is an error, never a guess. Imports nothing from mamcrawler."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from urllib.parse import urlencode

__all__ = ["BASE_QUERY", "TIMESPANS", "browse_url", "category_query"]

AUDIOBOOKS = "13"
TIMESPANS: Mapping[str, int | None] = {"WEEK": 7, "MONTH": 30, "3MONTH": 90, "6MONTH": 180, "YEAR": 365, "ALL": None}
ALL_SINCE = date(2008, 1, 1)
BASE_QUERY: tuple[tuple[str, str], ...] = (
    ("tor[text]", ""),
    ("tor[srchIn][title]", "true"),
    ("tor[srchIn][author]", "true"),
    ("tor[srchIn][narrator]", "true"),
    ("tor[searchType]", "all"),
    ("tor[searchIn]", "torrents"),
    ("tor[main_cat][]", AUDIOBOOKS),
    ("tor[browse_lang][]", "1"),
    ("tor[sortType]", "snatchedDesc"),
    ("tor[startNumber]", "0"),
)


def category_query(
    categories: Sequence[int],
    timespan: str,
    today: date,
    known: Mapping[int, str],
    *,
    perpage: int = 100,
    timespans: Mapping[str, int | None] = TIMESPANS,
    all_from: date = ALL_SINCE,
) -> list[tuple[str, str]]:
    """The parameter list for ``categories`` over ``timespan`` ending ``today`` (the policy's
    timespans when given; ``ALL`` starts at ``all_from``)."""
    if not categories:
        raise ValueError("no category given")
    missing = [c for c in categories if c not in known]
    if missing:
        raise ValueError(f"category id(s) {', '.join(map(str, missing))} are not in the policy's category list")
    spans = {**timespans, "ALL": None}
    if timespan not in spans:
        raise ValueError(f"unknown timespan {timespan!r}; one of {', '.join(spans)}")
    days = spans[timespan]
    start = all_from if days is None else today - timedelta(days=days)
    params = list(BASE_QUERY)
    params += [("tor[cat][]", str(c)) for c in categories]
    params += [("tor[startDate]", start.isoformat()), ("tor[endDate]", today.isoformat())]
    params.append(("perpage", str(max(5, min(100, perpage)))))
    return params


def browse_url(base_url: str, params: Sequence[tuple[str, str]]) -> str:
    """The canonical, URL-encoded browse page for the same query (recorded with each sync)."""
    return f"{base_url.rstrip('/')}/tor/browse.php?{urlencode(list(params))}"


def text_query(text: str) -> list[tuple[str, str]]:
    """A plain audiobook search in title, author and series."""
    return [
        ("tor[text]", text),
        ("tor[srchIn][title]", "true"),
        ("tor[srchIn][author]", "true"),
        ("tor[srchIn][series]", "true"),
        ("tor[searchType]", "all"),
        ("tor[searchIn]", "torrents"),
        ("tor[main_cat][]", "13"),
        ("perpage", "25"),
    ]
