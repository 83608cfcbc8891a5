"""Audiobookshelf: libraries, book items (→ ``LibraryItem`` facts plus their audio files),
scans and metadata updates over its REST API with a bearer token."""

from mamcrawler.adapters.audiobookshelf.client import AbsClient, non_empty
from mamcrawler.adapters.audiobookshelf.items import (
    AbsAudioFile,
    AbsItem,
    AbsItems,
    AbsLibrary,
    Malformed,
    parse_item,
    parse_library,
    series_number,
)

__all__ = [
    "AbsAudioFile",
    "AbsClient",
    "AbsItem",
    "AbsItems",
    "AbsLibrary",
    "Malformed",
    "non_empty",
    "parse_item",
    "parse_library",
    "series_number",
]
