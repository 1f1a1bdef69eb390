"""Multi-objective search over the platform's levers with optuna (NSGA-II).

Objectives: maximise Day-90 retention and cross-cultural ties; minimise wrongful bans and the peak
review backlog. Each trial is averaged over ``runs_per_trial`` runs with common random numbers
(run indices 0..K-1). The result is the Pareto front: policies no other policy beats on every objective.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np  # noqa: E402

from analysis.levers import SURGE_DAY, with_levers  # noqa: E402
from sim.ensemble import run_one  # noqa: E402
from sim.executor import Executor  # noqa: E402
from sim.output import subplots  # noqa: E402
from sim.params import Scenario  # noqa: E402

OBJECTIVES = {
    # metric: (direction, label)
    "retention_day90": ("maximize", "Day-90 retention"),
    "cross_cultural_ties": ("maximize", "cross-cultural ties"),
    "wrongful_bans": ("minimize", "wrongful bans"),
    "peak_review_backlog": ("minimize", "peak review backlog"),
}


def suggest_policy(trial) -> dict:
    """The platform's levers as an optuna trial's suggestions."""
    policy = {
        "translation_start_day": trial.suggest_int("translation_start_day", 0, 60),
        "translation_quality": trial.suggest_float("translation_quality", 0.3, 1.0),
        "review_capacity": trial.suggest_float("review_capacity", 5e4, 5e6, log=True),
        "real_name_scope": trial.suggest_categorical("real_name_scope", ["none", "new_accounts", "all_foreign"]),
        "real_name_start_day": trial.suggest_int("real_name_start_day", 0, 60),
        "walled_garden": trial.suggest_categorical("walled_garden", [False, True]),
    }
    return policy


def policy_changes(policy: dict) -> dict:
    """A policy as changes to the scenario's `platform` section."""
    day = lambda n: (SURGE_DAY + dt.timedelta(days=int(n))).isoformat()  # noqa: E731
    scope = policy["real_name_scope"]
    return {
        "platform": {
            "translation": {
                "start": day(policy["translation_start_day"]),
                "quality": float(policy["translation_quality"]),
                "grey_test_start": None,
            },
            "moderation": {"review_capacity": float(policy["review_capacity"])},
            "real_name": {"scope": scope, "start": None if scope == "none" else day(policy["real_name_start_day"])},
            "walled_garden": {"enabled": bool(policy["walled_garden"])},
        }
    }


def evaluate_policy(job: tuple[Scenario, dict, int]) -> list[float]:
    base, policy, runs = job
    scenario = with_levers(base, policy_changes(policy))
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
    study = optuna.create_study(directions=[d for d, _ in OBJECTIVES.values()], sampler=sampler)
    done = 0
    while done < trials:
        batch = [study.ask() for _ in range(min(executor.parallelism, trials - done))]
        policies = [suggest_policy(t) for t in batch]
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
    header = [
        "trial",
        "translation_start_day",
        "translation_quality",
        "review_capacity",
        "real_name_scope",
        "real_name_start_day",
        "walled_garden",
        *OBJECTIVES,
    ]
    (out / "pareto.csv").write_text(",".join(header) + "\n" + "\n".join(",".join(str(r[h]) for h in header) for r in rows) + "\n")
    lines = [
        "# Policy search: the Pareto front of the platform's levers",
        "",
        f"{len(study.trials)} policies x {settings['runs_per_trial']} runs (NSGA-II, seed {settings['seed']}), {settings['agents']} agents, "
        f"{settings['days']} days. Objectives: maximise Day-90 retention and cross-cultural ties, minimise wrongful bans and the peak review backlog.",
        f"{len(front)} policies are Pareto-optimal (no other policy tried is at least as good on every objective and better on one).",
        "",
        "| translation from | quality | review capacity/day | real-name | walled garden | Day-90 retention | ties | wrongful bans | peak backlog |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rn = "none" if r["real_name_scope"] == "none" else f"{r['real_name_scope']} from day {r['real_name_start_day']}"
        lines.append(
            f"| day {r['translation_start_day']} after 13 Jan | {r['translation_quality']:.2f} | {r['review_capacity']:.3g} | {rn} | "
            f"{'yes' if r['walled_garden'] else 'no'} | {100 * r['retention_day90']:.1f}% | {r['cross_cultural_ties'] / 1e6:.2f} M | "
            f"{r['wrongful_bans'] / 1e3:.1f} k | {r['peak_review_backlog'] / 1e3:.0f} k |"
        )
    lines += ["", "![Pareto front](pareto.png)", ""]
    (out / "optimize.md").write_text("\n".join(lines) + "\n")
    _plot(out / "pareto.png", all_rows, rows)
    return rows


def _plot(path: Path, all_rows: list[dict], front: list[dict]) -> None:
    fig, axes = subplots(1, 2, figsize=(12, 4.8))
    for ax, (x, y) in zip(axes, (("retention_day90", "cross_cultural_ties"), ("retention_day90", "wrongful_bans"))):
        ax.scatter([100 * r[x] for r in all_rows], [r[y] / 1e6 for r in all_rows], color="lightgray", label="all policies tried")
        sc = ax.scatter([100 * r[x] for r in front], [r[y] / 1e6 for r in front], c=[r["peak_review_backlog"] / 1e3 for r in front],
                        cmap="viridis", edgecolor="black", label="Pareto-optimal")  # fmt: skip
        ax.set_xlabel("Day-90 retention (%)")
        ax.set_ylabel(f"{OBJECTIVES[y][1]} (million)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.colorbar(sc, ax=ax, label="peak review backlog (thousand posts)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
