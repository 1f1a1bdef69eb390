"""Estimate a model's memory before building it, and refuse sizes that cannot fit.

The estimate is linear in agents and in follows (edges of the two follow graphs): BYTES_PER_FOLLOW is
the measured growth of peak resident memory with the mean following (one CSR entry plus the
construction temporaries), BYTES_PER_AGENT the rest of a run's per-agent state (user arrays, the
growing tie sets), from benchmarks/bench_scale.py and runs at 200 000 agents with 15 to 500 follows
each; BASE_BYTES is the interpreter with numpy, scipy, pandas and Mesa loaded. Every command calls
`check_scenario` before it builds a model.
"""

from __future__ import annotations

import os
from typing import Any

BYTES_PER_AGENT = 150  # measured with defaults: 0.44 GB at 1M agents, 3.3 GB at 10M (~18 follows each); rounded up
BYTES_PER_FOLLOW = 12  # measured: +0.62 GB for +57.6 M follows at 200k agents (us_mean_following 20 -> 500)
BYTES_PER_COMPLETE_PAIR = 16  # 'complete' graphs are built dense (float32) before they become CSR
BASE_BYTES = 250 * 1024**2
DEFAULT_FOLLOWS_PER_AGENT = 0.6 * 20 + 0.4 * 15  # the default population shares and mean following


def follows_per_agent(scenario: Any) -> float:
    """Mean follows per agent of a scenario's graphs (a 'complete' graph counts its dense build)."""
    share, net = scenario.population.us_agent_share, scenario.network
    if net.kind == "complete":
        n_us = max(1, round(scenario.agents * share))
        n_cn = max(1, scenario.agents - n_us)
        return (n_us**2 + n_cn**2) * BYTES_PER_COMPLETE_PAIR / BYTES_PER_FOLLOW / max(scenario.agents, 1)
    return share * _us_following(scenario) + (1 - share) * net.cn_mean_following


def _us_following(scenario: Any) -> float:
    """The US mean following to budget for: with a posterior fit, the largest over its draws (each run
    builds the graph of its own draw, `sim.calibration.parameter_draw`)."""
    from sim.calibration import posterior_draws

    value = scenario.network.us_mean_following
    return max([value, *(draw.get("network.us_mean_following", value) for draw in posterior_draws(scenario))])


def estimate_bytes(agents: int, follows_each: float = DEFAULT_FOLLOWS_PER_AGENT) -> int:
    return int(BASE_BYTES + (BYTES_PER_AGENT + BYTES_PER_FOLLOW * follows_each) * agents)


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


def largest_fitting(available: float, parallel: int = 1, follows_each: float = DEFAULT_FOLLOWS_PER_AGENT) -> int:
    return max(0, int((available / max(parallel, 1) - BASE_BYTES) / (BYTES_PER_AGENT + BYTES_PER_FOLLOW * follows_each)))


def check_fits(
    agents: int, parallel: int = 1, available: int | None = None, follows_each: float = DEFAULT_FOLLOWS_PER_AGENT
) -> str | None:
    """None if ``parallel`` runs of ``agents`` agents fit in memory; otherwise the reason, in one line."""
    available = available_bytes() if available is None else available
    need = estimate_bytes(agents, follows_each) * max(parallel, 1)
    if need <= 0.9 * available:
        return None
    fits = largest_fitting(0.9 * available, parallel, follows_each)
    runs = f" x {parallel} runs at once" if parallel > 1 else ""
    density = f" with {follows_each:.0f} follows each" if follows_each > 2 * DEFAULT_FOLLOWS_PER_AGENT else ""
    return (
        f"{agents:,} agents{density} need about {need / 1024**3:.1f} GB{runs}, more than the "
        f"{available / 1024**3:.1f} GB available; the largest size that fits is about {fits:,} agents"
        + (" (or use fewer parallel runs)" if parallel > 1 else "")
    )


def check_scenario(scenario: Any, parallel: int = 1, available: int | None = None) -> str | None:
    """`check_fits` for a scenario, counting its follow-graph density."""
    return check_fits(scenario.agents, parallel, available, follows_per_agent(scenario))
