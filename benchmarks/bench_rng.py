"""Benchmark: the per-(stream, day) full-array draws the model used until parameter set 2025.3 against the
counter-based kernels of sim/rng.py it uses since.

    python benchmarks/bench_rng.py [--sizes 1000000 10000000] [--repeat 7] [--threads 1 2]

Before ("today" below: `Streams.uniform` of parameter set 2025.3, reproduced in `full_array`) every stream drew ``n`` float32 uniforms a day, a fresh
Generator from a SeedSequence each time, also when only a few agents decide: a 1 % subset costs the full
array. The kernel draws any agent's number on its own, so (a) all n agents and (b) a 1 % subset are
timed separately, for float64 (53-bit) and float32 (24-bit) output, per thread count. Also Poisson counts
(the Chinese users' views) for 1 % of the agents. Prints the best of ``--repeat`` runs (the minimum is
the least disturbed by other load on the machine), throughput in millions of draws per second, and the
ratio of today's time to the kernel's (> 1: the kernel is faster).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim import rng  # noqa: E402


def full_array(name: str, day: int, n: int) -> np.ndarray:
    """The draw of parameter set 2025.3: a fresh generator per (seed, run, stream, day), n float32 uniforms."""
    return generator(name, day).random(n, dtype=np.float32)


def generator(name: str, day: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(RUN, rng.name_key(name), day + 1)))


SEED, RUN, DAY, STREAM = 2025, 0, 12, "us.join"


def best(fn: Callable[[], object], repeat: int) -> float:
    """Fastest of ``repeat`` timed calls, after one untimed call (compilation, first page faults)."""
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def rows_for(n: int, repeat: int, threads: list[int]) -> list[tuple[str, float, int, float]]:
    """(what, seconds, draws, today's seconds for the same job) for one size."""
    key = rng.stream_key(SEED, RUN, STREAM)
    subset = np.sort(np.random.default_rng(1).choice(n, n // 100, replace=False))
    rates = np.random.default_rng(2).gamma(0.5, 1.0, subset.size)
    today_all = best(lambda: full_array(STREAM, DAY, n), repeat)
    today_subset = best(lambda: full_array(STREAM, DAY, n)[subset], repeat)
    today_poisson = best(lambda: generator("cn.views", DAY).poisson(rates), repeat)
    rows = [
        ("today: Streams.uniform, all n (float32)", today_all, n, today_all),
        ("today: Streams.uniform, 1 % subset (full array drawn)", today_subset, subset.size, today_subset),
        ("today: Generator.poisson, 1 % subset (one sequence a day)", today_poisson, subset.size, today_poisson),
    ]
    buffers = {np.float64: np.empty(n), np.float32: np.empty(n, dtype=np.float32)}
    before = numba.get_num_threads()
    try:
        for t in threads:
            numba.set_num_threads(t)
            for dtype, bits in ((np.float64, 53), (np.float32, 24)):
                rows.append((f"rng.uniforms_all, all n ({bits}-bit), {t} thread(s)",
                             best(lambda dtype=dtype: rng.uniforms_all(key, DAY, n, dtype=dtype), repeat), n, today_all))  # fmt: skip
            rows.append((f"rng.uniforms_all, all n (53-bit, out= reused), {t} thread(s)",
                         best(lambda: rng.uniforms_all(key, DAY, n, out=buffers[np.float64]), repeat), n, today_all))  # fmt: skip
            rows.append((f"rng.uniforms, 1 % subset (53-bit), {t} thread(s)",
                         best(lambda: rng.uniforms(key, DAY, subset), repeat), subset.size, today_subset))  # fmt: skip
            rows.append((f"rng.poisson, 1 % subset, {t} thread(s)",
                         best(lambda: rng.poisson(key, DAY, subset, rates), repeat), subset.size, today_poisson))  # fmt: skip
    finally:
        numba.set_num_threads(before)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, min(2, numba.config.NUMBA_NUM_THREADS)])
    args = parser.parse_args()
    threads = sorted(set(t for t in args.threads if 1 <= t <= numba.config.NUMBA_NUM_THREADS))
    print(f"numba {numba.__version__}, numpy {np.__version__}, threading layer: {numba.config.THREADING_LAYER}, "
          f"max threads {numba.config.NUMBA_NUM_THREADS}")  # fmt: skip
    for n in args.sizes:
        print(f"\nn = {n:,} agents (one stream, one day)\n")
        print("| draw | time (ms) | M draws/s | speed-up over today |")
        print("| --- | ---: | ---: | ---: |")
        for what, seconds, draws, today in rows_for(n, args.repeat, threads):
            print(f"| {what} | {seconds * 1e3:.2f} | {draws / seconds / 1e6:.0f} | {today / seconds:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
