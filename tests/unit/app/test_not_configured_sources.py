"""A service that is not configured is a gap with code ``not_configured`` (unknown, not
empty), unless a facts file supplies that source's facts (then it is known)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mamcrawler.facts import Source
from mamcrawler.sensors.sources import FunctionSensor, NotConfigured, gather
from mamcrawler.store import Database, StateStore


def test_not_configured_is_a_gap_unless_a_facts_file_supplies_the_facts(tmp_path: Path) -> None:
    state = StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))
    now = datetime.now(UTC)
    library_off = NotConfigured(Source.LIBRARY, "Audiobookshelf", ("ABS_URL", "ABS_TOKEN"))
    client_off = NotConfigured(Source.QBITTORRENT, "qBittorrent", ("QBIT_URL",))
    facts_file = FunctionSensor(Source.TRACKER_ACCOUNT, lambda: {"library": ()}, origin="facts file")

    alone = gather([library_off, client_off], state, now)
    covered = gather([library_off, client_off, facts_file], state, now)

    gap = alone.gap_for(Source.LIBRARY)
    assert gap is not None and gap.code == "not_configured" and "add ABS_URL= ABS_TOKEN=" in gap.message
    assert covered.gap_for(Source.LIBRARY) is None  # the facts file says the library is known (and empty)
    assert covered.observed_at(Source.LIBRARY) == now
    client_gap = covered.gap_for(Source.QBITTORRENT)
    assert client_gap is not None and client_gap.code == "not_configured"
    state.db.dispose()
