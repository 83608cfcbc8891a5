"""Incremental ``sync/maindata``: keep the ``rid`` and merge only the changes qBittorrent
sends (changed fields of changed torrents, removed hashes, server state) into a full
table. A ``full_update`` replaces the table. Pure; imports nothing from mamcrawler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class MainData:
    """The merged view of qBittorrent's torrents and server state."""

    rid: int = 0
    torrents: dict[str, dict[str, Any]] = field(default_factory=dict)
    server_state: dict[str, Any] = field(default_factory=dict)
    updates: int = 0

    def apply(self, answer: Mapping[str, Any]) -> None:
        if answer.get("full_update"):
            self.torrents = {}
            self.server_state = {}
        for info_hash, changes in (answer.get("torrents") or {}).items():
            self.torrents.setdefault(str(info_hash), {}).update(dict(changes))
        for info_hash in answer.get("torrents_removed") or ():
            self.torrents.pop(str(info_hash), None)
        self.server_state.update(dict(answer.get("server_state") or {}))
        self.rid = int(answer.get("rid", self.rid))
        self.updates += 1
