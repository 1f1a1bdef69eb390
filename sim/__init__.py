"""Agent-based model of the 2025 "TikTok refugee" migration to RedNote (Xiaohongshu)."""

__version__ = "0.1.0"

from sim.model import MigrationModel  # noqa: E402
from sim.params import Scenario  # noqa: E402
from sim.scenario import ScenarioError, load_scenario  # noqa: E402

__all__ = ["MigrationModel", "Scenario", "ScenarioError", "load_scenario", "__version__"]
