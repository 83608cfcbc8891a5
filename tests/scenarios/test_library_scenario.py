"""The bundled ``library_work`` scenario: library and metadata work are decisions like any
other — an inferior finished download refused (§14), a failed integrity check (§13: the
release marked bad, the book fetched again from the next-best release), a better edition
swapped in (§16) and metadata corrections (§15) each appear as a record with its rule and
reason in ``mamcrawler simulate`` and its JSONL, and the simulated library changes only
by the actions applied."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from mamcrawler.app.cli.main import main
from mamcrawler.engine import load_policy, read_journal
from mamcrawler.sim.run import simulate
from mamcrawler.sim.scenario_file import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "library_work.yaml"


def test_each_library_decision_is_recorded_with_its_reason_and_applied() -> None:
    result = simulate(load_scenario(SCENARIO), load_policy(ROOT / "policies"))
    planned = {(r.rule_id, r.reason, r.actions[0].type) for r in result.records() if r.outcome == "planned"}
    assert ("refuse_inferior_download", "inferior_edition_refused", "RefuseEdition") in planned
    assert ("integrity_failed_redownload", "integrity_failed", "MarkReleaseBad") in planned
    assert ("swap_in_better_download", "superior_edition_swapped_in", "SwapEdition") in planned
    assert ("correct_metadata", "metadata_corrected", "UpdateMetadata") in planned
    world, s = result.world, result.summary
    assert world.library["abs-dune"].bitrate_kbps == 128 and s.swaps[0][1] == "abs-dune"
    assert world.library["abs-emma"].bitrate_kbps == 128  # the refused 64 kbps edition never entered
    assert world.library["abs-emma"].series == "Emma (Penguin Classics)"
    assert world.library["abs-dune"].narrators == ("Scott Brick",)
    assert [what for _, what, _ in s.integrity_failures] == ["solaris-bad"]
    assert [d.release_id for d in result.download_log if d.book_key == "solaris|stanislaw lem"] == [
        "solaris-bad",
        "solaris-ok",
    ]  # the next-best release, never the bad one again
    assert "abs-solaris-ok" in world.library
    assert any(r.rule_id == "correct_metadata" and r.facts["metadata.source"] == "provider" for r in result.records())


def test_simulate_shows_the_library_records_and_writes_them_as_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "library.jsonl"
    shown = CliRunner().invoke(
        main, ["simulate", str(SCENARIO), "--policies", str(ROOT / "policies"), "--json", str(out)]
    )
    assert shown.exit_code == 0, shown.output
    for text in ("RefuseEdition", "MarkReleaseBad", "SwapEdition", "UpdateMetadata", "inferior_edition_refused"):
        assert text in shown.output
    records = read_journal(out.read_text(encoding="utf-8").splitlines())
    kinds = {r.subject_kind for r in records if r.outcome == "planned"}
    assert {"download", "metadata"} <= kinds
