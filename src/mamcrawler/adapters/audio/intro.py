"""What an audiobook's spoken opening confirms (§14 scan): which of the candidate titles,
series names and authors it says, the book number ("book two", "book 3", "volume four")
and nothing else. The transcript of a small speech model is noisy, so the scan never
invents a spelling: it picks among candidates (provider, library, file names) with
rapidfuzz, and a candidate nobody said is not confirmed. Imports rapidfuzz only."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

__all__ = ["IntroFacts", "heard_among", "heard_number", "read_intro"]

_WORDS = {
    "one": 1,
    "first": 1,
    "two": 2,
    "second": 2,
    "three": 3,
    "third": 3,
    "four": 4,
    "fourth": 4,
    "five": 5,
    "fifth": 5,
    "six": 6,
    "sixth": 6,
    "seven": 7,
    "seventh": 7,
    "eight": 8,
    "eighth": 8,
    "nine": 9,
    "ninth": 9,
    "ten": 10,
    "tenth": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
}
_NUMBER = re.compile(r"\b(?:book|volume|part|number)\s+(\d+(?:\.\d+)?|" + "|".join(_WORDS) + r")\b")
_ORDINAL = re.compile(r"\b(" + "|".join(w for w in _WORDS if w.endswith(("st", "nd", "rd", "th"))) + r")\s+book\b")


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def heard_number(transcript: str) -> float | None:
    """The book's number when the opening says "book two", "volume 3", "the fourth book"."""
    plain = _plain(transcript)
    for pattern in (_NUMBER, _ORDINAL):
        m = pattern.search(plain)
        if m:
            word = m.group(1)
            return float(word) if word[0].isdigit() else float(_WORDS[word])
    return None


def heard_among(transcript: str, candidates: Sequence[str], *, threshold: float = 85.0) -> str | None:
    """The candidate the opening says best (its own spelling), or ``None``."""
    plain = _plain(transcript)
    best, score = None, threshold
    for candidate in candidates:
        target = _plain(candidate)
        if len(target) < 3:
            continue
        found = fuzz.partial_ratio(target, plain)
        if found > score or (found == score and best is not None and len(candidate) > len(best)):
            best, score = candidate, found
    return best


@dataclass(frozen=True)
class IntroFacts:
    title: str | None
    series: str | None
    series_number: float | None
    authors: tuple[str, ...]


def read_intro(transcript: str, *, titles: Sequence[str], series: Sequence[str], authors: Sequence[str]) -> IntroFacts:
    """Everything the opening confirms among the candidates."""
    author = heard_among(transcript, authors)
    return IntroFacts(
        title=heard_among(transcript, titles),
        series=heard_among(transcript, series),
        series_number=heard_number(transcript),
        authors=(author,) if author else (),
    )
