"""``mamcrawler policy check|test|schema|confirm``: validate a policy directory, run its policy
tests with per-rule coverage, print the policy JSON Schema, confirm a held policy edit.

Problems print as ``file:line:col: code: message`` (all of them, sorted) with exit status 1
and no traceback; nothing is written except by ``schema --output`` and ``confirm`` (the
store). Imports click, ``engine``, ``store`` and ``app.runtime``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from mamcrawler.app.runtime.policy_keeper import confirm as confirm_edit
from mamcrawler.app.runtime.settings import load_settings
from mamcrawler.engine import Policy, load_policy_with_issues
from mamcrawler.engine.policy.cases import DEFAULT_MIN_COVERAGE, PolicyTestReport, run_policy_tests
from mamcrawler.engine.policy.schema import policy_schema_text
from mamcrawler.engine.rules.evaluators import evaluator_named
from mamcrawler.errors import Issue, MamcrawlerError
from mamcrawler.paths import refuse_env_file
from mamcrawler.store import Database, StateStore

_directory = click.argument(
    "directory", required=False, default="policies", type=click.Path(file_okay=False, path_type=Path)
)
_format = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)


@click.group()
def policy() -> None:
    """Validate, test and describe policy files."""


def _issue_dict(issue: Issue) -> dict[str, Any]:
    return {"file": issue.file, "line": issue.line, "col": issue.col, "code": issue.code, "message": issue.message}


def _checked(directory: Path, fmt: str) -> Policy:
    """The compiled policy, or every issue printed and exit 1."""
    compiled, issues = load_policy_with_issues(directory)
    if compiled is not None:
        return compiled
    if fmt == "json":
        click.echo(json.dumps({"ok": False, "issues": [_issue_dict(i) for i in issues]}, indent=2))
    else:
        for issue in issues:
            click.echo(str(issue), err=True)
        click.echo(f"{len(issues)} problem(s) in {directory}; the policy was not loaded.", err=True)
    raise SystemExit(1)


@policy.command()
@_directory
@_format
def check(directory: Path, fmt: str) -> None:
    """Schema, then semantic checks (unknown facts, type mismatches, duplicate ids, shadowed rules)."""
    compiled = _checked(directory, fmt)
    enabled = sum(1 for r in compiled.rules if r.enabled)
    if fmt == "json":
        summary = {"ok": True, "issues": [], "version": compiled.version, "files": len(compiled.files)}
        click.echo(json.dumps({**summary, "rules": len(compiled.rules), "enabled_rules": enabled}, indent=2))
    else:
        click.echo(
            f"{directory}: ok — {len(compiled.files)} files, {len(compiled.rules)} rules "
            f"({enabled} enabled), policy version {compiled.version}"
        )


@policy.command(name="test")
@_directory
@_format
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    default=DEFAULT_MIN_COVERAGE * 100,
    show_default=True,
    help="Percent of enabled rules some case must make decide.",
)
@click.option("--evaluator", "evaluator_name", type=click.Choice(["reference", "durable"]), default="reference")
def test_command(directory: Path, fmt: str, min_coverage: float, evaluator_name: str) -> None:
    """Run the YAML cases in DIRECTORY/tests: given facts → expected decisions, and rule coverage."""
    compiled = _checked(directory, fmt)
    report = run_policy_tests(directory, compiled, evaluator=evaluator_named(evaluator_name))
    failures = report.failures(min_coverage / 100)
    if fmt == "json":
        click.echo(json.dumps(_report_dict(report, failures), indent=2))
    else:
        _print_report(report, failures)
    if failures:
        raise SystemExit(1)


def _report_dict(report: PolicyTestReport, failures: list[str]) -> dict[str, Any]:
    return {
        "ok": not failures,
        "cases": [{"name": r.name, "at": f"{r.file}:{r.line}:{r.col}", "passed": r.passed} for r in report.results],
        "coverage": round(report.coverage, 4),
        "rules": report.covered,
        "failures": failures,
    }


def _print_report(report: PolicyTestReport, failures: list[str]) -> None:
    for r in report.results:
        click.echo(f"{'PASS' if r.passed else 'FAIL'}  {r.file}:{r.line}  {r.name}")
    counts = report.covered
    click.echo("")
    click.echo("rule coverage (cases in which the rule decided):")
    for rule, n in sorted(counts.items()):
        click.echo(f"  {n:3d}  {rule}")
    passed = sum(1 for r in report.results if r.passed)
    click.echo(f"{passed}/{len(report.results)} cases passed; rule coverage {report.coverage:.0%}")
    for line in failures:
        click.echo(line, err=True)


@policy.command()
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of a policy file (policies.schema.json is this output)."""
    if output is not None:
        refuse_env_file(output, "--output")  # §27: the .env file is never written
    text = policy_schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


@policy.command()
@click.argument("policy_hash")
def confirm(policy_hash: str) -> None:
    """Let a held policy edit go live: the one whose replay changed money-like decisions."""
    try:
        settings = load_settings()
    except MamcrawlerError as err:
        raise click.ClickException(str(err)) from None
    with Database(settings.database_url) as db:
        try:
            held = confirm_edit(StateStore(db), policy_hash, now=datetime.now(UTC))
        except ValueError as err:
            raise click.ClickException(str(err)) from None
    click.echo(f"confirmed policy {held[:12]}; the daemon puts it in force at its next cycle")
