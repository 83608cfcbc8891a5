"""What the live executor needs from the outside, as protocols the adapters satisfy:
a torrent client (qBittorrent), the tracker's bonus store and ``.torrent`` downloads.
Keeping them narrow lets tests use real programs or loopback fakes behind the same
calls. Imports nothing from mamcrawler but ``engine.actions``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from mamcrawler.engine.actions import AddTorrent


class TorrentClient(Protocol):
    """The calls the executor makes on qBittorrent; every method raises ``ServiceError``."""

    def add_torrent(self, data: bytes, *, category: str, tags: Sequence[str], paused: bool = False) -> str:
        """Add from ``.torrent`` bytes; idempotent by info-hash; returns the info-hash."""
        ...

    def has_torrent(self, info_hash: str) -> bool: ...

    def is_paused(self, info_hash: str) -> bool | None:
        """Paused now? ``None`` when the client does not have the torrent."""
        ...

    def info_hash(self, data: bytes) -> str:
        """The v1 info-hash of ``.torrent`` bytes (qBittorrent's add does not return it)."""
        ...

    def pause(self, hashes: Sequence[str]) -> None: ...

    def resume(self, hashes: Sequence[str], *, force: bool = False) -> None: ...

    def reannounce(self, hashes: Sequence[str]) -> None: ...

    def set_seeding_allocation(self, *, upload_slots: int, active_seeds: int | None) -> None: ...

    def remove(self, hashes: Sequence[str], *, delete_files: bool = False) -> None: ...


BeforeRequest = Callable[[dict[str, object]], None]


class TorrentFiles(Protocol):
    """Where ``.torrent`` bytes for a release come from (the tracker, Prowlarr, a folder).
    A source whose request can spend something (a wedge) calls ``before_request`` with
    what settling it would need, before the request leaves (the executor notes it in the
    journal's intent, so a crash mid-request is never taken for "never sent")."""

    def fetch(self, action: AddTorrent, *, before_request: BeforeRequest | None = None) -> bytes: ...


@runtime_checkable
class WedgeLookup(Protocol):
    """Settling a wedge-flagged fetch left in doubt (the tracker's ``.torrent`` source)."""

    def wedge_spent(self, tracker_id: int, wedges_before: int | None) -> bool | None:
        """True: the torrent shows personal freeleech; False: the wedge count did not drop;
        None: cannot tell yet."""
        ...


class BonusStore(Protocol):
    """The tracker's bonus store; each call returns the parsed answer or raises."""

    def buy_vip(self, weeks: int) -> dict[str, Any]: ...

    def buy_upload_credit(self, gib: int) -> dict[str, Any]: ...

    def buy_personal_freeleech(self, tracker_id: int, *, use_wedge: bool) -> dict[str, Any]: ...

    def purchase_seen(self, kind: str, detail: str) -> bool | None:
        """Reconciliation: does the account's bonus history show this purchase? ``None`` when
        it cannot tell (then the entry stays open and nothing is repeated)."""
        ...
