"""Benchmark: the historical scenario for 180 days at several sizes, one fresh process per size.

    python benchmarks/bench_scale.py [--sizes 100000 1000000 10000000] [--days 180] [--oracle 20000]
                                     [--before REF [--repeat 3]]
    python benchmarks/bench_scale.py --targets REF [--big]

Prints a Markdown table of wall time (graph building and data collection included; writing output
files excluded), agent-days per second, peak memory (max RSS of the process) and the time of each stage
of the step. Each size runs in its own process so that peak memory is that size's alone.

``--before REF`` times the model of git revision REF (e.g. the last commit before a change) side by side
on the same machine: REF is checked out into a temporary git worktree, and for each size the two
models run one after the other, ``--repeat`` times, alternating, so both see the same machine state;
the table gives the medians and the ratio. Compiled kernels are warmed up (compiled and cached) before
timing. Machines of the same kind differ by about 2x, so only ratios from one such run compare.

``--targets REF`` measures every speed target of issue 13 in one run, against revision REF where the
target is a ratio: 1 000 000 agents x 180 days (3x REF, within 1 GB; ``--big`` adds 10 000 000, 3x REF
within 8 GB: ~8 min), the one-object-per-agent oracle at 20 000 agents (150x slower than the model), one
200 000-agent historical run (under 1.5 s) and the default 15-run command as a whole process (under 12 s).
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


def oracle_seconds(agents: int, days: int) -> tuple[float, float]:
    """Wall times of MigrationModel and of tests/oracle_model.py (one Mesa agent object per user)."""
    sys.path.insert(0, str(ROOT))
    from sim.model import MigrationModel
    from sim.scenario import load_scenario
    from tests.oracle_model import OracleModel

    scenario = load_scenario(ROOT / "scenarios" / "historical_2025.yaml", overrides={"agents": agents, "days": days})
    warm_up = load_scenario(ROOT / "scenarios" / "historical_2025.yaml", overrides={"agents": agents, "days": 5})
    MigrationModel(warm_up).run()  # compile (or load) the kernels first
    times = []
    for cls in (MigrationModel, OracleModel):
        started = time.perf_counter()
        cls(scenario).run()
        times.append(time.perf_counter() - started)
    return times[0], times[1]


def oracle_ratio(agents: int, days: int) -> str:
    model, oracle = oracle_seconds(agents, days)
    return (
        f"{agents:,} agents x {days} days: vectorized {model:.2f} s, one object per agent "
        f"{oracle:.1f} s: {oracle / model:.0f}x faster\n"
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


def command_seconds(root: Path, args: list[str]) -> float:
    """Wall time of ``python run.py ARGS`` of the tree ``root``, as a whole process, outputs in a fresh folder."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, str(root / "run.py"), *args, "--out", str(Path(tmp) / "out"), "--quiet"],
                       cwd=root, check=True, capture_output=True)  # fmt: skip
        return time.perf_counter() - started


def targets(ref: str, big: bool) -> int:
    """Issue 13's targets, each measured once (the model runs alternate with REF's), as a Markdown table."""
    rows = []

    def ratio(size: int, factor: float, memory_gb: float, before: Path) -> None:
        old, new = child(size, 180, before), child(size, 180)
        if old and new:
            rows.append((f"{size:,} agents x 180 days", f">= {factor:.0f}x {ref}, <= {memory_gb:g} GB",
                         f"{old['wall_s']:.1f} s -> {new['wall_s']:.1f} s: {old['wall_s'] / new['wall_s']:.2f}x, "
                         f"{new['peak_gb']:.2f} GB", old["wall_s"] / new["wall_s"] >= factor and new["peak_gb"] <= memory_gb))  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), ref], check=True, capture_output=True)
        try:
            for root in (before, ROOT):  # warm-up: compile and cache any kernels
                child(20_000, 5, root)
            ratio(1_000_000, 3, 1, before)
            if big:
                ratio(10_000_000, 3, 8, before)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], capture_output=True)
    model, oracle = oracle_seconds(20_000, 180)
    rows.append(("one Python object per agent (Mesa oracle), 20 000 agents", ">= 150x slower than the model",
                 f"{oracle:.1f} s against {model:.2f} s: {oracle / model:.0f}x", oracle / model >= 150))  # fmt: skip
    single = child(200_000, 180)
    if single:
        rows.append(
            ("one historical run, 200 000 agents (model)", "< 1.5 s", f"{single['wall_s']:.2f} s", single["wall_s"] < 1.5)
        )
    default = command_seconds(ROOT, [str(ROOT / "scenarios" / "historical_2025.yaml")])
    rows.append(
        ("`python run.py scenarios/historical_2025.yaml` (15 runs), whole process", "< 12 s", f"{default:.1f} s", default < 12)
    )
    print("| what | target | measured | met |\n|---|---|---|---|")
    for what, target, measured, met in rows:
        print(f"| {what} | {target} | {measured} | {'yes' if met else 'no'} |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--oracle", type=int, help="also time the one-object-per-agent Mesa oracle at this size")
    parser.add_argument("--before", metavar="REF", help="also time git revision REF, alternating with this tree")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and tree with --before (default 3)")
    parser.add_argument("--targets", metavar="REF", help="measure issue 13's targets, ratios against git revision REF")
    parser.add_argument("--big", action="store_true", help="with --targets: also 10 000 000 agents (~8 min)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.days, args.root)))
        return 0
    if args.big and not args.targets:
        parser.error("argument --big: only with --targets REF")
    if args.repeat < 1:
        parser.error(f"argument --repeat: must be at least 1 (got {args.repeat})")
    for option, ref in (("--before", args.before), ("--targets", args.targets)):
        if ref is None:
            continue
        known = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], capture_output=True
        )
        if known.returncode != 0:
            parser.error(f"argument {option}: {ref!r} is not a commit of {ROOT} (a hash, tag or branch)")
    if args.targets:
        return targets(args.targets, args.big)
    if args.before:
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
