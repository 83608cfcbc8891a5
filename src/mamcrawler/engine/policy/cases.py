"""Policy tests: YAML cases in ``<policy dir>/tests/*.yaml`` — given facts, the decisions
the policy must (``expect``) and must not (``forbid``) make — and per-rule coverage.

A case file::

    now: 2026-11-25T12:00:00Z          # default time of its cases
    facts: {account: {...}}            # base facts, deep-merged under each case's facts
    cases:
      - name: VIP at risk renews with what the points allow
        facts: {account: {vip_until: 2026-11-29T12:00:00Z}}
        expect:
          - {action: BuyVip, rule: vip_renew_at_risk, reason: vip_at_risk_renewal, with: {weeks: 2}}
          - {rule: vip_at_risk_days, outcome: block}
        forbid:
          - {action: BuyUploadCredit}
        flags: [vip_at_risk]            # flags that must be set (others may be too)

An ``expect`` entry matches a decision record when every key it gives agrees: ``action``
(an action type in the record; outcome defaults to ``planned``), ``rule``, ``reason``,
``outcome``, ``subject``, ``blocked_by`` and ``with`` (a subset of the action's fields).
A ``forbid`` entry fails when any planned action matches it. A rule is *covered* when some
case produced a record naming it. Case files are read like policy files (YAML 1.2, every
problem located); nothing is written. Imports pydantic and sibling engine modules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from mamcrawler.engine.decide import decide
from mamcrawler.engine.policy.compiled import Policy
from mamcrawler.engine.policy.loader import validation_issues
from mamcrawler.engine.policy.yaml_source import LocatedDocument, load_located
from mamcrawler.engine.records import DecisionBatch, DecisionRecord
from mamcrawler.engine.rules.evaluators import REFERENCE, Evaluator
from mamcrawler.errors import Issue
from mamcrawler.facts import FactSnapshot

__all__ = [
    "DEFAULT_MIN_COVERAGE",
    "CaseResult",
    "PolicyTestReport",
    "case_files",
    "policy_test_problems",
    "run_policy_tests",
]

TESTS_DIR = "tests"
DEFAULT_MIN_COVERAGE = 0.9  # of enabled rules, each decided in at least one case


class _CaseModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Expectation(_CaseModel):
    """What one decision record must look like; only the keys given are compared."""

    action: str | None = Field(None, description="An action type in the record, e.g. BuyVip.")
    rule: str | None = Field(None, description="The rule id that decided.")
    reason: str | None = Field(None, description="The record's reason code.")
    outcome: str | None = Field(None, description="planned, blocked, guarded, capped, flag, block, skipped…")
    subject: str | None = Field(None, description="The subject id (book key, torrent hash, 'account').")
    blocked_by: str | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="Action fields that must agree.")

    def describe(self) -> str:
        given = self.model_dump(exclude_defaults=True, by_alias=True)
        return ", ".join(f"{k}={v!r}" for k, v in given.items()) or "anything"

    def matches(self, record: DecisionRecord, *, default_outcome: str | None) -> bool:
        outcome = self.outcome or default_outcome
        checks = (
            (self.rule, record.rule_id),
            (self.reason, record.reason),
            (outcome, record.outcome),
            (self.subject, record.subject_id),
            (self.blocked_by, record.blocked_by),
        )
        if any(wanted is not None and wanted != actual for wanted, actual in checks):
            return False
        if self.action is None and not self.with_:
            return True
        for action in record.actions:
            if self.action is not None and action.type != self.action:
                continue
            dumped = action.model_dump(mode="json")
            if all(dumped.get(k) == v for k, v in self.with_.items()):
                return True
        return False


class PolicyCase(_CaseModel):
    name: str = Field(min_length=1)
    decided_at: AwareDatetime | None = Field(None, alias="now", description="When the case is decided.")
    facts: dict[str, Any] = Field(default_factory=dict, description="FactSnapshot fields (taken_at is the time).")
    expect: tuple[Expectation, ...] = ()
    forbid: tuple[Expectation, ...] = ()
    flags: tuple[str, ...] = Field((), description="Flags that must be set.")
    no_actions: bool = Field(False, description="The case must plan nothing at all.")


class CaseFile(_CaseModel):
    description: str = ""
    decided_at: AwareDatetime | None = Field(None, alias="now", description="Default time of the cases.")
    facts: dict[str, Any] = Field(default_factory=dict, description="Base facts under every case.")
    cases: tuple[PolicyCase, ...] = Field(min_length=1)


@dataclass(frozen=True)
class CaseResult:
    file: str
    line: int
    col: int
    name: str
    problems: tuple[str, ...]
    rules: frozenset[str]

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class PolicyTestReport:
    """Every case's result, the located problems of unreadable case files, and coverage."""

    results: list[CaseResult] = field(default_factory=list)
    file_issues: list[Issue] = field(default_factory=list)
    enabled_rules: tuple[str, ...] = ()

    @property
    def covered(self) -> dict[str, int]:
        counts = dict.fromkeys(self.enabled_rules, 0)
        for result in self.results:
            for rule in result.rules & counts.keys():
                counts[rule] += 1
        return counts

    @property
    def coverage(self) -> float:
        counts = self.covered
        return sum(1 for n in counts.values() if n) / len(counts) if counts else 1.0

    def failures(self, min_coverage: float) -> list[str]:
        """Everything that makes the run fail, one located line each."""
        out = [str(i) for i in self.file_issues]
        for r in self.results:
            out.extend(f"{r.file}:{r.line}:{r.col}: case_failed: {r.name}: {p}" for p in r.problems)
        if not self.results and not self.file_issues:
            out.append("no policy test cases found")
        elif self.coverage < min_coverage:
            missing = sorted(rule for rule, n in self.covered.items() if not n)
            out.append(
                f"rule coverage {self.coverage:.0%} is below {min_coverage:.0%}; never decided: {', '.join(missing)}"
            )
        return out


def case_files(directory: Path) -> list[Path]:
    tests = directory / TESTS_DIR
    if not tests.is_dir():
        return []
    return sorted(p for p in tests.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _check(case: PolicyCase, batch: DecisionBatch) -> list[str]:
    problems = []
    for want in case.expect:
        default = "planned" if want.action is not None and want.outcome is None else None
        if not any(want.matches(r, default_outcome=default) for r in batch.records):
            problems.append(f"expected a decision with {want.describe()}; got {_summary(batch)}")
    planned = [r for r in batch.records if r.outcome == "planned"]
    for banned in case.forbid:
        hits = [r for r in planned if banned.matches(r, default_outcome=None)]
        if hits:
            problems.append(f"forbidden decision with {banned.describe()} was made by {hits[0].rule_id}")
    missing_flags = sorted(set(case.flags) - set(batch.flags))
    if missing_flags:
        problems.append(f"flags not set: {', '.join(missing_flags)} (set: {', '.join(batch.flags) or 'none'})")
    if case.no_actions and batch.actions:
        problems.append(f"expected no actions; planned {', '.join(a.type for a in batch.actions)}")
    return problems


def _summary(batch: DecisionBatch) -> str:
    shown = [
        f"{r.rule_id or '-'}:{r.outcome}:{r.reason}[{','.join(a.type for a in r.actions)}]"
        for r in batch.records
        if r.outcome != "skipped"
    ]
    return "; ".join(shown[:8]) or "no decisions"


def _run_case(
    policy: Policy, doc: LocatedDocument, index: int, case: PolicyCase, base: CaseFile, evaluator: Evaluator
) -> CaseResult:
    at = doc.locate(("cases", index))
    when = case.decided_at or base.decided_at
    if when is None:
        return CaseResult(at.file, at.line, at.col, case.name, ("no 'now' in the case or its file",), frozenset())
    try:
        snapshot = FactSnapshot.model_validate({**_merge(base.facts, case.facts), "taken_at": when})
    except ValidationError as err:
        problems = tuple(f"facts: {i.message}" for i in validation_issues(err, doc))
        return CaseResult(at.file, at.line, at.col, case.name, problems, frozenset())
    batch = decide(policy, snapshot, now=when, evaluator=evaluator)
    rules = frozenset(r.rule_id for r in batch.records if r.rule_id)
    return CaseResult(at.file, at.line, at.col, case.name, tuple(_check(case, batch)), rules)


def run_policy_tests(directory: Path, policy: Policy, *, evaluator: Evaluator = REFERENCE) -> PolicyTestReport:
    """Run every case under ``directory/tests`` against ``policy``."""
    report = PolicyTestReport(enabled_rules=tuple(r.id for r in policy.rules if r.enabled))
    for path in case_files(directory):
        doc, problems = load_located(path)
        report.file_issues.extend(problems)
        if doc is None:
            continue
        try:
            case_file = CaseFile.model_validate(doc.data)
        except ValidationError as err:
            report.file_issues.extend(validation_issues(err, doc))
            continue
        for i, case in enumerate(case_file.cases):
            report.results.append(_run_case(policy, doc, i, case, case_file, evaluator))
    return report


def policy_test_problems(min_coverage: float = DEFAULT_MIN_COVERAGE) -> Callable[[Path, Policy], list[str]]:
    """A ``PolicyKeeper`` test hook: the failures of ``run_policy_tests`` (none = pass)."""

    def run(directory: Path, policy: Policy) -> list[str]:
        if not (directory / TESTS_DIR).is_dir():
            return []  # a policy directory without tests is only checked, as before
        return run_policy_tests(directory, policy).failures(min_coverage)

    return run
