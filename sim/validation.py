"""The validation report: the historical scenario against every observation, with honest bands.

Each run of the ensemble uses one of the calibration's parameter sets in turn (run r uses set r mod G:
the posterior draws of a Bayesian fit, the good fits of a point search), so the 10-90 % band carries parameter uncertainty as well as stochastic noise (a posterior
predictive band). The report also shows how the band width of the headline metrics settles as the
number of runs grows, which is how the default ``--runs`` was chosen.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np  # noqa: E402

from sim.calibration import FREE_PARAMETERS, UNINFORMATIVE_FACTOR, Target, targets, with_parameters  # noqa: E402
from sim.ensemble import RunResult, band, run_one  # noqa: E402
from sim.executor import Executor  # noqa: E402
from sim.observations import observation  # noqa: E402
from sim.observations import rows as observation_rows
from sim.output import subplots  # noqa: E402
from sim.params import Scenario  # noqa: E402

STABILITY_METRICS = ("peak_us_rednote_dau", "total_signups", "retention_day30", "retention_day90")


def _sets(cal) -> str:
    """What the fit's parameter sets are, in words."""
    return "posterior draws" if cal is not None and cal.posterior is not None else "good fits"


def _how_fitted(cal) -> str:
    """One clause: how the fit was made."""
    if cal.posterior is not None:
        return (f"{cal.posterior.simulations} prior simulations at {cal.agents} agents, kernel width "
                f"{cal.posterior.kernel_width:.3g}, {cal.posterior.effective_draws:.0f} effective draws")  # fmt: skip
    return f"{cal.budget} trials x {cal.runs_per_point} runs at {cal.agents} agents, distance {cal.distance:.3g}"


def scenario_for_run(scenario: Scenario, run: int) -> Scenario:
    """The scenario of validation run ``run``: the calibration's good-fit set ``run mod G`` applied
    (its observation scales too, so each run is compared through its own observation model)."""
    fits = scenario.calibration.good_fits if scenario.calibration else []
    return with_parameters(scenario, fits[run % len(fits)]) if fits else scenario


def run_for_validation(job: tuple[Scenario, int]) -> RunResult:
    scenario, run = job
    return run_one(scenario_for_run(scenario, run), run)


def predictive_runs(scenario: Scenario, runs: int, executor: Executor | None = None, on_run=None) -> list[RunResult]:
    """Runs for the report; run r uses good-fit parameter set r mod G (see `run_for_validation`)."""
    jobs = [(scenario, r) for r in range(runs)]
    return (executor or Executor()).map(run_for_validation, jobs, on_result=(lambda i, r: on_run(r)) if on_run else None)


def band_width_by_runs(results: list[RunResult], seed: int = 0, repeats: int = 200) -> dict[str, list[tuple[int, float]]]:
    """Mean relative 10-90 % band width (p90 - p10) / median of each headline metric for ensembles of
    n runs, drawn without replacement from the runs at hand."""
    rng = np.random.default_rng(seed)
    sizes = [n for n in (3, 5, 10, 15, 20, 30, 40, 60, 80) if n <= len(results)]
    out: dict[str, list[tuple[int, float]]] = {}
    for metric in STABILITY_METRICS:
        values = np.array([r.metrics[metric] for r in results])
        values = values[np.isfinite(values)]
        if values.size < len(results) or np.median(values) <= 0:
            continue  # undefined in some runs (e.g. Day-90 retention on a short horizon)
        rows = []
        for n in sizes:
            widths = []
            for _ in range(repeats):
                p10, med, p90 = np.percentile(rng.choice(values, n, replace=False), [10, 50, 90])
                widths.append((p90 - p10) / med)
            rows.append((n, float(np.mean(widths))))
        out[metric] = rows
    return out


def settled_runs(curves: dict[str, list[tuple[int, float]]], tolerance: float = 0.15) -> int | None:
    """Smallest n from which every metric's band width stays within ``tolerance`` of its largest-n value."""
    if not curves:
        return None
    sizes = [n for n, _ in next(iter(curves.values()))]
    for i, n in enumerate(sizes):
        if all(all(abs(w - rows[-1][1]) <= tolerance * rows[-1][1] for _, w in rows[i:]) for rows in curves.values()):
            return n
    return None


def target_rows(scenario: Scenario, results: list[RunResult]) -> list[dict]:
    """Every target against the runs: band, z, status and role in the scenario's fit."""
    cal = scenario.calibration
    fitted = set(cal.targets) if cal else None
    per_run = {r.run: scenario_for_run(scenario, r.run) for r in results}
    rows = []
    for t in targets():
        b = band(t.model(per_run[r.run], r.series) for r in results)
        rows.append({
            "target": t.name, "description": t.description, "role": t.role(fitted), "observed": t.observed,
            "observed_text": _observed_text(t), "median": b["median"], "p10": b["p10"], "p90": b["p90"],
            "status": t.status(b["p10"], b["p90"]), "z": t.z(b["median"]) if b["median"] is not None else None,
            "sigma": t.sigma, "log": t.log, "source": t.source, "measures": t.measures, "wording": t.wording,
            "conflicting": t.conflicting, "date": t.date,
        })  # fmt: skip
    return rows


def write_report(
    out: Path,
    scenario: Scenario,
    results: list[RunResult],
    fixed: list[RunResult] | None = None,
    split: tuple[Scenario, list[RunResult]] | None = None,
) -> dict:
    """report.md and figures; returns the table rows. ``fixed``: an ensemble with the best-fit parameters
    only (what `run.py --runs` does), used to choose the default number of runs. ``split``: the scenario
    with a time-split fit applied and its runs, for the section 'Time split'."""
    out.mkdir(parents=True, exist_ok=True)
    rows = target_rows(scenario, results)
    split_rows = target_rows(*split) if split else None
    curves = band_width_by_runs(fixed or results)
    chosen = settled_runs(curves)
    predictive_curves = band_width_by_runs(results) if fixed else None
    _plot_fit(out / "fit_january.png", scenario, results)
    _plot_stability(out / "band_width_by_runs.png", curves, chosen)
    if scenario.calibration:
        _plot_parameters(out / "parameters.png", scenario)
    md = _markdown(scenario, results, rows, curves, chosen, predictive_curves, len(fixed or []))
    md += "\n" + "\n".join(_time_split(split[0] if split else None, split_rows, len(split[1]) if split else 0))
    (out / "report.md").write_text(md)
    return {"rows": rows, "split_rows": split_rows, "chosen_runs": chosen, "curves": curves}


def _observed_text(t: Target) -> str:
    if t.low is not None and t.high is not None:
        return _fmt(t.low) if t.low == t.high else f"{_fmt(t.low)} to {_fmt(t.high)}"
    return f"> {_fmt(t.low)}" if t.high is None else f"< {_fmt(t.high)}"


def _fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    if abs(v) >= 1e4:
        return f"{v / 1e6:.3g} M"
    return f"{v:.3g}"


def _stability_table(curves: dict) -> list[str]:
    lines = ["| n | " + " | ".join(curves) + " |", "|---|" + "---|" * len(curves)]
    for i, (n, _) in enumerate(next(iter(curves.values()), [])):
        lines.append(f"| {n} | " + " | ".join(f"{rows[i][1]:.3f}" for rows in curves.values()) + " |")
    return lines


def _role_text(role: str) -> str:
    if role.startswith("informed "):
        return "informed " + ", ".join(f"`{p}`" for p in role.removeprefix("informed ").split(", "))
    return role


def _rows_table(rows: list[dict]) -> list[str]:
    lines = [
        "| observation | role | what the source measures | observed | sigma | model median | 10-90 % band | z | result |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        sigma = f"{r['sigma']:g}" + (" (log)" if r["log"] else "")
        z = "n/a" if r["z"] is None else f"{r['z']:+.2f}"
        result = f"**{r['status']}**" if r["status"] in ("miss", "uninformative") else r["status"]
        lines.append(
            f"| {r['description']} | {_role_text(r['role'])} | {r['measures']} | {r['observed_text']} | {sigma} | "
            f"{_fmt(r['median'])} | {_fmt(r['p10'])} - {_fmt(r['p90'])} | {z} | {result} |"
        )
    return lines


def _summary(rows: list[dict]) -> str:
    parts = []
    for label, pick in (("fitted", lambda r: r["role"] == "fitted"), ("held out", lambda r: r["role"] == "held out"),
                        ("informed a fixed parameter", lambda r: r["role"].startswith("informed")),
                        ("conflicting", lambda r: r["role"] == "conflicting")):  # fmt: skip
        group = [r for r in rows if pick(r)]
        if group:
            counts = {k: sum(r["status"] == k for r in group) for k in ("inside", "within tolerance", "miss", "uninformative")}
            parts.append(f"{label} ({len(group)}): " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))
    return "Results by role: " + "; ".join(parts) + "."


def _observation_model(cal) -> list[str]:
    scales = {k: v for k, v in cal.parameters.items() if v.prior_median is not None}
    if not scales:
        return ["## Observation model", "", "This fit predates the observation model: no source scales were fitted.", ""]
    lines = [
        "## Observation model",
        "",
        "Each source's scale, its prior (log-normal: median, log-sd; see `sim/params.py`, section `observation`)",
        "and the fitted value. z of prior = (ln best - ln prior median) / log-sd: how far the data pulled it.",
        "",
        f"| parameter | prior median | prior log-sd | best | 10-90 % of {_sets(cal)} | z of prior |",
        "|---|---|---|---|---|---|",
    ]
    for path, sp in scales.items():
        zp = (np.log(sp.best) - np.log(sp.prior_median)) / sp.prior_log_sd
        lines.append(
            f"| `{path}` | {sp.prior_median:.3g} | {sp.prior_log_sd:.3g} | {sp.best:.3g} | {sp.p10:.3g} - {sp.p90:.3g} | {zp:+.2f} |"
        )
    return [*lines, ""]


def _time_split(split: Scenario | None, rows: list[dict] | None, n_runs: int) -> list[str]:
    lines = ["## Time split", ""]
    cal = split.calibration if split is not None else None
    if cal is None or cal.fit_until is None or rows is None:
        return [*lines, "Not run: make a fit on the early data with `python run.py calibrate "
                "scenarios/historical_2025.yaml --fit-until 2025-01-16` and pass its fit file to "
                "`python run.py validate --time-split FIT`.", ""]  # fmt: skip
    later = [r for r in rows if r["date"] > cal.fit_until]
    lines += [
        f"A fit to the observations dated up to {cal.fit_until} only ({_how_fitted(cal)}; "
        f"{len(cal.targets)} targets: {', '.join(cal.targets)}), "
        f"run {n_runs} times cycling through its {len(cal.good_fits)} {_sets(cal)}, predicts the later facts:",
        "",
        *_rows_table(later),
        "",
    ]
    if cal.not_fitted:
        lines += ["Left out of this fit (no data up to that day can inform them):", ""]
        lines += [f"- `{p}` = {why}" for p, why in cal.not_fitted.items()]
        lines.append("")
    earlier = [r for r in rows if r["date"] <= cal.fit_until]
    lines += ["The same fit on the observations up to the split: " + _summary(earlier).removeprefix("Results by role: "), ""]
    return lines


def _posterior_section(cal) -> list[str]:
    """A Bayesian fit's record (`sim.posterior`): contraction, predictive p-values, coverage and the model
    comparison (the calibration's own report, calibration.md, has the full tables and the projections)."""
    post = cal.posterior
    if post is None:
        return []
    lines = [
        "## Posterior",
        "",
        f"ABC by importance weighting of {post.simulations} prior simulations; kernel width h = {post.kernel_width:.3g} "
        f"(the sources treated as erring by {post.kernel_width:.3g} of their stated tolerances), "
        f"{post.effective_draws:.0f} effective draws. The parameter table above gives posterior medians and 10-90 %.",
        "",
        "| parameter | contraction | synthetic truths inside 50 % | inside 90 % |",
        "|---|---|---|---|",
    ]
    for path, c in post.contraction.items():
        cov = post.coverage.get(path, {})
        lines.append(f"| `{path}` | {c:.2f} | {cov.get('0.5', float('nan')):.3f} | {cov.get('0.9', float('nan')):.3f} |")
    lines += ["", "Posterior predictive p-values (small: the observation surprises the fitted model):", "",
              "| target | p-value |", "|---|---|"]  # fmt: skip
    lines += [f"| {name} | {pv:.3f} |" for name, pv in post.p_values.items()]
    if post.model_probability:
        lines += ["", "How people joined, posterior model probabilities (equal prior odds): "
                  + ", ".join(f"{m} {pr:.3f}" for m, pr in post.model_probability.items()) + "."]  # fmt: skip
    return [*lines, ""]


def _markdown(scenario: Scenario, results: list[RunResult], rows: list[dict], curves, chosen, predictive=None, n_fixed=0) -> str:
    cal = scenario.calibration
    lines = [
        f"# Validation report: {scenario.name}",
        "",
        f"{len(results)} runs, seed {scenario.seed}, {scenario.agents} agents, {scenario.start_date} to {scenario.end_date}.",
        f"Each run uses one of the calibration's {_sets(cal)} in turn, so the 10-90 % band carries parameter",
        "uncertainty as well as run-to-run noise." if cal else "No calibration record: bands show run-to-run noise only.",
        "",
        "## Model against every observation",
        "",
        "Each observation is compared with what its source measures (the observation function, with the",
        "observation-model parameters of each run's parameter set). *role*: fitted; informed a fixed parameter (named;",
        "never counted as held out); conflicting; or held out. *result*: **uninformative** when the model's 10-90 %",
        f"band spans more than a factor {UNINFORMATIVE_FACTOR:g} (or reaches zero) on a log scale, whatever else holds;",
        "otherwise *inside* (the band meets the observation: a point inside it, an interval overlapping it),",
        "*within tolerance* (the band overlaps the observation +- sigma, the uncertainty the fit assigns to it) or",
        "*miss*. z is (model median - nearest end of the observed interval) / sigma.",
        "",
        *_rows_table(rows),
        "",
        _summary(rows),
        "",
        "### How each source's words were read",
        "",
        *[f"- **{r['description']}**: {r['wording']}" for r in rows if r["wording"]],
        "",
        "## Where the model misses",
        "",
    ]
    misses = [r for r in rows if r["status"] == "miss"]
    if not misses:
        lines.append("No observation is missed (uninformative rows are listed as such above, not as passes).")
    for r in misses:
        direction = "above" if (r["median"] or 0) > r["observed"] else "below"
        lines.append(
            f"- **{r['description']}** ({r['role']}): model median {_fmt(r['median'])} is {direction} the observed "
            f"{r['observed_text']} (source: {r['source']}; z = {r['z']:+.2f})."
        )
    lines += [
        "",
        "## Observations that set fixed parameters",
        "",
        "Not compared with the model (or, where a target uses them, never counted as held out):",
        "",
    ]
    for row in observation_rows():
        if row.get("informs"):
            params = ", ".join(f"`{p}`" for p in row["informs"].split())
            lines.append(f"- {row['metric']} {row['date']} = {row['value']} ({row['source']}): sets {params}")
    lines += ["", "![January fit](fit_january.png)", ""]
    if cal:
        lines += [
            "## Fitted parameters",
            "",
            f"Fitted by {cal.method} on {cal.date}: {_how_fitted(cal)}; "
            + (
                f"{len(cal.good_fits)} posterior draws; *point* is the posterior median."
                if cal.posterior is not None
                else f"best distance {cal.distance:.3g} (root mean square z-score over the fit targets); "
                f"{len(cal.good_fits)} good fits (distance <= {cal.good_fit_distance:.3g})."
            ),
            "",
            f"| parameter | point | median of {_sets(cal)} | 10-90 % of {_sets(cal)} | {'prior' if cal.posterior else 'search'} range | prior |",
            "|---|---|---|---|---|---|",
        ]
        for path, sp in cal.parameters.items():
            prior = "" if sp.prior_median is None else f"log-normal {sp.prior_median:.3g}, log-sd {sp.prior_log_sd:.3g}"
            lines.append(
                f"| `{path}` | {sp.best:.4g} | {sp.median:.4g} | {sp.p10:.4g} - {sp.p90:.4g} | {sp.lower:.4g} - {sp.upper:.4g} | {prior} |"
            )
        if cal.not_fitted:
            lines += ["", "Left out of this fit: " + "; ".join(f"`{p}` = {w}" for p, w in cal.not_fitted.items())]
        lines += ["", "![Parameters](parameters.png)", "", *_observation_model(cal), *_posterior_section(cal)]
    lines += [
        "## How many runs",
        "",
        "Mean relative width (p90 - p10) / median of the 10-90 % band for ensembles of n runs (subsamples), "
        + (
            f"from {n_fixed} runs with the best-fit parameters only, i.e. what `run.py --runs n` does:"
            if n_fixed
            else "from the runs above:"
        ),
        "",
        *_stability_table(curves),
        "",
        f"The band width settles (stays within 15 % of its value at the largest n) from **n = {chosen}** runs."
        if chosen
        else "The band width had not settled within the runs available; use more runs.",
        "",
        "![Band width by runs](band_width_by_runs.png)",
        "",
    ]
    if predictive:
        lines += [
            f"With parameter uncertainty (the validation runs, cycling through the {_sets(cal)}) the bands are wider:",
            "",
            *_stability_table(predictive),
            "",
        ]
    return "\n".join(lines)


def _plot_fit(path: Path, scenario: Scenario, results: list[RunResult]) -> None:
    end = min(scenario.days, scenario.day_of(dt.date(2025, 2, 15)) + 1)
    x = [scenario.date_of(d) for d in range(end)]
    fig, axes = subplots(1, 3, figsize=(15, 4.2))

    def draw(ax, column, scale, label, color, cumulative_from=None, per_run=None):
        stack = np.vstack([r.series[column][:end] * (per_run(r) if per_run else 1.0) for r in results])
        if cumulative_from is not None:
            stack = np.cumsum(np.where(np.arange(end) >= cumulative_from, stack, 0.0), axis=1)
        p10, med, p90 = np.percentile(stack, [10, 50, 90], axis=0)
        ax.plot(x, med / scale, color=color, label=f"model median ({len(results)} runs)")
        ax.fill_between(x, p10 / scale, p90 / scale, color=color, alpha=0.25, linewidth=0, label="10-90 %")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)

    draw(axes[0], "us_rednote_dau", 1e6, "US RedNote DAU as Similarweb measures it (million)", "tab:red",
         per_run=lambda r: scenario_for_run(scenario, r.run).observation.similarweb_dau_scale)  # fmt: skip
    for d in ("2025-01-06", "2025-01-12", "2025-01-13"):
        axes[0].scatter([dt.date.fromisoformat(d)], [observation("rednote_us_dau", d) / 1e6], color="black", zorder=5)
    day13 = scenario.day_of(dt.date(2025, 1, 13))
    draw(
        axes[1],
        "cn_hashtag_views",
        1e6,
        "cumulative #TikTokRefugee views from 13 Jan (million, log)",
        "tab:green",
        cumulative_from=day13,
    )
    for d in (13, 14, 15, 16):
        axes[1].scatter(
            [dt.date(2025, 1, d)], [observation("hashtag_tiktokrefugee_views", f"2025-01-{d}") / 1e6], color="black", zorder=5
        )
    axes[1].set_yscale("log")
    axes[1].set_xlim(dt.date(2025, 1, 10), dt.date(2025, 1, 25))
    draw(axes[2], "us_tiktok_dau", 1e6, "US TikTok DAU (million)", "black")
    axes[2].scatter(
        [dt.date(2025, 1, 13)], [observation("tiktok_us_dau", "2025-01-13") / 1e6], color="tab:red", zorder=5, label="observed"
    )
    for ax in axes:
        ax.legend(fontsize=7)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _plot_stability(path: Path, curves, chosen) -> None:
    fig, ax = subplots(figsize=(7, 4))
    for metric, rows in curves.items():
        ax.plot([n for n, _ in rows], [w for _, w in rows], marker="o", label=metric)
    if chosen:
        ax.axvline(chosen, color="gray", linestyle="--", label=f"chosen default: {chosen} runs")
    ax.set_xlabel("runs in the ensemble")
    ax.set_ylabel("(p90 - p10) / median")
    ax.set_title("Band width of headline metrics as runs grow", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _plot_parameters(path: Path, scenario: Scenario) -> None:
    cal = scenario.calibration
    fig, ax = subplots(figsize=(8, 0.6 * len(cal.parameters) + 1.2))
    for i, (name, sp) in enumerate(cal.parameters.items()):
        log = name in FREE_PARAMETERS and FREE_PARAMETERS[name].log
        scale = (lambda v: np.log10(v)) if log else (lambda v: v)
        lo, hi = scale(sp.lower), scale(sp.upper)

        def pos(v, lo=lo, hi=hi, scale=scale):
            return (scale(v) - lo) / (hi - lo)

        ax.plot([pos(sp.p10), pos(sp.p90)], [i, i], color="tab:blue", linewidth=6, alpha=0.5)
        ax.scatter([pos(sp.best)], [i], color="tab:red", zorder=5)
        ax.text(1.02, i, f"{sp.best:.3g} [{sp.p10:.3g}, {sp.p90:.3g}]", va="center", fontsize=8)
    ax.set_yticks(range(len(cal.parameters)), list(cal.parameters), fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("position in the search range (log scale where searched on a log scale)")
    ax.set_title(f"Fitted parameters: point (dot) and 10-90 % of {_sets(scenario.calibration)} (bar)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
