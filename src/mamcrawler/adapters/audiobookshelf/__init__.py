"""Audiobookshelf: libraries, book items (→ ``LibraryItem`` facts plus their audio files),
scans, the watcher hand-off and metadata updates over its REST API with a bearer token
(an API key or a login token, told apart by ``tokens``)."""

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
from mamcrawler.adapters.audiobookshelf.paths import PathMap
from mamcrawler.adapters.audiobookshelf.tokens import TokenInfo, refusal, token_advice, token_info

__all__ = [
    "AbsAudioFile",
    "AbsClient",
    "AbsItem",
    "AbsItems",
    "AbsLibrary",
    "Malformed",
    "PathMap",
    "TokenInfo",
    "non_empty",
    "parse_item",
    "parse_library",
    "refusal",
    "series_number",
    "token_advice",
    "token_info",
]
