"""Calibration and validation: targets, the fit's provenance, and the two commands."""

from __future__ import annotations

import math

import pytest
import yaml

from sim.calibration import FREE_PARAMETERS, Target, distance, targets, with_parameters
from sim.cli import main
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS, small


def test_targets_come_from_the_observations_file_and_split_fit_and_held_out():
    ts = targets()
    assert len({t.name for t in ts}) == len(ts)
    fit, held = [t for t in ts if not t.held_out], [t for t in ts if t.held_out]
    assert len(fit) >= 5 and len(held) >= 2
    by_name = {t.name: t for t in ts}
    assert by_name["dau_6jan"].observed == 300_000
    assert by_name["jump_13_over_12"].observed == pytest.approx(3.4e6 / 0.7e6)
    assert by_name["hashtag_growth_13_14"].observed == pytest.approx(27e6 / 0.39e6)
    assert by_name["hashtag_growth_13_14"].held_out and by_name["jump_13_over_12"].bound == "lower"


def test_z_scores_log_scale_and_upper_bounds():
    t = Target("x", "", 100.0, lambda s, x: 0.0, sigma=0.5)
    assert t.z(100.0) == 0 and t.z(100 * math.e) == pytest.approx(2.0)
    bound = Target("b", "", 100.0, lambda s, x: 0.0, sigma=0.1, bound="upper")
    assert bound.z(50.0) == 0 and bound.z(100 * math.e) == pytest.approx(10.0)
    assert bound.inside(40.0, 300.0) and not bound.inside(120.0, 300.0)
    floor = Target("f", "", 100.0, lambda s, x: 0.0, sigma=0.1, bound="lower")
    assert floor.z(500.0) == 0 and floor.z(100 / math.e) == pytest.approx(-10.0)
    assert floor.inside(20.0, 150.0) and not floor.inside(20.0, 90.0)
    assert floor.consistent(20.0, 95.0) and not floor.consistent(20.0, 80.0)
    assert t.inside(90.0, 110.0) and not t.inside(101.0, 110.0)


def test_held_out_targets_do_not_enter_the_distance():
    stats = {t.name: [t.observed] for t in targets()}
    assert distance(stats) == pytest.approx(0.0)
    for t in targets():
        if t.held_out:
            stats[t.name] = [t.observed * 100]
    assert distance(stats) == pytest.approx(0.0)


def test_with_parameters_sets_only_the_named_values():
    s = small()
    changed = with_parameters(s, {"us_users.habit": 0.25, "cn_users.trend_rate": 2.0})
    assert changed.us_users.habit == 0.25 and changed.cn_users.trend_rate == 2.0
    assert changed.us_users.peer_influence == s.us_users.peer_influence


@pytest.mark.xfail(
    strict=True, reason="issue 12: the fit predates the smooth Chinese attention parameters; re-run `python run.py calibrate`"
)
def test_historical_scenario_carries_its_fit_with_provenance():
    s = load_scenario(SCENARIOS / "historical_2025.yaml")
    cal = s.calibration
    assert cal is not None and set(cal.parameters) == set(FREE_PARAMETERS)
    assert not set(cal.targets) & set(cal.held_out)
    for path, spread in cal.parameters.items():
        section, key = path.split(".")
        assert getattr(getattr(s, section), key) == pytest.approx(spread.best)
        assert spread.lower <= spread.p10 <= spread.median <= spread.p90 <= spread.upper
    assert len(cal.good_fits) >= 5 and cal.distance <= cal.good_fit_distance


def test_calibrate_command_writes_a_usable_fit_no_worse_than_the_start(tmp_path):
    fit, report = tmp_path / "fit.yaml", tmp_path / "report"
    args = [
        str(SCENARIOS / "historical_2025.yaml"),
        "--budget",
        "6",
        "--runs-per-point",
        "1",
        "--agents",
        "3000",
        "--quiet",
    ]
    assert main(["calibrate", *args, "--fit-file", str(fit), "--report", str(report)]) == 0
    doc = yaml.safe_load(fit.read_text())
    assert doc["calibration"]["budget"] == 6 and doc["calibration"]["held_out"]
    trials = (report / "trials.csv").read_text().splitlines()
    assert len(trials) == 7 and trials[0].startswith("distance,")
    # the best is chosen on fresh replicate runs, among the trials of the search
    searched = [dict(zip(trials[0].split(",")[1:], map(float, line.split(",")[1:]))) for line in trials[1:]]
    assert any(
        all(abs(t[f"{sec}.{k}"] - v) <= 1e-5 * abs(v) for sec in ("us_users", "cn_users") for k, v in doc[sec].items())
        for t in searched
    )
    assert doc["calibration"]["distance"] <= doc["calibration"]["good_fit_distance"]
    # a scenario extending the fit file loads and uses the fitted values
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {fit.name}\nname: child\n")
    loaded = load_scenario(child)
    assert loaded.us_users.habit == pytest.approx(doc["us_users"]["habit"])
    # the same seed gives the same fit
    fit2 = tmp_path / "fit2.yaml"
    assert main(["calibrate", *args, "--fit-file", str(fit2), "--report", str(tmp_path / "r2")]) == 0
    assert yaml.safe_load(fit2.read_text())["us_users"] == doc["us_users"]


def test_validate_command_writes_a_report_covering_every_observation(tmp_path):
    out = tmp_path / "val"
    assert main(["validate", "--runs", "4", "--agents", "4000", "--days", "40", "--out", str(out), "--quiet"]) == 0
    report = (out / "report.md").read_text()
    for t in targets():
        assert t.description in report
    assert "held out" in report and "## Where the model misses" in report and "## Fitted parameters" in report
    for png in ("fit_january.png", "band_width_by_runs.png", "parameters.png"):
        assert (out / png).stat().st_size > 5000


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["calibrate", "scenarios/historical_2025.yaml", "--budget", "0"], "--budget: must be a whole number from 1"),
        (["calibrate"], "the following arguments are required: scenario"),
        (["calibrate", "nope.yaml"], "nope.yaml: file not found"),
        (["validate", "--runs", "1"], "--runs: must be a whole number from 3"),
        (["validate", "--scenario", "nope.yaml"], "nope.yaml: file not found"),
        (["validate", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_of_calibrate_and_validate(argv, expected, capsys, monkeypatch, root):
    monkeypatch.chdir(root)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
