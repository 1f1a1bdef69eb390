"""Command line: ``python run.py SCENARIO.yaml [options]`` and the subcommands.

Every user error (bad argument, bad scenario) is one line on stderr and exit status 2; nothing is
written before the input has been validated.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sim.scenario import ScenarioError, load_scenario


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


def add_scenario_options(parser: argparse.ArgumentParser, *, runs_default: int = 1) -> None:
    parser.add_argument(
        "--runs", type=bounded_int(1, 10_000), default=runs_default, help=f"replicate runs (default {runs_default})"
    )
    parser.add_argument("--seed", type=bounded_int(0, 2**63 - 1), help="master seed (default: the scenario's)")
    parser.add_argument(
        "--agents", type=bounded_int(100, 200_000_000), help="total agents, split by the scenario's population shares"
    )
    parser.add_argument("--days", type=bounded_int(1, 3 * 366), help="horizon in days from the start date")
    parser.add_argument("--workers", type=bounded_int(1, 1024), help="worker processes for --runs > 1 (default: number of CPUs)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary table")


def run_parser() -> Parser:
    parser = Parser(
        prog="run.py",
        description="Run a scenario of the TikTok-to-RedNote migration model and write its results.",
        epilog="Subcommands: " + ", ".join(COMMANDS) + " (python run.py COMMAND --help).",
    )
    parser.add_argument("scenario", help="scenario YAML file, e.g. scenarios/historical_2025.yaml")
    parser.add_argument("--out", type=Path, help="output folder (default: results/<scenario name>/)")
    add_scenario_options(parser)
    return parser


def load(path: str, args: argparse.Namespace):
    return load_scenario(path, overrides={"seed": args.seed, "agents": args.agents, "days": args.days})


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
    from sim.ensemble import default_workers, run_ensemble
    from sim.output import write_results

    workers = args.workers or default_workers(args.runs)
    started = time.perf_counter()
    parallel = min(workers, args.runs) > 1
    bar = progress_bar(args.runs if parallel else args.runs * scenario.days, "run" if parallel else "day", args.quiet)
    try:
        results = run_ensemble(
            scenario,
            args.runs,
            workers,
            on_run=(lambda r: bar.update(1)) if bar is not None and parallel else None,
            on_day=bar.update if bar is not None and not parallel else None,
        )
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started
    summary = write_results(
        out, scenario, results, extra={"command": "run.py " + " ".join(argv), "wall_seconds": round(elapsed, 2)}
    )
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


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {}


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
