"""Bayesian calibration: approximate Bayesian computation (ABC) by importance weighting of a prior table.

Why this method (docs/posterior.md has the measurements):

- **A table of prior simulations.** Parameter sets are drawn from the prior (`priors`), each is run once
  at the calibration's agent count, and every target's statistic is stored (`Table`). The table is the
  expensive part; it is computed in batches through the project's executors (processes or Dask), saved
  batch by batch (a killed calibration resumes), and its rows do not depend on how many are asked for
  (row i is prior draw i and run i of the seed: a larger ``--budget`` extends a table, never reshuffles it).
- **Importance weights with an observation kernel.** Each row's weight is its likelihood under the
  observation model of the targets: ``exp(-1/2 sum_k (z_k / h)^2)`` with ``z_k`` the target's z-score
  (`sim.calibration.Target.z`: 0 inside a stated interval, the log distance in tolerances outside).
  With ``h = 1`` this is exact Bayesian inference for a model whose sources err by their stated
  tolerances (Wilkinson 2013, "ABC gives exact results under the assumption of model error"). A finite
  table needs a wider kernel: ``h`` is the smallest value >= 1 that leaves `MIN_ESS` effective draws
  both for the real data and for the typical synthetic data set of the coverage check, and it is
  reported: the posterior is exact for sources that err by h of their stated tolerances.
- **Checked on synthetic data.** `coverage` is simulation-based calibration done on the table itself:
  a row is taken as the truth, its statistics plus observation noise as the data, and the other rows are
  weighted by the same rule; the 50 % and 90 % credible intervals must cover the truth at those rates.
- **Not pyabc's ABC-SMC, not sbi.** A measured spike (branch ``posterior``) found pyabc's weights
  collapsing on these 16 weakly identified parameters and its samplers not reproducible across
  processes; sbi needs torch, which these machines have for Python 3.11 only, and the coverage test must
  run on every supported Python. The table method is plain numpy, deterministic, and its SBC is cheap.

Parameters are summarised on the scale of their prior: log for log-uniform and log-normal priors.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration import Free, Target, calibration_scenario, fit_targets, free_parameters, statistics, targets, with_parameters
from sim.executor import Executor
from sim.params import Observation, Scenario, observation_priors
from sim.scenario import with_values

MIN_ESS = 100.0
"""Effective number of weighted draws the kernel width ``h`` is chosen to leave (Kish's ESS)."""
MAX_BANDWIDTH = 1e3
SYNTHETIC_TRUTHS = 200
"""Synthetic data sets of the coverage check (and of the kernel width's second condition, see `infer`)."""
BATCH = 25
"""Simulations per job: large enough to amortise a job's overhead, small enough to checkpoint often."""
PRIOR_STREAM = 0x5052494F52  # 'PRIOR': the prior draws' own random stream under the calibration seed
NOISE_STREAM = 0x4E4F495345  # 'NOISE': observation noise of predictive checks and of synthetic data


# --------------------------------------------------------------------------------------------------
# Priors
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prior:
    """A free parameter's prior: uniform or log-uniform on [lower, upper], or (observation-model scales)
    log-normal with ``median`` and ``log_sd`` truncated to [lower, upper]."""

    path: str
    lower: float
    upper: float
    log: bool
    source: str
    median: float | None = None
    log_sd: float | None = None

    @property
    def kind(self) -> str:
        if self.median is not None:
            return "log-normal (truncated)"
        return "log-uniform" if self.log else "uniform"

    def scale(self, values: np.ndarray) -> np.ndarray:
        """Values on the prior's own scale (log for log-uniform and log-normal priors)."""
        return np.log(values) if self.log else np.asarray(values, dtype=float)

    def unscale(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x) if self.log else np.asarray(x, dtype=float)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Quantile transform: uniform numbers in [0, 1) -> values drawn from this prior."""
        lo, hi = self.scale(np.array(self.lower)), self.scale(np.array(self.upper))
        if self.median is None:
            return self.unscale(lo + u * (hi - lo))
        from scipy.stats import truncnorm

        mu, sd = math.log(self.median), float(self.log_sd)
        return self.unscale(truncnorm.ppf(u, (lo - mu) / sd, (hi - mu) / sd, loc=mu, scale=sd))

    def describe(self) -> str:
        if self.median is not None:
            return f"log-normal, median {self.median:g}, log-sd {self.log_sd:g}, truncated to [{self.lower:g}, {self.upper:g}]"
        return f"{self.kind} on [{self.lower:g}, {self.upper:g}]"


@dataclass(frozen=True)
class JoinModel:
    """A hypothesis of how people joined, for the model comparison: scenario settings and its own parameters."""

    description: str
    settings: dict[str, Any] = field(default_factory=dict)  # dotted scenario paths set for this model
    drop: tuple[str, ...] = ()  # free parameters it does not have
    add: dict[str, Free] = field(default_factory=dict)  # free parameters only it has


JOIN_MODELS: dict[str, JoinModel] = {
    "contagion": JoinModel("simple contagion with decaying exposure: the hazard grows with the share of followees "
                           "who joined recently (the model)"),
    "broadcast": JoinModel("broadcast only: news and creators' salience, no peer effect",
                           {"mechanisms.social_contagion": False}, drop=("us_users.peer_influence",)),
    "threshold": JoinModel("fractional threshold (Watts 2002): join once the recently joined share of followees "
                           "reaches a personal threshold", {"us_users.contagion": "threshold"},
                           drop=("us_users.peer_influence",),
                           add={"us_users.threshold_mean": Free(0.01, 0.5, False, "assumption: Watts 2002 illustrates "
                                "with 0.18; from 1 % to half of one's followees")}),
    "bass": JoinModel("Bass null: imitation of every US user who joined so far, no network, no fading (Bass 1969)",
                      {"us_users.contagion": "mixed", "us_users.exposure_memory_days": None}),
}  # fmt: skip
MODEL = "contagion"
"""The model the fit file describes; the others are only compared with it."""


def priors(fit_until: dt.date | None = None, model: str = MODEL) -> list[Prior]:
    """The prior of every parameter ``model`` infers (`sim.calibration.free_parameters` and the join
    model's own), with its source."""
    obs = observation_priors()
    join = JOIN_MODELS[model]
    free_set = {k: v for k, v in free_parameters(fit_until).items() if k not in join.drop} | join.add
    out = []
    for path, free in free_set.items():
        median, log_sd = obs.get(path, (None, None))
        source = free.source
        if path in obs:
            info = Observation.model_fields[path.split(".", 1)[1]]
            source = (info.json_schema_extra or {}).get("source", source)
        out.append(Prior(path, free.lower, free.upper, free.log, source, median, log_sd))
    return out


def prior_draws(prior: Sequence[Prior], n: int, seed: int) -> np.ndarray:
    """``n`` parameter sets drawn from the prior (rows; columns in ``prior`` order). Row i depends only on
    (seed, i): asking for more draws extends the table."""
    u = np.random.default_rng(np.random.SeedSequence([int(seed), PRIOR_STREAM])).random((n, len(prior)))
    return np.column_stack([p.from_unit(u[:, j]) for j, p in enumerate(prior)]) if prior else np.empty((n, 0))


# --------------------------------------------------------------------------------------------------
# The table of prior simulations
# --------------------------------------------------------------------------------------------------
@dataclass
class Table:
    """Prior draws and every target's statistic in one run at each (row i: draw i, run i)."""

    paths: list[str]
    values: np.ndarray  # (draws, parameters)
    target_names: list[str]
    stats: np.ndarray  # (draws, targets); NaN where a run does not reach a target's date
    agents: int
    seed: int
    model: str = MODEL

    def __len__(self) -> int:
        return len(self.values)

    def column(self, name: str) -> np.ndarray:
        return self.stats[:, self.target_names.index(name)]

    def save(self, path: Path) -> None:
        import io

        from sim.staging import write_file

        buffer = io.BytesIO()
        np.savez(buffer, paths=np.array(self.paths), values=self.values, target_names=np.array(self.target_names),
                 stats=self.stats, agents=self.agents, seed=self.seed, model=self.model)  # fmt: skip
        write_file(path, buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> Table:
        with np.load(path) as f:
            return cls([str(p) for p in f["paths"]], f["values"], [str(t) for t in f["target_names"]], f["stats"],
                       int(f["agents"]), int(f["seed"]), str(f["model"]))  # fmt: skip


def _simulate_batch(job: tuple[Scenario, list[str], np.ndarray, int]) -> np.ndarray:
    """Every target's statistic for each parameter set of the batch; row k runs with run index first + k."""
    scenario, paths, values, first = job
    names = [t.name for t in targets()]
    out = np.empty((len(values), len(names)))
    for k, row in enumerate(values):
        stats = statistics(with_parameters(scenario, dict(zip(paths, map(float, row)))), runs=1, run_offset=first + k)
        out[k] = [stats[name][0] for name in names]
    return out


def simulate_table(
    base: Scenario,
    draws: int,
    executor: Executor | None = None,
    fit_until: dt.date | None = None,
    on_batch: Callable[[int], None] | None = None,
    model: str = MODEL,
) -> Table:
    """The table of ``draws`` prior simulations of ``base`` (its agents and seed) under join ``model``, up to
    the last fit target. ``on_batch(n)`` is called with the number of simulations of each batch as it finishes."""
    prior = priors(fit_until, model)
    paths = [p.path for p in prior]
    values = prior_draws(prior, draws, base.seed)
    scenario = model_scenario(calibration_scenario(base, fit_until), model)
    jobs = [(scenario, paths, values[i : i + BATCH], i) for i in range(0, draws, BATCH)]
    executor = executor or Executor()
    done = executor.map(_simulate_batch, jobs, on_result=(lambda i, r: on_batch(len(r))) if on_batch else None)
    stats = np.vstack(done) if done else np.empty((0, len(targets())))
    return Table(paths, values, [t.name for t in targets()], stats, base.agents, base.seed, model)


def model_scenario(scenario: Scenario, model: str) -> Scenario:
    """``scenario`` under join model ``model`` (`JOIN_MODELS`)."""
    settings = JOIN_MODELS[model].settings
    return with_values(scenario, settings, source=f"join model {model}") if settings else scenario


# --------------------------------------------------------------------------------------------------
# Inference
# --------------------------------------------------------------------------------------------------
def z_matrix(table: Table, fitted: Sequence[Target]) -> np.ndarray:
    """(draws, targets) z-scores of each row against each fitted target; inf where the statistic is missing."""
    z = np.full((len(table), len(fitted)), np.inf)
    for k, t in enumerate(fitted):
        col = table.column(t.name)
        ok = np.isfinite(col)
        z[ok, k] = [t.z(float(v)) for v in col[ok]]
    return z


def ess(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights."""
    total = weights.sum()
    return float(total**2 / np.square(weights).sum()) if total > 0 else 0.0


def log_kernel(z: np.ndarray, h: float) -> np.ndarray:
    """Each row's log kernel weight ``-1/2 sum (z / h)^2`` (-inf for a row with a missing statistic)."""
    log_w = -0.5 * np.square(z / h).sum(axis=1)
    log_w[~np.isfinite(log_w)] = -np.inf
    return log_w


def kernel_weights(z: np.ndarray, h: float) -> np.ndarray:
    """Normalised weights ``exp(-1/2 sum (z / h)^2)`` (0 for rows with a missing statistic)."""
    log_w = log_kernel(z, h)
    if not np.isfinite(log_w).any():
        return np.zeros(len(z))
    w = np.exp(log_w - log_w.max())
    return w / w.sum()


def bandwidth(z: np.ndarray, min_ess: float = MIN_ESS) -> float:
    """The smallest kernel width h >= 1 whose weights leave ``min_ess`` effective draws."""
    return _smallest_width(lambda h: ess(kernel_weights(z, h)) >= min_ess)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles ``q`` of ``x`` under normalised weights ``w`` (inverse of the weighted CDF, midpoints)."""
    order = np.argsort(x)
    xs, ws = x[order], w[order]
    cdf = np.cumsum(ws) - 0.5 * ws
    return np.interp(q, cdf, xs)


@dataclass
class Posterior:
    """Weighted prior draws: the ABC posterior of one fit."""

    prior: list[Prior]
    table: Table
    fitted: list[Target]
    h: float
    weights: np.ndarray
    z: np.ndarray = field(repr=False)

    @property
    def ess(self) -> float:
        return ess(self.weights)

    def scaled(self, j: int) -> np.ndarray:
        return self.prior[j].scale(self.table.values[:, j])

    def quantiles(self, q: Sequence[float]) -> dict[str, np.ndarray]:
        """Per parameter, the posterior quantiles ``q`` (on the parameter's own scale)."""
        return {p.path: p.unscale(weighted_quantile(self.scaled(j), self.weights, q)) for j, p in enumerate(self.prior)}

    def contraction(self) -> dict[str, float]:
        """1 - posterior variance / prior variance, per parameter on the prior's scale (0: the data told
        nothing; 1: pinned down). The prior variance is the table's own (unweighted) variance."""
        out = {}
        for j, p in enumerate(self.prior):
            x = self.scaled(j)
            mean = float(np.sum(self.weights * x))
            post = float(np.sum(self.weights * (x - mean) ** 2))
            out[p.path] = 1.0 - post / float(np.var(x))
        return out

    def resample(self, n: int, seed: int) -> np.ndarray:
        """Rows of ``n`` draws in proportion to the weights (systematic resampling, one uniform from ``seed``)."""
        u0 = np.random.default_rng(np.random.SeedSequence([int(seed), PRIOR_STREAM, 1])).random()
        cdf = np.cumsum(self.weights)
        return np.minimum(np.searchsorted(cdf, (u0 + np.arange(n)) / n), len(cdf) - 1)

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """``n`` parameter sets resampled from the posterior (`resample`): what ensembles run over."""
        return [{p.path: float(self.table.values[i, j]) for j, p in enumerate(self.prior)} for i in self.resample(n, seed)]

    def point(self) -> dict[str, float]:
        """The marginal posterior medians (the point estimate an ensemble uses with ``--point``)."""
        return {path: float(v[0]) for path, v in self.quantiles([0.5]).items()}

    def distances(self) -> np.ndarray:
        """Each row's root mean square z over the fitted targets (the point fit's distance, one run)."""
        return np.sqrt(np.mean(np.square(self.z), axis=1))


def infer(table: Table, fit_until: dt.date | None = None, min_ess: float = MIN_ESS) -> Posterior:
    """The posterior from a table: weights of the fitted targets' kernel. Its width is the smallest that
    leaves ``min_ess`` effective draws for the real data (`bandwidth`) and for the median synthetic data
    set (`Synthetic.bandwidth`), so the coverage check tests the width the fit uses."""
    prior = priors(fit_until, table.model)
    if [p.path for p in prior] != table.paths:
        raise ValueError(f"the table's parameters {table.paths} are not this fit's {[p.path for p in prior]}")
    fitted = fit_targets(fit_until)
    z = z_matrix(table, fitted)
    h = max(bandwidth(z, min_ess), Synthetic.make(table, fitted, SYNTHETIC_TRUTHS, table.seed).bandwidth(min_ess))
    return Posterior(prior, table, fitted, h, kernel_weights(z, h), z)


# --------------------------------------------------------------------------------------------------
# Checks of the inference and of the model
# --------------------------------------------------------------------------------------------------
def _noise(seed: int, shape: tuple[int, ...], salt: int) -> np.ndarray:
    return np.random.default_rng(np.random.SeedSequence([int(seed), NOISE_STREAM, salt])).standard_normal(shape)


@dataclass
class Check:
    """A posterior predictive check of one target."""

    target: Target
    role: str
    p10: float
    median: float
    p90: float
    p_value: float  # small: the data are surprising under the fitted model


def predictive_checks(post: Posterior, seed: int = 0) -> list[Check]:
    """Every target (fitted and not) against its posterior predictive distribution: each table row's
    statistic (one run: the model's noise) plus the observation noise of the kernel (h tolerances on the
    compared scale), weighted by the posterior. The p-value is two-sided for a point observation, and
    the predictive probability of the stated interval for an interval ("at least", "fewer than")."""
    fitted = {t.name for t in post.fitted}
    out = []
    for k, t in enumerate(targets()):
        col = post.table.column(t.name)
        ok = np.isfinite(col) & (col > 0 if t.log else np.ones_like(col, dtype=bool))
        if not ok.any() or post.weights[ok].sum() <= 0:
            continue
        w = post.weights[ok] / post.weights[ok].sum()
        scaled = (np.log(col[ok]) if t.log else col[ok]) + post.h * t.sigma * _noise(seed, (len(col),), k)[ok]
        rep = np.exp(np.minimum(scaled, 700.0)) if t.log else scaled  # 700: below float64's overflow
        p10, med, p90 = weighted_quantile(rep, w, [0.1, 0.5, 0.9])
        if t.low is not None and t.high is not None and t.low == t.high:
            below = float(w[rep <= t.low].sum())
            p = 2 * min(below, 1 - below + float(w[rep == t.low].sum()))
        else:
            inside = np.ones(len(rep), dtype=bool)
            if t.low is not None:
                inside &= rep >= t.low
            if t.high is not None:
                inside &= rep <= t.high
            p = float(w[inside].sum())
        out.append(Check(t, t.role(fitted), float(p10), float(med), float(p90), min(p, 1.0)))
    return out


@dataclass
class Coverage:
    """Simulation-based calibration on the table: how often credible intervals held the true value."""

    levels: tuple[float, ...]
    truths: int
    covered: dict[str, dict[float, float]]  # parameter -> level -> share of truths inside the central interval
    ranks: dict[str, np.ndarray]  # parameter -> posterior mass below the truth, per truth (uniform if calibrated)
    h: float
    median_ess: float

    def worst(self) -> float:
        """The largest miss in standard errors over parameters and levels (binomial SE of the share)."""
        out = 0.0
        for by_level in self.covered.values():
            for level, share in by_level.items():
                se = math.sqrt(level * (1 - level) / self.truths)
                out = max(out, abs(share - level) / se)
        return out


@dataclass
class Synthetic:
    """Synthetic data sets made from the table: each of ``truths`` rows (``pick``, positions in ``rows``)
    with its statistics on the fitted targets' compared scales plus standard normal noise (``noise``,
    multiplied by h tolerances when used). Synthetic data are points, so every fitted target is compared
    as a point here (the real data's intervals are compared as intervals)."""

    rows: np.ndarray  # table rows with every fitted statistic usable
    sims: np.ndarray  # (rows, fitted targets) on the compared scale
    sigma: np.ndarray  # tolerances of the fitted targets
    pick: np.ndarray  # positions in ``rows`` of the truths
    noise: np.ndarray  # (truths, fitted targets) standard normal

    @classmethod
    def make(cls, table: Table, fitted: Sequence[Target], truths: int, seed: int) -> Synthetic:
        cols = [table.column(t.name) for t in fitted]
        usable = np.all([np.isfinite(c) & ((c > 0) if t.log else True) for c, t in zip(cols, fitted)], axis=0)
        rows = np.flatnonzero(usable)
        sims = np.column_stack([np.log(c[rows]) if t.log else c[rows] for c, t in zip(cols, fitted)])
        gen = np.random.default_rng(np.random.SeedSequence([int(seed), NOISE_STREAM, 99]))
        pick = gen.choice(len(rows), min(truths, len(rows)), replace=False)
        return cls(rows, sims, np.array([t.sigma for t in fitted]), pick, _noise(seed, (len(pick), len(fitted)), 100))

    def weights(self, n: int, h: float, kernel: float | None = None) -> np.ndarray:
        """Posterior weights over ``rows`` for synthetic data set n: noise of h tolerances, a kernel of the
        same width (or ``kernel``: a mismatched width, to show what a miscalibrated inference looks like);
        the truth's own row is left out."""
        i = self.pick[n]
        data = self.sims[i] + h * self.sigma * self.noise[n]
        z = (self.sims - data) / ((kernel or h) * self.sigma)
        z[i] = np.inf
        return kernel_weights(z, 1.0)

    def median_ess(self, h: float) -> float:
        return float(np.median([ess(self.weights(n, h)) for n in range(len(self.pick))]))

    def bandwidth(self, min_ess: float) -> float:
        """The smallest h >= 1 at which the median synthetic data set keeps ``min_ess`` effective draws."""
        return _smallest_width(lambda h: self.median_ess(h) >= min_ess)


def _smallest_width(enough: Callable[[float], bool]) -> float:
    """The smallest h in [1, `MAX_BANDWIDTH`] with ``enough(h)`` (monotone; bisection on log h)."""
    if enough(1.0):
        return 1.0
    if not enough(MAX_BANDWIDTH):
        return MAX_BANDWIDTH
    lo, hi = 0.0, math.log(MAX_BANDWIDTH)
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if enough(math.exp(mid)) else (mid, hi)
    return math.exp(hi)


def coverage(
    table: Table,
    fit_until: dt.date | None = None,
    truths: int = 200,
    h: float | None = None,
    levels: tuple[float, ...] = (0.5, 0.9),
    seed: int = 0,
) -> Coverage:
    """Simulation-based calibration on the table (leave one out). For each of ``truths`` rows: that row's
    parameters are the truth, its statistics plus observation noise of h tolerances the data (`Synthetic`),
    the other rows weighted by the same kernel; each parameter's central credible intervals at ``levels``
    either hold the truth or not. ``h`` defaults to the width the fit uses (`infer`)."""
    post = infer(table, fit_until)
    h = post.h if h is None else h
    syn = Synthetic.make(table, post.fitted, truths, seed)
    scaled = np.column_stack([p.scale(table.values[syn.rows, j]) for j, p in enumerate(post.prior)])
    covered = {p.path: dict.fromkeys(levels, 0) for p in post.prior}
    ranks = {p.path: np.empty(len(syn.pick)) for p in post.prior}
    esses = []
    for n, i in enumerate(syn.pick):
        w = syn.weights(n, h)
        esses.append(ess(w))
        for j, p in enumerate(post.prior):
            x = scaled[:, j]
            ranks[p.path][n] = float(w[x < scaled[i, j]].sum())
            for lv in levels:
                lo, hi = weighted_quantile(x, w, [(1 - lv) / 2, (1 + lv) / 2])
                covered[p.path][lv] += int(lo <= scaled[i, j] <= hi)
    shares = {path: {lv: c / len(syn.pick) for lv, c in by.items()} for path, by in covered.items()}
    return Coverage(levels, len(syn.pick), shares, ranks, h, float(np.median(esses)))


# --------------------------------------------------------------------------------------------------
# Model comparison: how people joined
# --------------------------------------------------------------------------------------------------
PROJECTED = ("total_signups", "retention_day30", "retention_day90", "peak_us_rednote_dau")
"""Headline metrics whose projections the comparison puts side by side (`sim.results.headlines`)."""


@dataclass
class ModelComparison:
    """ABC model selection: each join model's evidence under one common kernel, with equal prior odds."""

    h: float  # the common kernel width: the widest any model's own fit needs
    evidence: dict[str, float]  # mean kernel weight over the model's prior table (its marginal likelihood, up to a constant)
    log_se: dict[str, float]  # Monte Carlo standard error of ln(evidence)
    probability: dict[str, float]  # posterior model probabilities
    simulations: dict[str, int]
    projections: dict[str, dict[str, tuple[float, float, float]]] = field(default_factory=dict)  # model -> metric -> 10/50/90 %


def compare_models(tables: dict[str, Table], fit_until: dt.date | None = None) -> ModelComparison:
    """The evidence of each model from its own prior table: the mean of ``exp(-1/2 sum (z / h)^2)`` over the
    table is a Monte Carlo estimate of p(data | model) under the kernel of width h (the same constant for
    every model), so with equal prior odds the posterior model probabilities are proportional to it."""
    fitted = fit_targets(fit_until)
    zs = {m: z_matrix(t, fitted) for m, t in tables.items()}
    h = max(bandwidth(z) for z in zs.values())
    evidence, log_se = {}, {}
    for m, z in zs.items():
        k = np.exp(log_kernel(z, h))
        evidence[m] = float(k.mean())
        log_se[m] = float(k.std() / (k.mean() * math.sqrt(len(k)))) if k.mean() > 0 else math.inf
    total = sum(evidence.values())
    probability = {m: e / total if total > 0 else math.nan for m, e in evidence.items()}
    return ModelComparison(h, evidence, log_se, probability, {m: len(t) for m, t in tables.items()})


def _project(job: tuple[Scenario, dict[str, float], int]) -> dict[str, float]:
    scenario, values, run = job
    from sim.ensemble import run_one

    metrics = run_one(with_parameters(scenario, values), run).metrics
    return {k: float(metrics[k]) for k in PROJECTED}


def projections(
    base: Scenario, post: Posterior, runs: int, executor: Executor | None = None, seed: int = 0
) -> dict[str, tuple[float, float, float]]:
    """The headline projections (`PROJECTED`) of ``base``'s full horizon under the posterior's join model:
    ``runs`` runs, run r with posterior draw r; per metric its 10 %, median and 90 %."""
    scenario = model_scenario(base, post.table.model)
    jobs = [(scenario, values, r) for r, values in enumerate(post.draws(runs, seed))]
    out = (executor or Executor()).map(_project, jobs)
    return {k: tuple(float(v) for v in np.nanpercentile([o[k] for o in out], [10, 50, 90])) for k in PROJECTED}


# --------------------------------------------------------------------------------------------------
# The fit file and the report
# --------------------------------------------------------------------------------------------------
POSTERIOR_DRAWS = 200
"""Parameter sets resampled from the posterior into the fit file (`Calibration.good_fits`): ensembles
and the validation's predictive bands cycle through them."""


def fit_document(
    name: str,
    post: Posterior,
    checks: list[Check],
    cov: Coverage,
    seed: int,
    comparison: ModelComparison | None = None,
    fit_until: dt.date | None = None,
) -> dict:
    """The fit file of a Bayesian calibration (schema `sim.params.Calibration` with its ``posterior``
    record): the marginal posterior medians as the point values, `POSTERIOR_DRAWS` resampled draws as
    ``good_fits``, and the record of priors, contraction, coverage and predictive p-values."""
    from sim.calibration import CalibrationResult, not_fitted
    from sim.calibration import fit_document as point_document

    draws = post.draws(POSTERIOR_DRAWS, seed)
    distances = post.distances()
    result = CalibrationResult(best=post.point(), best_distance=float(np.min(distances)), good=[(0.0, d) for d in draws],
                               trials=[], fit_until=fit_until, not_fitted=not_fitted(fit_until))  # fmt: skip
    doc = point_document(name, result, len(post.table), 1, post.table.agents, seed)
    cal = doc["calibration"]
    quant = post.quantiles([0.1, 0.5, 0.9])
    for path, spread in cal["parameters"].items():
        spread.update(
            best=float(quant[path][1]), p10=float(quant[path][0]), median=float(quant[path][1]), p90=float(quant[path][2])
        )
    cal["method"] = (
        f"ABC by importance weighting of {len(post.table)} prior simulations (one run each, {post.table.agents} agents): "
        f"weights exp(-z^2/2h^2) over the fit targets, h = {post.h:.3g} chosen for {MIN_ESS:g} effective draws; "
        f"point values are the marginal posterior medians; good_fits are {POSTERIOR_DRAWS} posterior draws"
    )
    drawn = distances[post.resample(POSTERIOR_DRAWS, seed)]
    cal["good_fit_distance"] = float(np.max(drawn[np.isfinite(drawn)])) if np.isfinite(drawn).any() else 0.0
    cal["posterior"] = {
        "simulations": len(post.table),
        "kernel_width": float(post.h),
        "effective_draws": float(post.ess),
        "priors": {p.path: f"{p.describe()}. Source: {p.source}" for p in post.prior},
        "contraction": {k: float(v) for k, v in post.contraction().items()},
        "coverage": {path: {f"{lv:g}": float(share) for lv, share in by.items()} for path, by in cov.covered.items()},
        "p_values": {c.target.name: float(c.p_value) for c in checks},
        "model_probability": dict(comparison.probability) if comparison else {},
    }
    return doc


def report_lines(post: Posterior, checks: list[Check], cov: Coverage, title: str) -> list[str]:
    """The Markdown report of a Bayesian calibration: priors, posterior, contraction, checks, coverage."""
    quant = post.quantiles([0.1, 0.5, 0.9])
    contraction = post.contraction()
    table = post.table
    lines = [
        f"# {title}",
        "",
        f"{len(table)} prior simulations, one run each at {table.agents:,} agents, seed {table.seed}. Kernel width "
        f"h = {post.h:.3g} (the sources are treated as erring by {post.h:.3g} of their stated tolerances; 1 would be as "
        f"stated), {post.ess:.0f} effective draws. Method: `sim.posterior` (ABC by importance weighting).",
        "",
        "## Priors and posterior",
        "",
        "Contraction is 1 - posterior variance / prior variance on the prior's scale (log for log priors): 0 means "
        "the observations said nothing about the parameter.",
        "",
        "| parameter | prior | posterior median | 10-90 % | contraction |",
        "|---|---|---|---|---|",
    ]
    for p in post.prior:
        q = quant[p.path]
        lines.append(f"| `{p.path}` | {p.describe()} | {q[1]:.3g} | {q[0]:.3g} - {q[2]:.3g} | {contraction[p.path]:.2f} |")
    lines += ["", "Sources of the priors:", ""] + [f"- `{p.path}`: {p.source}" for p in post.prior]
    lines += [
        "",
        "## Posterior predictive checks",
        "",
        "Each target against the model's predictive distribution (the posterior's runs plus the kernel's observation "
        "noise). p-value: two-sided for a point; for an interval, the predictive probability of the stated interval. "
        "Small p-values (below 0.05) flag observations the fitted model finds surprising.",
        "",
        "| target | role | observed | predictive 10 % | median | 90 % | p-value |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in checks:
        t = c.target
        observed = (
            f"{t.low:.3g}"
            if t.low == t.high
            else f"{'' if t.low is None else f'>= {t.low:.3g} '}{'' if t.high is None else f'<= {t.high:.3g}'}"
        )
        lines.append(
            f"| {t.name} | {c.role} | {observed.strip()} | {c.p10:.3g} | {c.median:.3g} | {c.p90:.3g} | {c.p_value:.3f} |"
        )
    lines += [
        "",
        "## Simulation-based calibration (coverage)",
        "",
        f"{cov.truths} rows of the table were taken in turn as the truth: their statistics plus observation noise at h = "
        f"{cov.h:.3g} as data, the other rows weighted by the same kernel (median {cov.median_ess:.0f} effective draws). "
        "A calibrated inference puts the truth inside its 50 % and 90 % central intervals at those rates; the standard "
        f"error of a share is {math.sqrt(0.25 / cov.truths):.3f} at 50 % and {math.sqrt(0.09 / cov.truths):.3f} at 90 %. "
        f"Largest miss: {cov.worst():.1f} standard errors.",
        "",
        "| parameter | inside 50 % | inside 90 % |",
        "|---|---|---|",
    ]
    lines += [f"| `{path}` | {by[0.5]:.3f} | {by[0.9]:.3f} |" for path, by in cov.covered.items() if 0.5 in by and 0.9 in by]
    return lines


def comparison_lines(comparison: ModelComparison, horizon: str) -> list[str]:
    """The Markdown section of the model comparison: evidence, probabilities and headline projections."""
    from sim.results import format_value, headline_unit, headlines

    lines = [
        "## How people joined: model comparison",
        "",
        f"Each model has its own prior table; its evidence is the mean kernel weight over that table at one common width "
        f"h = {comparison.h:.3g} (the widest any of the models needs), with equal prior odds. The observations are "
        "compared as the sources state them, so the evidence is that of these data, not of a summary of them.",
        "",
        "| model | how people join | simulations | ln evidence (± MC s.e.) | probability |",
        "|---|---|---|---|---|",
    ]
    for m, e in comparison.evidence.items():
        ln = f"{math.log(e):.2f} ± {comparison.log_se[m]:.2f}" if e > 0 else "-inf"
        lines.append(
            f"| {m} | {JOIN_MODELS[m].description} | {comparison.simulations[m]} | {ln} | {comparison.probability[m]:.3f} |"
        )
    if comparison.projections:
        names = [headlines()[k][0].label for k in PROJECTED]
        lines += ["", f"Headline projections ({horizon}; posterior draws of each model, median and 10-90 %):", "",
                  "| model | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]  # fmt: skip
        for m, proj in comparison.projections.items():
            cells = [f"{format_value(proj[k][1], headline_unit(k))} ({format_value(proj[k][0], headline_unit(k))} - "
                     f"{format_value(proj[k][2], headline_unit(k))})" for k in PROJECTED]  # fmt: skip
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return lines


def plot_marginals(path: Path, post: Posterior) -> None:
    """Prior (grey) and posterior (blue) histogram of every parameter on its prior's scale."""
    from sim.output import subplots

    n = len(post.prior)
    cols = 4
    fig, axes = subplots(math.ceil(n / cols), cols, figsize=(3.2 * cols, 2.2 * math.ceil(n / cols)))
    for ax, (j, p) in zip(np.ravel(axes), enumerate(post.prior)):
        x = post.scaled(j)
        bins = np.linspace(x.min(), x.max(), 30)
        ax.hist(x, bins=bins, density=True, color="0.75", label="prior")
        ax.hist(x, bins=bins, weights=post.weights, density=True, color="tab:blue", alpha=0.7, label="posterior")
        ax.set_title(p.path.split(".", 1)[1] + (" (ln)" if p.log else ""), fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in np.ravel(axes)[n:]:
        ax.axis("off")
    np.ravel(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
