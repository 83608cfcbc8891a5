"""The base of every action (``engine.actions``): what an action class declares about its
meaning — the services it changes (``targets``), the slot contradicting actions share,
``sent_once`` for money, the subject kind its rules look at — and the defaults of its tags,
points, journal key, label and ``build``. Imports pydantic and ``facts``."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from mamcrawler.facts import Source

if TYPE_CHECKING:
    from mamcrawler.engine.actions import Action
    from mamcrawler.engine.rules.rows import Row
    from mamcrawler.engine.world.derive import World

ON_TORRENTS = frozenset({Source.QBITTORRENT})
ON_TRACKER = frozenset({Source.TRACKER_ACCOUNT})
ON_LIBRARY = frozenset({Source.LIBRARY})


class ActionModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    targets: ClassVar[frozenset[Source]] = frozenset()
    """The services this action changes; a rule proposing it while one is gapped never acts."""
    slot: ClassVar[str | None] = None
    """Actions sharing a slot contradict each other: per subject, one rule decides a slot."""
    sent_once: ClassVar[bool] = False
    """Money: once the request has left, an unclear answer leaves the entry open (never retried)."""
    subject: ClassVar[str | None] = None
    """The subject kind a rule proposing it must look at (None: any)."""

    def intrinsic_tags(self) -> frozenset[str]:
        return frozenset()

    def points(self) -> int:
        """Bonus points this action spends."""
        return 0

    def idempotency_key(self, day: str) -> str:
        """Same action on the same day → same key (purchases are never repeated)."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(f"{day}|{body}".encode()).hexdigest()[:24]

    def journal_key(self, now: datetime) -> str:
        """The journal's idempotency key; by default the same action is done once per cycle."""
        return f"{self.type_name()}:{self.idempotency_key(now.isoformat())}"

    def type_name(self) -> str:
        value: Any = getattr(self, "type", type(self).__name__)
        return str(value)

    def label(self) -> str:
        """One short line for tables and logs."""
        return self.type_name()

    @classmethod
    def build(cls, args: dict[str, Any], row: Row, world: World) -> Action:
        """The concrete action a rule's template asks for on ``row`` (``ValueError`` when it
        cannot apply). Actions without their own ``build`` are made by ``engine.builders``."""
        raise ValueError(f"{cls.__name__} cannot be built from a {row.kind} row")
