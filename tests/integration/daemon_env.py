"""Settings for a daemon wired to a real qbittorrent-nox and the loopback tracker fake, as
the week-long integration tests build it, and the tracker's politeness limits measured in
milliseconds (the same shape, so pacing code still runs)."""

from __future__ import annotations

from pathlib import Path

from qbit_env import Qbit

from mamcrawler.adapters.mam import PolitenessLimits
from mamcrawler.app.runtime.settings import Settings

FAST = PolitenessLimits(min_spacing_s=0.0, max_spacing_s=0.002, long_pause_s=(0.0, 0.002), backoff_base_s=0.01)


def daemon_settings(qb: Qbit, tracker_url: str, base: Path, policies: Path, *, facts_file: bool = True) -> Settings:
    """qBittorrent and the tracker configured, the store and journal under ``base``, the
    durable-rules evaluator; ``base/facts.json`` supplies the library when ``facts_file``."""
    values = {
        "QBIT_URL": qb.url,
        "QBIT_USERNAME": qb.username,
        "QBIT_PASSWORD": qb.password,
        "MAM_ID": "cookie-0",
        "MAM_BASE_URL": tracker_url,
        "MAMCRAWLER_DATABASE_URL": f"sqlite:///{base / 'store.sqlite'}",
        "MAMCRAWLER_POLICIES": str(policies),
        "MAMCRAWLER_JOURNAL": str(base / "decisions.jsonl"),
        "MAMCRAWLER_EVALUATOR": "durable",
    }
    if facts_file:
        values["MAMCRAWLER_FACTS_FILE"] = str(base / "facts.json")
    return Settings.model_validate(values)
