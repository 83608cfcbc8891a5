"""§8 series and §9 author completion: which listed titles the library is missing.

Only titles whose series or author is already in the library qualify; genre never
decides. Returns wants with the size of their group so the policy can choose "now" or
"wishlist" (``completion.immediate_max``). Pure; imports ``facts`` and
``engine.params``."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from mamcrawler.engine.policy.params import CompletionParams
from mamcrawler.facts import LibraryItem, Release, Want, WantSource

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(name: str) -> str:
    return _NON_WORD.sub(" ", name.lower()).strip()


def completion_wants(
    library: Iterable[LibraryItem],
    releases: Iterable[Release],
    known_keys: set[str],
    params: CompletionParams,
) -> tuple[list[Want], dict[str, int]]:
    """Missing titles of library series/authors, and each book's group missing-count."""
    items = list(library)
    series_in_library = {normalise(i.series) for i in items if i.series}
    authors_in_library = {normalise(a) for i in items for a in i.authors}
    groups: dict[str, set[str]] = defaultdict(set)
    chosen: dict[str, Want] = {}
    group_of: dict[str, str] = {}
    for release in sorted(releases, key=lambda r: (r.book_key, r.id)):
        if release.book_key in known_keys or release.book_key in chosen:
            continue
        series = normalise(release.series) if release.series else ""
        if params.series and series and series in series_in_library:
            source, group = WantSource.SERIES_COMPLETION, f"series:{series}"
        elif params.authors and any(normalise(a) in authors_in_library for a in release.authors):
            first = next(normalise(a) for a in release.authors if normalise(a) in authors_in_library)
            source, group = WantSource.AUTHOR_COMPLETION, f"author:{first}"
        else:
            continue
        chosen[release.book_key] = Want(
            book_key=release.book_key,
            title=release.title,
            authors=release.authors,
            series=release.series,
            source=source,
        )
        group_of[release.book_key] = group
        groups[group].add(release.book_key)
    missing = {key: len(groups[group]) for key, group in group_of.items()}
    return list(chosen.values()), missing
