"""Flag dependencies inside one layer: which rules must be evaluated before which.

A rule that reads ``flags.X`` runs after every rule of its own layer that sets ``X``, so
a concern can detect a state and act on it in one file (ratio.yaml sets ``ratio_freeze``
and then blocks and pauses under it). The stratum of a rule is 0 when it reads no flag set
in its layer, else one more than the highest stratum of those setters. Rules caught in a
cycle (``flag_cycle`` in ``policy check``) are put after every other rule of the layer,
where they read what the rest set. Pure; imports nothing from mamcrawler but ``rules``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar


class FlagRule(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def layer(self) -> int: ...
    @property
    def flag(self) -> str | None: ...
    @property
    def facts(self) -> tuple[str, ...]: ...


def flags_read(rule: FlagRule) -> frozenset[str]:
    return frozenset(f.removeprefix("flags.") for f in rule.facts if f.startswith("flags."))


def flag_strata(rules: Sequence[FlagRule]) -> tuple[dict[str, int], frozenset[str]]:
    """Rule id → stratum within its layer, and the ids of rules in a flag cycle."""
    setters: dict[tuple[int, str], list[str]] = {}
    for rule in rules:
        if rule.flag:
            setters.setdefault((rule.layer, rule.flag), []).append(rule.id)
    deps = {
        rule.id: sorted({s for flag in flags_read(rule) for s in setters.get((rule.layer, flag), [])}) for rule in rules
    }
    strata: dict[str, int] = {}
    cyclic: set[str] = set()

    def visit(rule_id: str, path: tuple[str, ...]) -> int:
        if rule_id in strata:
            return strata[rule_id]
        if rule_id in path:
            cyclic.update(path[path.index(rule_id) :])
            return 0
        level = 0
        for dep in deps.get(rule_id, []):
            level = max(level, visit(dep, (*path, rule_id)) + 1)
        strata[rule_id] = level
        return level

    for rule in rules:
        visit(rule.id, ())
    top = max(strata.values(), default=0) + 1
    for rule_id in cyclic:
        strata[rule_id] = top
    return strata, frozenset(cyclic)


R = TypeVar("R", bound=FlagRule)


def in_strata(rules: Iterable[R], strata: dict[str, int]) -> list[list[R]]:
    """Rules grouped by stratum, lowest first, each group in the given order."""
    groups: dict[int, list[R]] = {}
    for rule in rules:
        groups.setdefault(strata.get(rule.id, 0), []).append(rule)
    return [groups[k] for k in sorted(groups)]
