"""``mamcrawler policy check|test|schema`` and the policy keeper: planted errors are all
reported with ``file:line:col`` and no traceback, the committed schema matches the models
and validates every bundled policy, the bundled policy tests pass with full rule
coverage, and a daemon keeps its previous policy when an edit fails its tests."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from mamcrawler.app.cli.main import main
from mamcrawler.app.runtime.policy_keeper import PolicyKeeper
from mamcrawler.engine import load_policy
from mamcrawler.engine.policy.cases import policy_test_problems, run_policy_tests
from mamcrawler.engine.policy.schema import policy_schema_text

ROOT = Path(__file__).resolve().parents[3]
POLICIES = ROOT / "policies"
MAMCRAWLER = Path(sys.executable).parent / "mamcrawler"


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_three_planted_errors_are_all_printed_located_without_a_traceback(policy_dir: Path) -> None:
    replace(policy_dir / "vip.yaml", "floor_days: 7 ", "floor_days: seven ")
    replace(policy_dir / "ratio.yaml", "    priority: 890\n", "    priorty: 890\n")
    replace(policy_dir / "seeding.yaml", "{do: Reannounce}]", "{do: DeleteEverything}]")
    before = {p: p.read_bytes() for p in policy_dir.rglob("*") if p.is_file()}

    done = subprocess.run([str(MAMCRAWLER), "policy", "check", str(policy_dir)], capture_output=True, text=True)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith(str(policy_dir))]
    assert len(lines) == 3, done.stderr
    vip, ratio, seeding = (policy_dir / n for n in ("vip.yaml", "ratio.yaml", "seeding.yaml"))
    assert lines[0].startswith(f"{ratio}:{line_of(ratio, 'priorty: 890')}:5: unknown_key:")
    assert lines[1].startswith(f"{seeding}:{line_of(seeding, 'DeleteEverything')}:")
    assert "invalid_choice" in lines[1]
    assert lines[2].startswith(f"{vip}:{line_of(vip, 'floor_days: seven')}:3:")
    assert {p: p.read_bytes() for p in policy_dir.rglob("*") if p.is_file()} == before  # nothing written


def test_semantic_errors_are_all_reported_after_the_schema_passes(policy_dir: Path) -> None:
    vip = policy_dir / "vip.yaml"
    replace(vip, "fact: account.vip_days_left\n      lt:", "fact: account.vip_dayz_left\n      lt:")
    replace(vip, "- id: vip_at_risk_points", "- id: vip_at_risk_days")
    replace(vip, "fact: account.can_afford_renewal\n      eq: false", "fact: account.can_afford_renewal\n      gt: 3")

    result = CliRunner().invoke(main, ["policy", "check", str(policy_dir), "--format", "json"])

    assert result.exit_code == 1
    report = json.loads(result.output)
    codes = {(i["code"], i["line"]) for i in report["issues"]}
    assert ("unknown_fact", line_of(vip, "vip_dayz_left")) in codes
    first, second = (i for i, line in enumerate(vip.read_text().splitlines(), 1) if "- id: vip_at_risk_days" in line)
    assert ("duplicate_rule_id", second) in codes and ("duplicate_rule_id", first) not in codes
    assert ("kind_mismatch", line_of(vip, "gt: 3") - 1) in codes
    assert len(report["issues"]) == 3
    assert all(i["file"] == str(vip) for i in report["issues"])


def test_check_passes_on_the_bundled_policies() -> None:
    result = CliRunner().invoke(main, ["policy", "check", str(POLICIES)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "42 rules" in result.output


def test_committed_schema_matches_the_models() -> None:
    committed = (ROOT / "policies.schema.json").read_text(encoding="utf-8")
    fix = "run `mamcrawler policy schema --output policies.schema.json`"
    assert committed == policy_schema_text(), f"policies.schema.json drifted from the models: {fix}"
    result = CliRunner().invoke(main, ["policy", "schema"])
    assert result.output == committed


def test_every_bundled_policy_file_validates_against_the_schema() -> None:
    schema = json.loads((ROOT / "policies.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    yaml = YAML(typ="safe")
    for path in sorted(POLICIES.glob("*.yaml")):
        errors = list(validator.iter_errors(yaml.load(path.read_text())))
        assert not errors, f"{path.name}: {errors[0].message}"


def test_the_schema_rejects_what_the_loader_rejects() -> None:
    schema = json.loads((ROOT / "policies.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    yaml = YAML(typ="safe")
    doc = yaml.load((POLICIES / "ratio.yaml").read_text())
    doc["rules"][0]["priorty"] = 5
    assert list(validator.iter_errors(doc))
    doc = yaml.load((POLICIES / "vip.yaml").read_text())
    doc["kind"] = "vipp"
    assert list(validator.iter_errors(doc))


def test_bundled_policy_tests_pass_with_full_rule_coverage() -> None:
    report = run_policy_tests(POLICIES, load_policy(POLICIES))
    assert report.failures(1.0) == []
    assert len(report.results) >= 30
    assert report.coverage == 1.0


def test_a_failing_case_is_reported_where_it_is_written(policy_dir: Path) -> None:
    # Raise the VIP floor: the "exactly 7 days" case now sees VIP at risk.
    replace(policy_dir / "vip.yaml", "floor_days: 7 ", "floor_days: 8 ")

    result = CliRunner().invoke(main, ["policy", "test", str(policy_dir)])

    assert result.exit_code == 1
    cases = policy_dir / "tests" / "vip.yaml"
    where = f"{cases}:{line_of(cases, 'VIP exactly 7 days left')}:5: case_failed:"
    assert where in result.output
    assert "FAIL" in result.output


def test_coverage_below_the_threshold_fails(policy_dir: Path) -> None:
    for name in ("ratio.yaml", "seeding.yaml", "library.yaml"):
        (policy_dir / "tests" / name).unlink()

    result = CliRunner().invoke(main, ["policy", "test", str(policy_dir), "--format", "json"])

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["coverage"] < 0.9
    assert report["rules"]["stop_worthless_seed"] == 0
    assert any("rule coverage" in f and "stop_worthless_seed" in f for f in report["failures"])


def test_malformed_case_file_is_located(policy_dir: Path) -> None:
    (policy_dir / "tests" / "broken.yaml").write_text("cases:\n  - name: x\n    expct: []\n")
    result = CliRunner().invoke(main, ["policy", "test", str(policy_dir)])
    assert result.exit_code == 1
    assert f"{policy_dir / 'tests' / 'broken.yaml'}:3:5: unknown_key:" in result.output


def test_keeper_keeps_the_previous_policy_when_an_edit_fails_its_tests(policy_dir: Path) -> None:
    keeper = PolicyKeeper(policy_dir, policy_test_problems())
    first = keeper.load_initial()

    replace(policy_dir / "vip.yaml", "floor_days: 7 ", "floor_days: 8 ")  # valid, but breaks a case
    assert keeper.refresh() is first
    assert keeper.history[-1] == f"rejected change, kept {first.version}"

    replace(policy_dir / "vip.yaml", "floor_days: 8 ", "floor_days: 7 ")
    replace(policy_dir / "pacing.yaml", "daily_downloads: 10", "daily_downloads: 12")  # valid and passing
    second = keeper.refresh()
    assert second is not first and second.pacing.daily_downloads == 12
    assert keeper.history[-1] == f"switched {first.version} -> {second.version}"


def test_keeper_refuses_to_start_on_failing_policy_tests(policy_dir: Path) -> None:
    from mamcrawler.errors import PolicyError

    replace(policy_dir / "vip.yaml", "floor_days: 7 ", "floor_days: 8 ")
    with pytest.raises(PolicyError) as caught:
        PolicyKeeper(policy_dir, policy_test_problems()).load_initial()
    assert any(i.code == "case_failed" and i.file.endswith("tests/vip.yaml") for i in caught.value.issues)
