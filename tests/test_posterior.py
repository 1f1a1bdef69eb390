"""The Bayesian calibration (sim/posterior.py): its inference is calibrated on synthetic data, it learns
from the data, and a miscalibrated variant is caught; the table, the weights and the checks do what they say."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from sim import posterior
from sim.calibration import apply_fit, fit_targets, targets
from sim.cli import main
from sim.executor import Executor
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS, small

COVERAGE_AGENTS = 2000
COVERAGE_DRAWS = 600
TRUTHS = 200


@pytest.fixture(scope="module")
def table() -> posterior.Table:
    """A small table of prior simulations (600 draws at 2 000 agents, about half a minute on 2 cores)."""
    with Executor(processes=2) as ex:
        return posterior.simulate_table(small(agents=COVERAGE_AGENTS), COVERAGE_DRAWS, ex)


def test_posterior_coverage_is_nominal_on_synthetic_data(table):
    """Simulation-based calibration: with truths drawn from the prior, the 50 % and 90 % credible intervals
    hold the truth at those rates (each parameter within 3.5 binomial standard errors; averaged over the
    25 parameters within 0.04), while the posterior is narrower than the prior for the parameters the data
    inform (it is not the prior returned unchanged, which would cover trivially)."""
    cov = posterior.coverage(table, truths=TRUTHS, seed=1)  # at the width the fit uses
    h = cov.h
    assert cov.median_ess >= 0.8 * posterior.MIN_ESS
    assert cov.worst() < 3.5, cov.covered
    for level in (0.5, 0.9):
        mean = np.mean([by[level] for by in cov.covered.values()])
        assert abs(mean - level) < 0.04, (level, mean)
    ranks = np.concatenate(list(cov.ranks.values()))
    assert np.histogram(ranks, bins=10, range=(0, 1))[0].min() > 0.5 * len(ranks) / 10  # no hole in the rank histogram
    # the posterior of a synthetic data set is informative: central 50 % intervals of peer influence are
    # narrower than the prior's on average
    widths = synthetic_interval_widths(table, "us_users.peer_influence", h)
    assert np.mean(widths) < 0.8 * prior_width(table, "us_users.peer_influence")


def test_posterior_coverage_test_catches_an_overconfident_inference(table):
    """The same check fails an inference whose kernel is three times narrower than the noise on the data
    (posteriors too narrow): so the coverage test can fail."""
    h = posterior.infer(table).h
    assert overconfident_coverage(table, h_noise=h, h_kernel=h) > 0.85  # the right kernel: about 90 %
    cov = overconfident_coverage(table, h_noise=h, h_kernel=h / 3)
    assert cov < 0.8  # 90 % intervals hold far fewer truths


def prior_width(table, path: str) -> float:
    j = table.paths.index(path)
    x = np.log(table.values[:, j])
    return float(np.subtract(*np.percentile(x, [75, 25])))


def synthetic_interval_widths(table, path: str, h: float) -> list[float]:
    """Width of the central 50 % interval of ln(parameter) for each synthetic data set."""
    syn = posterior.Synthetic.make(table, fit_targets(), 100, seed=7)
    x = np.log(table.values[syn.rows, table.paths.index(path)])
    return [float(np.subtract(*posterior.weighted_quantile(x, syn.weights(n, h), [0.75, 0.25]))) for n in range(len(syn.pick))]


def overconfident_coverage(table, h_noise: float, h_kernel: float) -> float:
    """Share of synthetic truths of peer influence inside the 90 % interval, data noise h_noise, kernel h_kernel."""
    syn = posterior.Synthetic.make(table, fit_targets(), 100, seed=7)
    x = np.log(table.values[syn.rows, table.paths.index("us_users.peer_influence")])
    inside = []
    for n, i in enumerate(syn.pick):
        lo, hi = posterior.weighted_quantile(x, syn.weights(n, h_noise, kernel=h_kernel), [0.05, 0.95])
        inside.append(lo <= x[i] <= hi)
    return float(np.mean(inside))


def test_the_real_data_inform_peer_influence_and_the_checks_cover_every_target(table):
    post = posterior.infer(table)
    assert post.h >= 1 and post.ess >= posterior.MIN_ESS - 1e-6
    # the data narrow peer influence even here (600 draws at 2 000 agents: a wide kernel, h about 14; the
    # shipped fit, 9 000 draws at 20 000 agents, contracts it by 0.6); uniform weights would give exactly 0
    assert post.contraction()["us_users.peer_influence"] > 0.05
    checks = posterior.predictive_checks(post)
    assert {c.target.name for c in checks} == {t.name for t in targets()}
    assert all(0 <= c.p_value <= 1 and c.p10 <= c.median <= c.p90 for c in checks)
    assert {c.role for c in checks} >= {"fitted", "held out"}


def test_table_rows_do_not_depend_on_the_budget():
    """Row i is prior draw i run with run index i: a larger budget extends the table and changes no row."""
    base = small(agents=1000)
    short = posterior.simulate_table(base, 3)
    longer = posterior.simulate_table(base, 5)
    np.testing.assert_array_equal(short.values, longer.values[:3])
    np.testing.assert_array_equal(short.stats, longer.stats[:3])
    assert not np.array_equal(longer.stats[3], longer.stats[4])


def test_prior_draws_follow_their_priors():
    prior = posterior.priors()
    draws = posterior.prior_draws(prior, 20_000, seed=3)
    for j, p in enumerate(prior):
        x = p.scale(draws[:, j])
        lo, hi = p.scale(np.array(p.lower)), p.scale(np.array(p.upper))
        assert lo <= x.min() and x.max() <= hi, p.path
        if p.median is None:  # uniform on its scale: mean in the middle
            assert abs(x.mean() - (lo + hi) / 2) < 0.02 * (hi - lo), p.path
        else:  # truncated log-normal: median near the stated one when the truncation is far
            assert abs(np.median(x) - math.log(p.median)) < 0.15 * p.log_sd + 0.1, p.path
    assert all(p.source for p in prior)


def test_the_kernel_width_is_the_smallest_that_leaves_the_effective_draws():
    z = np.random.default_rng(0).normal(size=(5000, 10)) * 3
    h = posterior.bandwidth(z, 200)
    assert posterior.ess(posterior.kernel_weights(z, h)) >= 200 - 1e-6
    assert posterior.ess(posterior.kernel_weights(z, h * 0.98)) < 200
    assert posterior.bandwidth(np.zeros((500, 3)), 200) == 1.0  # every row fits: no widening


def test_weighted_quantiles_and_contraction_on_known_weights():
    x = np.arange(1000, dtype=float)
    w = np.ones(1000) / 1000
    assert posterior.weighted_quantile(x, w, [0.5])[0] == pytest.approx(499.5, abs=1)
    w2 = np.where(x < 100, 1.0, 0.0)
    w2 /= w2.sum()
    assert posterior.weighted_quantile(x, w2, [0.9])[0] == pytest.approx(89.5, abs=1)


def test_calibrate_writes_a_posterior_fit_file_a_scenario_can_extend(tmp_path):
    fit = tmp_path / "fits" / "post.fit.yaml"
    argv = ["calibrate", str(SCENARIOS / "historical_2025.yaml"), "--method", "posterior", "--budget", "40",
            "--agents", "1000", "--compare-models", "20", "--fit-file", str(fit), "--report", str(tmp_path / "rep"), "--serial", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    doc = yaml.safe_load(fit.read_text())
    record = doc["calibration"]["posterior"]
    assert record["simulations"] == 40 and record["kernel_width"] >= 1
    assert set(record["priors"]) == set(doc["calibration"]["parameters"]) and all(
        "Source" in v for v in record["priors"].values()
    )
    assert set(record["p_values"]) == {t.name for t in targets()}
    assert len(doc["calibration"]["good_fits"]) == posterior.POSTERIOR_DRAWS
    for path, spread in doc["calibration"]["parameters"].items():
        assert spread["p10"] <= spread["median"] <= spread["p90"], path
    assert (tmp_path / "rep" / "table.npz").is_file() and (tmp_path / "rep" / "posterior.png").is_file()
    report = (tmp_path / "rep" / "calibration.md").read_text()
    assert "Simulation-based calibration" in report and "Posterior predictive checks" in report
    assert "model comparison" in report and all(f"| {m} |" in report for m in posterior.JOIN_MODELS)
    assert sum(record["model_probability"].values()) == pytest.approx(1.0)
    loaded = apply_fit(load_scenario(SCENARIOS / "historical_2025.yaml"), doc)
    assert loaded.calibration.posterior is not None
    assert loaded.us_users.peer_influence == pytest.approx(doc["us_users"]["peer_influence"])


# --------------------------------------------------------------------------------------------------
# Model comparison: how people joined
# --------------------------------------------------------------------------------------------------
def fake_table(model: str, fits: np.ndarray) -> posterior.Table:
    """A table whose row i has every statistic at the observation (fits[i] True) or a factor 10 outside it."""
    names = [t.name for t in targets()]
    stats = np.empty((len(fits), len(names)))
    for k, t in enumerate(targets()):
        off = 10 * t.observed if t.high is not None else t.observed / 10  # "at least" targets: 10x below
        stats[:, k] = np.where(fits, t.observed, off)
    prior = posterior.priors(model=model)
    values = posterior.prior_draws(prior, len(fits), seed=0)
    return posterior.Table([p.path for p in prior], values, names, stats, 1000, 0, model)


def test_the_evidence_favours_the_model_whose_prior_simulations_meet_the_data_more_often():
    often = fake_table("contagion", np.arange(4000) % 4 == 0)  # a quarter of its prior simulations fit
    rarely = fake_table("broadcast", np.arange(4000) % 20 == 0)  # a twentieth (200: enough effective draws)
    result = posterior.compare_models({"contagion": often, "broadcast": rarely})
    assert result.probability["contagion"] == pytest.approx(5 / 6, rel=0.02)  # evidence ratio 5 : 1
    assert sum(result.probability.values()) == pytest.approx(1.0)
    assert result.h == 1.0 and result.simulations == {"contagion": 4000, "broadcast": 4000}


def test_each_join_model_declares_its_own_parameters_and_runs():
    base = small(agents=1000)
    for name, join in posterior.JOIN_MODELS.items():
        paths = {p.path for p in posterior.priors(model=name)}
        assert not paths & set(join.drop) and set(join.add) <= paths, name
        scenario = posterior.model_scenario(base, name)
        for path, value in join.settings.items():
            section, key = path.split(".")
            assert getattr(getattr(scenario, section), key) == value, (name, path)
    assert "us_users.peer_influence" not in {p.path for p in posterior.priors(model="broadcast")}


def test_well_mixed_contagion_exposes_everyone_to_the_population_share_who_joined():
    """The Bass null: exposure is the same for every US user, the mean join signal, whatever they follow."""
    from sim.model import MigrationModel

    model = MigrationModel(posterior.model_scenario(small(agents=3000, days=20), "bass"))
    for _ in range(14):
        model.step()
    us = model.us
    exposure = us.exposure()
    assert np.all(exposure == exposure[0]) and exposure[0] == pytest.approx(float(us.join_signal.mean()), rel=1e-6)
    assert exposure[0] > 0  # people have joined by 14 Jan


# --------------------------------------------------------------------------------------------------
# The posterior everywhere: every run of every tool uses its own posterior draw, the same across scenarios
# --------------------------------------------------------------------------------------------------
def with_posterior(scenario, peer_values=(0.05, 0.2, 0.8)):
    """``scenario`` whose fit is marked as a posterior with draws that differ only in peer influence."""
    from sim.scenario import scenario_to_dict, validate

    doc = scenario_to_dict(scenario)
    best = doc["calibration"]["parameters"]
    point = {path: spread["best"] for path, spread in best.items()}
    doc["calibration"]["good_fits"] = [point | {"us_users.peer_influence": v} for v in peer_values]
    doc["calibration"]["posterior"] = {"simulations": 3, "kernel_width": 1.0, "effective_draws": 3.0, "priors": {},
                                       "contraction": {}, "coverage": {}, "p_values": {}}  # fmt: skip
    return validate(doc, source="test posterior")


def without_posterior(scenario):
    """``scenario`` with its fit's posterior record removed: a point fit (`calibrate --method search`)."""
    return scenario.model_copy(update={"calibration": scenario.calibration.model_copy(update={"posterior": None})})


def test_run_r_uses_posterior_draw_r_mod_d_in_every_scenario_unless_point_is_asked():
    from sim.calibration import parameter_draw
    from sim.levers import set_levers

    base = with_posterior(small(agents=1000))
    variant = set_levers(base, {"translation_quality": 0.2})
    for run in range(6):
        expected = (0.05, 0.2, 0.8)[run % 3]
        assert parameter_draw(base, run).us_users.peer_influence == expected
        assert parameter_draw(variant, run).us_users.peer_influence == expected  # paired on the same draw
    point = base.model_copy(update={"parameters": "point"})
    assert parameter_draw(point, 1).us_users.peer_influence == base.us_users.peer_influence
    # a value the scenario sets itself (here a lever doubling peer influence) is kept in every run
    doubled = set_levers(base, {"peer_influence_x": 2.0})
    assert parameter_draw(doubled, 1).us_users.peer_influence == 2 * base.us_users.peer_influence
    # a search fit (no posterior record) runs its point estimate, as before
    assert parameter_draw(without_posterior(small(agents=1000)), 1) == without_posterior(small(agents=1000))


def test_runs_differ_by_their_draws_and_paired_effects_report_the_probability_of_their_sign():
    from analysis.compare import paired_differences, probability_of_sign
    from sim.ensemble import run_one

    base = with_posterior(small(agents=2000, days=20), peer_values=(0.02, 1.0))
    low, high = run_one(base, 0), run_one(base, 1)
    assert high.metrics["total_signups"] > low.metrics["total_signups"]  # run 1 drew 50x the peer influence
    assert probability_of_sign([1.0, 2.0, -1.0, 3.0]) == 0.75 and probability_of_sign([-1.0, -2.0, 0.5]) == pytest.approx(2 / 3)
    assert probability_of_sign([0.0, 0.0, 1.0]) is None and probability_of_sign([]) is None  # a zero median has no sign
    fake = {"a": [low, low], "b": [high, low]}
    diff = paired_differences(fake, "total_signups")["b"]
    assert diff["median"] > 0 and diff["p_sign"] == 0.5  # one run above zero, one at zero


def test_the_validation_report_shows_a_posterior_fit_record():
    from sim.validation import _posterior_section

    cal = with_posterior(small(agents=1000)).calibration
    cal = cal.model_copy(update={"posterior": cal.posterior.model_copy(update={
        "contraction": {"us_users.peer_influence": 0.8}, "coverage": {"us_users.peer_influence": {"0.5": 0.49, "0.9": 0.9}},
        "p_values": {"dau_6jan": 0.75}, "model_probability": {"contagion": 0.6, "broadcast": 0.4}})})  # fmt: skip
    text = "\n".join(_posterior_section(cal))
    assert "## Posterior" in text and "| `us_users.peer_influence` | 0.80 | 0.490 | 0.900 |" in text
    assert "| dau_6jan | 0.750 |" in text and "contagion 0.600, broadcast 0.400" in text
    assert _posterior_section(without_posterior(small(agents=1000)).calibration) == []  # a search fit has none


def test_fit_runs_any_scenario_under_another_fit_file_and_bad_files_are_one_line_errors(tmp_path, capsys):
    from sim.cli import main as cli_main
    from sim.scenario import scenario_to_dict

    doc = scenario_to_dict(with_posterior(small(agents=1000)))
    fit = tmp_path / "post.fit.yaml"
    fit.write_text(yaml.safe_dump({k: doc[k] for k in ("us_users", "calibration")}))
    out = tmp_path / "o"
    argv = [str(SCENARIOS / "no_ban.yaml"), "--agents", "1000", "--days", "10", "--runs", "3", "--serial", "--quiet"]
    assert cli_main([*argv, "--fit", str(fit), "--out", str(out)]) == 0
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    assert resolved["name"] == "no_ban" and resolved["calibration"]["posterior"] is not None
    assert resolved["calibration"]["good_fits"][1]["us_users.peer_influence"] == 0.2
    (tmp_path / "bad.yaml").write_text("name: x\n")
    assert cli_main([*argv, "--fit", str(tmp_path / "bad.yaml"), "--out", str(tmp_path / "o2")]) == 2
    assert "argument --fit" in capsys.readouterr().err and not (tmp_path / "o2").exists()


def test_a_killed_bayesian_calibration_resumes_and_gives_the_uninterrupted_result(tmp_path, monkeypatch, capsys):
    from sim import cli

    args = ["calibrate", str(SCENARIOS / "historical_2025.yaml"), "--method", "posterior", "--budget", "60",
            "--compare-models", "0", "--agents", "1000", "--serial"]  # fmt: skip
    where = ["--fit-file", str(tmp_path / "fit.yaml"), "--report", str(tmp_path / "report")]
    real = posterior.infer

    def killed(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(posterior, "infer", killed)  # after every simulation is saved
    assert cli.main([*args, "--quiet", *where]) == 130
    assert "--resume" in capsys.readouterr().err and not (tmp_path / "fit.yaml").exists()
    monkeypatch.setattr(posterior, "infer", real)
    assert cli.main([*args, *where, "--resume"]) == 0
    assert "3 batches of simulations were reused" in capsys.readouterr().err  # 60 simulations in batches of 25
    fresh = ["--fit-file", str(tmp_path / "fresh.yaml"), "--report", str(tmp_path / "r2")]
    assert cli.main([*args, "--quiet", *fresh]) == 0
    body = lambda path: path.read_text().split("\n", 1)[1]  # noqa: E731 - all but the line naming the command
    assert body(tmp_path / "fit.yaml") == body(tmp_path / "fresh.yaml")


def test_a_time_split_posterior_infers_only_what_the_early_data_can_inform():
    import datetime as dt

    split = dt.date(2025, 1, 16)
    table = posterior.simulate_table(small(agents=1000), 30, fit_until=split)
    assert "us_users.tiktok_return_rush" not in table.paths and "us_users.peer_influence" in table.paths
    post = posterior.infer(table, fit_until=split, min_ess=5)
    assert {t.name for t in post.fitted} == {t.name for t in fit_targets(split)} and all(t.date <= split for t in post.fitted)
    assert np.isfinite(post.z).all() and post.ess >= 5 - 1e-9
    # the fit file says it is a time split, so `validate --time-split` accepts it and reports what was left out
    checks, cov = posterior.predictive_checks(post, 0), posterior.coverage(table, split, truths=10)
    cal = posterior.fit_document("historical_2025", post, checks, cov, 0, fit_until=split)["calibration"]
    assert cal["fit_until"] == split.isoformat() and set(cal["targets"]) == {t.name for t in fit_targets(split)}
    assert set(cal["not_fitted"]) == {"us_users.tiktok_return_rush", "us_users.join_displaced_rate"}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--method", "posterior", "--budget", "5"], "argument --budget: a posterior needs at least 20 simulations (got 5)"),
        (["--method", "posterior", "--compare-models", "5"], "argument --compare-models: at least 20 simulations per model"),
        (["--method", "search", "--compare-models", "100"], "argument --compare-models: only with --method posterior"),
        (["--method", "bayes"], "argument --method: invalid choice: 'bayes'"),
    ],
)
def test_bad_posterior_options_are_one_line_errors_before_any_work(extra, expected, tmp_path, capsys):
    from tests.test_reliability import one_error_line

    where = ["--fit-file", str(tmp_path / "f.yaml"), "--report", str(tmp_path / "r")]
    assert main(["calibrate", str(SCENARIOS / "historical_2025.yaml"), *extra, *where, "--quiet"]) == 2
    assert expected in one_error_line(capsys.readouterr().err)
    assert not any(tmp_path.iterdir())


def test_point_and_a_bad_parameters_key(tmp_path, capsys):
    from tests.test_reliability import one_error_line

    argv = [str(SCENARIOS / "no_ban.yaml"), "--agents", "1000", "--days", "5", "--runs", "1", "--serial", "--quiet"]
    assert main([*argv, "--point", "--out", str(tmp_path / "o")]) == 0
    assert yaml.safe_load((tmp_path / "o" / "scenario.resolved.yaml").read_text())["parameters"] == "point"
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: bad\nextends: {SCENARIOS / 'no_ban.yaml'}\nparameters: maybe\n")
    assert main([str(bad), *argv[1:], "--out", str(tmp_path / "o2")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "parameters" in line and "posterior" in line and "point" in line and not (tmp_path / "o2").exists()


def test_reports_say_where_their_bands_come_from():
    """A report's bands carry the posterior's parameter uncertainty when the runs draw from it, and say so."""
    from sim.report import read_bands

    shipped = small(agents=1000)
    assert "draw r of the fit's posterior" in read_bands(shipped)
    assert "not from uncertainty in the parameters" in read_bands(shipped.model_copy(update={"parameters": "point"}))
    assert "not from uncertainty in the parameters" in read_bands(without_posterior(shipped))
