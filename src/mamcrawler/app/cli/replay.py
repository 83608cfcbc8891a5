"""``mamcrawler replay``: what an edited policy would have done to the recorded history.

Re-decides every cycle the daemon recorded in the period under the policy directory
(default: the one in settings) and prints the decisions added, removed and changed
(rule, reason, action, points), then the effect on ratio, points, VIP days and downloads
of playing the recorded start forward under both policies. ``--explain ID`` shows one
decision under both policies side by side; ``--sizes`` prints bytes recorded per day.
Imports click, rich, ``app``, ``engine``, ``sim`` and ``store``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from mamcrawler.app.cli.simulate import _console, _fail_located, trace_lines
from mamcrawler.app.runtime.settings import load_settings
from mamcrawler.app.runtime.whatif import WhatIf, what_if
from mamcrawler.engine import load_policy
from mamcrawler.engine.rules.evaluators import evaluator_named
from mamcrawler.errors import LocatedErrors, MamcrawlerError
from mamcrawler.sim.replay import Change, Explanation, describe, explain_decision
from mamcrawler.sim.scenario import parse_duration
from mamcrawler.store import Database, RecordReader, sizes_by_day

SHOWN_CHANGES = 200


@click.command()
@click.option("--since", default="30d", show_default=True, help="How far back: 7d, 30d, 2w, 12h.")
@click.option(
    "--policy", "policy_dir", type=click.Path(file_okay=False, path_type=Path), help="Edited policy directory."
)
@click.option(
    "--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the differences as JSON."
)
@click.option("--explain", "explain_id", help="Show one decision (id or unique prefix) under both policies.")
@click.option("--evaluator", "evaluator_name", type=click.Choice(["reference", "durable"]), default="reference")
@click.option("--no-forward", is_flag=True, help="Skip playing the changes forward in the simulator.")
@click.option("--sizes", is_flag=True, help="Print the bytes recorded per day and stop.")
def replay(
    since: str,
    policy_dir: Path | None,
    json_file: Path | None,
    explain_id: str | None,
    evaluator_name: str,
    no_forward: bool,
    sizes: bool,
) -> None:
    """Re-decide recorded cycles under an edited policy and show what would change."""
    try:
        start = datetime.now(UTC) - parse_duration(since)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--since") from None
    try:
        settings = load_settings()
    except MamcrawlerError as err:
        raise click.ClickException(str(err)) from None
    console = _console()
    with Database(settings.database_url) as db:
        if sizes:
            print_sizes(db, start)
            return
        try:
            policy = load_policy(policy_dir or settings.policies_dir)
        except LocatedErrors as err:
            _fail_located(err, "policy")
        evaluator = evaluator_named(evaluator_name)
        if explain_id is not None:
            reader = RecordReader(db)
            found = explain_decision(reader.cycles(start), explain_id, policy, reader.policy, evaluator=evaluator)
            if found is None:
                raise click.ClickException(
                    f"no decision {explain_id!r} recorded or replayed since {start:%Y-%m-%d %H:%M}"
                )
            print_explanation(found)
            return
        outcome = what_if(db, policy, start, evaluator=evaluator, forward=not no_forward)
    print_what_if(outcome)
    if json_file is not None:
        body: dict[str, Any] = {**outcome.to_dict(), "changes": [c.to_dict() for c in outcome.result.changes]}
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        console.print(f"wrote {len(outcome.result.changes)} differences to {json_file}")


def print_sizes(db: Database, since: datetime) -> None:
    table = Table(title="Recorded for replay")
    for name in ("day", "cycles", "bytes", "bytes/cycle"):
        table.add_column(name, justify="right")
    total_c = total_b = 0
    for d in sizes_by_day(db, since):
        table.add_row(d.day.isoformat(), str(d.cycles), f"{d.bytes:,}", f"{d.per_cycle:,.0f}")
        total_c, total_b = total_c + d.cycles, total_b + d.bytes
    table.add_row("total", str(total_c), f"{total_b:,}", f"{total_b / total_c:,.0f}" if total_c else "0")
    _console().print(table)


def print_what_if(outcome: WhatIf) -> None:
    console = _console()
    r = outcome.result
    if r.changes:
        folded = fold(r.changes)
        table = Table(title=f"Differences under {r.policy_hash[:12]} (repeats in later cycles folded)")
        for name in ("from", "cycles", "", "subject", "recorded", "replayed", "Δ points", "id"):
            table.add_column(name)
        for c, count in folded[:SHOWN_CHANGES]:
            mark = {"added": "+", "removed": "-", "changed": "~"}[c.kind] + ("$" if c.money else "")
            table.add_row(
                c.at.strftime("%m-%d %H:%M"),
                str(count),
                mark,
                f"{c.subject_kind} {c.subject_id}",
                describe(c.before),
                describe(c.after),
                f"{c.points_delta:+,}" if c.points_delta else "",
                c.decision_id[:10],
            )
        console.print(table)
        if len(folded) > SHOWN_CHANGES:
            console.print(f"({len(folded) - SHOWN_CHANGES} more; --json keeps every one)", style="dim")
    console.print(r.line())
    if outcome.note:
        console.print(outcome.note, style="dim")
    if outcome.effect is not None:
        figures = outcome.effect.figures()
        table = Table(title=f"Played forward from the recorded start ({figures['ticks']} ticks)")
        for name in ("", "as decided", "edited", "Δ"):
            table.add_column(name, justify="right")
        for key, before in figures["as_decided"].items():
            table.add_row(
                key.replace("_", " "), _fmt(before), _fmt(figures["edited"][key]), _fmt(figures["delta"][key], True)
            )
        console.print(table)


def fold(changes: list[Change]) -> list[tuple[Change, int]]:
    """The same difference about the same subject in later cycles counts once, with how often."""
    out: dict[tuple[str, ...], list[Any]] = {}
    for c in changes:
        key = (c.kind, c.subject_kind, c.subject_id, describe(c.before), describe(c.after))
        if key in out:
            out[key][1] += 1
        else:
            out[key] = [c, 1]
    return [(c, n) for c, n in out.values()]


def _fmt(value: Any, signed: bool = False) -> str:
    if isinstance(value, float):
        return f"{value:+,.4g}" if signed else f"{value:,.4g}"
    return f"{value:+,}" if signed else f"{value:,}"


def print_explanation(e: Explanation) -> None:
    console = _console()
    console.print(f"{e.subject_kind} {e.subject_id} at {e.at.isoformat()}", style="bold")
    side = Table(show_header=True)
    side.add_column("recorded (policy that decided)")
    side.add_column("replayed (edited policy)")
    for i in range(max(len(e.before), len(e.after), 1)):
        old = e.before[i] if i < len(e.before) else None
        new = e.after[i] if i < len(e.after) else None
        side.add_row(describe(old), describe(new))
    console.print(side)
    rules = Table(title="Rule by rule (reference evaluator)")
    for name in ("rule", "recorded", "replayed"):
        rules.add_column(name)
    for rule, old_trace, new_trace in e.rule_rows():
        rules.add_row(rule, _verdict(old_trace), _verdict(new_trace))
    console.print(rules)
    for title, traces in (("recorded", e.traces_before), ("replayed", e.traces_after)):
        console.print(f"{title}:" if traces else f"{title}: policy files not recorded, no trace", markup=False)
        for line in trace_lines(traces, only_fails=False):
            console.print(line, markup=False)


def _verdict(trace: dict[str, Any] | None) -> str:
    if trace is None:
        return "—"
    return "✓ matched" if trace.get("matched") else f"✗ {trace.get('reason')}"
