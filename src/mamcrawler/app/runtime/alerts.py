"""Notifications when something needs a human, sent through Apprise (URLs in
``MAMCRAWLER_APPRISE_URLS``): critical blocks, VIP at risk, ratio freeze / emergency,
qBittorrent or the library unreachable for N cycles in a row, integrity failures, and
every purchase, and the policies' own ``Alert`` actions. An incident is told once when it
opens and once when it resolves (open incidents are kept in the store, so a restart does
not repeat them); during quiet hours only critical ones go out, the rest wait for the
morning. A dry run notifies nothing.
Imports apprise, ``facts``, ``engine``, ``store`` and ``app``."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Protocol

from mamcrawler.actuators.live import Execution
from mamcrawler.app.web.causes import causes
from mamcrawler.engine import DecisionBatch
from mamcrawler.engine.actions import Alert
from mamcrawler.facts import FactSnapshot, Source
from mamcrawler.store import StateStore

log = logging.getLogger("mamcrawler.alerts")

OPEN_KEY = "alerts_open"
UNREACHABLE_KEY = "alerts_unreachable_cycles"
WATCHED = {Source.QBITTORRENT: "qBittorrent", Source.LIBRARY: "Audiobookshelf"}


class Notifier(Protocol):
    def send(self, title: str, body: str, *, critical: bool) -> bool: ...


class AppriseNotifier:
    """Delivers to every configured Apprise URL; a failed delivery is logged, never raised."""

    def __init__(self, urls: Iterable[str]) -> None:
        with warnings.catch_warnings():  # apprise's plugins import the deprecated imghdr
            warnings.simplefilter("ignore", DeprecationWarning)
            import apprise  # imported here: only a configured notifier needs it

            self._apprise = apprise
            self.targets = apprise.Apprise()
        for url in urls:
            if not self._add(url):
                log.warning("notification URL not understood by Apprise (ignored): %s", url.split("://", 1)[0] + "://…")

    def _add(self, url: str) -> bool:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return bool(self.targets.add(url))

    def send(self, title: str, body: str, *, critical: bool) -> bool:
        kind = self._apprise.NotifyType.FAILURE if critical else self._apprise.NotifyType.WARNING
        ok = bool(self.targets.notify(title=title, body=body, notify_type=kind))
        if not ok:
            log.warning("notification not delivered: %s", title)
        return ok


def split_urls(text: str) -> list[str]:
    return [u for u in re.split(r"[\s,]+", text.strip()) if u]


@dataclass(frozen=True)
class Incident:
    key: str
    title: str
    body: str
    critical: bool
    resolved: str  # the message when it ends


def in_quiet_hours(spec: str, moment: datetime) -> bool:
    """``22:00-07:00`` style window (may cross midnight); empty: never quiet."""
    if not spec:
        return False
    start_s, end_s = spec.split("-")
    start, end, now = time.fromisoformat(start_s), time.fromisoformat(end_s), moment.time()
    return start <= now < end if start <= end else (now >= start or now < end)


class Alerts:
    def __init__(
        self,
        notifier: Notifier,
        state: StateStore,
        *,
        clock: Callable[[], datetime],
        quiet_hours: str = "",
        unreachable_cycles: int = 3,
    ) -> None:
        self.notifier, self.state, self.clock = notifier, state, clock
        self.quiet_hours, self.unreachable_cycles = quiet_hours, unreachable_cycles

    def incidents(self, snapshot: FactSnapshot, batch: DecisionBatch) -> list[Incident]:
        found: list[Incident] = []
        for cause in causes(snapshot.gaps):
            if cause.critical:
                found.append(
                    Incident(
                        f"block:{cause.source}:{cause.code}",
                        "mamcrawler is blocked",
                        cause.words,
                        True,
                        f"{cause.service} answers again; the block is over",
                    )
                )
        flags, acc = set(batch.flags), snapshot.account
        if "vip_at_risk" in flags:
            until = acc.vip_until.date().isoformat() if acc.vip_until else "unknown"
            found.append(
                Incident(
                    "vip_at_risk",
                    "VIP at risk",
                    f"VIP ends {until}; points {acc.bonus_points}",
                    True,
                    "VIP is safe again",
                )
            )
        if acc.ratio is not None and "ratio_emergency" in flags:
            found.append(
                Incident(
                    "ratio_emergency",
                    "Ratio emergency",
                    f"ratio {acc.ratio:.2f} is below the floor",
                    True,
                    f"ratio emergency over (ratio {acc.ratio:.2f})",
                )
            )
        elif "ratio_freeze" in flags or snapshot.memory.downloads_frozen:
            ratio = "unknown" if acc.ratio is None else f"{acc.ratio:.2f}"
            found.append(
                Incident(
                    "ratio_freeze",
                    "Paid downloads frozen",
                    f"ratio {ratio} is near the floor",
                    False,
                    "paid downloads resume: the ratio recovered",
                )
            )
        counts: dict[str, int] = dict(self.state.get(UNREACHABLE_KEY) or {})
        for source, name in WATCHED.items():
            gap = snapshot.gap_for(source)
            counts[source.value] = counts.get(source.value, 0) + 1 if gap and gap.code != "not_configured" else 0
            if counts[source.value] >= self.unreachable_cycles:
                found.append(
                    Incident(
                        f"unreachable:{source.value}",
                        f"{name} unreachable",
                        f"{name} has not answered for {counts[source.value]} cycles",
                        False,
                        f"{name} answers again",
                    )
                )
        self.state.put(UNREACHABLE_KEY, counts, now=self.clock())
        for record in batch.planned():  # the policies' own Alert actions (their code keys the incident)
            for action in record.actions:
                if isinstance(action, Alert) and action.level != "info":
                    same = next((i for i in found if i.key == action.code), None)
                    words = action.code.replace("_", " ")
                    found = [i for i in found if i.key != action.code]
                    found.append(
                        Incident(
                            action.code,
                            same.title if same else words.capitalize(),
                            action.message or record.reason.replace("_", " "),
                            action.level == "critical",
                            same.resolved if same else f"{words}: over",
                        )
                    )
        for scan in snapshot.scans:
            if scan.integrity_ok is False:
                found.append(
                    Incident(
                        f"integrity:{scan.item_id}",
                        "Integrity check failed",
                        f"item {scan.item_id}: {scan.integrity_reason or 'bad audio'}",
                        False,
                        f"item {scan.item_id} passes its integrity check",
                    )
                )
        return found

    def observe(
        self,
        snapshot: FactSnapshot,
        batch: DecisionBatch,
        executions: Sequence[Execution],
        *,
        dry_run: bool,
        describe: Callable[[Execution], str] = lambda e: e.action.type,
    ) -> list[str]:
        """Send what is new, what resolved, and each purchase. Returns the titles sent."""
        if dry_run:
            return []
        now = self.clock()
        quiet = in_quiet_hours(self.quiet_hours, now)
        sent: list[str] = []
        opened: dict[str, dict[str, Any]] = dict(self.state.get(OPEN_KEY) or {})
        current = {i.key: i for i in self.incidents(snapshot, batch)}
        for key, incident in current.items():
            entry = opened.setdefault(key, {"since": now.isoformat(), "notified": False})
            entry.update(resolved_msg=incident.resolved, critical=incident.critical)
            if not entry["notified"] and (incident.critical or not quiet):
                entry["notified"] = self._send(incident.title, incident.body, incident.critical, sent)
        for key in [k for k in opened if k not in current]:
            entry = opened[key]
            if not entry["notified"]:
                del opened[key]  # never told, nothing to take back
            elif entry.get("critical") or not quiet:
                self._send("Resolved", str(entry.get("resolved_msg", key)), False, sent)
                del opened[key]
        for execution in executions:
            points = execution.action.points()
            if execution.status == "applied" and points > 0:
                self._send("Purchase", f"{describe(execution)}: {points:,} points", False, sent)
        self.state.put(OPEN_KEY, opened, now=now)
        return sent

    def _send(self, title: str, body: str, critical: bool, sent: list[str]) -> bool:
        ok = self.notifier.send(f"mamcrawler: {title}", body, critical=critical)
        if ok:
            sent.append(title)
        return ok
