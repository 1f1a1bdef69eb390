"""Runs and ensembles: one run per (seed, run index), serial or in worker processes.

Run r of seed s draws only from streams keyed by (s, r, ...), so the result of a run does not depend on
where or in which order it is computed: serial and parallel ensembles give identical numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from sim import results
from sim.cohorts import CohortRetention
from sim.executor import Executor, cpu_count
from sim.model import MigrationModel
from sim.params import Scenario

HEADLINE_METRICS: dict[str, str] = {name: h.meaning for name, (h, _) in results.headlines().items()}
"""Every headline metric of a run and its meaning, from the components' declarations (`sim.results`)."""


@dataclass
class RunResult:
    run: int
    series: dict[str, np.ndarray]  # reporter -> value per day
    metrics: dict[str, float]  # headline metrics of this run
    peak_day: int
    cohorts: CohortRetention | None = None  # retention by weekly sign-up cohort (`sim.cohorts`)


def run_one(scenario: Scenario, run: int = 0, on_day: Callable[[int], None] | None = None) -> RunResult:
    """Build and run one model; return its daily series and headline metrics."""
    model = MigrationModel(scenario, run=run)
    model.run(progress=on_day)
    series = {k: np.asarray(v, dtype=np.float64) for k, v in model.datacollector.model_vars.items()}
    return RunResult(
        run=run,
        series=series,
        metrics=results.headline_metrics(series, model.run_metrics()),
        peak_day=int(np.argmax(series["us_rednote_dau"])),
        cohorts=model.retention_by_cohort(),
    )


def _run_job(job: tuple[Scenario, int]) -> RunResult:
    scenario, run = job
    return run_one(scenario, run)


def run_ensemble(
    scenario: Scenario,
    runs: int,
    executor: Executor | None = None,
    on_run: Callable[[RunResult], None] | None = None,
    on_day: Callable[[int], None] | None = None,
    checkpoint: Path | None = None,
) -> list[RunResult]:
    """``runs`` runs of the scenario, sorted by run index.

    ``executor`` says where they run (default: local processes). With ``checkpoint`` (a folder), each
    finished run is saved there at once, and runs already saved there for the same scenario are loaded
    instead of recomputed: an interrupted ensemble resumes where it stopped.
    """
    own = executor is None
    executor = executor or Executor(processes=default_workers(runs))
    done: dict[int, RunResult] = load_checkpoints(checkpoint, scenario) if checkpoint else {}
    done = {r: v for r, v in done.items() if r < runs}

    def finished(result: RunResult) -> None:
        if checkpoint:
            save_checkpoint(checkpoint, scenario, result)
        if on_run:
            on_run(result)

    for result in done.values():
        if on_run:
            on_run(result)
    todo = [r for r in range(runs) if r not in done]
    try:
        if executor.kind == "serial" or len(todo) == 1:
            for run in todo:
                done[run] = run_one(scenario, run, on_day=on_day)
                finished(done[run])
        else:
            jobs = [(scenario, r) for r in todo]
            executor.map(_run_job, jobs, on_result=lambda i, result: (done.__setitem__(result.run, result), finished(result)))
    finally:
        if own:
            executor.close()
    return [done[r] for r in range(runs)]


def default_workers(runs: int) -> int:
    return max(1, min(runs, cpu_count()))


# --------------------------------------------------------------------------------------------------
# Checkpoints: one file per finished run
# --------------------------------------------------------------------------------------------------
def fingerprint(scenario: Scenario) -> str:
    """Identifies what a run computes: every parameter, the seed and the code version."""
    from sim import __version__

    text = json.dumps({"scenario": scenario.model_dump(mode="json"), "version": __version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


COHORT_KEY = "_cohorts."
"""Prefix of the cohort arrays in a checkpoint (no output's name starts with it). A checkpoint without them
(an older one) cannot be read and is computed again."""


def save_checkpoint(folder: Path, scenario: Scenario, result: RunResult) -> None:
    """Save one finished run; written atomically, so a kill leaves the file whole or absent."""
    from sim.staging import write_file

    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    cohorts = {COHORT_KEY + f.name: getattr(result.cohorts, f.name) for f in fields(CohortRetention)} if result.cohorts else {}
    np.savez(buffer, metrics=json.dumps(result.metrics), peak_day=result.peak_day, run=result.run, **result.series, **cohorts)
    write_file(folder / f"{fingerprint(scenario)}-run{result.run:05d}.npz", buffer.getvalue())


def load_checkpoints(folder: Path, scenario: Scenario) -> dict[int, RunResult]:
    """The runs saved in ``folder`` for this scenario. A file that cannot be read (truncated, corrupt)
    is deleted and its run computed again; leftovers of killed writers are removed."""
    from sim.staging import remove_partials

    out: dict[int, RunResult] = {}
    if not folder.is_dir():
        return out
    remove_partials(folder)
    for path in sorted(folder.glob(f"{fingerprint(scenario)}-run*.npz")):
        try:
            with np.load(path) as data:
                run = int(data["run"])
                series = {
                    k: np.asarray(data[k])
                    for k in data.files
                    if k not in ("metrics", "peak_day", "run") and not k.startswith(COHORT_KEY)
                }
                metrics = json.loads(str(data["metrics"]))
                peak_day = int(data["peak_day"])
                cohorts = CohortRetention(**{f.name: np.asarray(data[COHORT_KEY + f.name]) for f in fields(CohortRetention)})
                cohorts = replace(cohorts, weight=float(cohorts.weight))
            if f"-run{run:05d}.npz" not in path.name or set(metrics) != set(HEADLINE_METRICS):
                raise ValueError("not this run")
        except Exception:  # noqa: BLE001 - any unreadable checkpoint is recomputed, never fatal
            path.unlink(missing_ok=True)
            continue
        out[run] = RunResult(run=run, series=series, metrics=metrics, peak_day=peak_day, cohorts=cohorts)
    return out


# --------------------------------------------------------------------------------------------------
# Summaries across runs
# --------------------------------------------------------------------------------------------------
def band(values: Iterable[float]) -> dict[str, float | None]:
    """Median and 10th/90th percentiles (NaN runs ignored; None if none is finite)."""
    arr = np.asarray(list(values), dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return {"median": None, "p10": None, "p90": None}
    p10, med, p90 = np.percentile(arr, [10, 50, 90])
    return {"median": float(med), "p10": float(p10), "p90": float(p90)}


def summarize(scenario: Scenario, results: list[RunResult]) -> dict:
    """The content of summary.json."""
    metrics = {name: band(r.metrics[name] for r in results) for name in HEADLINE_METRICS}
    peak_days = [r.peak_day for r in results]
    peak_band = band(peak_days)
    metrics["peak_date"] = {k: None if v is None else scenario.date_of(int(round(v))).isoformat() for k, v in peak_band.items()}
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "runs": len(results),
        "agents": scenario.agents,
        "start_date": scenario.start_date.isoformat(),
        "end_date": scenario.end_date.isoformat(),
        "metrics": metrics,
        "per_run": [{"run": r.run, "peak_date": scenario.date_of(r.peak_day).isoformat(), **r.metrics} for r in results],
        "definitions": {
            **HEADLINE_METRICS,
            "peak_date": "date of the highest US RedNote DAU",
            "bands": "median and 10th/90th percentiles across runs (equal to the single value when runs = 1)",
            "retention": "cohorts whose day N falls after the horizon are left out; null when no cohort qualifies",
        },
    }


def series_band(results: list[RunResult], column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-day 10th percentile, median and 90th percentile of a column across runs."""
    stack = np.vstack([r.series[column] for r in results])
    p10, med, p90 = np.percentile(stack, [10, 50, 90], axis=0)
    return p10, med, p90


def dates(scenario: Scenario) -> list[dt.date]:
    return [scenario.date_of(d) for d in range(scenario.days)]
