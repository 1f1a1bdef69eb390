"""The observed 2025 numbers (``data/observed_2025.csv``, each with its source and use), read in one place.

Calibration targets, validation rows and the observed points drawn on every plot all come from here.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import cache
from pathlib import Path

OBSERVED_CSV = Path(__file__).resolve().parent.parent / "data" / "observed_2025.csv"


@cache
def _rows() -> tuple[dict[str, str], ...]:
    if not OBSERVED_CSV.is_file():
        return ()
    with OBSERVED_CSV.open() as fh:
        return tuple(csv.DictReader(fh))


def observation(metric: str, date: str) -> float:
    """The observed value of ``metric`` on ``date`` (ISO); `KeyError` if the file has none."""
    for row in _rows():
        if row["metric"] == metric and row["date"] == date:
            return float(row["value"])
    raise KeyError(f"{metric} on {date} is not in {OBSERVED_CSV.name}")


def observed_points(metric: str, first: dt.date, last: dt.date) -> list[tuple[dt.date, float]]:
    """Observed values of ``metric`` dated from ``first`` to ``last`` (empty if the data file is missing)."""
    points = [(dt.date.fromisoformat(r["date"]), float(r["value"])) for r in _rows() if r["metric"] == metric]
    return [(d, v) for d, v in points if first <= d <= last]
