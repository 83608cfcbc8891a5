"""What a cycle did, in words for the daemon log: one line per action sent or planned
(action, book, reason, points) so a 52,500-point purchase reads as one, not as
"1 applied". Imports ``actuators``, ``engine`` and ``app``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mamcrawler.actuators.live import Execution
from mamcrawler.engine import DecisionBatch

_VERB = {
    "BuyVip": "buy VIP",
    "BuyUploadCredit": "buy upload credit",
    "BuyPersonalFreeleech": "buy personal freeleech",
    "AddTorrent": "download",
    "AddToVipPending": "add to VIP pending list",
    "AddToWishlist": "add to wishlist",
    "ReplaceEdition": "replace edition",
    "ResumeTorrent": "resume torrent",
    "PauseTorrent": "pause torrent",
    "Reannounce": "reannounce",
    "SetSeedingAllocation": "set seeding slots",
    "FreezeDownloads": "freeze paid downloads",
    "UnfreezeDownloads": "unfreeze paid downloads",
    "RemoveTorrent": "remove torrent",
    "Alert": "alert",
}
_STATUS = {"applied": "done", "planned_dry_run": "planned (dry run)", "skipped_already_done": "already done"}


def verb(action_type: str) -> str:
    return _VERB.get(action_type, action_type)


def cycle_table(batch: DecisionBatch, executions: Sequence[Execution], name_of: Callable[[str], str]) -> list[str]:
    """Aligned lines: status, action, subject, reason, points."""
    reasons = {r.decision_id: r for r in batch.records}
    rows = []
    for e in executions:
        record = reasons.get(e.decision_id)
        subject = getattr(e.action, "book_key", None) or (record.subject_id if record else "")
        points = e.action.points()
        rows.append(
            (
                _STATUS.get(e.status, e.status.replace("_", " ")),
                verb(e.action.type),
                name_of(subject) if subject else "—",
                (record.reason if record else "").replace("_", " "),
                f"{points:,} points" if points else "",
            )
        )
    if not rows:
        return []
    widths = [min(40, max(len(r[i]) for r in rows)) for i in range(4)]
    return [
        "  ".join(cell[:40].ljust(widths[i]) for i, cell in enumerate(row[:4])) + ("  " + row[4] if row[4] else "")
        for row in rows
    ]
