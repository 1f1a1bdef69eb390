"""Benchmark: the historical scenario for 180 days at several sizes, one fresh process per size.

    python benchmarks/bench_scale.py [--sizes 100000 1000000 10000000] [--days 180] [--oracle 20000]

Prints a Markdown table of wall time (graph building and data collection included; writing output
files excluded), agent-days per second, peak memory (max RSS of the process) and the time of each stage
of the step. Each size runs in its own process so that peak memory is that size's alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ["build", "events", "regulator", "exposure", "us_decisions", "screening", "cn_decisions", "graph", "recording"]


def measure(agents: int, days: int) -> dict:
    """Run one model in this process and report its timings."""
    sys.path.insert(0, str(ROOT))
    from sim.model import MigrationModel
    from sim.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "historical_2025.yaml", overrides={"agents": agents, "days": days})
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--oracle", type=int, help="also time the one-object-per-agent Mesa oracle at this size")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.days)))
        return 0
    if args.oracle:
        print(oracle_ratio(args.oracle, args.days))
    rows = []
    for size in args.sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(size), "--days", str(args.days)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            print(f"{size} agents: failed\n{proc.stderr.strip().splitlines()[-1] if proc.stderr else ''}", file=sys.stderr)
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
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
