"""Policy analysis: compare, sensitivity and optimize commands, and the policy notebooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from analysis.compare import compare, paired_differences
from analysis.sensitivity import assumed_parameters, problem, scenario_at
from sim.cli import main
from sim.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS, small

FAST = ["--agents", "3000", "--days", "95", "--quiet"]


def test_compare_uses_common_random_numbers_and_reports_paired_differences():
    a, b = small("historical_2025", agents=4000, days=40), small("early_translation", agents=4000, days=40)
    results = compare([a, b], runs=3, executor=1)
    assert [r.run for r in results["early_translation"]] == [0, 1, 2]
    same = compare([a, a.model_copy(update={"name": "copy"})], runs=3, executor=1)
    diff = paired_differences(same, "total_signups")["copy"]
    assert diff == {"median": 0.0, "p10": 0.0, "p90": 0.0, "p_sign": None}  # identical scenarios: zero in every run


def test_compare_command_writes_table_csv_and_plot(tmp_path):
    out = tmp_path / "cmp"
    argv = [
        "compare",
        str(SCENARIOS / "historical_2025.yaml"),
        str(SCENARIOS / "no_ban.yaml"),
        "--runs",
        "3",
        "--out",
        str(out),
        *FAST,
    ]
    assert main(argv) == 0
    md = (out / "comparison.md").read_text()
    assert "Paired difference to `historical_2025`" in md and "| no_ban |" in md
    rows = json.loads((out / "comparison.json").read_text())
    assert rows[0]["total_signups_diff"] is None and rows[1]["total_signups_diff"]["median"] < 0
    assert (out / "comparison.csv").read_text().startswith("scenario,peak_us_rednote_dau_median")
    assert (out / "compare_dau.png").stat().st_size > 10_000


def test_every_sensitivity_factor_applies_at_both_ends_of_its_range():
    base = small(agents=2000, days=95)
    prob = problem()
    for name, (lo, hi) in zip(prob["names"], prob["bounds"]):
        for value in (lo, hi):
            scenario_at(base, {name: value})  # validates: no out-of-range parameter
    s = scenario_at(base, {"translation_start": 22, "outage_hours": 180 * 24})
    assert s.platform.translation.start.isoformat() == "2025-01-23"  # 22 days after the start (1 Jan)
    assert s.timeline.tiktok_outages[0].hours == pytest.approx(180 * 24)
    assert s.timeline.app_store_removals[0].returned.isoformat() == "2025-07-17"  # not back in the stores while dark


def test_the_assumption_screen_covers_every_assumed_parameter_the_fit_leaves_and_applies_each_at_both_ends():
    from sim.calibration import FREE_PARAMETERS
    from sim.params import iter_parameters
    from sim.scenario import get_path

    base = small(agents=2000, days=95)
    assumed = assumed_parameters(base)
    sources = {path: str((info.json_schema_extra or {}).get("source", "")) for path, info in iter_parameters()}
    assert len(assumed) > 50 and all("assumption" in sources[p].lower() for p in assumed)
    assert not set(assumed) & set(FREE_PARAMETERS) and not any(p.startswith("observation.") for p in assumed)
    assert {"platform.real_name.credential_share", "platform.moderation.review_capacity"} <= set(assumed)
    assert "platform.translation.quality" not in assumed  # screened once, now inferred (SCREENED_ASSUMPTIONS)
    prob = problem(assumed=assumed)
    for name, (lo, hi) in zip(prob["names"], prob["bounds"]):
        value = get_path(base, name)
        assert 10**lo == pytest.approx(max(value / 2, 10**lo)) and 10**hi <= 2 * value * (1 + 1e-12), name
        for x in (lo, hi):
            assert get_path(scenario_at(base, {name: x}), name) == pytest.approx(10**x), name  # validates too


def test_sensitivity_command_morris(tmp_path):
    out = tmp_path / "sens"
    assert main(["sensitivity", "--samples", "2", "--runs-per-point", "1", "--out", str(out), *FAST]) == 0
    md = (out / "sensitivity.md").read_text()
    assert "## Which levers matter" in md and "Day-90 retention" in md
    # the summary comes before the factor table, which stays in one piece (header, rule, rows)
    assert md.index("## Which levers matter") < md.index("| factor | kind |")
    assert "| factor | kind | range | meaning |\n|---|---|---|---|\n| `" in md
    data = json.loads((out / "indices.json").read_text())
    assert set(data["indices"]) == {"retention_day90", "peak_us_rednote_dau", "moderation_load"}
    assert len(data["indices"]["retention_day90"]["mu_star"]) == len(problem()["names"])
    assert (out / "indices.png").stat().st_size > 10_000


def test_optimize_command_finds_a_pareto_front(tmp_path):
    out = tmp_path / "opt"
    assert main(["optimize", "--trials", "6", "--runs-per-trial", "1", "--out", str(out), *FAST]) == 0
    data = json.loads((out / "pareto.json").read_text())
    assert 1 <= len(data["pareto"]) <= 6 and len(data["trials"]) == 6
    front = data["pareto"]
    for p in front:  # nobody on the front is dominated by another trial
        for q in data["trials"]:
            better_or_equal = (q["retention_day90"] >= p["retention_day90"] and q["cross_cultural_ties"] >= p["cross_cultural_ties"]
                               and q["wrongful_bans"] <= p["wrongful_bans"] and q["peak_review_backlog"] <= p["peak_review_backlog"])  # fmt: skip
            strictly = (q["retention_day90"], q["cross_cultural_ties"], -q["wrongful_bans"], -q["peak_review_backlog"]) != (
                p["retention_day90"], p["cross_cultural_ties"], -p["wrongful_bans"], -p["peak_review_backlog"])  # fmt: skip
            assert not (better_or_equal and strictly)
    table = (out / "optimize.md").read_text()
    assert "Pareto-optimal" in table
    assert not re.search(r"\d\.\d{4,}", table)  # numbers shown to three significant figures, not 0.774471575757361


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["compare", "scenarios/no_ban.yaml"], "give at least two scenario files"),
        (["compare", "scenarios/no_ban.yaml", "scenarios/no_ban.yaml"], "scenario names must differ"),
        (["sensitivity", "--method", "fast"], "argument --method: invalid choice"),
        (["sensitivity", "--method", "sobol", "--samples", "6"], "must be a power of 2 for sobol"),
        (["sensitivity", "--days", "30"], "--days: must be a whole number from 91"),
        (["optimize", "--trials", "1"], "--trials: must be a whole number from 2"),
    ],
)
def test_bad_arguments_of_the_analysis_commands(argv, expected, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


NOTEBOOKS = sorted((ROOT / "analysis" / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_policy_notebook_runs_at_its_default_size(path: Path):
    nb = nbformat.read(path, as_version=4)
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), "needs a tagged parameters cell"
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "1." in printed and "Traceback" not in printed
    assert any(o.get("output_type") == "display_data" for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_effect_says_raises_or_lowers_only_when_the_paired_band_excludes_zero():
    from analysis.compare import effect
    from sim.ensemble import RunResult

    def runs(values):
        return [RunResult(run=i, series={}, metrics={"m": v}, peak_day=0) for i, v in enumerate(values)]

    base = runs([1.0, 2.0, 3.0, 4.0, 5.0])
    results = {"base": base, "up": runs([2.0, 3.1, 3.9, 5.2, 6.0]), "mixed": runs([0.5, 2.5, 2.8, 4.6, 4.9])}
    verb, band = effect(results, "base", "up", "m")
    assert verb == "raises" and band["p10"] > 0
    assert effect(results, "base", "mixed", "m")[0] == "does not measurably change"
    assert effect({"base": base, "down": runs([0.0, 1.0, 2.0, 3.0, 4.0])}, "base", "down", "m")[0] == "lowers"


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_sensitivity_pairs_the_runs_of_a_trajectory_and_gives_each_trajectory_its_own_draws(monkeypatch, method):
    """The points of a Morris trajectory (a Sobol base sample) share run indices, so each elementary effect is
    a paired difference; trajectories use different runs, so with a posterior fit the indices average over
    groups x runs posterior draws instead of the same two."""
    from types import SimpleNamespace

    import analysis.sensitivity as sensitivity

    calls: list[int] = []

    def fake_run(scenario, run):
        calls.append(run)
        return SimpleNamespace(metrics=dict.fromkeys(sensitivity.OUTPUTS, 1.0))

    monkeypatch.setattr(sensitivity, "run_one", fake_run)
    base = load_scenario(SCENARIOS / "historical_2025.yaml")
    prob = problem()
    X = sensitivity.sample(method, prob, 4, 0)
    sensitivity.run_design(base, prob, X, 2, method=method)
    size = sensitivity.group_size(method, prob)
    assert len(X) == 4 * size and calls == [2 * (i // size) + k for i in range(len(X)) for k in range(2)]
    assert len(set(calls)) == 8  # 4 groups x 2 runs: 8 posterior draws
