"""Benchmark: the historical scenario for 180 days at several sizes, one fresh process per size.

    python benchmarks/bench_scale.py [--sizes 100000 1000000 10000000] [--days 180] [--oracle 20000]
                                     [--before REF [--repeat 3]]

Prints a Markdown table of wall time (graph building and data collection included; writing output
files excluded), agent-days per second, peak memory (max RSS of the process) and the time of each stage
of the step. Each size runs in its own process so that peak memory is that size's alone.

``--before REF`` times the model of git revision REF (e.g. the last commit before a change) side by side
on the same machine: REF is checked out into a temporary git worktree, and for each size the two
models run one after the other, ``--repeat`` times, alternating, so both see the same machine state;
the table gives the medians and the ratio. Compiled kernels are warmed up (compiled and cached) before
timing. Machines of the same kind differ by about 2x, so only ratios from one such run compare.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ["build", "events", "regulator", "exposure", "us_decisions", "screening", "cn_decisions", "graph", "recording"]


def measure(agents: int, days: int, root: Path = ROOT) -> dict:
    """Run one model of the source tree ``root`` in this process and report its timings."""
    sys.path.insert(0, str(root))
    from sim.model import MigrationModel
    from sim.scenario import load_scenario

    scenario = load_scenario(root / "scenarios" / "historical_2025.yaml", overrides={"agents": agents, "days": days})
    started = time.perf_counter()
    model = MigrationModel(scenario)
    model.run()
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    return {"agents": agents, "days": days, "wall_s": wall, "agent_days_per_s": agents * days / wall, "peak_gb": peak,
            "stages": model.stage_seconds}  # fmt: skip


def oracle_ratio(agents: int, days: int) -> str:
    """Wall time of tests/oracle_model.py (one Mesa agent object per user) against MigrationModel."""
    sys.path.insert(0, str(ROOT))
    from sim.model import MigrationModel
    from sim.scenario import load_scenario
    from tests.oracle_model import OracleModel

    scenario = load_scenario(ROOT / "scenarios" / "historical_2025.yaml", overrides={"agents": agents, "days": days})
    times = {}
    for name, cls in (("vectorized", MigrationModel), ("object oracle", OracleModel)):
        started = time.perf_counter()
        cls(scenario).run()
        times[name] = time.perf_counter() - started
    ratio = times["object oracle"] / times["vectorized"]
    return (
        f"{agents:,} agents x {days} days: vectorized {times['vectorized']:.2f} s, one object per agent "
        f"{times['object oracle']:.1f} s: {ratio:.0f}x faster\n"
    )


def child(size: int, days: int, root: Path = ROOT) -> dict | None:
    """Time one size in a fresh process (the model of ``root``); None if it failed."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(size), "--days", str(days), "--root", str(root)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        print(f"{size} agents ({root}): failed\n{proc.stderr.strip().splitlines()[-1] if proc.stderr else ''}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def side_by_side(ref: str, sizes: list[int], days: int, repeat: int) -> int:
    """This tree against git revision ``ref``, alternating, ``repeat`` times per size; medians and ratios."""
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), ref], check=True, capture_output=True)
        try:
            commit = subprocess.run(
                ["git", "-C", str(before), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
            ).stdout.strip()
            for root in (before, ROOT):  # warm-up: compile and cache any kernels
                child(min(sizes), 5, root)
            print(f"| agents | days | before ({ref} = {commit}) | now | speed-up | peak memory before / now | stages now (s) |")
            print("|---|---|---|---|---|---|---|")
            for size in sizes:
                times: dict[str, list[dict]] = {"before": [], "now": []}
                for _ in range(repeat):
                    for name, root in (("before", before), ("now", ROOT)):
                        result = child(size, days, root)
                        if result:
                            times[name].append(result)
                if not times["before"] or not times["now"]:
                    continue
                wall = {k: statistics.median(r["wall_s"] for r in v) for k, v in times.items()}
                peak = {k: max(r["peak_gb"] for r in v) for k, v in times.items()}
                stages = {s: statistics.median(r["stages"].get(s, 0.0) for r in times["now"]) for s in STAGES}
                spread = {k: f"{min(r['wall_s'] for r in v):.1f}-{max(r['wall_s'] for r in v):.1f}" for k, v in times.items()}
                print(
                    f"| {size:,} | {days} | {wall['before']:.2f} s ({spread['before']}) | {wall['now']:.2f} s ({spread['now']}) "
                    f"| **{wall['before'] / wall['now']:.2f}x** | {peak['before']:.2f} / {peak['now']:.2f} GB | "
                    + ", ".join(f"{s} {t:.2f}" for s, t in stages.items() if t >= 0.005)
                    + " |"
                )
                sys.stdout.flush()
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], capture_output=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--oracle", type=int, help="also time the one-object-per-agent Mesa oracle at this size")
    parser.add_argument("--before", metavar="REF", help="also time git revision REF, alternating with this tree")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and tree with --before (default 3)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.days, args.root)))
        return 0
    if args.repeat < 1:
        parser.error(f"argument --repeat: must be at least 1 (got {args.repeat})")
    if args.before:
        known = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{args.before}^{{commit}}"], capture_output=True
        )
        if known.returncode != 0:
            parser.error(f"argument --before: {args.before!r} is not a commit of {ROOT} (a hash, tag or branch)")
        return side_by_side(args.before, args.sizes, args.days, args.repeat)
    if args.oracle:
        print(oracle_ratio(args.oracle, args.days))
    rows = []
    for size in args.sizes:
        result = child(size, args.days)
        if result is None:
            continue
        rows.append(result)
        print(f"{size:>11,} agents: {rows[-1]['wall_s']:.1f} s", file=sys.stderr)
    print(f"| agents | days | wall time | agent-days/s | peak memory | {' | '.join(STAGES)} |")
    print("|---|---|---|---|---|" + "---|" * len(STAGES))
    for r in rows:
        stages = " | ".join(f"{r['stages'].get(s, 0):.1f} s" for s in STAGES)
        print(
            f"| {r['agents']:,} | {r['days']} | {r['wall_s']:.1f} s | {r['agent_days_per_s'] / 1e6:.1f} M | {r['peak_gb']:.2f} GB | {stages} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
