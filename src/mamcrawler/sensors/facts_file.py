"""A facts file: snapshot fields (account, releases, wants, events, library…) read from a
JSON or YAML file every cycle — for running against services mamcrawler has no adapter
for yet, for hand-fed dry runs, and for tests of the daemon. An unreadable or invalid
file is a located error and the source becomes a gap. The file is read every cycle, so a
hostile one is refused cheaply: more than ``MAX_FACTS_BYTES`` is not read, and YAML
aliases are refused outright (a generated snapshot has no use for them; an alias bomb
would expand in validation). Imports ``facts``, ``errors`` and the YAML reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from ruamel.yaml.error import YAMLError

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


MAX_FACTS_BYTES = 64 * 1024 * 1024


def read_facts_file(path: Path) -> dict[str, Any]:
    """The snapshot fields the file provides (only those present)."""
    try:
        size = path.stat().st_size
        if size > MAX_FACTS_BYTES:
            raise ValueError(f"{size} bytes; a facts file may hold {MAX_FACTS_BYTES}")
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix == ".json" else _yaml(text)
        parsed = FactsFile.model_validate(raw)
    except (OSError, ValueError, ValidationError, YAMLError) as err:
        raise ServiceProtocolError("facts_file", "invalid_facts_file", f"{path}: {str(err).splitlines()[0]}") from err
    return {k: getattr(parsed, k) for k in parsed.model_fields_set}


def _yaml(text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.events import AliasEvent

    class NoAliases(Composer):
        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.parser.peek_event()
            if isinstance(event, AliasEvent):
                raise ValueError(f"YAML alias *{event.anchor} at line {event.start_mark.line + 1}: not allowed here")
            return super().compose_node(parent, index)

    yaml = YAML(typ="safe", pure=True)
    yaml.Composer = NoAliases
    yaml.max_depth = 64
    return yaml.load(text)
