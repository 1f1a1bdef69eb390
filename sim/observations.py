"""The observed 2025 numbers (``data/observed_2025.csv``), read in one place.

Each row has a date, a metric, a value, its source and a note on the wording, its ``use`` (``calibrate``:
a fit target of the full calibration; ``validate``: compared, never fitted; ``parameter``: it set a fixed
parameter; ``context``: not compared, with the reason in the note) and ``informs``: the dotted paths of
the fixed parameters it set (space separated). An observation that set a parameter is never reported as
held out (`sim.calibration.Target.role`).

Calibration targets, validation rows and the observed points drawn on every plot all come from here.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import cache
from pathlib import Path

OBSERVED_CSV = Path(__file__).resolve().parent.parent / "data" / "observed_2025.csv"
USES = ("calibrate", "validate", "parameter", "context")


@cache
def _rows() -> tuple[dict[str, str], ...]:
    if not OBSERVED_CSV.is_file():
        return ()
    with OBSERVED_CSV.open() as fh:
        return tuple(csv.DictReader(fh))


def rows() -> tuple[dict[str, str], ...]:
    """Every row of the observations file (empty if it is missing)."""
    return _rows()


def _row(metric: str, date: str) -> dict[str, str]:
    for row in _rows():
        if row["metric"] == metric and row["date"] == date:
            return row
    raise KeyError(f"{metric} on {date} is not in {OBSERVED_CSV.name}")


def observation(metric: str, date: str) -> float:
    """The observed value of ``metric`` on ``date`` (ISO); `KeyError` if the file has none."""
    return float(_row(metric, date)["value"])


def informed_parameters(metric: str, date: str) -> tuple[str, ...]:
    """Dotted paths of the fixed parameters this observation set (empty if none)."""
    return tuple((_row(metric, date).get("informs") or "").split())


def observed_points(metric: str, first: dt.date, last: dt.date) -> list[tuple[dt.date, float]]:
    """Observed values of ``metric`` dated from ``first`` to ``last`` (empty if the data file is missing)."""
    points = [(dt.date.fromisoformat(r["date"]), float(r["value"])) for r in _rows() if r["metric"] == metric]
    return [(d, v) for d, v in points if first <= d <= last]


def similarweb_dau_points(scenario) -> tuple[list[tuple[dt.date, float]], str]:
    """Similarweb's US RedNote DAU inside the scenario's dates, put on the model's scale (divided by the
    scenario's fitted panel scale, `observation.similarweb_dau_scale`), and the legend that says so."""
    scale = scenario.observation.similarweb_dau_scale
    points = [(d, v / scale) for d, v in observed_points("rednote_us_dau", scenario.start_date, scenario.end_date)]
    label = "observed (Similarweb)" if scale == 1 else f"observed (Similarweb ÷ its fitted panel scale {scale:.2g})"
    return points, label
