"""Calibration and validation: targets, the fit's provenance, and the two commands."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
import yaml

from sim.calibration import (
    FREE_PARAMETERS,
    Target,
    calibration_scenario,
    company_new_users,
    distance,
    downloads,
    fit_targets,
    free_parameters,
    prior_z,
    similarweb_dau,
    targets,
    with_parameters,
)
from sim.cli import main
from sim.observations import informed_parameters, rows
from sim.params import observation_priors
from sim.scenario import get_path, load_scenario, with_values
from tests.conftest import SCENARIOS, small

SPLIT = dt.date(2025, 1, 16)


def _target(low, high, sigma=0.5, log=True, rows=(), **kw) -> Target:
    return Target("x", "x", low, high, lambda s, x: 0.0, sigma, dt.date(2025, 1, 13), "", "", rows, log=log, **kw)


def test_targets_come_from_the_observations_file_with_intervals_roles_and_dates():
    ts = {t.name: t for t in targets()}
    assert len(ts) == len(targets())
    assert ts["dau_6jan"].observed == 300_000 and ts["dau_6jan"].role() == "fitted"
    assert ts["jump_13_over_12"].low == pytest.approx(3.4e6 / 0.7e6) and ts["jump_13_over_12"].high is None
    assert ts["dau_12jan_upper"].low is None and ts["dau_12jan_upper"].high == 700_000
    # interval statements are intervals, with the reasoning about the wording next to them
    assert (ts["new_users_13_14jan"].low, ts["new_users_13_14jan"].high) == (700_000, 1_000_000)
    assert (ts["downloads_few_weeks"].low, ts["downloads_few_weeks"].high) == (1_200_000, 1_500_000)
    assert all(t.wording for t in ts.values() if t.low != t.high)
    assert ts["hashtag_growth_13_14"].role() == "held out"
    # every observation row that a target compares and that set a parameter makes the target 'informed'
    assert ts["other_app_dau_13jan"].role() == "informed us_users.other_initial_share, us_users.other_join_rate"
    assert all(t.role() != "held out" for t in ts.values() if t.informs)
    # the new sourced figures are in the data file with source and use
    seed003 = [r for r in rows() if r["metric"] == "rednote_us_downloads_few_weeks"]
    assert seed003 and "seed article 003" in seed003[0]["source"] and seed003[0]["use"] == "calibrate"
    assert all(r["use"] in ("calibrate", "validate", "parameter", "context") for r in rows())
    assert informed_parameters("rednote_us_lifetime_downloads", "2025-01-13") == ("population.us_rednote_accounts",)


def test_z_scores_for_points_and_intervals():
    t = _target(100.0, 100.0)
    assert t.z(100.0) == 0 and t.z(100 * math.e) == pytest.approx(2.0)
    upper = _target(None, 100.0, sigma=0.1)
    assert upper.z(50.0) == 0 and upper.z(100 * math.e) == pytest.approx(10.0)
    assert upper.inside(40.0, 300.0) and not upper.inside(120.0, 300.0)
    floor = _target(100.0, None, sigma=0.1)
    assert floor.z(500.0) == 0 and floor.z(100 / math.e) == pytest.approx(-10.0)
    assert floor.inside(20.0, 150.0) and not floor.inside(20.0, 90.0)
    assert floor.consistent(20.0, 95.0) and not floor.consistent(20.0, 80.0)
    between = _target(0.7e6, 1.0e6, sigma=0.2)
    assert between.z(0.8e6) == 0 and between.z(1.0e6 * math.e) == pytest.approx(5.0)
    assert between.z(0.7e6 / math.e) == pytest.approx(-5.0)
    assert between.inside(0.9e6, 3e6) and not between.inside(1.1e6, 3e6)
    assert t.inside(90.0, 110.0) and not t.inside(101.0, 110.0)
    linear = _target(-0.021, -0.021, sigma=0.02, log=False)
    assert linear.z(-0.001) == pytest.approx(1.0) and linear.status(-0.03, 0.01) == "inside"


def test_a_band_wider_than_a_factor_100_is_uninformative_never_inside():
    t = _target(69.2, 69.2, sigma=0.7)
    assert t.status(0.0, 5.64e6) == "uninformative"  # the 14/13 Jan views ratio of the old report
    assert t.status(5.0, 501.0) == "uninformative" and t.status(5.0, 499.0) == "inside"
    assert t.status(100.0, 200.0) == "within tolerance" and t.status(300.0, 400.0) == "miss"
    assert t.status(None, None) == "no value"
    assert _target(-0.021, -0.021, sigma=0.02, log=False).status(-5.0, 5.0) == "inside"  # the rule is for log scales


def test_roles_informed_is_never_held_out_and_conflicting_says_so():
    informed = _target(1.7e6, 1.7e6, rows=(("lemon8_us_dau", "2025-01-13"),))
    assert informed.role(set()) == "informed us_users.other_initial_share, us_users.other_join_rate"
    assert informed.role({"x"}) == "fitted"
    assert _target(1.0, 1.0, conflicting="another source").role(set()) == "conflicting"
    assert _target(1.0, 1.0).role(set()) == "held out" and _target(1.0, 1.0, fit=True).role() == "fitted"


def test_observation_functions_on_hand_made_series():
    s = with_values(small(), {"observation.similarweb_dau_scale": 2.0, "observation.reinstall_share": 0.1,
                              "observation.company_us_share": 0.5}, source="test")  # fmt: skip
    days = s.days
    series = {
        "us_rednote_dau": np.arange(days, dtype=float) * 10,
        "us_rednote_signups": np.full(days, 100.0),
        "us_rednote_reactivations": np.full(days, 1000.0),
    }
    day6 = s.day_of(dt.date(2025, 1, 6))
    assert similarweb_dau(s, series, "2025-01-06") == pytest.approx(2.0 * 10 * day6)
    assert downloads(s, series, "2025-01-08", "2025-01-14") == pytest.approx(7 * (100 + 0.1 * 1000))
    assert company_new_users(s, series, "2025-01-13", "2025-01-14") == pytest.approx(2 * 100 / 0.5)
    assert math.isnan(downloads(s, series, "2025-01-01", (s.end_date + dt.timedelta(days=1)).isoformat()))


def test_similarweb_scale_sets_the_models_pre_surge_dau():
    s = with_parameters(small(), {"observation.similarweb_dau_scale": 2.0})
    assert s.population.us_rednote_dau == pytest.approx(150_000) and s.observation.similarweb_dau_scale == 2.0


def test_prior_term_and_held_out_targets_in_the_distance():
    stats = {t.name: [t.observed] for t in targets()}
    assert distance(stats) == pytest.approx(0.0)
    for t in targets():
        if not t.fit:
            stats[t.name] = [t.observed * 100]
    assert distance(stats) == pytest.approx(0.0)
    priors = observation_priors()
    at_prior = {p: med for p, (med, _) in priors.items()}
    assert distance(stats, at_prior) == pytest.approx(0.0)
    median, sd = priors["observation.similarweb_dau_scale"]
    off = at_prior | {"observation.similarweb_dau_scale": median * math.exp(2 * sd)}
    assert prior_z(off)["observation.similarweb_dau_scale"] == pytest.approx(2.0)
    n = len(fit_targets()) + len(priors)
    assert distance(stats, off) == pytest.approx(math.sqrt(4 / n))
    assert set(priors) <= set(FREE_PARAMETERS)


def test_time_split_fits_only_earlier_targets_and_leaves_out_the_rush():
    early = {t.name for t in fit_targets(SPLIT)}
    assert early and all(t.date <= SPLIT for t in fit_targets(SPLIT))
    assert "tiktok_dau_19jan" not in early and "downloads_few_weeks" not in early
    assert {"tiktok_dau_19jan", "downloads_few_weeks"} <= {t.name for t in fit_targets()}
    assert "us_users.tiktok_return_rush" not in free_parameters(SPLIT) and "us_users.tiktok_return_rush" in free_parameters()
    assert "us_users.join_displaced_rate" not in free_parameters(SPLIT)
    split = calibration_scenario(small(), SPLIT)
    assert split.us_users.tiktok_return_rush == 0.0 and split.end_date <= SPLIT
    assert calibration_scenario(small()).end_date >= max(t.date for t in fit_targets())
    # the full fit's stats ignore later targets (NaN past the horizon) when fitting up to the split
    stats = {t.name: [t.observed if t.date <= SPLIT else math.nan] for t in targets()}
    assert distance(stats, fit_until=SPLIT) == pytest.approx(0.0)


def test_with_parameters_sets_only_the_named_values():
    s = small()
    changed = with_parameters(s, {"us_users.habit": 0.25, "cn_users.trend_rate": 2.0})
    assert changed.us_users.habit == 0.25 and changed.cn_users.trend_rate == 2.0
    assert changed.us_users.peer_influence == s.us_users.peer_influence


def test_historical_scenario_carries_its_fit_with_provenance():
    s = load_scenario(SCENARIOS / "historical_2025.yaml")
    cal = s.calibration
    assert cal is not None and set(cal.parameters) == set(FREE_PARAMETERS)
    assert not set(cal.targets) & set(cal.held_out)
    for path, spread in cal.parameters.items():
        assert get_path(s, path) == pytest.approx(spread.best)
        assert spread.lower <= spread.p10 <= spread.median <= spread.p90 <= spread.upper
    assert len(cal.good_fits) >= 5 and cal.distance <= cal.good_fit_distance


def test_calibrate_command_writes_a_usable_fit_with_priors_and_provenance(tmp_path):
    fit, report = tmp_path / "fit.yaml", tmp_path / "report"
    args = [str(SCENARIOS / "historical_2025.yaml"), "--method", "search", "--budget", "4", "--runs-per-point", "1",
            "--agents", "3000", "--quiet"]  # fmt: skip
    assert main(["calibrate", *args, "--fit-file", str(fit), "--report", str(report)]) == 0
    doc = yaml.safe_load(fit.read_text())
    cal = doc["calibration"]
    assert cal["budget"] == 4 and cal["fit_until"] is None and cal["not_fitted"] == {}
    assert set(cal["targets"]) == {t.name for t in fit_targets()} and "hashtag_growth_13_14" in cal["held_out"]
    assert set(cal["parameters"]) == set(FREE_PARAMETERS)
    for path, (median, sd) in observation_priors().items():
        assert cal["parameters"][path]["prior_median"] == median and cal["parameters"][path]["prior_log_sd"] == sd
    scale = doc["observation"]["similarweb_dau_scale"]
    assert doc["population"]["us_rednote_dau"] == pytest.approx(300_000 / scale)
    trials = (report / "trials.csv").read_text().splitlines()
    assert len(trials) == 5 and trials[0].startswith("distance,")
    # the best is chosen on fresh replicate runs, among the trials of the search
    searched = [dict(zip(trials[0].split(",")[1:], map(float, line.split(",")[1:]))) for line in trials[1:]]
    sections = ("us_users", "cn_users", "observation")
    assert any(all(abs(t[f"{sec}.{k}"] - v) <= 1e-5 * abs(v) for sec in sections for k, v in doc[sec].items()) for t in searched)
    assert cal["distance"] <= cal["good_fit_distance"]
    # a scenario extending the fit file loads and uses the fitted values
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {fit.name}\nname: child\n")
    loaded = load_scenario(child)
    assert loaded.us_users.habit == pytest.approx(doc["us_users"]["habit"])
    assert loaded.observation.similarweb_dau_scale == pytest.approx(scale)
    # the same seed gives the same fit
    fit2 = tmp_path / "fit2.yaml"
    assert main(["calibrate", *args, "--fit-file", str(fit2), "--report", str(tmp_path / "r2")]) == 0
    assert yaml.safe_load(fit2.read_text())["us_users"] == doc["us_users"]


def test_time_split_calibrate_and_validate_end_to_end(tmp_path):
    fit = tmp_path / "split.fit.yaml"
    assert main(["calibrate", str(SCENARIOS / "historical_2025.yaml"), "--method", "search", "--budget", "4",
                 "--runs-per-point", "1", "--agents", "3000", "--fit-until", "2025-01-16", "--fit-file", str(fit),
                 "--report", str(tmp_path / "cal"), "--quiet"]) == 0  # fmt: skip
    doc = yaml.safe_load(fit.read_text())
    cal = doc["calibration"]
    assert cal["fit_until"] == "2025-01-16" and set(cal["targets"]) == {t.name for t in fit_targets(SPLIT)}
    assert "tiktok_dau_19jan" in cal["held_out"] and "downloads_few_weeks" in cal["held_out"]
    assert set(cal["not_fitted"]) == {"us_users.tiktok_return_rush", "us_users.join_displaced_rate"}
    assert "us_users.tiktok_return_rush" not in cal["parameters"] and doc["us_users"]["tiktok_return_rush"] == 0.0
    assert all("us_users.tiktok_return_rush" not in g for g in cal["good_fits"])
    assert "Left out" in (tmp_path / "cal" / "calibration.md").read_text()
    out = tmp_path / "val"
    assert main(["validate", "--runs", "3", "--agents", "3000", "--days", "40", "--out", str(out),
                 "--time-split", str(fit), "--quiet"]) == 0  # fmt: skip
    report = (out / "report.md").read_text()
    split = report.split("## Time split")[1]
    assert "A fit to the observations dated up to 2025-01-16" in split
    later = [t for t in targets() if t.date > SPLIT]
    assert later and all(t.description in split for t in later)
    assert all(t.description not in split.split("Left out")[0] for t in targets() if t.date <= SPLIT)
    # 19 Jan TikTok DAU and the downloads over the following weeks are predicted, not fitted, there
    for name in ("US TikTok DAU on 19 Jan", "US downloads 11 Jan - 7 Feb"):
        line = next(x for x in split.splitlines() if x.startswith(f"| {name}"))
        assert "| held out |" in line


def test_validate_command_writes_a_report_covering_every_observation(tmp_path):
    out = tmp_path / "val"
    assert main(["validate", "--runs", "4", "--agents", "4000", "--days", "40", "--out", str(out), "--quiet"]) == 0
    report = (out / "report.md").read_text()
    for t in targets():
        line = next(x for x in report.splitlines() if x.startswith(f"| {t.description} |"))
        assert any(f"| {s} |" in line or f"**{s}**" in line for s in ("inside", "within tolerance", "miss", "uninformative"))
        if t.informs:  # an observation that set a parameter: fitted or 'informed', never held out
            assert "| held out |" not in line and ("| fitted |" in line or "| informed `" in line)
    assert "held out" in report and "## Where the model misses" in report and "## Fitted parameters" in report
    assert "## Observation model" in report and "## Observations that set fixed parameters" in report
    assert "## Time split" in report and "Not run" in report.split("## Time split")[1]
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
        (["calibrate", "scenarios/historical_2025.yaml", "--fit-until", "16 Jan"], "--fit-until: must be a date written"),
        (["calibrate", "scenarios/historical_2025.yaml", "--fit-until", "2024-06-01"], "no fit target is dated on or before"),
        (["validate", "--time-split", "nope.yaml"], "--time-split: nope.yaml: file not found"),
        (["validate", "--time-split", "scenarios/fits/historical_2025.fit.yaml"], "is not a fit made by `calibrate --fit-until`"),
    ],
)
def test_bad_arguments_of_calibrate_and_validate(argv, expected, capsys, monkeypatch, root):
    monkeypatch.chdir(root)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_calibrate_writes_a_candidate_beside_the_adopted_fit_and_says_how_to_adopt_it(tmp_path, capsys):
    import shutil

    shutil.copytree(SCENARIOS, tmp_path / "scenarios")
    adopted = tmp_path / "scenarios" / "fits" / "historical_2025.fit.yaml"
    before = adopted.read_text()
    args = ["--budget", "20", "--compare-models", "0", "--agents", "1000", "--serial", "--report", str(tmp_path / "report")]
    assert main(["calibrate", str(tmp_path / "scenarios" / "historical_2025.yaml"), *args]) == 0
    candidate = tmp_path / "scenarios" / "fits" / "historical_2025.candidate.fit.yaml"
    assert candidate.is_file() and adopted.read_text() == before  # the scenario's own fit is untouched
    assert f"mv {candidate} {adopted}" in capsys.readouterr().out
