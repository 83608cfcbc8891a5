"""A service that is not configured is a gap with code ``not_configured`` (unknown, not
empty), unless a facts file supplies that source's facts (then it is known); a hostile
facts file (aliases, deep nesting, bad YAML) is a gap too, never a crashed cycle."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mamcrawler.facts import Source
from mamcrawler.sensors.facts_file import read_facts_file
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


def test_a_hostile_facts_file_is_a_gap_not_a_crash(tmp_path: Path) -> None:
    state = StateStore(Database(f"sqlite:///{tmp_path / 'store.sqlite'}"))
    path = tmp_path / "facts.yaml"
    sensor = FunctionSensor(Source.TRACKER_ACCOUNT, lambda: read_facts_file(path), origin="facts file")
    codes = []
    for text in ("a0: &a0 [1, 2]\na1: [*a0, *a0]\n", "[" * 10_000, "library: [unclosed\n"):
        path.write_text(text, encoding="utf-8")
        gap = gather([sensor], state, datetime.now(UTC)).gap_for(Source.TRACKER_ACCOUNT)
        codes.append(gap.code if gap else None)
    assert codes == ["invalid_facts_file"] * 3
    state.db.dispose()
