"""``mamcrawler simulate`` and ``mamcrawler explain``: the dry-run simulator's command line.

``simulate`` loads a scenario and a policy directory (every located error printed, exit 1,
nothing written), plays the scenario with ``sim.run`` and prints a rich
decision table — planned actions plus blocked / guarded / capped / skipped ones with
what stopped them, consecutive repeats folded into one row — and a summary. ``--json``
writes every decision record as JSONL; ``--explain fails|full`` prints the rule-by-rule
traces. ``explain`` prints one record of such a journal in full. Imports click, rich,
``engine`` and ``sim``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mamcrawler.app.cli.economy_view import final_plan, plan_table
from mamcrawler.engine import DecisionRecord, load_policy, read_journal
from mamcrawler.engine.actions import Action
from mamcrawler.engine.rules.evaluators import evaluator_named
from mamcrawler.errors import LocatedErrors
from mamcrawler.paths import refuse_env_file, write_private
from mamcrawler.sim.run import SimulationResult
from mamcrawler.sim.run import simulate as run_simulation
from mamcrawler.sim.scenario import format_duration
from mamcrawler.sim.scenario_file import load_scenario

SHOWN = ("planned", "blocked", "guarded", "capped", "skipped")
STYLE = {"planned": "green", "blocked": "red", "guarded": "yellow", "capped": "magenta", "skipped": "dim"}


def _console() -> Console:
    return Console(width=max(100, shutil.get_terminal_size((160, 40)).columns), highlight=False)


def _fail_located(err: LocatedErrors, what: str) -> None:
    for issue in err.issues:
        click.echo(str(issue), err=True)
    click.echo(f"{len(err.issues)} problem(s) in the {what}; nothing was run or written.", err=True)
    raise SystemExit(1)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--policies", "policies_dir", default="policies", show_default=True, type=click.Path(path_type=Path))
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), help="Write records as JSONL.")
@click.option("--explain", "explain_mode", type=click.Choice(["fails", "full"]), help="Show rule-by-rule traces.")
@click.option("--evaluator", "evaluator_name", type=click.Choice(["reference", "durable"]), default="reference")
def simulate(
    scenario: Path, policies_dir: Path, json_file: Path | None, explain_mode: str | None, evaluator_name: str
) -> None:
    """Run the dry-run simulator on SCENARIO: decisions, then a summary."""
    if json_file is not None:
        refuse_env_file(json_file, "--json")  # §27: checked before anything runs
    try:
        loaded = load_scenario(scenario)
    except LocatedErrors as err:
        _fail_located(err, "scenario")
    try:
        policy = load_policy(policies_dir)
    except LocatedErrors as err:
        _fail_located(err, "policy")
    try:
        result = run_simulation(loaded, policy, evaluator=evaluator_named(evaluator_name))
    except ValueError as err:  # a policy override the policy does not have
        click.echo(f"{scenario}: {err}; nothing was run or written.", err=True)
        raise SystemExit(1) from None
    console = _console()
    rows, hidden = fold(result)
    console.print(decision_table(result, rows))
    if hidden:
        console.print(
            f"({hidden} repeated records about actions already planned — e.g. a book already added — are not shown;"
            " --json keeps every record.)",
            style="dim",
        )
    if explain_mode:
        print_explanations(console, result, rows, full=explain_mode == "full")
    print_summary(console, result)
    if (plan := final_plan(result, policy)) is not None:
        console.print(plan_table(plan))
    if json_file is not None:
        write_private(json_file, result.to_jsonl())
        console.print(f"wrote {sum(1 for _ in result.records())} decision records to {json_file}")


# --- the decision table --------------------------------------------------------------------
@dataclass
class TableRow:
    first: DecisionRecord
    until: datetime
    count: int = 1


def describe(action: Action) -> str:
    """One short line per action for the table (the action's own label)."""
    return action.label()


def subject_name(result: SimulationResult, record: DecisionRecord) -> str:
    if record.subject_kind == "torrent":
        return f"torrent {result.name_of(record.subject_id)}"
    if record.subject_kind == "download":
        return f"download {result.name_of(record.subject_id)}"
    if record.subject_kind == "metadata":
        item, _, name = record.subject_id.partition(":")
        return f"{item} {name}"
    if record.subject_kind == "candidate":
        release = result.world.releases.get(str(record.ladder.get("release_id", "")))
        title = release.title if release is not None else record.subject_id.split("|")[0]
        return f"book {title}"
    return record.subject_kind


def _key(record: DecisionRecord) -> tuple[Any, ...]:
    acts = tuple(describe(a) for a in record.actions)
    return (
        record.subject_kind,
        record.subject_id,
        record.rule_id,
        record.outcome,
        record.reason,
        record.blocked_by,
        acts,
    )


def _target(action: Action) -> tuple[str, str | None]:
    """What an action does to what, ignoring how it was priced (free vs bought freeleech)."""
    return action.type, getattr(action, "release_id", None) or getattr(action, "hash", None)


def fold(result: SimulationResult) -> tuple[list[TableRow], int]:
    """Shown records in time order; a record repeated tick after tick becomes one row, and
    a blocked repeat of actions already planned for the same subject (a book already added,
    stopped as a duplicate) is counted, not shown. Returns the rows and the hidden count."""
    rows: list[TableRow] = []
    open_rows: dict[tuple[Any, ...], TableRow] = {}
    done: set[tuple[Any, ...]] = set()
    hidden = 0
    for tick in result.ticks:
        if tick.batch is None:
            continue
        still: dict[tuple[Any, ...], TableRow] = {}
        for record in tick.batch.records:
            if record.outcome not in SHOWN:
                continue
            key = _key(record)
            what = (record.subject_kind, record.subject_id, tuple(_target(a) for a in record.actions))
            if record.outcome == "planned":
                done.add(what)
            elif what in done:
                hidden += 1
                continue
            row = open_rows.get(key) or still.get(key)
            if row is None:
                row = TableRow(record, record.decided_at)
                rows.append(row)
            elif key not in still:
                row.count += 1
                row.until = record.decided_at
            still[key] = row
        open_rows = still
    return rows, hidden


def _when(row: TableRow) -> str:
    text = row.first.decided_at.strftime("%a %d %H:%M")
    if row.count > 1:
        text += f"\n… {row.until.strftime('%a %d %H:%M')} ×{row.count}"
    return text


def decision_table(result: SimulationResult, rows: list[TableRow]) -> Table:
    table = Table(title=f"Decisions — {result.scenario.name}", show_lines=False, expand=False)
    for name in ("time", "subject", "rule", "outcome", "actions", "reason / stopped by"):
        table.add_column(name, overflow="fold")
    for row in rows:
        r = row.first
        why = r.reason if r.blocked_by in (None, r.reason) else f"{r.reason} (by {r.blocked_by})"
        if r.caps:
            why += f" caps: {', '.join(r.caps)}"
        table.add_row(
            _when(row),
            subject_name(result, r),
            r.rule_id or "—",
            Text(r.outcome, style=STYLE.get(r.outcome, "")),
            "\n".join(describe(a) for a in r.actions) or "—",
            why,
        )
    return table


# --- explanations ----------------------------------------------------------------------------
def _condition(c: dict[str, Any]) -> str:
    mark = "✓" if c.get("result") else "✗"
    param = f" (param {c['param']})" if c.get("param") else ""
    return (
        f"{mark} {c.get('fact')} {c.get('op')} {c.get('expected')!r}{param}: actual {c.get('actual')!r}"
        f" — {c.get('reason')}"
    )


def trace_lines(trace: Iterable[dict[str, Any]], *, only_fails: bool) -> list[str]:
    lines = []
    for entry in trace:
        if entry.get("matched"):
            lines.append(f"  ✓ {entry.get('rule')}: rule_matched")
            if only_fails:
                continue
        else:
            lines.append(f"  ✗ {entry.get('rule')}: {entry.get('reason')}")
        for c in entry.get("conditions", []):
            if only_fails and c.get("result"):
                continue
            lines.append(f"      {_condition(c)}")
    return lines


def print_explanations(console: Console, result: SimulationResult, rows: list[TableRow], *, full: bool) -> None:
    console.rule("Why (rule-by-rule traces)" if full else "Why not (blocked or guarded decisions)")
    seen: set[tuple[str, str]] = set()
    for row in rows:
        r = row.first
        if not full:
            if r.outcome not in ("blocked", "guarded") or (r.subject_kind, r.subject_id) in seen:
                continue
            seen.add((r.subject_kind, r.subject_id))
        console.print(
            Text(f"{r.decided_at:%a %d %H:%M} {subject_name(result, r)} — {r.rule_id} {r.outcome}: {r.reason}", "bold")
        )
        if r.blocked_by and r.blocked_by != r.rule_id:
            console.print(f"  stopped by: {r.blocked_by}")
        for line in trace_lines(r.trace, only_fails=not full):
            console.print(line, markup=False)


# --- the summary ---------------------------------------------------------------------------
def print_summary(console: Console, result: SimulationResult) -> None:
    s, sc = result.summary, result.scenario
    acc = sc.account
    table = Table(title="Summary", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    end = sc.start + s.ticks * sc.tick
    span = f"{sc.start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}"
    table.add_row("scenario", f"{sc.name}: {span}, {s.ticks} ticks of {format_duration(sc.tick)}")
    table.add_row("policy", f"{result.policy_hash[:12]} (evaluator {result.evaluator})")
    start_ratio = acc.uploaded_gib / acc.downloaded_gib
    low = f"min {s.min_ratio:.3f} at {s.min_ratio_at:%a %d %H:%M}"
    table.add_row("ratio", f"{start_ratio:.3f} → {s.final_ratio:.3f}; {low}")
    vip_low = f"min {s.min_vip_days:.1f} at {s.min_vip_at:%a %d %H:%M}"
    table.add_row("VIP days", f"{acc.vip_days:.1f} → {s.final_vip_days:.1f}; {vip_low}")
    spent = s.points_spent
    table.add_row(
        "points",
        f"{acc.bonus_points:,} → {s.final_points:,}; spent: VIP {spent['vip']:,}, "
        f"upload credit {spent['upload_credit']:,}, personal freeleech {spent['personal_freeleech']:,}",
    )
    d = s.downloads
    table.add_row(
        "downloads",
        f"free {d['free']}, wedged {d['wedge']}, bought with points {d['points']}, "
        f"ratio-costing {d['ratio_costing']}; completed {s.completed}",
    )
    table.add_row("wedges", f"{acc.wedges} → {s.final_wedges}")
    table.add_row("VIP pending", ", ".join(f"{title} ({rid})" for rid, title in s.vip_pending) or "empty")
    table.add_row("wishlist", ", ".join(s.wishlist) or "empty")
    table.add_row("removals", ", ".join(f"{name} ({at:%a %d %H:%M})" for at, name in s.removals) or "none")
    if s.replacements or s.swaps:
        table.add_row(
            "replacements",
            "; ".join(f"{item} → {rel} ({at:%a %d %H:%M})" for at, item, rel in s.replacements)
            + "".join(f"; swapped {item} ({at:%a %d %H:%M})" for at, item in s.swaps),
        )
    if s.refused_editions:
        table.add_row("refused editions", ", ".join(f"{what} ({at:%a %d %H:%M})" for at, what in s.refused_editions))
    if s.integrity_failures:
        table.add_row(
            "integrity failures",
            ", ".join(f"{what}: {why} ({at:%a %d %H:%M})" for at, what, why in s.integrity_failures),
        )
    if s.metadata:
        table.add_row(
            "metadata", ", ".join(f"{item} {name} from {src} ({at:%a %d %H:%M})" for at, item, name, src in s.metadata)
        )
    table.add_row("ratio freeze", f"{s.freezes} freeze(s), {s.unfreezes} lift(s)")
    if s.alerts:
        table.add_row("alerts", ", ".join(f"{code} ({at:%a %d %H:%M})" for at, code in s.alerts[:5]))
    if s.refused:
        table.add_row("refused by the world", ", ".join(f"{kind} ({at:%a %d %H:%M})" for at, kind in s.refused))
    table.add_row("happened", "\n".join(f"{at:%a %d %H:%M} {what}" for at, what in s.happenings) or "nothing")
    table.add_row("seeding at the end", str(s.seeding_torrents))
    console.print(table)


# --- explain ---------------------------------------------------------------------------------
def _find(records: list[DecisionRecord], wanted: str) -> DecisionRecord:
    exact = [r for r in records if r.decision_id == wanted]
    if exact:
        return exact[0]
    prefixed = {r.decision_id: r for r in records if r.decision_id.startswith(wanted)}
    if len(prefixed) == 1:
        return next(iter(prefixed.values()))
    if len(prefixed) > 1:
        raise click.ClickException(f"decision id prefix {wanted!r} is ambiguous ({len(prefixed)} matches)")
    raise click.ClickException(f"no decision {wanted!r} in the journal")


@click.command()
@click.argument("decision_id")
@click.option("--journal", "journal", required=True, type=click.Path(dir_okay=False, path_type=Path))
def explain(decision_id: str, journal: Path) -> None:
    """Explain one decision from a JSONL journal (as written by simulate --json)."""
    try:
        lines = journal.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise click.ClickException(f"cannot read journal {journal}: {err.strerror or err}") from None
    try:
        records = read_journal(lines)
    except ValidationError as err:
        raise click.ClickException(f"{journal}: not a decision journal ({err.error_count()} problem(s))") from None
    r = _find(records, decision_id)
    console = _console()
    console.print(Text(f"decision {r.decision_id}", style="bold"))
    facts: list[tuple[str, str]] = [
        ("decided at", r.decided_at.isoformat()),
        ("policy", r.policy_hash),
        ("subject", f"{r.subject_kind} {r.subject_id}"),
        ("outcome", f"{r.outcome}: {r.reason}"),
        ("rule", f"{r.rule_id or '—'} at {r.rule_at or '—'}" + (f" ({r.section})" if r.section else "")),
        ("stopped by", r.blocked_by or "—"),
        ("caps", ", ".join(r.caps) or "none"),
        ("redacted", ", ".join(r.redacted) or "none"),
    ]
    for name, value in facts:
        console.print(f"{name:>12}: {value}", markup=False)
    if r.actions:
        console.print("     actions:")
        for a in r.actions:
            console.print(f"    - {json.dumps(a.model_dump(mode='json'), sort_keys=True)}", markup=False)
    if r.facts:
        console.print("  facts used:")
        for key, value in sorted(r.facts.items()):
            console.print(f"    {key} = {value!r}", markup=False)
    if r.ladder:
        console.print("      ladder:")
        for key, value in r.ladder.items():
            console.print(f"    {key}: {json.dumps(value, sort_keys=True, default=str)}", markup=False)
    console.print("       trace:")
    for line in trace_lines(r.trace, only_fails=False):
        console.print(line, markup=False)
