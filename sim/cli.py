"""Command line: ``python run.py SCENARIO.yaml [options]`` and the subcommands.

Every user error (bad argument, bad scenario, an output folder that must not be written, a model too
big for memory, a scheduler that does not answer) is one line on stderr and exit status 2, found before
any work. A failure during the work (disk full, a lost worker) is one line and exit status 1, naming
the command that resumes; an interrupt is exit status 130. Every output goes through `sim.staging`.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.executor import SchedulerUnreachable
from sim.scenario import ScenarioError, load_scenario, one_line
from sim.staging import OutputError, Stage, read_marker, recover, write_file

HISTORICAL = Path(__file__).resolve().parent.parent / "scenarios" / "historical_2025.yaml"
"""Default scenario of validate, sensitivity and optimize (found from any working folder)."""

DEFAULT_RUNS = 15
"""Replicate runs by default: the band width of the headline metrics settles from 15 runs
(docs/validation/report.md, "How many runs")."""


class UsageError(Exception):
    """A bad command-line argument (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line instead of usage + message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


def iso_date(text: str) -> Any:
    """A calendar date written YYYY-MM-DD."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date written YYYY-MM-DD (got {text!r})") from None


iso_date.__name__ = "date"


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
    parser.add_argument("--days", type=bounded_int(2, 3 * 366), help="horizon in days from the start date")
    add_point_option(parser)
    add_distribution_options(parser)
    add_overwrite_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary table")


def add_point_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fit",
        type=Path,
        metavar="FIT",
        help="run with this fit file's parameters instead of the scenario's (e.g. the time-split fit "
        "scenarios/fits/historical_2025.until-2025-01-16.fit.yaml)",
    )
    parser.add_argument(
        "--point",
        action="store_true",
        help="the fit's point estimate in every run (default with a posterior fit: run r uses posterior draw r)",
    )


def point_override(args: argparse.Namespace) -> str | None:
    """The scenario's ``parameters`` as the command line sets it (None: as in the file)."""
    return "point" if getattr(args, "point", False) else None


def add_overwrite_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier result of this tool made with other options (never anything else)",
    )


def scheduler_address(text: str) -> str:
    if not re.fullmatch(r"(tcp|tls|inproc|ucx)://[^\s:/]+(:\d{1,5})?", text):
        raise argparse.ArgumentTypeError(f"must be a Dask scheduler address like tcp://10.0.0.5:8786 (got {text!r})")
    return text


def add_distribution_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--workers", type=bounded_int(1, 1024), help="start a local Dask cluster of this many worker processes")
    group.add_argument("--scheduler", type=scheduler_address, help="send the work to a running Dask cluster (tcp://HOST:PORT)")
    group.add_argument("--serial", action="store_true", help="run every job in this process, one after another")


def executor(args: argparse.Namespace, jobs: int):
    """Local processes by default; this process with --serial; a local Dask cluster with --workers; a
    remote one with --scheduler, which must answer within a few seconds (else exit 2)."""
    from sim.executor import executor_for

    ex = executor_for(jobs, getattr(args, "workers", None), getattr(args, "scheduler", None), getattr(args, "serial", False))
    try:
        ex.connect()
    except SchedulerUnreachable as exc:
        ex.close()
        raise UsageError(f"argument --scheduler: {exc}") from None
    return ex


def parallel_runs(args: argparse.Namespace, jobs: int) -> int | None:
    """How many runs this machine holds at once (None on a remote cluster: not our memory)."""
    if getattr(args, "scheduler", None):
        return None
    if getattr(args, "serial", False):
        return 1
    return max(1, min(jobs, getattr(args, "workers", None) or os.cpu_count() or 1))


def check_memory(scenario, args: argparse.Namespace, jobs: int) -> None:
    """Exit 2 before building anything if the runs cannot fit in this machine's memory (every command)."""
    from sim.memory import check_scenario

    parallel = parallel_runs(args, jobs)
    if parallel is None:
        return
    problem = check_scenario(scenario, parallel)
    if problem:
        raise UsageError(f"argument --agents: {problem}")


def fingerprint(scenario) -> str:
    from sim.ensemble import fingerprint as scenario_fingerprint

    return scenario_fingerprint(scenario)


def options(args: argparse.Namespace, *keys: str, **extra: Any) -> dict[str, Any]:
    """What a result depends on (recorded in its marker; replacing a result made with other options
    needs --overwrite): the named arguments and ``extra`` (scenario fingerprints)."""
    return {**{k: getattr(args, k) for k in keys}, **extra}


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
    """The scenario with the command line's --seed/--agents/--days; its lever dates (ban, store return,
    translation, real-name start) must lie inside the file's own horizon, as the view requires
    (`sim.levers.check_dates`); a --days that shortens the run leaves later events outside it."""
    scenario = load_scenario(path, overrides={"seed": args.seed, "agents": args.agents, "days": args.days,
                                              "parameters": point_override(args)})  # fmt: skip
    as_written = scenario if args.days is None else load_scenario(path, overrides={"seed": args.seed, "agents": args.agents})
    check_lever_dates(as_written, path)
    return with_fit(scenario, args)


def with_fit(scenario: Any, args: argparse.Namespace) -> Any:
    """``scenario`` under the command line's ``--fit`` file, if any."""
    fit = getattr(args, "fit", None)
    return scenario if fit is None else fit_scenario(scenario, fit, "argument --fit")


def check_lever_dates(scenario, source) -> None:
    from sim.levers import LeverError, check_dates

    try:
        check_dates(scenario)
    except LeverError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def warn(args: argparse.Namespace, scenarios, runs: int) -> list[str]:
    """Print the caveats of these runs (too few for a band, a size whose levels differ) on stderr, once
    each, unless --quiet; returns them."""
    from sim.output import caveats

    notes = list(dict.fromkeys(c for s in scenarios for c in caveats(s, runs)))
    if not getattr(args, "quiet", False):
        for note in notes:
            print(one_line(f"warning: {note}", 2000), file=sys.stderr)
    return notes


# --------------------------------------------------------------------------------------------------
# Default output folders: named after what differs from the default run, never another result replaced
# --------------------------------------------------------------------------------------------------
NAMED_OPTIONS = ("runs", "seed", "agents", "days")


def option_suffix(opts: dict[str, Any], defaults: dict[str, Any]) -> str:
    """``-agents5000-days40-runs3``: the named options that differ from the defaults, for a folder name."""
    return "".join(f"-{k}{opts[k]}" for k in NAMED_OPTIONS if k in opts and k in defaults and opts[k] != defaults[k])


def default_destination(root: Path, name: str, command: str, opts: dict[str, Any], defaults: dict[str, Any]) -> Path:
    """The output folder when --out is not given: ``root/NAME`` for the default options, else
    ``root/NAME-<what differs>`` (e.g. ``historical_2025-agents5000-runs3``). A folder already holding a
    result made with other options (an edited scenario file) is not replaced: the run goes to
    ``...-scenario<fingerprint>`` instead. So a run never replaces a result made with other options
    unless --out names it and --overwrite is given."""
    first = root / f"{name}{option_suffix(opts, defaults)}"
    fp = opts.get("scenario") or "-".join(opts.get("scenarios") or [])
    candidates = [first, first.parent / f"{first.name}-scenario{hashlib.sha256(str(fp).encode()).hexdigest()[:8]}"]
    for folder in candidates:
        marker = read_marker(folder)
        empty = not folder.exists() or (folder.is_dir() and next(folder.iterdir(), None) is None)
        if empty or (marker is not None and (marker.get("command"), marker.get("options")) == (command, opts)):
            return folder
    return candidates[-1]  # taken by another result: Stage refuses it with the usual one-line message


def folder_name(names: Sequence[str], limit: int = 100) -> str:
    """``a-vs-b-vs-c``, shortened with a hash when too long for a file name."""
    joined = "-vs-".join(names)
    if len(joined) <= limit:
        return joined
    return joined[: limit - 9] + "-" + hashlib.sha256(joined.encode()).hexdigest()[:8]


def progress_bar(total: int, unit: str, quiet: bool):
    """A tqdm bar on a terminal; None when output is not a terminal or --quiet."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, leave=False)


def cmd_run(argv: Sequence[str]) -> int:
    args = run_parser().parse_args(argv)
    scenario = load(args.scenario, args)
    from sim.ensemble import run_ensemble
    from sim.output import write_results

    opts = options(args, "runs", seed=scenario.seed, agents=scenario.agents, days=scenario.days, scenario=fingerprint(scenario))
    out = args.out or default_destination(Path("results"), scenario.name, "run", opts, scenario_defaults(args.scenario))
    with Stage(out, command="run", options=opts, overwrite=args.overwrite) as stage:
        check_memory(scenario, args, args.runs)
        checkpoint = stage.dest.parent / f".{stage.dest.name}.runs"
        if args.resume:
            from sim.ensemble import load_checkpoints

            reused = sum(1 for r in load_checkpoints(checkpoint, scenario) if r < args.runs)
            if not args.quiet:
                print(f"resuming: {reused} of {args.runs} runs were saved by the interrupted ensemble", file=sys.stderr)
        else:
            shutil.rmtree(checkpoint, ignore_errors=True)
        started = time.perf_counter()
        with executor(args, args.runs) as ex:
            warn(args, [scenario], args.runs)  # after every check: a refused command prints one line only
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
        extra = {"command": "run.py " + shlex.join(argv), "wall_seconds": round(elapsed, 2)}
        summary = write_results(stage.path, scenario, results, extra=extra)
        stage.commit()
    shutil.rmtree(checkpoint, ignore_errors=True)  # the complete result is written: saved runs are no longer needed
    if not args.quiet:
        print_summary(summary, stage.dest, elapsed, fitted_parameters(scenario, summary["runs"]))
    return 0


def fitted_parameters(scenario, runs: int) -> str:
    """Which fitted parameters an ensemble of ``runs`` runs uses, in words."""
    from sim.calibration import parameter_source, posterior_draws

    n = len(posterior_draws(scenario))
    if runs == 1 or not n:
        return parameter_source(scenario, 0)
    return f"posterior draws 0-{min(runs, n) - 1} of {n}, one per run (--point: the posterior medians)"


def scenario_defaults(path: str) -> dict[str, Any]:
    """The options of a plain ``run.py SCENARIO`` (the file's own seed, size and horizon, 15 runs)."""
    plain = load_scenario(path)
    return {"runs": DEFAULT_RUNS, "seed": plain.seed, "agents": plain.agents, "days": plain.days}


def print_summary(summary: dict, out: Path, elapsed: float, parameters: str | None = None) -> None:
    """The headline metrics declared for the summary (`sim.results`): median [10 %, 90 %] across runs."""
    from sim.results import format_band, format_value, headline_unit, summary_metrics

    m, ensemble = summary["metrics"], summary["runs"] > 1
    print(f"{summary['scenario']}: {summary['runs']} run(s), seed {summary['seed']}, {summary['agents']} agents, {elapsed:.1f} s")
    for name, h in summary_metrics().items():
        unit = headline_unit(name)
        value = format_band(m[name], unit) if ensemble else format_value(m[name]["median"], unit)
        when = f" on {m['peak_date']['median']}" if name == "peak_us_rednote_dau" else ""
        print(f"  {h.label:<22}{value}{when}")
    if parameters:
        print(f"  {'fitted parameters':<22}{parameters}")
    print(f"  results in {out}/ (open report.html in a browser)")


FIT_HEADER = "# Written by `python run.py calibrate"
PENDING_FIT = ".pending-fit"
"""In a calibration report: the fit file still has to be copied to where it goes (see `finish_calibration`)."""


def finish_calibration(report: Path) -> None:
    """Complete a calibration killed between its two commits: the report folder is in place with its
    copy of the fit and the journal `PENDING_FIT` naming where the fit goes; copy it there."""
    journal = report / PENDING_FIT
    marker = read_marker(report)
    if marker is None or not journal.is_file() or not (report / "fit.yaml").is_file():
        return
    target = Path(journal.read_text(encoding="utf-8").strip())
    write_file(target, (report / "fit.yaml").read_bytes())
    journal.unlink()


def check_fit_file(path: Path, options_sha: str, overwrite: bool) -> None:
    """The fit file may be written where nothing is, or over an earlier fit written by calibrate (its
    header); one made with other options only with --overwrite."""
    recover(path)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UsageError(f"argument --fit-file: {path} exists and is not a regular file; nothing was changed")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"argument --fit-file: cannot create {path}: {parent} is not a folder")
            break
    if not path.exists():
        return
    try:
        head = path.read_text(encoding="utf-8")[:4000]
    except (OSError, UnicodeDecodeError):
        head = ""
    if not head.startswith(FIT_HEADER):
        raise UsageError(f"argument --fit-file: {path} was not written by calibrate; give another file, nothing was changed")
    if f"# options: {options_sha}\n" not in head and not overwrite:
        raise UsageError(f"argument --fit-file: {path} holds a fit made with other options; pass --overwrite to replace it")


SEARCH_BUDGET = 240
POSTERIOR_BUDGET = 9_000  # prior simulations of the model (docs/posterior.md: the defaults take under 30 min on 2 cores)
POSTERIOR_AGENTS = 20_000  # agents per prior simulation (docs/posterior.md: the posterior is the same at 50 000)
COMPARE_BUDGET = 2_500  # ... and of each alternative join model
MIN_POSTERIOR_SIMULATIONS = 20  # fewer leave the coverage check (leave one out) nothing to weigh
PROJECTION_RUNS = 16  # full-horizon runs per join model for the comparison's headline projections


def commit_fit(stage: Stage, fit_file: Path, fit_text: str, saved: Path) -> int:
    """Swap in the report (with a copy of the fit and a journal) first, then write the fit file. A kill in
    between is completed by `finish_calibration` on the next calibrate."""
    (stage.path / "fit.yaml").write_text(fit_text)
    (stage.path / PENDING_FIT).write_text(f"{fit_file}\n")
    stage.commit()
    fit_file.parent.mkdir(parents=True, exist_ok=True)
    write_file(fit_file, fit_text)
    (stage.dest / PENDING_FIT).unlink()
    shutil.rmtree(saved, ignore_errors=True)
    return 0


def fit_header(argv: Sequence[str], date: str, options_sha: str) -> str:
    return (
        f"{FIT_HEADER} {shlex.join(argv)}` on {date}.\n"
        "# Fitted behavioural parameters; the scenario that `extends:` this file inherits them.\n"
        f"# options: {options_sha}\n"
    )


def bayesian_calibration(
    args, argv, scenario, stage: Stage, saved: Path, fit_file: Path, options_sha: str
) -> tuple[str, list[str]]:
    """`calibrate --method posterior`: the table of prior simulations (resumable), the posterior, its checks
    and the report; returns the fit file's text and the lines to print."""
    import yaml

    from sim import posterior
    from sim.executor import CachedExecutor

    others = [m for m in posterior.JOIN_MODELS if m != posterior.MODEL] if args.compare_models else []
    total = args.budget + args.compare_models * len(others)
    bar = progress_bar(total, "simulation", args.quiet)
    started = time.perf_counter()
    comparison = None
    try:
        with CachedExecutor(executor(args, math.ceil(total / posterior.BATCH)), saved) as ex:
            update = bar.update if bar is not None else None
            table = posterior.simulate_table(scenario, args.budget, ex, args.fit_until, on_batch=update)
            tables = {posterior.MODEL: table}
            for m in others:
                tables[m] = posterior.simulate_table(scenario, args.compare_models, ex, args.fit_until, on_batch=update, model=m)
            if others:
                comparison = posterior.compare_models(tables, args.fit_until)
                for m, t in tables.items():
                    comparison.projections[m] = posterior.projections(scenario, posterior.infer(t, args.fit_until),
                                                                      PROJECTION_RUNS, ex, args.seed)  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    if args.resume and not args.quiet:
        print(f"resumed: {ex.reused} batches of simulations were reused from the interrupted calibration", file=sys.stderr)
    elapsed = time.perf_counter() - started
    post = posterior.infer(table, args.fit_until)
    checks = posterior.predictive_checks(post, args.seed)
    cov = posterior.coverage(table, args.fit_until, seed=args.seed)
    doc = posterior.fit_document(scenario.name, post, checks, cov, args.seed, comparison, args.fit_until)
    table.save(stage.path / "table.npz")
    title = f"Bayesian calibration of {scenario.name}" + (f" (fit until {args.fit_until})" if args.fit_until else "")
    lines = posterior.report_lines(post, checks, cov, title)
    if comparison is not None:
        horizon = (
            f"{scenario.start_date:%d %b} - {scenario.end_date:%d %b %Y}, {PROJECTION_RUNS} runs at {scenario.agents:,} agents"
        )
        lines += ["", *posterior.comparison_lines(comparison, horizon)]
    lines += [
        "",
        f"Simulations took {elapsed:.0f} s"
        + (
            f" ({ex.reused} saved results, batches of simulations and projection runs, were reused from an interrupted run)"
            if ex.reused
            else ""
        )
        + f". Fit file: `{fit_file}` (a copy is `fit.yaml` here); the table is `table.npz`.",
    ]
    (stage.path / "calibration.md").write_text("\n".join(lines) + "\n")
    posterior.plot_marginals(stage.path / "posterior.png", post)
    if post.ess < posterior.MIN_ESS - 1e-6 or post.h >= posterior.MAX_BANDWIDTH:
        print(f"warning: {len(table)} simulations leave {post.ess:.0f} effective draws at the widest kernel (h = {post.h:.3g}): "
              "the posterior is close to the prior; give a larger --budget", file=sys.stderr)  # fmt: skip
    summary = [f"calibrated {scenario.name}: posterior from {len(table)} simulations ({elapsed:.0f} s), h = {post.h:.3g}, "
               f"{post.ess:.0f} effective draws; coverage: largest miss {cov.worst():.1f} standard errors"]  # fmt: skip
    summary += [
        f"  {path:42s} {v['median']:.4g}  (10-90 %: {v['p10']:.4g} - {v['p90']:.4g})"
        for path, v in doc["calibration"]["parameters"].items()
    ]
    return fit_header(argv, doc["calibration"]["date"], options_sha) + yaml.safe_dump(doc, sort_keys=False), summary


def cmd_calibrate(argv: Sequence[str]) -> int:
    parser = Parser(prog="run.py calibrate", description="Fit the free behavioural parameters to the January 2025 observations.")
    parser.add_argument("scenario", help="scenario to calibrate, e.g. scenarios/historical_2025.yaml")
    parser.add_argument(
        "--method",
        choices=("search", "posterior"),
        default="posterior",
        help="posterior (default, the shipped fit): Bayesian, ABC on a table of prior simulations with coverage and "
        "predictive checks (sim/posterior.py, docs/posterior.md); search: a best fit by optuna's TPE",
    )
    parser.add_argument(
        "--budget",
        type=bounded_int(1, 1_000_000),
        help=f"search: trials to evaluate (default {SEARCH_BUDGET}); posterior: prior simulations (default {POSTERIOR_BUDGET})",
    )
    parser.add_argument(
        "--runs-per-point", type=bounded_int(1, 1000), default=2, help="replicate runs averaged per trial (default 2)"
    )
    parser.add_argument(
        "--compare-models",
        type=bounded_int(0, 1_000_000),
        help=f"posterior: prior simulations of each alternative join model for the model comparison (default "
        f"{COMPARE_BUDGET}; 0: no comparison)",
    )
    parser.add_argument(
        "--agents",
        type=bounded_int(100, 200_000_000),
        help=f"agents per calibration run (default: posterior {POSTERIOR_AGENTS:,}; search: the scenario's)",
    )
    parser.add_argument(
        "--seed", type=bounded_int(0, 2**63 - 1), default=0, help="seed of the sampler and of the runs (default 0)"
    )
    add_distribution_options(parser)
    parser.add_argument(
        "--fit-file",
        type=Path,
        help="where to write the fitted parameters (default: a new candidate <scenario folder>/fits/<name>.candidate.fit.yaml, "
        "which the scenario does not use until you adopt it)",
    )
    parser.add_argument(
        "--report", type=Path, help="folder for trials.csv and calibration.md (default: results/calibration/<name>/)"
    )
    parser.add_argument(
        "--fit-until",
        type=iso_date,
        help="time split: fit only the targets dated on or before this day, e.g. 2025-01-16 "
        "(default fit file <scenario folder>/fits/<name>.until-<day>.fit.yaml)",
    )
    parser.add_argument("--resume", action="store_true", help="finish an interrupted calibration: reuse the trials it saved")
    add_overwrite_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.budget is None:
        args.budget = POSTERIOR_BUDGET if args.method == "posterior" else SEARCH_BUDGET
    if args.agents is None and args.method == "posterior":
        args.agents = POSTERIOR_AGENTS
    if args.compare_models is None:
        args.compare_models = COMPARE_BUDGET if args.method == "posterior" else 0
    elif args.method != "posterior":
        raise UsageError("run.py calibrate: argument --compare-models: only with --method posterior (see --help)")
    least = MIN_POSTERIOR_SIMULATIONS
    if args.method == "posterior" and args.budget < least:
        raise UsageError(
            f"run.py calibrate: argument --budget: a posterior needs at least {least} simulations (got {args.budget})"
        )
    if args.method == "posterior" and 0 < args.compare_models < least:
        raise UsageError(f"run.py calibrate: argument --compare-models: at least {least} simulations per model, or 0 for "
                         f"no comparison (got {args.compare_models})")  # fmt: skip
    from sim.calibration import fit_targets

    if args.fit_until is not None and not fit_targets(args.fit_until):
        raise UsageError(
            f"run.py calibrate: argument --fit-until: no fit target is dated on or before {args.fit_until} (see --help)"
        )
    scenario = load_scenario(args.scenario, overrides={"agents": args.agents, "seed": args.seed})
    split = f".until-{args.fit_until.isoformat()}" if args.fit_until else ""
    # by default a candidate beside the fit the scenario extends: adopting it is the user's decision
    default_name = f"{scenario.name}{split}.fit.yaml" if split else f"{scenario.name}.candidate.fit.yaml"
    fit_file = Path(os.path.abspath(args.fit_file or Path(args.scenario).parent / "fits" / default_name))
    report = args.report or Path("results") / "calibration" / f"{scenario.name}{split}"
    opts = options(args, "budget", "runs_per_point", "seed", agents=scenario.agents, scenario=fingerprint(scenario))
    if args.method == "posterior":
        opts = options(args, "method", "budget", "compare_models", "seed", agents=scenario.agents, scenario=fingerprint(scenario))
    if args.fit_until:
        opts["fit_until"] = args.fit_until.isoformat()
    options_sha = hashlib.sha256(repr(sorted(opts.items())).encode()).hexdigest()[:16]
    import yaml

    from sim.calibration import calibrate, fit_document, targets
    from sim.executor import CachedExecutor

    recover(Path(os.path.abspath(report)))
    finish_calibration(Path(os.path.abspath(report)))
    check_fit_file(fit_file, options_sha, args.overwrite)
    with Stage(report, command="calibrate", options=opts, overwrite=args.overwrite, flag="--report") as stage:
        check_memory(scenario, args, args.budget)
        saved = stage.dest.parent / f".{stage.dest.name}.runs"
        if not args.resume:
            shutil.rmtree(saved, ignore_errors=True)
        if args.method == "posterior":
            fit_text, summary = bayesian_calibration(args, argv, scenario, stage, saved, fit_file, options_sha)
            commit_fit(stage, fit_file, fit_text, saved)
            if not args.quiet:
                print("\n".join([*summary, f"  wrote {fit_file} and {stage.dest}/"]))
                print_adoption(args, scenario.name, fit_file, split)
            return 0
        bar = progress_bar(args.budget, "trial", args.quiet)
        started = time.perf_counter()
        try:
            with CachedExecutor(executor(args, args.budget), saved) as ex:
                result = calibrate(scenario, args.budget, args.runs_per_point, ex, seed=args.seed, fit_until=args.fit_until,
                                   on_trial=(lambda i, d: bar.update(1)) if bar is not None else None)  # fmt: skip
        finally:
            if bar is not None:
                bar.close()
        if args.resume and not args.quiet:
            print(f"resumed: {ex.reused} evaluations were reused from the interrupted calibration", file=sys.stderr)
        doc = fit_document(scenario.name, result, args.budget, args.runs_per_point, scenario.agents, args.seed)
        fit_text = fit_header(argv, doc["calibration"]["date"], options_sha) + yaml.safe_dump(doc, sort_keys=False)
        names = list(result.best)
        lines = ["distance," + ",".join(names)] + [f"{d:.6g}," + ",".join(f"{v[n]:.6g}" for n in names) for d, v in result.trials]
        (stage.path / "trials.csv").write_text("\n".join(lines) + "\n")
        spread = doc["calibration"]["parameters"]
        md = [f"# Calibration of {scenario.name}", "", f"{args.budget} trials x {args.runs_per_point} runs, {scenario.agents} agents, seed {args.seed}, "
              f"{time.perf_counter() - started:.0f} s. Best distance {result.best_distance:.3g}; {len(result.good)} good fits.", "",
              "| parameter | best | 10 % | median | 90 % |", "|---|---|---|---|---|"]  # fmt: skip
        md += [f"| `{k}` | {v['best']:.4g} | {v['p10']:.4g} | {v['median']:.4g} | {v['p90']:.4g} |" for k, v in spread.items()]
        md += [
            "",
            "Fit targets"
            + (f" (dated up to {args.fit_until})" if args.fit_until else "")
            + ": "
            + ", ".join(doc["calibration"]["targets"]),
            "Not fitted: "
            + ", ".join(
                f"{t.name} ({t.role(set(doc['calibration']['targets']))})"
                for t in targets()
                if t.name not in doc["calibration"]["targets"]
            ),
            *[f"Left out: `{p}` = {why}" for p, why in doc["calibration"]["not_fitted"].items()],
            "",
            f"Fit file: `{fit_file}` (a copy is `fit.yaml` here).",
        ]
        (stage.path / "calibration.md").write_text("\n".join(md) + "\n")
        commit_fit(stage, fit_file, fit_text, saved)
    if not args.quiet:
        print(
            f"calibrated {scenario.name}: best distance {result.best_distance:.3g} after {args.budget} trials ({time.perf_counter() - started:.0f} s)"
        )
        for k, v in spread.items():
            print(f"  {k:42s} {v['best']:.4g}  (good fits {v['p10']:.4g} - {v['p90']:.4g})")
        print(f"  wrote {fit_file} and {stage.dest}/")
        print_adoption(args, scenario.name, fit_file, split)
    return 0


def print_adoption(args, name: str, fit_file: Path, split: str) -> None:
    """How to adopt a candidate fit written by default beside the fit the scenario extends."""
    if args.fit_file is None and not split:
        adopted = Path(args.scenario).parent / "fits" / f"{name}.fit.yaml"
        print(f"  to adopt it (the scenario extends {adopted}): mv {fit_file} {adopted}")


def cmd_validate(argv: Sequence[str]) -> int:
    parser = Parser(
        prog="run.py validate", description="Validation report of the historical scenario against the 2025 observations."
    )
    parser.add_argument(
        "--scenario", default=str(HISTORICAL), help="scenario (default: this package's scenarios/historical_2025.yaml)"
    )
    parser.add_argument(
        "--runs",
        type=bounded_int(3, 10_000),
        default=40,
        help="runs; run r uses the fit's parameter set r (a posterior draw; default 40)",
    )
    parser.add_argument("--agents", type=bounded_int(100, 200_000_000), help="agents per run (default: the scenario's)")
    parser.add_argument("--days", type=bounded_int(2, 3 * 366), help="horizon in days")
    parser.add_argument("--seed", type=bounded_int(0, 2**63 - 1), help="master seed")
    add_point_option(parser)
    add_distribution_options(parser)
    parser.add_argument(
        "--out", type=Path, default=Path("results") / "validation", help="report folder (default results/validation/)"
    )
    parser.add_argument(
        "--time-split",
        type=Path,
        metavar="FIT",
        help="a fit file made by `calibrate --fit-until`: the report's 'Time split' shows what it predicts for later facts",
    )
    add_overwrite_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    scenario = load(args.scenario, args)
    from sim.ensemble import run_ensemble
    from sim.validation import predictive_runs, write_report

    split = time_split_scenario(scenario, args.time_split) if args.time_split else None
    opts = options(args, "runs", seed=scenario.seed, agents=scenario.agents, days=scenario.days, scenario=fingerprint(scenario))
    if split is not None:
        opts["time_split"] = fingerprint(split)
    ensembles = 3 if split is not None else 2
    with Stage(args.out, command="validate", options=opts, overwrite=args.overwrite) as stage:
        check_memory(scenario, args, args.runs)
        bar = progress_bar(args.runs * ensembles, "run", args.quiet)
        tick = (lambda r: bar.update(1)) if bar is not None else None
        try:
            with executor(args, args.runs * ensembles) as ex:
                results = predictive_runs(scenario, args.runs, ex, on_run=tick)
                point = scenario.model_copy(update={"parameters": "point"})
                fixed = run_ensemble(point, args.runs, ex)  # the point estimate only, for the choice of the default --runs
                if bar is not None:
                    bar.update(args.runs)
                split_runs = predictive_runs(split, args.runs, ex, on_run=tick) if split is not None else None
        finally:
            if bar is not None:
                bar.close()
        report = write_report(stage.path, scenario, results, fixed, (split, split_runs) if split is not None else None)
        stage.commit()
    if not args.quiet:
        counts = {
            k: sum(r["status"] == k for r in report["rows"]) for k in ("inside", "within tolerance", "miss", "uninformative")
        }
        print(
            f"validation of {scenario.name}: of {len(report['rows'])} observations "
            + ", ".join(f"{v} {k}" for k, v in counts.items())
            + f"; report {stage.dest}/report.md"
        )
    return 0


def time_split_scenario(scenario: Any, path: Path) -> Any:
    """``scenario`` with the time-split fit in ``path`` applied (its parameters and calibration record)."""
    return fit_scenario(scenario, path, "run.py validate: argument --time-split", time_split=True)


def fit_scenario(scenario: Any, path: Path, flag: str, time_split: bool = False) -> Any:
    """``scenario`` with the fit file ``path`` applied (`sim.calibration.apply_fit`: its fitted sections and
    calibration record replace the scenario's); a usage error names ``flag`` if the file cannot be used."""
    import yaml

    from sim.calibration import apply_fit

    if not path.is_file():
        raise UsageError(f"{flag}: {path}: file not found (see --help)")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"{flag}: {path}: not a readable YAML file ({one_line(str(exc))})") from None
    cal = doc.get("calibration") if isinstance(doc, dict) else None
    if not isinstance(cal, dict):
        raise UsageError(f"{flag}: {path} is not a fit file written by `calibrate` (no calibration section)")
    if time_split and not cal.get("fit_until"):
        raise UsageError(f"{flag}: {path} is not a fit made by `calibrate --fit-until` (no calibration.fit_until)")
    try:
        return apply_fit(scenario, doc)
    except ScenarioError as exc:
        raise UsageError(f"{flag}: {path}: {one_line(str(exc))}") from None


def _analysis_parser(
    prog: str, description: str, *, agents: int, days: int, runs_flag: str, runs_default: int, runs_help: str
) -> Parser:
    parser = Parser(prog=f"run.py {prog}", description=description)
    parser.add_argument(
        "--scenario", default=str(HISTORICAL), help="base scenario (default: this package's scenarios/historical_2025.yaml)"
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
    add_point_option(parser)
    add_distribution_options(parser)
    parser.add_argument("--out", type=Path, default=Path("results") / prog, help=f"output folder (default results/{prog}/)")
    add_overwrite_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return parser


def _analysis_base(args: argparse.Namespace):
    """The base scenario of an analysis command, at the command's size, horizon and seed."""
    overrides = {"agents": args.agents, "days": args.days, "seed": args.seed, "parameters": point_override(args)}
    return with_fit(load_scenario(args.scenario, overrides=overrides), args)


class staged_output:
    """``with staged_output(args, command, options, total, unit, scenario, jobs) as (folder, bar)``: a
    `Stage` for ``args.out`` (refused before any work if it must not be written), the memory check,
    and a progress bar; the folder is swapped into place only if the block finishes."""

    def __init__(self, args, command: str, opts: dict, total: int, unit: str, scenario, jobs: int) -> None:
        self.stage = Stage(args.out, command=command, options=opts, overwrite=args.overwrite)
        try:
            check_memory(scenario, args, jobs)
        except BaseException:
            self.stage.discard()
            raise
        self.bar = progress_bar(total, unit, args.quiet)

    def __enter__(self):
        return self.stage.path, self.bar

    def __exit__(self, kind, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
        if kind is None:
            self.stage.commit()
        else:
            self.stage.discard()


def cmd_compare(argv: Sequence[str]) -> int:
    parser = Parser(
        prog="run.py compare",
        description="Compare scenarios with common random numbers: headline metrics and paired differences.",
    )
    parser.add_argument("scenarios", nargs="+", help="two or more scenario files; differences are to the first")
    parser.add_argument(
        "--out", type=Path, help="output folder (default results/compare/<first>-vs-<second>...[-<options that differ>]/)"
    )
    add_scenario_options(parser)
    args = parser.parse_args(argv)
    if len(args.scenarios) < 2:
        raise UsageError("run.py compare: give at least two scenario files")
    scenarios = [load(path, args) for path in args.scenarios]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise UsageError(f"run.py compare: scenario names must differ (got {', '.join(names)})")
    from analysis.compare import compare, write_comparison

    first = scenarios[0]
    opts = options(
        args, "runs", seed=first.seed, agents=first.agents, days=first.days, scenarios=[fingerprint(s) for s in scenarios]
    )
    largest = max(scenarios, key=lambda s: s.agents)
    if args.out is None:
        args.out = default_destination(
            Path("results") / "compare", folder_name(names), "compare", opts, scenario_defaults(args.scenarios[0])
        )
    with staged_output(args, "compare", opts, args.runs * len(scenarios), "run", largest, args.runs) as (staging, bar):
        with executor(args, args.runs) as ex:
            warn(args, scenarios, args.runs)
            results = compare(scenarios, args.runs, ex, on_run=(lambda r: bar.update(1)) if bar is not None else None)
        write_comparison(staging, scenarios, results)
    if not args.quiet:
        print((Path(os.path.abspath(args.out)) / "comparison.md").read_text())
        print(f"results in {args.out}/ (open report.html in a browser)")
    return 0


def lever_setting(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` of --set (the value is checked against the scenario later)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"must be LEVER=VALUE, e.g. translation_start=2025-01-13 (got {text!r})")
    return name.strip(), value.strip()


WHATIF_HEADER = "# Written by `python run.py whatif"


def variant_document(base_path: Path, base, variant, settings: dict[str, str], command: str) -> str:
    """The scenario file of a what-if: it ``extends`` its base by absolute path (so it still works when the
    file is moved or copied) and states only what the levers changed (couplings included)."""
    import yaml

    from sim.scenario import scenario_to_dict

    def changed(a: Any, b: Any) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            out = {k: d for k in b if (d := changed(a.get(k), b[k])) is not _SAME}
            return out if out else _SAME
        return _SAME if a == b else b

    diff = changed(scenario_to_dict(base), scenario_to_dict(variant))
    diff = {} if diff is _SAME else diff
    for key in ("name", "description", "seed", "agents", "end_date"):
        if key not in settings:  # the command line's --seed/--agents/--days are not part of the what-if
            diff.pop(key, None)
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    doc = {
        "extends": str(Path(os.path.abspath(base_path))),
        "name": variant.name,
        "description": f"{base.name} with {shown} (what-if)",
        **diff,
    }
    header = f"{WHATIF_HEADER} {command}`.\n# `extends:` is an absolute path, so this file may be moved anywhere.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


_SAME = object()


def whatif_name(base_name: str, settings: dict[str, str]) -> str:
    """A scenario name for the variant: the base's name and the levers set, as a plain file name."""
    text = base_name + "-" + "-".join(f"{k}_{v}" for k, v in settings.items())
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", text)
    return text if len(text) <= 100 else text[:91] + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def cmd_whatif(argv: Sequence[str]) -> int:
    from sim.levers import LEVERS, LeverError, set_levers, suggest

    parser = Parser(
        prog="run.py whatif",
        description="Set levers on a scenario and measure their effect: base and variant on common random numbers.",
        epilog="Levers: " + ", ".join(LEVERS) + " (see the README's lever table).",
    )
    parser.add_argument("scenario", help="the base scenario file")
    parser.add_argument("--set", dest="settings", action="append", type=lever_setting, required=True, metavar="LEVER=VALUE",
                        help="a lever of the registry and its value, e.g. --set translation_start=2025-01-13 (repeatable)")  # fmt: skip
    parser.add_argument("--save", type=Path, help="also write the variant as a scenario file that extends the base")
    parser.add_argument("--out", type=Path, help="output folder (default results/whatif/<variant name>[-<options>]/)")
    add_scenario_options(parser)
    args = parser.parse_args(argv)
    settings: dict[str, str] = {}
    for name, value in args.settings:
        if name not in LEVERS:
            raise UsageError(
                f"run.py whatif: argument --set: unknown lever {name!r}{suggest(name, LEVERS)} allowed: {', '.join(LEVERS)}"
            )
        if name in settings:
            raise UsageError(f"run.py whatif: argument --set: {name} is given twice ({settings[name]!r} and {value!r})")
        settings[name] = value
    base = load(args.scenario, args)
    try:
        variant = set_levers(base, settings, source=f"--set {' '.join(f'{k}={v}' for k, v in settings.items())}")
    except LeverError as exc:
        raise UsageError(f"run.py whatif: argument --set: {exc}") from None
    variant = variant.model_copy(update={"name": whatif_name(base.name, settings)})
    if variant.model_dump(exclude={"name"}) == base.model_dump(exclude={"name"}):
        raise UsageError(f"run.py whatif: argument --set: {', '.join(settings)} already has these values in {args.scenario}")
    if args.save is not None:
        check_save_path(args.save, args.overwrite)
    from analysis.compare import compare, effect, write_comparison

    scenarios = [base, variant]
    opts = options(args, "runs", seed=base.seed, agents=base.agents, days=base.days,
                   scenarios=[fingerprint(s) for s in scenarios])  # fmt: skip
    if args.out is None:
        args.out = default_destination(Path("results") / "whatif", variant.name, "whatif", opts, scenario_defaults(args.scenario))
    with staged_output(args, "whatif", opts, args.runs * 2, "run", base, args.runs) as (staging, bar):
        with executor(args, args.runs) as ex:
            warn(args, scenarios, args.runs)
            results = compare(scenarios, args.runs, ex, on_run=(lambda r: bar.update(1)) if bar is not None else None)
        write_comparison(
            staging, scenarios, results, title=f"What if: {base.name} with " + ", ".join(f"{k}={v}" for k, v in settings.items())
        )
    if args.save is not None:
        write_file(
            Path(os.path.abspath(args.save)),
            variant_document(Path(args.scenario), load_scenario(args.scenario), variant, settings, shlex.join(argv)),
        )
    if not args.quiet:
        from analysis.compare import COMPARE_METRICS
        from sim.results import format_band, headline_unit

        print(f"what if {base.name} had {', '.join(f'{k}={v}' for k, v in settings.items())}: "
              f"{args.runs} run(s) each on common random numbers, seed {base.seed}, {base.agents} agents")  # fmt: skip
        print("  paired effect (variant minus base, run by run): median [10 %, 90 %]")
        for metric, h in COMPARE_METRICS.items():
            verb, b = effect(results, base.name, variant.name, metric)
            verb = verb if b["median"] is not None else "n/a (no cohort reaches that day inside the horizon)"
            print(f"  {h.label:<22}{format_band(b, headline_unit(metric), signed=True):<34}{verb}")
        print(f"  results in {args.out}/ (open report.html in a browser)")
        if args.save is not None:
            print(f"  variant saved as {args.save} (run it with: python run.py {shlex.quote(str(args.save))})")
    return 0


def check_save_path(path: Path, overwrite: bool) -> None:
    """--save may write where nothing is, or over a file whatif wrote (with --overwrite)."""
    path = Path(os.path.abspath(path))
    if path.suffix not in (".yaml", ".yml"):
        raise UsageError(f"run.py whatif: argument --save: must end in .yaml or .yml (got {path.name!r})")
    if not path.parent.is_dir():
        raise UsageError(f"run.py whatif: argument --save: {path.parent} is not a folder")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UsageError(f"run.py whatif: argument --save: {path} exists and is not a regular file; nothing was changed")
    if path.exists():
        try:
            ours = path.read_text(encoding="utf-8")[:200].startswith(WHATIF_HEADER)
        except (OSError, UnicodeDecodeError):
            ours = False
        if not ours:
            raise UsageError(f"run.py whatif: argument --save: {path} exists and was not written by whatif; give another file")
        if not overwrite:
            raise UsageError(f"run.py whatif: argument --save: {path} exists; pass --overwrite to replace it")


def cmd_sensitivity(argv: Sequence[str]) -> int:
    parser = _analysis_parser(
        "sensitivity", "Global sensitivity of Day-90 retention, peak DAU and moderation load (SALib).",
        agents=40_000, days=130, runs_flag="--runs-per-point", runs_default=2, runs_help="replicate runs per design point (default 2)",
    )  # fmt: skip
    parser.add_argument("--method", choices=["morris", "sobol"], default="morris", help="morris (screening, default) or sobol")
    parser.add_argument("--samples", type=bounded_int(2, 100_000), default=8,
                        help="Morris trajectories, or Sobol base samples (a power of 2); default 8")  # fmt: skip
    parser.add_argument("--factors", choices=["levers", "assumptions"], default="levers",
                        help="levers: the policy levers and behavioural factors (default); assumptions: every assumed "
                        "parameter the fit does not infer, from half to twice its value (which should join the posterior)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.method == "sobol" and args.samples & (args.samples - 1):
        raise UsageError(f"run.py sensitivity: argument --samples: must be a power of 2 for sobol (got {args.samples})")
    base = _analysis_base(args)
    from analysis.sensitivity import analyze, assumed_parameters, problem, run_design, sample, write_report

    prob = problem(assumed=assumed_parameters(base)) if args.factors == "assumptions" else problem()
    X = sample(args.method, prob, args.samples, args.seed)
    opts = options(args, "method", "samples", "runs_per_point", "seed", "agents", "days", "factors", scenario=fingerprint(base))
    with staged_output(args, "sensitivity", opts, len(X), "point", base, len(X)) as (staging, bar):
        with executor(args, len(X)) as ex:
            Y = run_design(
                base, prob, X, args.runs_per_point, ex, on_point=bar.update if bar is not None else None, method=args.method
            )
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
        agents=40_000, days=130, runs_flag="--runs-per-trial", runs_default=8,
        runs_help="runs per policy, the same for every policy; with a posterior fit each is a posterior draw (default 8)",
    )  # fmt: skip
    parser.add_argument("--trials", type=bounded_int(2, 100_000), default=40, help="policies to evaluate (default 40)")
    args = parser.parse_args(argv)
    base = _analysis_base(args)
    from analysis.optimize import search, write_report

    opts = options(args, "trials", "runs_per_trial", "seed", "agents", "days", scenario=fingerprint(base))
    with staged_output(args, "optimize", opts, args.trials, "policy", base, args.trials) as (staging, bar):
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
    "whatif": cmd_whatif,
    "sensitivity": cmd_sensitivity,
    "optimize": cmd_optimize,
    "view": cmd_view,
}


RESUMABLE = {"run", "calibrate"}


def _rerun_hint(argv: Sequence[str], work_saved: bool) -> str:
    command = argv[0] if argv and argv[0] in COMMANDS else "run"
    if command in RESUMABLE and work_saved:
        again = list(argv) if "--resume" in argv else [*argv, "--resume"]
        return f"finished work is saved; to continue: python run.py {shlex.join(again)}"
    return f"no result was written; to retry: python run.py {shlex.join(argv)}"


def _failure(argv: Sequence[str], what: str) -> int:
    print(one_line(f"error: {what}; {_rerun_hint(argv, work_saved=True)}", 2000), file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns its exit status (0 done, 1 failed during the work, 2 bad input, 130 interrupted)."""
    from concurrent.futures.process import BrokenProcessPool

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            return COMMANDS[argv[0]](argv[1:])
        if argv and argv[0] in ("help", "-h", "--help"):
            return cmd_help(argv[1:])
        if argv and not_a_file_but_a_word(argv[0]):
            from sim.levers import suggest

            raise UsageError(
                f"run.py: {argv[0]!r} is neither a command nor a scenario file{suggest(argv[0], [*COMMANDS, 'help'])} "
                f"commands: {', '.join(COMMANDS)}, help; or give a scenario .yaml file"
            )
        return cmd_run(argv)
    except (UsageError, ScenarioError, OutputError) as exc:
        prefix = "" if isinstance(exc, ScenarioError) or str(exc).startswith("run.py") else _prog(argv) + ": "
        print(one_line(f"error: {prefix}{exc}", 2000), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: {_rerun_hint(argv, work_saved=True)}", file=sys.stderr)
        return 130
    except BrokenProcessPool:
        return _failure(argv, "a worker process died (killed, or out of memory)")
    except MemoryError:
        return _failure(argv, "out of memory")
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        return _failure(argv, f"{exc.strerror or exc}{where}")
    except Exception as exc:
        if type(exc).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError", "CancelledError"):
            return _failure(argv, f"the Dask cluster lost a worker or the connection ({type(exc).__name__})")
        raise


def not_a_file_but_a_word(arg: str) -> bool:
    """A first argument that is meant as a command (``comapre``): a plain word, no such file."""
    return re.fullmatch(r"[A-Za-z][A-Za-z_-]*", arg) is not None and not os.path.lexists(arg)


def cmd_help(argv: Sequence[str]) -> int:
    """``run.py help``: the commands; ``run.py help COMMAND``: that command's options."""
    if argv and argv[0] in COMMANDS:
        try:
            return COMMANDS[argv[0]](["--help"])
        except SystemExit as done:  # argparse's --help
            return int(done.code or 0)
    if argv and argv[0] != "run":
        from sim.levers import suggest

        raise UsageError(f"run.py help: unknown command {argv[0]!r}{suggest(argv[0], COMMANDS)} commands: {', '.join(COMMANDS)}")
    if argv:
        run_parser().print_help()
        return 0
    print(HELP)
    return 0


HELP = """usage: python run.py SCENARIO.yaml [options]       run a scenario (python run.py help run)
       python run.py COMMAND [options]             (python run.py help COMMAND, or COMMAND --help)

commands:
  SCENARIO.yaml  run a scenario's ensemble: report.html, summary.json, quantiles.csv, plots
  whatif         set levers on a scenario (--set LEVER=VALUE) and measure the paired effect
  compare        compare scenario files on common random numbers
  calibrate      fit the behavioural parameters to the January 2025 observations
  validate       validation report of the historical scenario against the observations
  sensitivity    global sensitivity of retention, peak DAU and moderation load (SALib)
  optimize       multi-objective search over the platform's levers (optuna)
  view           interactive browser view on 127.0.0.1
  help           this text

Exit status: 0 done, 1 failed during the work, 2 bad input (one line on stderr), 130 interrupted."""


def _prog(argv: Sequence[str]) -> str:
    return f"run.py {argv[0]}" if argv and argv[0] in COMMANDS else "run.py"
