"""Start-up checks of ``mamcrawler run``: the ``.env`` file (a named one must exist), the
settings a daemon cannot do without (an empty or partial ``.env`` stops it, printing the
``KEY=`` lines one per line and the features that stay off), and where the policies are:
the setting, then ``policies`` beside the data directory, then the bundled defaults.
Imports ``app``."""

from __future__ import annotations

from pathlib import Path

import mamcrawler
from mamcrawler.app.runtime.settings import REQUIRED, Settings, missing_for

BUNDLED_POLICIES = Path(mamcrawler.__file__).parent / "policies"
CORE = ("tracker", "qbittorrent")


def config_problems(settings: Settings) -> tuple[list[str], list[str]]:
    """(``KEY=`` lines that must be added, features that stay off). Lines are due for a
    feature set half-way, and for the core services when none of them (nor a facts file)
    is configured — a daemon with nothing to watch is a mistake, not a choice."""
    missing_lines: list[str] = []
    off: list[str] = []
    for feature, keys in REQUIRED.items():
        missing = missing_for(settings, feature)
        if missing:
            off.append(feature)
            if len(missing) < len(keys):
                missing_lines.extend(f"{k}=" for k in missing)
    if all(f in off for f in CORE) and settings.facts_file is None:
        missing_lines = [f"{k}=" for f in CORE for k in missing_for(settings, f)] + [
            line for line in missing_lines if line not in {f"{k}=" for f in CORE for k in REQUIRED[f]}
        ]
    return missing_lines, off


def policies_dir(settings: Settings) -> tuple[Path, str]:
    """The policy directory in force and why it was chosen."""
    if "policies_dir" in settings.model_fields_set:
        return settings.policies_dir, "MAMCRAWLER_POLICIES"
    beside = Path(settings.data_dir).parent / "policies"
    if beside.is_dir():
        return beside, "beside the data directory"
    return BUNDLED_POLICIES, "the bundled defaults"
