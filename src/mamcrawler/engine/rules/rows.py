"""Rows: what one rule looks at. A row is one subject (the account, one candidate release,
one torrent) seen together with the shared ``account.* events.* state.* flags.*`` values.
Both evaluators read rows only through this module. Imports ``engine.rules`` only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from mamcrawler.engine.rules.trees import Scalar


@dataclass(frozen=True)
class Row(Mapping[str, Scalar | None]):
    """One subject's own values layered over the shared values of the cycle."""

    kind: str
    id: str
    own: Mapping[str, Scalar | None]
    shared: Mapping[str, Scalar | None]

    def __getitem__(self, key: str) -> Scalar | None:
        if key in self.own:
            return self.own[key]
        return self.shared[key]

    def get(self, key: str, default: Scalar | None = None) -> Scalar | None:  # type: ignore[override]
        own = self.own
        if key in own:
            return own[key]
        return self.shared.get(key, default)

    def __iter__(self) -> Iterator[str]:
        yield from self.shared
        for key in self.own:
            if key not in self.shared:
                yield key

    def __len__(self) -> int:
        return len(set(self.shared) | set(self.own))

    def flat(self) -> dict[str, Scalar | None]:
        return {**self.shared, **self.own}

    def with_shared(self, shared: Mapping[str, Scalar | None]) -> Row:
        return Row(self.kind, self.id, self.own, shared)
