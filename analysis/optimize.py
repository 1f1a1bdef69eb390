"""Multi-objective search over the platform's levers with optuna (NSGA-II).

Objectives: maximise Day-90 retention and cross-cultural ties; minimise wrongful bans and the peak
review backlog. Each trial is averaged over ``runs_per_trial`` runs with common random numbers
(run indices 0..K-1); with a posterior fit run r is posterior draw r, so every policy is judged on the
same K draws of the fitted parameters (default 8: the objectives average over parameter uncertainty). The result is the Pareto front: policies no other policy beats on every objective.

The search space is the registry's (`sim.levers`): each lever in `LEVERS` over its declared search range
(dates as days after the scenario's start, log scale where the lever says so, choices as categories).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np  # noqa: E402

from sim.ensemble import run_one  # noqa: E402
from sim.executor import Executor  # noqa: E402
from sim.levers import LEVERS as REGISTRY  # noqa: E402
from sim.levers import Choices, set_levers  # noqa: E402
from sim.output import subplots  # noqa: E402
from sim.params import Scenario  # noqa: E402
from sim.results import format_value, headline_unit, objectives  # noqa: E402

OBJECTIVES = objectives()  # metric: its declaration, with the direction (`sim.results`)


# the platform's levers searched (names in `sim.levers.LEVERS`)
LEVERS = ("translation_start", "translation_quality", "review_capacity", "real_name_scope", "real_name_start", "walled_garden")


def suggest(trial, base: Scenario, names: tuple[str, ...] = LEVERS) -> dict:
    """An optuna trial's suggestions for ``names``, as lever values (the trial's parameters are the
    levers' numbers: days after the start for dates, the choice's text for choices)."""
    policy = {}
    for name in names:
        lever = REGISTRY[name]
        if isinstance(lever.domain, Choices):
            policy[name] = lever.parse(trial.suggest_categorical(name, list(lever.choices)), base)
            continue
        lo, hi = lever.search
        if lever.domain.integer:
            x = trial.suggest_int(name, int(lo), int(hi), log=lever.log)
        else:
            x = trial.suggest_float(name, lo, hi, log=lever.log)
        policy[name] = lever.from_number(x, base)
    return policy


def policy_scenario(base: Scenario, policy: dict) -> Scenario:
    """``base`` with a policy's levers set; a lever that cannot apply (a verification date with
    verification off) is left out."""
    return set_levers(base, policy, lenient=True)


def describe_policy(base: Scenario, policy: dict) -> dict[str, str]:
    """The policy as the scenario it makes uses it, lever by lever (`-` where a lever does not apply)."""
    scenario = policy_scenario(base, policy)
    return {name: REGISTRY[name].format(REGISTRY[name].read(scenario)) for name in policy}


def evaluate_policy(job: tuple[Scenario, dict, int]) -> list[float]:
    base, policy, runs = job
    scenario = policy_scenario(base, policy)
    values = {k: [] for k in OBJECTIVES}
    for run in range(runs):
        metrics = run_one(scenario, run).metrics
        for k in OBJECTIVES:
            values[k].append(metrics[k])
    return [float(np.nan_to_num(np.nanmean(v), nan=0.0)) if np.isfinite(v).any() else 0.0 for v in values.values()]


def search(base: Scenario, trials: int, runs_per_trial: int, executor: Executor | None = None, seed: int = 0, on_trial=None):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    executor = executor or Executor()
    sampler = optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(20, trials // 3)))
    study = optuna.create_study(directions=[h.objective for h in OBJECTIVES.values()], sampler=sampler)
    done = 0
    while done < trials:
        batch = [study.ask() for _ in range(min(executor.parallelism, trials - done))]
        policies = [suggest(t, base) for t in batch]
        for t, policy in zip(batch, policies):
            t.set_user_attr("levers", describe_policy(base, policy))
        for t, values in zip(batch, executor.map(evaluate_policy, [(base, p, runs_per_trial) for p in policies])):
            study.tell(t, values)
            done += 1
            if on_trial:
                on_trial()
    return study


def write_report(out: Path, study, settings: dict) -> list[dict]:
    front, seen = [], set()
    for t in sorted(study.best_trials, key=lambda t: -t.values[0]):
        key = tuple(sorted(t.params.items()))
        if key not in seen:  # NSGA-II can propose the same policy twice
            seen.add(key)
            front.append(t)
    rows = [{"trial": t.number, **t.params, **dict(zip(OBJECTIVES, t.values))} for t in front]
    all_rows = [{"trial": t.number, **t.params, **dict(zip(OBJECTIVES, t.values))} for t in study.trials if t.values]
    (out / "pareto.json").write_text(
        json.dumps({"settings": settings, "pareto": rows, "trials": all_rows}, indent=2, default=str)
    )
    header = ["trial", *LEVERS, *OBJECTIVES]
    (out / "pareto.csv").write_text(",".join(header) + "\n" + "\n".join(",".join(str(r[h]) for h in header) for r in rows) + "\n")
    lines = [
        "# Policy search: the Pareto front of the platform's levers",
        "",
        f"{len(study.trials)} policies x {settings['runs_per_trial']} runs (NSGA-II, seed {settings['seed']}), {settings['agents']} agents, "
        f"{settings['days']} days. Objectives: " + "; ".join(f"{h.objective} {h.label}" for h in OBJECTIVES.values()) + ".",
        f"{len(front)} policies are Pareto-optimal (no other policy tried is at least as good on every objective and better on one).",
        "",
        "| " + " | ".join(REGISTRY[n].label for n in LEVERS) + " | " + " | ".join(h.label for h in OBJECTIVES.values()) + " |",
        "|---|" + "---|" * (len(LEVERS) + len(OBJECTIVES) - 1),
    ]
    for t, r in zip(front, rows):
        shown = t.user_attrs["levers"]
        lines.append(
            "| "
            + " | ".join(_readable(shown[n]) for n in LEVERS)
            + " | "
            + " | ".join(format_value(r[m], headline_unit(m)) for m in OBJECTIVES)
            + " |"
        )
    lines += ["", "![Pareto front](pareto.png)", ""]
    (out / "optimize.md").write_text("\n".join(lines) + "\n")
    _plot(out / "pareto.png", all_rows, rows)
    return rows


def _readable(text: str) -> str:
    """A lever value for the table: numbers to three significant figures (thousands with separators);
    dates and choices as they are. (pareto.csv keeps every digit.)"""
    try:
        value = float(text)
    except ValueError:
        return text
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _plot(path: Path, all_rows: list[dict], front: list[dict]) -> None:
    fig, axes = subplots(1, 2, figsize=(12, 4.8))
    for ax, (x, y) in zip(axes, (("retention_day90", "cross_cultural_ties"), ("retention_day90", "wrongful_bans"))):
        ax.scatter([100 * r[x] for r in all_rows], [r[y] / 1e6 for r in all_rows], color="lightgray", label="all policies tried")
        sc = ax.scatter([100 * r[x] for r in front], [r[y] / 1e6 for r in front], c=[r["peak_review_backlog"] / 1e3 for r in front],
                        cmap="viridis", edgecolor="black", label="Pareto-optimal")  # fmt: skip
        ax.set_xlabel("Day-90 retention (%)")
        ax.set_ylabel(f"{OBJECTIVES[y].label} (million)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.colorbar(sc, ax=ax, label="peak review backlog (thousand posts)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
