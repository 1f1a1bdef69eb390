"""Global sensitivity analysis with SALib (Morris screening or Sobol indices).

Every design point is run ``runs_per_point`` times and the outputs are averaged; the points of one Morris
trajectory (or Sobol base sample) share their run indices, and each trajectory has its own (`run_design`):
the elementary effects are paired, and with a posterior fit the indices average over the posterior draws. Outputs: Day-90 retention, peak US DAU and the moderation load
(posts sent to manual review over the horizon).

The factors are levers of the registry (`sim.levers`): the policy levers in `LEVERS` and every uncertain
behavioural factor, each sampled over its declared search range (log10 for log levers). ``--factors
assumptions`` screens instead every numeric parameter whose source is an assumption and that the fit does
not infer (`assumed_parameters`, named by dotted path), from half to twice its value on a log scale: the
screen that picks which assumptions join the posterior's priors (issue 14).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np  # noqa: E402

from sim.ensemble import run_one  # noqa: E402
from sim.executor import Executor  # noqa: E402
from sim.levers import BEHAVIOUR, POLICY, of_kind, set_samples  # noqa: E402
from sim.levers import LEVERS as REGISTRY
from sim.output import subplots  # noqa: E402
from sim.params import ASSUMPTION_FACTOR, Scenario  # noqa: E402
from sim.results import headlines  # noqa: E402

ANALYSED = ("retention_day90", "peak_us_rednote_dau", "moderation_load")  # headline metrics analysed
OUTPUTS = {name: headlines()[name][0].label for name in ANALYSED}
# the policy levers varied by default (names in `sim.levers.LEVERS`); every behavioural factor is varied too
LEVERS = ("outage_hours", "translation_start", "translation_quality", "review_capacity", "cross_feed_visibility")


def assumed_parameters(base: Scenario) -> dict[str, tuple[float, float]]:
    """Dotted path -> (low, high) of every float parameter whose source is an assumption, that the fit does
    not infer (`sim.calibration.FREE_PARAMETERS`, the observation model) and whose value in ``base`` is
    positive: from half to twice that value, within the schema's bounds."""
    from sim.calibration import FREE_PARAMETERS
    from sim.params import assumption_range, iter_parameters
    from sim.scenario import get_path

    out = {}
    for path, info in iter_parameters():
        source = str((info.json_schema_extra or {}).get("source", ""))
        if "assumption" not in source.lower() or path in FREE_PARAMETERS or "[]" in path or path.startswith("observation."):
            continue
        value = get_path(base, path)
        if not isinstance(value, float) or value <= 0:
            continue
        lo, hi = assumption_range(path, value)
        if hi > lo:
            out[path] = (lo, hi)
    return out


def problem(factors: list[str] | None = None, assumed: dict[str, tuple[float, float]] | None = None) -> dict:
    """SALib's problem: levers with their sampling ranges from the registry, or (``assumed``) parameters by
    dotted path, each sampled as log10 of its range."""
    if assumed is not None:
        names = list(assumed)
        return {"num_vars": len(names), "names": names, "bounds": [[np.log10(lo), np.log10(hi)] for lo, hi in assumed.values()]}
    names = factors or [*LEVERS, *(lever.name for lever in of_kind(BEHAVIOUR))]
    return {"num_vars": len(names), "names": names, "bounds": [list(REGISTRY[n].bounds()) for n in names]}


def scenario_at(base: Scenario, point: dict[str, float]) -> Scenario:
    """The scenario of one design point (values in the sampling space of `problem`): levers by name,
    assumed parameters by dotted path (log10 of the value)."""
    from sim.scenario import with_values

    levers = {n: x for n, x in point.items() if n in REGISTRY}
    paths = {n: float(10.0**x) for n, x in point.items() if n not in REGISTRY}
    scenario = set_samples(base, levers) if levers else base
    return with_values(scenario, paths, source="sensitivity design point") if paths else scenario


def describe(name: str) -> tuple[str, str, str]:
    """(kind, range, meaning) of a factor: a lever, or an assumed parameter by dotted path."""
    if name in REGISTRY:
        f = REGISTRY[name]
        return f.kind, f.range_text(), f.help
    from sim.params import iter_parameters

    info = dict(iter_parameters())[name]
    return "assumption", f"x 1/{ASSUMPTION_FACTOR:g} to x {ASSUMPTION_FACTOR:g} (log)", info.description or ""


def sample(method: str, prob: dict, samples: int, seed: int) -> np.ndarray:
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(prob, samples, num_levels=4, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(prob, samples, calc_second_order=False, seed=seed)


def evaluate_point(job: tuple[Scenario, dict[str, float], int, int]) -> dict[str, float]:
    base, values, runs, first_run = job
    scenario = scenario_at(base, values)
    out = {k: [] for k in OUTPUTS}
    for run in range(first_run, first_run + runs):
        metrics = run_one(scenario, run).metrics
        for k in OUTPUTS:
            out[k].append(metrics[k])
    return {k: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for k, v in out.items()}


def group_size(method: str, prob: dict) -> int:
    """Design points whose differences the method's estimator takes: a Morris trajectory (D + 1 points) or
    a Sobol base sample with its cross-sampled points (D + 2, first-order and total indices)."""
    return prob["num_vars"] + (1 if method == "morris" else 2)


def run_design(
    base: Scenario,
    prob: dict,
    X: np.ndarray,
    runs: int,
    executor: Executor | None = None,
    on_point=None,
    method: str = "morris",
) -> dict[str, np.ndarray]:
    """Outputs at every design point, each the mean of ``runs`` runs. The points of one group (`group_size`)
    share their run indices, so the differences the indices are made of are paired (common random numbers
    and, with a posterior fit, the same parameter draws); group g uses runs g*runs .. g*runs + runs - 1, so
    the indices average over as many posterior draws as there are groups times runs."""
    size = group_size(method, prob)
    jobs = [(base, dict(zip(prob["names"], row)), runs, (i // size) * runs) for i, row in enumerate(X)]
    results = (executor or Executor()).map(evaluate_point, jobs, on_result=(lambda i, r: on_point()) if on_point else None)
    return {k: np.array([r[k] for r in results]) for k in OUTPUTS}


def analyze(method: str, prob: dict, X: np.ndarray, Y: dict[str, np.ndarray], seed: int) -> dict[str, dict[str, list[float]]]:
    """Indices per output: Morris mu_star (+ 95 % CI) and sigma, or Sobol S1 and ST (+ 95 % CIs)."""
    out = {}
    for name, y in Y.items():
        y = np.nan_to_num(y, nan=float(np.nanmean(y)) if np.isfinite(y).any() else 0.0)
        if method == "morris":
            from SALib.analyze import morris

            si = morris.analyze(prob, X, y, num_levels=4, conf_level=0.95, seed=seed)
            out[name] = {k: [float(v) for v in si[k]] for k in ("mu_star", "mu_star_conf", "sigma")}
        else:
            from SALib.analyze import sobol

            si = sobol.analyze(prob, y, calc_second_order=False, conf_level=0.95, seed=seed)
            out[name] = {k: [float(v) for v in si[k]] for k in ("S1", "S1_conf", "ST", "ST_conf")}
    return out


def ranking(method: str, prob: dict, indices: dict) -> dict[str, list[tuple[str, float, float]]]:
    """Factors per output, most influential first: (name, index, confidence half-width)."""
    key, conf = ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")
    return {
        out: sorted(zip(prob["names"], idx[key], idx[conf]), key=lambda t: -t[1])
        for out, idx in indices.items()
    }  # fmt: skip


def write_report(out: Path, method: str, prob: dict, X: np.ndarray, Y: dict, indices: dict, settings: dict) -> str:
    ranks = ranking(method, prob, indices)
    key = "mu* (mean absolute elementary effect)" if method == "morris" else "total-order index ST"
    lines = [
        f"# Global sensitivity analysis ({method})",
        "",
        f"{len(X)} design points x {settings['runs_per_point']} runs, {settings['agents']} agents, "
        f"{settings['days']} days from {settings['start']}, seed {settings['seed']}. Index: {key}, with 95 % confidence half-width.",
        "",
        "| factor | kind | range | meaning |",
        "|---|---|---|---|",
    ]
    for n in prob["names"]:
        kind, span, meaning = describe(n)
        lines.append(f"| `{n}` | {kind} | {span} | {meaning} |")
    summary = []
    for output, rows in ranks.items():
        top = rows[0][1] if rows and rows[0][1] > 0 else 1.0
        lines += [
            "",
            f"## {OUTPUTS[output]}",
            "",
            "| factor | index | 95 % CI half-width | relative to the largest |",
            "|---|---|---|---|",
        ]
        lines += [f"| `{n}` | {v:.4g} | {c:.3g} | {v / top:.2f} |" for n, v, c in rows]
        matter = [n for n, v, c in rows if v >= 0.2 * top and v - c > 0]
        levers = [n for n in matter if describe(n)[0] == POLICY]
        summary.append(
            f"- **{OUTPUTS[output]}**: the factors that matter (index at least 20 % of the largest and distinguishable from 0) are "
            + (", ".join(f"`{n}`" for n in matter) or "none")
            + (
                f"; among the policy levers: {', '.join(f'`{n}`' for n in levers)}."
                if levers
                else "; no policy lever reaches that bar."
            )
        )
    lines[4:4] = ["## Which levers matter", "", *summary, ""]  # after the intro, before the factor table
    lines += ["", "![Indices](indices.png)", ""]
    text = "\n".join(lines) + "\n"
    (out / "sensitivity.md").write_text(text)
    (out / "indices.json").write_text(
        json.dumps({"method": method, "problem": prob, "indices": indices, "settings": settings}, indent=2)
    )
    header = ",".join(prob["names"] + list(Y))
    rows = [",".join(f"{v:.6g}" for v in [*x, *(Y[k][i] for k in Y)]) for i, x in enumerate(X)]
    (out / "design.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    _plot(out / "indices.png", method, prob, indices)
    return text


def _plot(path: Path, method: str, prob: dict, indices: dict) -> None:
    key, conf = ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")
    fig, axes = subplots(1, len(indices), figsize=(5 * len(indices), 0.45 * len(prob["names"]) + 1.5))
    for ax, (output, idx) in zip(np.atleast_1d(axes), indices.items()):
        values, cis = np.array(idx[key]), np.array(idx[conf])
        scale = values.max() if values.max() > 0 else 1.0
        order = np.argsort(values)
        colors = ["tab:red" if describe(prob["names"][i])[0] == POLICY else "tab:gray" for i in order]
        ax.barh(range(len(order)), values[order] / scale, xerr=cis[order] / scale, color=colors, capsize=3)
        ax.set_yticks(range(len(order)), [prob["names"][i] for i in order], fontsize=8)
        ax.set_title(f"{OUTPUTS[output]}\n({key}, relative; red = policy lever)", fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
