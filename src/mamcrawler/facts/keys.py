"""The book key that joins wants, releases, torrents and library items: ``title|first
author`` in lower case with whitespace collapsed (the simulator's and the policy tests'
convention). Imports nothing from mamcrawler."""

from __future__ import annotations

import re
from collections.abc import Sequence

_SPACE = re.compile(r"\s+")

__all__ = ["book_key"]


def book_key(title: str, authors: Sequence[str]) -> str:
    first = authors[0] if authors else ""
    return _SPACE.sub(" ", f"{title.strip()}|{first.strip()}").lower()
