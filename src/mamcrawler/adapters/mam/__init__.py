"""The tracker (MyAnonamouse) over its JSON API: a polite, cookie-rotating client, the
parsers of its loosely typed answers, §4 browse queries and the daily rules snapshot."""

from mamcrawler.adapters.mam.browse import TIMESPANS, browse_url, category_query
from mamcrawler.adapters.mam.client import CookieStore, MamClient
from mamcrawler.adapters.mam.parse import SearchPage, parse_account, parse_release, parse_search
from mamcrawler.adapters.mam.polite import Politeness, PolitenessLimits
from mamcrawler.adapters.mam.rules_pages import RULES_PAGES, detect_events, page_text, snapshot_of

__all__ = [
    "RULES_PAGES",
    "TIMESPANS",
    "CookieStore",
    "MamClient",
    "Politeness",
    "PolitenessLimits",
    "SearchPage",
    "browse_url",
    "category_query",
    "detect_events",
    "page_text",
    "parse_account",
    "parse_release",
    "parse_search",
    "snapshot_of",
]
