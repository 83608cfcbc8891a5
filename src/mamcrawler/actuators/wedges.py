"""The tracker side of 2026's wedge (MAM_API.md "Changes seen in 2026"), for the executor:

- ``WedgeDownloads`` fetches a ``.torrent`` and, when the action spends a wedge, reads the
  account's ``wedges`` before (none left: not sent — it would arrive paid) and after, with
  the freeleech flag on the link (one setting, ``MAM_WEDGE_FLAG``) unless the site's
  auto-wedge spends it; the download is then remembered as awaiting confirmation.
  ``sensors.wedge_confirm`` settles those each cycle. A flagged fetch whose answer proves
  nothing (5xx, cut, unreadable) raises ``PurchaseUnconfirmed`` carrying the count before:
  the executor leaves the AddTorrent ``sent_unconfirmed`` (wedge in doubt) and
  ``wedge_spent`` settles it from the tracker at the start of a later cycle.
- ``RefusalAwareStore`` wraps the bonus store: a personal-freeleech answer of HTTP 410 or
  "Not allowed via API" disables that route durably, with one warning and one alert;
  it is never sent again. Imports the tracker adapter's error codes, ``store``,
  ``engine.actions`` and ``errors``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from mamcrawler.actuators.ports import BeforeRequest
from mamcrawler.adapters.mam.client import STORE_ROUTE_REFUSED
from mamcrawler.engine.actions import AddTorrent
from mamcrawler.errors import PurchaseUnconfirmed, ServiceError, ServiceUnavailable
from mamcrawler.facts import Account
from mamcrawler.store.tracker_account import TrackerAccountMemory

log = logging.getLogger("mamcrawler.actuators")
PERSONAL_FREELEECH_ROUTE = "personal_freeleech"


class WedgeTracker(Protocol):
    def download_torrent(self, tracker_id: int, *, wedge_flag: str | None = None) -> bytes: ...

    def account(self) -> Account: ...

    def personal_freeleech(self, tracker_id: int) -> bool | None: ...


class WedgeDownloads:
    """``.torrent`` bytes from the tracker by release id, spending a wedge when asked."""

    def __init__(
        self, mam: WedgeTracker, memory: TrackerAccountMemory, *, flag: str, clock: Callable[[], datetime]
    ) -> None:
        self.mam, self.memory, self.flag, self.clock = mam, memory, flag, clock

    def fetch(self, action: AddTorrent, *, before_request: BeforeRequest | None = None) -> bytes:
        if action.tracker_id is None:
            raise ServiceUnavailable("torrent_files", "no_tracker_id", f"release {action.release_id} has no tracker id")
        if action.wedge == "none":
            return self.mam.download_torrent(action.tracker_id)
        before = self.mam.account().wedges
        if before < 1:
            raise ServiceError(
                "tracker", "no_wedge_left", "the account holds no wedge now; the download would cost ratio (not sent)"
            )
        flag = self.flag if action.wedge == "flag" else None  # auto: the site spends it by itself
        if before_request is not None:  # noted before it leaves: a crash mid-request is settled, not resent
            before_request({"tracker_id": action.tracker_id, "way": action.wedge, "wedges_before": before})
        try:
            data = self.mam.download_torrent(action.tracker_id, wedge_flag=flag)
        except PurchaseUnconfirmed as err:
            detail: dict[str, object] = {"tracker_id": action.tracker_id, "way": action.wedge, "wedges_before": before}
            raise PurchaseUnconfirmed(err.service, err.code, str(err), detail=detail) from err
        after: int | None
        try:
            after = self.mam.account().wedges
        except ServiceError as err:
            log.warning(
                "wedge count after downloading %s unreadable (%s); confirming later", action.release_id, err.code
            )
            after = None
        self.memory.wedge_opened(
            action.release_id,
            {"tracker_id": action.tracker_id, "way": action.wedge, "wedges_before": before, "wedges_after": after},
            now=self.clock(),
        )
        return data

    def wedge_spent(self, tracker_id: int, wedges_before: int | None) -> bool | None:
        """Settling a flagged fetch in doubt: True when the torrent shows ``personal_freeleech``
        for the account, False when the wedge count is not below the count before the fetch
        (the caller waits out the search's lag before believing it), None when unreadable."""
        try:
            if self.mam.personal_freeleech(tracker_id):
                return True
            wedges = self.mam.account().wedges
        except ServiceError as err:
            log.warning("wedge in doubt on torrent %d not settled: %s", tracker_id, err.code)
            return None
        if wedges_before is not None and wedges >= wedges_before:
            return False
        return None  # a wedge went somewhere, the torrent does not show it yet: wait


class StoreBackend(Protocol):
    def buy_vip(self, weeks: int) -> dict[str, Any]: ...

    def buy_upload_credit(self, gib: int) -> dict[str, Any]: ...

    def buy_personal_freeleech(self, tracker_id: int, *, use_wedge: bool) -> dict[str, Any]: ...

    def purchase_seen(self, kind: str, detail: str) -> bool | None: ...


class RefusalAwareStore:
    """The bonus store with the personal-freeleech route switched off for good once the
    tracker refused it (2026)."""

    def __init__(self, store: StoreBackend, memory: TrackerAccountMemory, clock: Callable[[], datetime]) -> None:
        self.store, self.memory, self.clock = store, memory, clock

    def buy_vip(self, weeks: int) -> dict[str, Any]:
        return self.store.buy_vip(weeks)

    def buy_upload_credit(self, gib: int) -> dict[str, Any]:
        return self.store.buy_upload_credit(gib)

    def purchase_seen(self, kind: str, detail: str) -> bool | None:
        return self.store.purchase_seen(kind, detail)

    def buy_personal_freeleech(self, tracker_id: int, *, use_wedge: bool) -> dict[str, Any]:
        if PERSONAL_FREELEECH_ROUTE in self.memory.refused_routes():
            raise ServiceError(
                "tracker", "store_route_disabled", "personal freeleech via the bonus store was refused; not sent again"
            )
        try:
            return self.store.buy_personal_freeleech(tracker_id, use_wedge=use_wedge)
        except ServiceError as err:
            if err.code == STORE_ROUTE_REFUSED and self.memory.refuse_route(
                PERSONAL_FREELEECH_ROUTE, err.code, str(err), now=self.clock()
            ):
                log.warning(
                    "the tracker refuses personal freeleech through the bonus store for API sessions: route "
                    "disabled for good; wedges are spent at download time (MAM_WEDGE_FLAG / MAM_AUTO_WEDGE)"
                )
                log.critical("alert store_route_refused: personal freeleech via bonusBuy disabled (%s)", err.code)
            raise
