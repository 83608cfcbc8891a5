"""Flags are readable by later rules of the same concern (issue 10): a layer is evaluated
in flag-dependency order whatever the priorities; a cycle is a located ``flag_cycle``
error; a flag set only in a later layer stays ``flag_not_yet_set``."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mamcrawler.engine import decide
from mamcrawler.engine.policy.loader import load_policy_with_issues
from mamcrawler.facts import Account, FactSnapshot, UserClass

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
POLICIES = Path(__file__).resolve().parents[3] / "policies"


def policies_with(tmp_path: Path, file: str, rules: str) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target, ignore=shutil.ignore_patterns("tests"))
    path = target / file
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + rules, encoding="utf-8")
    return target


def rule(rule_id: str, priority: int, when: str, then: str) -> str:
    return f"""
  - id: {rule_id}
    priority: {priority}
    description: "test"
    subject: account
    when: {when}
    then: {{reason: {rule_id}, {then}}}
"""


ACCOUNT = Account(
    user_class=UserClass.VIP,
    ratio=2.0,
    uploaded_bytes=400,
    downloaded_bytes=200,
    bonus_points=3000,
    vip_until=NOW + timedelta(days=60),
    unsatisfied_count=0,
    unsatisfied_limit=150,
)


def test_a_rule_reads_a_flag_set_by_a_lower_priority_rule_of_its_own_layer(tmp_path: Path) -> None:
    rules = rule(
        "reader", 999, "{fact: flags.test_rich, eq: true}", "actions: [{do: Alert, with: {code: saw_flag}}]"
    ) + rule("setter", 1, "{fact: account.ratio, ge: 1.5}", "flag: test_rich")
    policy, issues = load_policy_with_issues(policies_with(tmp_path, "snatch.yaml", rules))
    assert policy is not None, issues

    batch = decide(policy, FactSnapshot(taken_at=NOW, account=ACCOUNT), now=NOW)

    assert "test_rich" in batch.flags
    assert [a.code for a in batch.actions if a.type == "Alert"] == ["saw_flag"]  # type: ignore[attr-defined]
    reader = next(r for r in batch.records if r.rule_id == "reader")
    assert reader.outcome == "planned"


def test_the_ratio_freeze_is_detected_and_acted_on_inside_ratio_yaml() -> None:
    policy, issues = load_policy_with_issues(POLICIES)
    assert policy is not None, issues
    pause = policy.rule("pause_paid_download_in_freeze")
    setters = {r.concern for r in policy.rules if r.flag == "ratio_freeze"}
    assert pause.concern in setters and "flags.ratio_freeze" in pause.facts
    low = ACCOUNT.model_copy(update={"ratio": 1.02, "uploaded_bytes": 204})
    batch = decide(policy, FactSnapshot(taken_at=NOW, account=low), now=NOW)
    assert "FreezeDownloads" in [a.type for a in batch.actions]


def test_rules_reading_each_others_flags_are_a_located_flag_cycle(tmp_path: Path) -> None:
    rules = rule("ping", 10, "{fact: flags.test_pong, eq: true}", "flag: test_ping") + rule(
        "pong", 20, "{fact: flags.test_ping, eq: true}", "flag: test_pong"
    )
    directory = policies_with(tmp_path, "snatch.yaml", rules)

    policy, issues = load_policy_with_issues(directory)

    assert policy is None
    cycle = [i for i in issues if i.code == "flag_cycle"]
    assert len(cycle) == 2 and all(i.file.endswith("snatch.yaml") and i.line > 1 for i in cycle)


def test_a_flag_set_only_in_a_later_layer_is_not_yet_set(tmp_path: Path) -> None:
    directory = policies_with(
        tmp_path, "vip.yaml", rule("early_reader", 10, "{fact: flags.snatch_limit, eq: true}", "flag: test_early")
    )

    policy, issues = load_policy_with_issues(directory)

    assert policy is None
    assert [i.code for i in issues] == ["flag_not_yet_set"]
