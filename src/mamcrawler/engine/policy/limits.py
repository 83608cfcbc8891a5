"""Range limits for every number, duration and date in a user-edited file (policies and
simulator scenarios), checked on the validated models so values pydantic coerced (a
``"1e300"`` string, a YAML ``.inf``) are caught too.

Every number must be finite and at most ``MAX_MAGNITUDE`` in size; a number whose field
(or enclosing field, or mapping key) is named in a time unit (``*_minutes``, ``*_hours``,
``*_days``, ``*_weeks``) may span at most ``MAX_YEARS`` years; durations likewise; dates
lie in ``MIN_YEAR``..``MAX_YEAR``. Each problem is a located ``Issue`` (``number_out_of_range``,
``duration_out_of_range``, ``date_out_of_range``) — values that would otherwise overflow
date arithmetic deep inside a run and end in a traceback. Pure; imports pydantic and
``errors``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel

from mamcrawler.engine.rules.trees import Location
from mamcrawler.errors import Issue

MAX_MAGNITUDE = 2**53  # every integer up to here is exact as a float too
MAX_YEARS = 10
MIN_YEAR, MAX_YEAR = 2000, 2100
UNIT_LIMITS = {
    "minutes": MAX_YEARS * 366 * 24 * 60,
    "hours": MAX_YEARS * 366 * 24,
    "days": MAX_YEARS * 366,
    "weeks": MAX_YEARS * 53,
}
MAX_DURATION = timedelta(days=UNIT_LIMITS["days"])

Path = tuple[str | int, ...]
Locate = Callable[[Sequence[str | int]], Location]


def _unit(name: str) -> str | None:
    return next((u for u in UNIT_LIMITS if name == u or name.endswith("_" + u)), None)


def range_issues(value: Any, locate: Locate) -> list[Issue]:
    """Every out-of-range number, duration and date in ``value`` (a model tree), located."""
    found: list[tuple[Path, str, str]] = []
    _walk(value, (), None, found)
    out = []
    for path, code, message in found:
        at = locate(path)
        field = ".".join(str(p) for p in path)
        out.append(Issue(at.file, at.line, at.col, code, f"{field}: {message}" if field else message))
    return out


def _walk(value: Any, path: Path, unit: str | None, found: list[tuple[Path, str, str]]) -> None:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _walk(getattr(value, name), (*path, name), _unit(name) or unit, found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, (*path, str(key)), _unit(str(key)) or unit, found)
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            _walk(item, (*path, i), unit, found)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        problem = _number_problem(value, unit)
        if problem:
            found.append((path, "number_out_of_range", problem))
    elif isinstance(value, timedelta):
        if abs(value) > MAX_DURATION:
            found.append((path, "duration_out_of_range", f"longer than {MAX_YEARS} years"))
    elif isinstance(value, date):  # datetimes too
        year = value.year
        if not MIN_YEAR <= year <= MAX_YEAR:
            found.append((path, "date_out_of_range", f"year {year} is outside {MIN_YEAR}..{MAX_YEAR}"))


def _number_problem(value: float, unit: str | None) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    if abs(value) > MAX_MAGNITUDE:
        return f"too large (at most 2**53 = {MAX_MAGNITUDE})"
    if unit is not None and abs(value) > UNIT_LIMITS[unit]:
        return f"{value:g} {unit} is more than {MAX_YEARS} years (at most {UNIT_LIMITS[unit]})"
    return None
