"""A facts file: snapshot fields (account, releases, wants, events, library…) read from a
JSON or YAML file every cycle — for running against services mamcrawler has no adapter
for yet, for hand-fed dry runs, and for tests of the daemon. An unreadable or invalid
file is a located error and the source becomes a gap. Imports ``facts``, ``errors`` and
the YAML reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mamcrawler.errors import ServiceProtocolError
from mamcrawler.facts import Account, Event, LibraryItem, Release, StorePrices, Want


class FactsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account: Account | None = None
    store_prices: StorePrices | None = None
    events: tuple[Event, ...] = ()
    releases: tuple[Release, ...] = ()
    library: tuple[LibraryItem, ...] = ()
    wants: tuple[Want, ...] = ()


def read_facts_file(path: Path) -> dict[str, Any]:
    """The snapshot fields the file provides (only those present)."""
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix == ".json" else _yaml(text)
        parsed = FactsFile.model_validate(raw)
    except (OSError, ValueError, ValidationError) as err:
        raise ServiceProtocolError("facts_file", "invalid_facts_file", f"{path}: {str(err).splitlines()[0]}") from err
    return {k: getattr(parsed, k) for k in parsed.model_fields_set}


def _yaml(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(text)
