"""Loading a simulator scenario file: YAML 1.2 → the validated ``Scenario`` model.

Every problem (YAML syntax, unknown keys, wrong values, bad durations, numbers, durations
and dates out of range (``engine.policy.limits``), references to torrents or releases that
do not exist) is collected and raised at once as a
``ScenarioError`` whose issues read ``file:line:col: code: message`` — the same located
form as policy errors, reusing the engine's ``load_located`` and ``validation_issues``.
Reads one file; writes nothing. Imports pydantic, ``engine``, ``actuators.sim_scenario``
and ``errors``."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from mamcrawler.engine.policy.limits import range_issues
from mamcrawler.engine.policy.loader import validation_issues
from mamcrawler.engine.policy.yaml_source import load_located
from mamcrawler.errors import Issue, ScenarioError
from mamcrawler.sim.scenario import Scenario, reference_problems

__all__ = ["MAX_TICKS", "load_scenario"]

MAX_TICKS = 100_000  # a year at hourly ticks is 8,760; ten years at 1-minute ticks would never end


def load_scenario(path: Path | str) -> Scenario:
    """Load and validate one scenario or raise ``ScenarioError`` with every located issue."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError([Issue(str(path), 1, 1, "not_a_file", "scenario file not found")])
    doc, problems = load_located(path)
    if doc is None:
        raise ScenarioError(problems)
    if not isinstance(doc.data, dict):
        raise ScenarioError([Issue(str(path), 1, 1, "not_a_mapping", "a scenario is a mapping of keys")])
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as err:
        raise ScenarioError(validation_issues(err, doc)) from None
    issues = range_issues(scenario, doc.locate)
    ticks = scenario.duration / scenario.tick
    if ticks > MAX_TICKS:
        at = doc.locate(("tick",) if "tick" in doc.data else ("duration",))
        message = f"duration / tick = {ticks:.0f} ticks; a scenario may play at most {MAX_TICKS}"
        issues.append(Issue(at.file, at.line, at.col, "too_many_ticks", message))
    if issues:
        raise ScenarioError(issues)
    for where, code, message in reference_problems(scenario):
        at = doc.locate(where)
        issues.append(Issue(at.file, at.line, at.col, code, f"{'.'.join(map(str, where))}: {message}"))
    if issues:
        raise ScenarioError(issues)
    return scenario
