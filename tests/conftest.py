"""Shared helpers: small, fast versions of the shipped scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.params import Scenario
from sim.scenario import deep_merge, load_scenario, scenario_to_dict, validate

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def small(
    name: str = "historical_2025", agents: int = 20_000, days: int | None = None, seed: int | None = None, **changes
) -> Scenario:
    """A shipped scenario at a test size, with nested ``changes`` merged in (e.g. us_users={"habit": 2})."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml", overrides={"agents": agents, "days": days, "seed": seed})
    if not changes:
        return scenario
    return validate(deep_merge(scenario_to_dict(scenario), changes), source=f"{name} (test)")


@pytest.fixture
def root() -> Path:
    return ROOT
