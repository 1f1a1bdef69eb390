"""Calibration to the January 2025 observations (pattern-oriented: several patterns at once).

Targets are built from ``data/observed_2025.csv``. Each target turns model output into one number that
is compared with the observation on a log or linear scale, with a tolerance ``sigma`` that says how
much we trust the observation (levels are single-source and uncertain: ratios and timing get tighter
tolerances than levels). The distance of a parameter set is the root mean square of the z-scores
(model - observed) / sigma over the *fit* targets; *held-out* targets are never used by the fit and
are reported by ``python run.py validate``.

The search uses optuna's TPE sampler with replicate runs averaged per point (common random numbers
across points: run r of every trial uses the same seed). The good fits are the trials within
`GOOD_FIT_FACTOR` of the best distance (at least `MIN_GOOD_FITS`); their spread is the reported
uncertainty and their parameter sets drive the predictive bands of the validation report.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.ensemble import run_one
from sim.executor import Executor
from sim.observations import observation
from sim.params import Scenario
from sim.scenario import deep_merge, get_path, scenario_to_dict, set_path, validate, with_values

FREE_PARAMETERS: dict[str, tuple[float, float, bool]] = {
    # dotted path: (lower, upper, log scale)
    "us_users.join_salience_rate": (1e-4, 3e-3, True),  # spontaneous, news-driven joining
    "us_users.peer_influence": (0.05, 1.5, True),  # peer influence (Bass q)
    "us_users.creator_salience_multiplier": (3.0, 300.0, True),  # how hard creators respond
    "us_users.dormant_return_multiplier": (0.3, 30.0, True),  # dormant accounts coming back
    "us_users.dormant_return_base": (1e-4, 3e-2, True),  # quiet returns that hold the pre-surge level
    "us_users.habit": (-1.0, 4.0, False),  # lapse sensitivity (utility constant)
    "cn_users.trend_rate": (0.01, 1.0, True),  # S-curve of Chinese attention: how fast the trending hashtag is noticed ...
    "cn_users.trend_half_posts": (1e5, 1.5e6, True),  # ... at what foreign volume it trends (half response) ...
    "cn_users.trend_steepness": (1.0, 10.0, False),  # ... how sharply it responds to the volume ...
    "cn_users.awareness_peer_influence": (0.1, 5.0, True),  # ... and how fast noticing spreads among followers
}
GOOD_FIT_FACTOR = 1.25
MIN_GOOD_FITS = 5
REEVALUATE_TOP = 16  # best trials re-run with fresh replicates (avoids picking a lucky draw)
REEVALUATE_RUNS = 6
FIT_END = dt.date(2025, 1, 20)  # all fit targets are observed by 16 Jan


Series = dict[str, np.ndarray]


def _at(scenario: Scenario, series: Series, column: str, date: str) -> float:
    return float(series[column][scenario.day_of(dt.date.fromisoformat(date))])


def _sum(scenario: Scenario, series: Series, column: str, first: str, last: str) -> float:
    a, b = (scenario.day_of(dt.date.fromisoformat(d)) for d in (first, last))
    return float(series[column][a : b + 1].sum())


def _hashtag_growth(day_from: str, day_to: str) -> Callable[[Scenario, Series], float]:
    """Growth factor of cumulative hashtag views counted from 13 Jan (the hashtag's first day)."""

    def f(s: Scenario, x: Series) -> float:
        return _sum(s, x, "cn_hashtag_views", "2025-01-13", day_to) / max(
            _sum(s, x, "cn_hashtag_views", "2025-01-13", day_from), 1.0
        )

    return f


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    observed: float
    model: Callable[[Scenario, Series], float]
    sigma: float  # tolerance on the compared scale
    log: bool = True
    bound: str = ""  # "upper": only exceeding the observation counts; "lower": only falling short
    held_out: bool = False
    source: str = ""

    def z(self, value: float) -> float:
        diff = math.log(max(value, 1e-12)) - math.log(self.observed) if self.log else value - self.observed
        if self.bound == "upper":
            diff = max(diff, 0.0)
        elif self.bound == "lower":
            diff = min(diff, 0.0)
        return diff / self.sigma

    def inside(self, p10: float, p90: float) -> bool:
        """The observation lies inside the model's 10-90 % band (for a bound: the band reaches the allowed side)."""
        if self.bound == "upper":
            return p10 <= self.observed * (1 + 1e-9)
        if self.bound == "lower":
            return p90 >= self.observed * (1 - 1e-9)
        return p10 <= self.observed <= p90

    def consistent(self, p10: float, p90: float) -> bool:
        """The band overlaps the observation's own uncertainty (observed +- sigma on the compared scale)."""
        return self.z(p10) <= 1.0 and self.z(p90) >= -1.0


def targets() -> list[Target]:
    dau = "rednote_us_dau"
    views = "hashtag_tiktokrefugee_views"
    v13, v14, v15, v16 = (observation(views, f"2025-01-{d}") for d in (13, 14, 15, 16))
    return [
        Target("dau_6jan", "US RedNote DAU on 6 Jan (level)", observation(dau, "2025-01-06"),
               lambda s, x: _at(s, x, "us_rednote_dau", "2025-01-06"), sigma=0.3, source="Similarweb via Reuters"),
        Target("dau_12jan_upper", "US RedNote DAU on 12 Jan is below 0.7 M (upper bound)", observation(dau, "2025-01-12"),
               lambda s, x: _at(s, x, "us_rednote_dau", "2025-01-12"), sigma=0.1, bound="upper", source="Similarweb via Reuters"),
        Target("jump_13_over_12", "one-day jump of US RedNote DAU, 13 Jan / 12 Jan (at least 3.4 / 0.7)",
               observation(dau, "2025-01-13") / observation(dau, "2025-01-12"),
               lambda s, x: _at(s, x, "us_rednote_dau", "2025-01-13") / max(_at(s, x, "us_rednote_dau", "2025-01-12"), 1.0),
               sigma=0.2, bound="lower", source="Similarweb via Reuters (12 Jan is an upper bound, so the ratio is a lower bound)"),
        Target("dau_13_over_6", "growth of US RedNote DAU, 13 Jan / 6 Jan", observation(dau, "2025-01-13") / observation(dau, "2025-01-06"),
               lambda s, x: _at(s, x, "us_rednote_dau", "2025-01-13") / max(_at(s, x, "us_rednote_dau", "2025-01-06"), 1.0),
               sigma=0.3, source="Similarweb via Reuters (ratio of two levels from one source)"),
        Target("signups_13_14jan", "new accounts on 13-14 Jan (more than 0.7 M)", observation("rednote_new_users_2d", "2025-01-14"),
               lambda s, x: _sum(s, x, "us_rednote_signups", "2025-01-13", "2025-01-14"), sigma=0.7, bound="lower",
               source="Reuters, person close to the company ('more than 700,000', not stated to be US-only; "
                      "the Reuters headline of 16 Jan says 'millions of US users this week')"),
        Target("tiktok_dau_change", "US TikTok DAU change, 13 Jan vs 6 Jan (multi-homing)", -0.021,
               lambda s, x: _at(s, x, "us_tiktok_dau", "2025-01-13") / _at(s, x, "us_tiktok_dau", "2025-01-06") - 1.0,
               sigma=0.02, log=False, source="Similarweb via Reuters (-2.1% week over week; weekly DAU noise ~2%)"),
        Target("hashtag_growth_14_15", "cumulative #TikTokRefugee views, 15 Jan / 14 Jan", v15 / v14,
               _hashtag_growth("2025-01-14", "2025-01-15"), sigma=0.4, source="XHS hashtag page via TechNode, CNN"),
        # ---- held out: never seen by the fit
        Target("hashtag_growth_13_14", "cumulative #TikTokRefugee views, 14 Jan / 13 Jan", v14 / v13,
               _hashtag_growth("2025-01-13", "2025-01-14"), sigma=0.7, held_out=True,
               source="XHS hashtag page via TechNode (13 Jan was the hashtag's first, partial day: a ratio to a near-zero base)"),
        Target("hashtag_growth_15_16", "cumulative #TikTokRefugee views, 16 Jan / 15 Jan", v16 / v15,
               _hashtag_growth("2025-01-15", "2025-01-16"), sigma=0.3, held_out=True, source="XHS hashtag page via CNN, Xinhua"),
        Target("downloads_week_over_week", "US sign-ups in the week to 14 Jan / week before, minus 1",
               observation("rednote_us_downloads_wow_change", "2025-01-14"),
               lambda s, x: _sum(s, x, "us_rednote_signups", "2025-01-08", "2025-01-14") / max(_sum(s, x, "us_rednote_signups", "2025-01-01", "2025-01-07"), 1.0) - 1.0,
               sigma=0.5, held_out=True, source="Sensor Tower via Reuters/CNN (+194%)"),
        Target("other_app_dau_13jan", "US DAU of the other app (Lemon8) on 13 Jan", observation("lemon8_us_dau", "2025-01-13"),
               lambda s, x: _at(s, x, "us_other_dau", "2025-01-13"), sigma=0.3, held_out=True, source="Similarweb via Reuters"),
        Target("tiktok_dau_19jan", "US TikTok DAU on 19 Jan (service restored at noon)", observation("tiktok_us_dau", "2025-01-19"),
               lambda s, x: _at(s, x, "us_tiktok_dau", "2025-01-19"), sigma=0.1, held_out=True, source="Similarweb blog (a one-year high)"),
    ]  # fmt: skip


def with_parameters(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with dotted-path parameters replaced."""
    return with_values(scenario, {path: float(value) for path, value in values.items()}, source="calibration point")


def statistics(scenario: Scenario, runs: int, run_offset: int = 0) -> dict[str, list[float]]:
    """Every target's model value in each of ``runs`` runs."""
    out: dict[str, list[float]] = {t.name: [] for t in targets()}
    for run in range(run_offset, run_offset + runs):
        series = run_one(scenario, run).series
        for t in targets():
            out[t.name].append(t.model(scenario, series))
    return out


def distance(stats: dict[str, list[float]]) -> float:
    """Root mean square z-score of the run-averaged statistics over the fit targets."""
    zs = [t.z(float(np.mean(stats[t.name]))) for t in targets() if not t.held_out]
    return float(np.sqrt(np.mean(np.square(zs))))


def _evaluate(job: tuple[Scenario, dict[str, float], int, int]) -> tuple[float, dict[str, list[float]]]:
    base, values, runs, run_offset = job
    stats = statistics(with_parameters(base, values), runs, run_offset)
    return distance(stats), stats


@dataclass
class CalibrationResult:
    best: dict[str, float]
    best_distance: float
    good: list[tuple[float, dict[str, float]]]
    trials: list[tuple[float, dict[str, float]]]


def calibrate(
    scenario: Scenario,
    budget: int,
    runs_per_point: int,
    executor: Executor | None = None,
    seed: int = 0,
    on_trial: Callable[[int, float], None] | None = None,
) -> CalibrationResult:
    """Search the free parameters with optuna (TPE), evaluating as many points at a time as the
    executor runs in parallel; then re-evaluate the best trials with `REEVALUATE_RUNS` fresh runs each
    and choose the best and the good fits on those fresh distances."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fit_scenario = scenario.model_copy(update={"end_date": max(FIT_END, scenario.start_date + dt.timedelta(days=1))})
    fit_scenario = validate(scenario_to_dict(fit_scenario), source="calibration scenario")
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(max(10, budget // 5), budget), multivariate=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.enqueue_trial({p: _current(scenario, p) for p in FREE_PARAMETERS})  # start from the current values
    trials: list[tuple[float, dict[str, float]]] = []
    executor = executor or Executor()
    while len(trials) < budget:
        batch = [study.ask() for _ in range(min(executor.parallelism, budget - len(trials)))]
        points = [{p: t.suggest_float(p, lo, hi, log=log) for p, (lo, hi, log) in FREE_PARAMETERS.items()} for t in batch]
        outcomes = executor.map(_evaluate, [(fit_scenario, values, runs_per_point, 0) for values in points])
        for trial, values, (dist, _) in zip(batch, points, outcomes):
            study.tell(trial, dist)
            trials.append((dist, values))
            if on_trial:
                on_trial(len(trials), dist)
    # Re-run the best trials with fresh replicates: the search's own distances favour lucky draws.
    trials.sort(key=lambda t: t[0])
    top = [values for _, values in trials[: min(REEVALUATE_TOP, len(trials))]]
    fresh = executor.map(_evaluate, [(fit_scenario, values, REEVALUATE_RUNS, runs_per_point) for values in top])
    rescored = sorted(((dist, values) for (dist, _), values in zip(fresh, top)), key=lambda t: t[0])
    best_distance = rescored[0][0]
    good = [t for t in rescored if t[0] <= GOOD_FIT_FACTOR * best_distance]
    if len(good) < MIN_GOOD_FITS:
        good = rescored[: min(MIN_GOOD_FITS, len(rescored))]
    return CalibrationResult(best=rescored[0][1], best_distance=best_distance, good=good, trials=trials)


def _current(scenario: Scenario, path: str) -> float:
    lo, hi, _ = FREE_PARAMETERS[path]
    return float(min(max(float(get_path(scenario, path)), lo), hi))


def fit_document(scenario_name: str, result: CalibrationResult, budget: int, runs_per_point: int, agents: int, seed: int) -> dict:
    """The YAML document of a fit file: fitted values plus provenance (schema: `sim.params.Calibration`)."""
    doc: dict = {
        "name": f"{scenario_name}_fit",
        "description": f"Parameters fitted by `python run.py calibrate` for {scenario_name}.",
    }
    for path, value in result.best.items():
        set_path(doc, path, float(value))
    spread = {}
    for path, (lo, hi, _) in FREE_PARAMETERS.items():
        values = np.array([v[path] for _, v in result.good])
        p10, med, p90 = np.percentile(values, [10, 50, 90])
        spread[path] = {
            "best": float(result.best[path]),
            "p10": float(p10),
            "median": float(med),
            "p90": float(p90),
            "lower": lo,
            "upper": hi,
        }
    doc["calibration"] = {
        "method": f"optuna TPE (multivariate), replicate runs averaged per point, common random numbers; "
        f"best {REEVALUATE_TOP} trials re-run with {REEVALUATE_RUNS} fresh runs each",
        "date": dt.date.today().isoformat(),
        "budget": budget,
        "runs_per_point": runs_per_point,
        "agents": agents,
        "seed": seed,
        "distance": float(result.best_distance),
        "good_fit_distance": float(max(d for d, _ in result.good)),
        "targets": [t.name for t in targets() if not t.held_out],
        "held_out": [t.name for t in targets() if t.held_out],
        "parameters": spread,
        "good_fits": [{k: float(v) for k, v in values.items()} for _, values in result.good],
    }
    return doc


def apply_fit(scenario: Scenario, fit: dict) -> Scenario:
    """Merge a fit document's parameters into a scenario (used by tests and notebooks)."""
    changes = {k: v for k, v in fit.items() if k in ("us_users", "cn_users", "calibration")}
    return validate(deep_merge(scenario_to_dict(scenario), changes), source="fit")
