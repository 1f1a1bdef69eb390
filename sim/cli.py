"""Command line: ``python run.py SCENARIO.yaml [options]`` and the subcommands.

Every user error (bad argument, bad scenario) is one line on stderr and exit status 2; nothing is
written before the input has been validated.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sim.scenario import ScenarioError, load_scenario

DEFAULT_RUNS = 15
"""Replicate runs by default: the band width of the headline metrics settles from 15 runs
(docs/validation/report.md, "How many runs")."""


class UsageError(Exception):
    """A bad command-line argument (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line instead of usage + message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


def bounded_int(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number from {lo} to {hi} (got {text!r})") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be a whole number from {lo} to {hi} (got {text!r})")
        return value

    parse.__name__ = "integer"
    return parse


def add_scenario_options(parser: argparse.ArgumentParser, *, runs_default: int = DEFAULT_RUNS) -> None:
    parser.add_argument(
        "--runs", type=bounded_int(1, 10_000), default=runs_default, help=f"replicate runs (default {runs_default})"
    )
    parser.add_argument("--seed", type=bounded_int(0, 2**63 - 1), help="master seed (default: the scenario's)")
    parser.add_argument(
        "--agents", type=bounded_int(100, 200_000_000), help="total agents, split by the scenario's population shares"
    )
    parser.add_argument("--days", type=bounded_int(1, 3 * 366), help="horizon in days from the start date")
    add_distribution_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary table")


def scheduler_address(text: str) -> str:
    if not re.fullmatch(r"(tcp|tls|inproc|ucx)://[^\s:/]+(:\d{1,5})?", text):
        raise argparse.ArgumentTypeError(f"must be a Dask scheduler address like tcp://10.0.0.5:8786 (got {text!r})")
    return text


def add_distribution_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--workers", type=bounded_int(1, 1024), help="start a local Dask cluster of this many worker processes")
    group.add_argument("--scheduler", type=scheduler_address, help="send the work to a running Dask cluster (tcp://HOST:PORT)")


def executor(args: argparse.Namespace, jobs: int):
    """Local processes by default; a local Dask cluster with --workers; a remote one with --scheduler."""
    from sim.executor import executor_for

    return executor_for(jobs, getattr(args, "workers", None), getattr(args, "scheduler", None))


def run_parser() -> Parser:
    parser = Parser(
        prog="run.py",
        description="Run a scenario of the TikTok-to-RedNote migration model and write its results.",
        epilog="Subcommands: " + ", ".join(COMMANDS) + " (python run.py COMMAND --help).",
    )
    parser.add_argument("scenario", help="scenario YAML file, e.g. scenarios/historical_2025.yaml")
    parser.add_argument("--out", type=Path, help="output folder (default: results/<scenario name>/)")
    add_scenario_options(parser)
    parser.add_argument("--resume", action="store_true", help="finish an interrupted ensemble: reuse the runs it saved")
    return parser


def load(path: str, args: argparse.Namespace):
    return load_scenario(path, overrides={"seed": args.seed, "agents": args.agents, "days": args.days})


def check_memory(agents: int, parallel: int) -> None:
    """Exit 2 before building anything if the runs cannot fit in this machine's memory."""
    from sim.memory import check_fits

    problem = check_fits(agents, parallel)
    if problem:
        raise UsageError(f"run.py: argument --agents: {problem}")


def check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"run.py: argument --out: {out} exists and is not a folder")


def progress_bar(total: int, unit: str, quiet: bool):
    """A tqdm bar on a terminal; None when output is not a terminal or --quiet."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, leave=False)


def cmd_run(argv: Sequence[str]) -> int:
    args = run_parser().parse_args(argv)
    scenario = load(args.scenario, args)
    out = args.out or Path("results") / scenario.name
    check_out_dir(out)
    from sim.ensemble import run_ensemble
    from sim.output import write_results

    if not (getattr(args, "scheduler", None)):  # on a cluster the workers' memory is not ours to check
        check_memory(scenario.agents, min(args.runs, args.workers or os.cpu_count() or 1))
    checkpoint = out.parent / f".{out.name}.runs"
    reused = 0
    if args.resume:
        from sim.ensemble import load_checkpoints

        reused = sum(1 for r in load_checkpoints(checkpoint, scenario) if r < args.runs)
        if not args.quiet:
            print(f"resuming: {reused} of {args.runs} runs were saved by the interrupted ensemble", file=sys.stderr)
    else:
        shutil.rmtree(checkpoint, ignore_errors=True)
    started = time.perf_counter()
    with executor(args, args.runs) as ex:
        parallel = ex.kind != "serial" and args.runs > 1
        bar = progress_bar(args.runs if parallel else args.runs * scenario.days, "run" if parallel else "day", args.quiet)
        try:
            results = run_ensemble(
                scenario, args.runs, ex,
                on_run=(lambda r: bar.update(1)) if bar is not None and parallel else None,
                on_day=bar.update if bar is not None and not parallel else None,
                checkpoint=checkpoint,
            )  # fmt: skip
        finally:
            if bar is not None:
                bar.close()
    elapsed = time.perf_counter() - started
    summary = write_results(
        out, scenario, results, extra={"command": "run.py " + " ".join(argv), "wall_seconds": round(elapsed, 2)}
    )
    shutil.rmtree(checkpoint, ignore_errors=True)  # the complete result is written: saved runs are no longer needed
    if not args.quiet:
        print_summary(summary, out, elapsed)
    return 0


def print_summary(summary: dict, out: Path, elapsed: float) -> None:
    m = summary["metrics"]

    def fmt(name: str, scale: float = 1e6, unit: str = "M", pct: bool = False) -> str:
        b = m[name]
        if b["median"] is None:
            return "n/a"
        f = (lambda v: f"{100 * v:.1f}%") if pct else (lambda v: f"{v / scale:.2f}{unit}")
        return f(b["median"]) + (f"  [{f(b['p10'])} - {f(b['p90'])}]" if summary["runs"] > 1 else "")

    print(f"{summary['scenario']}: {summary['runs']} run(s), seed {summary['seed']}, {summary['agents']} agents, {elapsed:.1f} s")
    print(f"  peak US RedNote DAU   {fmt('peak_us_rednote_dau')} on {m['peak_date']['median']}")
    print(f"  new US accounts       {fmt('total_signups')}")
    for d in (7, 30, 90):
        print(f"  Day-{d:<2} retention      {fmt(f'retention_day{d}', pct=True)}")
    print(f"  cross-cultural ties   {fmt('cross_cultural_ties')}")
    print(f"  results in {out}/")


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def cmd_calibrate(argv: Sequence[str]) -> int:
    parser = Parser(prog="run.py calibrate", description="Fit the free behavioural parameters to the January 2025 observations.")
    parser.add_argument("scenario", help="scenario to calibrate, e.g. scenarios/historical_2025.yaml")
    parser.add_argument(
        "--budget", type=bounded_int(1, 100_000), default=240, help="trials (parameter sets) to evaluate (default 240)"
    )
    parser.add_argument(
        "--runs-per-point", type=bounded_int(1, 1000), default=2, help="replicate runs averaged per trial (default 2)"
    )
    parser.add_argument(
        "--agents", type=bounded_int(100, 200_000_000), help="agents per calibration run (default: the scenario's)"
    )
    parser.add_argument(
        "--seed", type=bounded_int(0, 2**63 - 1), default=0, help="seed of the sampler and of the runs (default 0)"
    )
    add_distribution_options(parser)
    parser.add_argument(
        "--fit-file", type=Path, help="where to write the fitted parameters (default: <scenario folder>/fits/<name>.fit.yaml)"
    )
    parser.add_argument(
        "--report", type=Path, help="folder for trials.csv and calibration.md (default: results/calibration/<name>/)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario, overrides={"agents": args.agents, "seed": args.seed})
    fit_file = args.fit_file or Path(args.scenario).parent / "fits" / f"{scenario.name}.fit.yaml"
    report = args.report or Path("results") / "calibration" / scenario.name
    for path, what in ((fit_file, "--fit-file"), (report, "--report")):
        if path.exists() and (path.is_dir() if what == "--fit-file" else not path.is_dir()):
            raise UsageError(f"run.py calibrate: argument {what}: {path} has the wrong type")
    import yaml

    from sim.calibration import calibrate, fit_document, targets

    bar = progress_bar(args.budget, "trial", args.quiet)
    started = time.perf_counter()
    try:
        with executor(args, args.budget) as ex:
            result = calibrate(scenario, args.budget, args.runs_per_point, ex, seed=args.seed,
                               on_trial=(lambda i, d: bar.update(1)) if bar is not None else None)  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    doc = fit_document(scenario.name, result, args.budget, args.runs_per_point, scenario.agents, args.seed)
    header = (
        f"# Written by `python run.py calibrate {' '.join(argv)}` on {doc['calibration']['date']}.\n"
        "# Fitted behavioural parameters; the scenario that `extends:` this file inherits them.\n"
    )
    atomic_write_text(fit_file, header + yaml.safe_dump(doc, sort_keys=False))
    report.mkdir(parents=True, exist_ok=True)
    names = list(result.best)
    lines = ["distance," + ",".join(names)] + [f"{d:.6g}," + ",".join(f"{v[n]:.6g}" for n in names) for d, v in result.trials]
    atomic_write_text(report / "trials.csv", "\n".join(lines) + "\n")
    spread = doc["calibration"]["parameters"]
    md = [f"# Calibration of {scenario.name}", "", f"{args.budget} trials x {args.runs_per_point} runs, {scenario.agents} agents, seed {args.seed}, "
          f"{time.perf_counter() - started:.0f} s. Best distance {result.best_distance:.3g}; {len(result.good)} good fits.", "",
          "| parameter | best | 10 % | median | 90 % |", "|---|---|---|---|---|"]  # fmt: skip
    md += [f"| `{k}` | {v['best']:.4g} | {v['p10']:.4g} | {v['median']:.4g} | {v['p90']:.4g} |" for k, v in spread.items()]
    md += [
        "",
        "Fit targets: " + ", ".join(t.name for t in targets() if not t.held_out),
        "Held out: " + ", ".join(t.name for t in targets() if t.held_out),
    ]
    atomic_write_text(report / "calibration.md", "\n".join(md) + "\n")
    if not args.quiet:
        print(
            f"calibrated {scenario.name}: best distance {result.best_distance:.3g} after {args.budget} trials ({time.perf_counter() - started:.0f} s)"
        )
        for k, v in spread.items():
            print(f"  {k:42s} {v['best']:.4g}  (good fits {v['p10']:.4g} - {v['p90']:.4g})")
        print(f"  wrote {fit_file} and {report}/")
    return 0


def cmd_validate(argv: Sequence[str]) -> int:
    parser = Parser(
        prog="run.py validate", description="Validation report of the historical scenario against the 2025 observations."
    )
    parser.add_argument(
        "--scenario", default="scenarios/historical_2025.yaml", help="scenario (default scenarios/historical_2025.yaml)"
    )
    parser.add_argument(
        "--runs", type=bounded_int(3, 10_000), default=40, help="runs; each uses one good-fit parameter set (default 40)"
    )
    parser.add_argument("--agents", type=bounded_int(100, 200_000_000), help="agents per run (default: the scenario's)")
    parser.add_argument("--days", type=bounded_int(1, 3 * 366), help="horizon in days")
    parser.add_argument("--seed", type=bounded_int(0, 2**63 - 1), help="master seed")
    add_distribution_options(parser)
    parser.add_argument(
        "--out", type=Path, default=Path("results") / "validation", help="report folder (default results/validation/)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    check_out_dir(args.out)
    scenario = load(args.scenario, args)
    from sim.ensemble import run_ensemble
    from sim.output import replace_dir
    from sim.validation import predictive_runs, write_report

    bar = progress_bar(args.runs, "run", args.quiet)
    try:
        with executor(args, args.runs) as ex:
            results = predictive_runs(scenario, args.runs, ex, on_run=(lambda r: bar.update(1)) if bar is not None else None)
            fixed = run_ensemble(scenario, args.runs, ex)  # best fit only: what --runs does, for the choice of default
    finally:
        if bar is not None:
            bar.close()
    staging = args.out.parent / f".{args.out.name}.partial-{os.getpid()}"
    report = write_report(staging, scenario, results, fixed)
    replace_dir(staging, args.out)
    if not args.quiet:
        inside, ok = sum(r["inside"] for r in report["rows"]), sum(r["consistent"] for r in report["rows"])
        print(
            f"validation of {scenario.name}: {inside}/{len(report['rows'])} observations inside the 10-90 % band, "
            f"{ok}/{len(report['rows'])} within tolerance; report {args.out}/report.md"
        )
    return 0


def _analysis_parser(
    prog: str, description: str, *, agents: int, days: int, runs_flag: str, runs_default: int, runs_help: str
) -> Parser:
    parser = Parser(prog=f"run.py {prog}", description=description)
    parser.add_argument(
        "--scenario", default="scenarios/historical_2025.yaml", help="base scenario (default scenarios/historical_2025.yaml)"
    )
    parser.add_argument(runs_flag, type=bounded_int(1, 1000), default=runs_default, help=runs_help)
    parser.add_argument("--agents", type=bounded_int(100, 200_000_000), default=agents, help=f"agents per run (default {agents})")
    parser.add_argument(
        "--days",
        type=bounded_int(91, 3 * 366),
        default=days,
        help=f"horizon in days; at least 91 for Day-90 retention (default {days})",
    )
    parser.add_argument(
        "--seed", type=bounded_int(0, 2**63 - 1), default=0, help="seed of the design and of the runs (default 0)"
    )
    add_distribution_options(parser)
    parser.add_argument("--out", type=Path, default=Path("results") / prog, help=f"output folder (default results/{prog}/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return parser


def _analysis_base(args: argparse.Namespace):
    """The base scenario of an analysis command, at the command's size, horizon and seed."""
    return load_scenario(args.scenario, overrides={"agents": args.agents, "days": args.days, "seed": args.seed})


@contextlib.contextmanager
def staged_output(out: Path, total: int, unit: str, quiet: bool):
    """Yield (staging folder, progress bar or None); the folder replaces ``out`` only if the block
    finishes, and is removed if it fails or is interrupted."""
    from sim.output import replace_dir

    check_out_dir(out)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=False)
    bar = progress_bar(total, unit, quiet)
    try:
        yield staging, bar
        replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if bar is not None:
            bar.close()


def cmd_compare(argv: Sequence[str]) -> int:
    parser = Parser(
        prog="run.py compare",
        description="Compare scenarios with common random numbers: headline metrics and paired differences.",
    )
    parser.add_argument("scenarios", nargs="+", help="two or more scenario files; differences are to the first")
    parser.add_argument("--out", type=Path, default=Path("results") / "compare", help="output folder (default results/compare/)")
    add_scenario_options(parser)
    args = parser.parse_args(argv)
    if len(args.scenarios) < 2:
        raise UsageError("run.py compare: give at least two scenario files")
    scenarios = [load(path, args) for path in args.scenarios]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise UsageError(f"run.py compare: scenario names must differ (got {', '.join(names)})")
    from analysis.compare import compare, write_comparison

    with staged_output(args.out, args.runs * len(scenarios), "run", args.quiet) as (staging, bar):
        with executor(args, args.runs) as ex:
            results = compare(scenarios, args.runs, ex, on_run=(lambda r: bar.update(1)) if bar is not None else None)
        write_comparison(staging, scenarios, results)
    if not args.quiet:
        print((args.out / "comparison.md").read_text())
    return 0


def cmd_sensitivity(argv: Sequence[str]) -> int:
    parser = _analysis_parser(
        "sensitivity", "Global sensitivity of Day-90 retention, peak DAU and moderation load (SALib).",
        agents=40_000, days=130, runs_flag="--runs-per-point", runs_default=2, runs_help="replicate runs per design point (default 2)",
    )  # fmt: skip
    parser.add_argument("--method", choices=["morris", "sobol"], default="morris", help="morris (screening, default) or sobol")
    parser.add_argument("--samples", type=bounded_int(2, 100_000), default=8,
                        help="Morris trajectories, or Sobol base samples (a power of 2); default 8")  # fmt: skip
    args = parser.parse_args(argv)
    if args.method == "sobol" and args.samples & (args.samples - 1):
        raise UsageError(f"run.py sensitivity: argument --samples: must be a power of 2 for sobol (got {args.samples})")
    base = _analysis_base(args)
    from analysis.sensitivity import analyze, problem, run_design, sample, write_report

    prob = problem()
    X = sample(args.method, prob, args.samples, args.seed)
    with staged_output(args.out, len(X), "point", args.quiet) as (staging, bar):
        with executor(args, len(X)) as ex:
            Y = run_design(base, prob, X, args.runs_per_point, ex, on_point=bar.update if bar is not None else None)
        indices = analyze(args.method, prob, X, Y, args.seed)
        settings = {"runs_per_point": args.runs_per_point, "agents": args.agents, "days": args.days, "seed": args.seed,
                    "start": base.start_date.isoformat(), "samples": args.samples, "scenario": args.scenario}  # fmt: skip
        text = write_report(staging, args.method, prob, X, Y, indices, settings)
    if not args.quiet:
        print(text.split("| factor | kind")[0].strip())
        print(f"\nfull report: {args.out}/sensitivity.md")
    return 0


def cmd_optimize(argv: Sequence[str]) -> int:
    parser = _analysis_parser(
        "optimize", "Multi-objective policy search over the platform's levers (optuna NSGA-II).",
        agents=40_000, days=130, runs_flag="--runs-per-trial", runs_default=2, runs_help="replicate runs per policy (default 2)",
    )  # fmt: skip
    parser.add_argument("--trials", type=bounded_int(2, 100_000), default=40, help="policies to evaluate (default 40)")
    args = parser.parse_args(argv)
    base = _analysis_base(args)
    from analysis.optimize import search, write_report

    with staged_output(args.out, args.trials, "policy", args.quiet) as (staging, bar):
        with executor(args, args.trials) as ex:
            study = search(
                base, args.trials, args.runs_per_trial, ex, args.seed, on_trial=bar.update if bar is not None else None
            )
        settings = {
            "runs_per_trial": args.runs_per_trial,
            "agents": args.agents,
            "days": args.days,
            "seed": args.seed,
            "scenario": args.scenario,
        }
        rows = write_report(staging, study, settings)
    if not args.quiet:
        print(f"{len(rows)} Pareto-optimal policies out of {args.trials}; table and plot in {args.out}/optimize.md")
    return 0


def cmd_view(argv: Sequence[str]) -> int:
    parser = Parser(prog="run.py view", description="Start the interactive browser view on 127.0.0.1 (works offline).")
    parser.add_argument("--port", type=bounded_int(1, 65535), default=8765, help="port to serve on (default 8765)")
    parser.add_argument("--scenario", help="scenario YAML selected when the page opens (default: historical_2025)")
    args = parser.parse_args(argv)
    from sim.view import server

    if args.scenario is not None:
        load_scenario(args.scenario)  # a bad file is a one-line error before anything starts
    if not server.port_free(args.port):
        raise UsageError(f"run.py view: argument --port: {args.port} is already in use on {server.HOST}; choose another port")
    return server.serve(args.port, args.scenario)


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "calibrate": cmd_calibrate,
    "validate": cmd_validate,
    "compare": cmd_compare,
    "sensitivity": cmd_sensitivity,
    "optimize": cmd_optimize,
    "view": cmd_view,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            return COMMANDS[argv[0]](argv[1:])
        return cmd_run(argv)
    except (UsageError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no result was written", file=sys.stderr)
        return 130
