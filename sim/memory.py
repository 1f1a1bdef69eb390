"""Estimate a model's memory before building it, and refuse sizes that cannot fit.

The estimate is linear in agents: BYTES_PER_AGENT is the measured peak resident memory per agent of
one run (graph construction and the growing tie sets), from benchmarks/bench_scale.py;
BASE_BYTES is the interpreter with numpy, scipy, pandas and Mesa loaded.
"""

from __future__ import annotations

import os

BYTES_PER_AGENT = 350  # measured peak: 0.44 GB at 1M agents, 3.3 GB at 10M (benchmarks/bench_scale.py); rounded up
BASE_BYTES = 250 * 1024**2


def estimate_bytes(agents: int) -> int:
    return int(BASE_BYTES + BYTES_PER_AGENT * agents)


def available_bytes() -> int:
    """Memory available to new processes (MemAvailable), or total physical memory as a fallback."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def largest_fitting(available: int, parallel: int = 1) -> int:
    return max(0, int((available / max(parallel, 1) - BASE_BYTES) / BYTES_PER_AGENT))


def check_fits(agents: int, parallel: int = 1, available: int | None = None) -> str | None:
    """None if ``parallel`` runs of ``agents`` agents fit in memory; otherwise the reason, in one line."""
    available = available_bytes() if available is None else available
    need = estimate_bytes(agents) * max(parallel, 1)
    if need <= 0.9 * available:
        return None
    fits = largest_fitting(0.9 * available, parallel)
    runs = f" x {parallel} runs at once" if parallel > 1 else ""
    return (
        f"{agents:,} agents need about {need / 1024**3:.1f} GB{runs}, more than the {available / 1024**3:.1f} GB available; "
        f"the largest size that fits is about {fits:,} agents" + (" (or use fewer parallel runs)" if parallel > 1 else "")
    )
