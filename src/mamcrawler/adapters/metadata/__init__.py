"""Book metadata providers: Goodreads book pages (canonical titles, series, covers,
descriptions, publication) and Audnexus (Audible editions: narrators, release dates)."""

from mamcrawler.adapters.metadata.audnexus import AUDNEXUS_URL, AudnexusClient, NarratorMetadata, parse_book
from mamcrawler.adapters.metadata.goodreads import (
    GOODREADS_URL,
    BookMetadata,
    GoodreadsClient,
    parse_book_page,
    parse_search_page,
    parse_series,
)

__all__ = [
    "AUDNEXUS_URL",
    "GOODREADS_URL",
    "AudnexusClient",
    "BookMetadata",
    "GoodreadsClient",
    "NarratorMetadata",
    "parse_book",
    "parse_book_page",
    "parse_search_page",
    "parse_series",
]
