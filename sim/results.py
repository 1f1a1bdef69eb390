"""What the model reports, declared once by the component that computes it.

Each component lists its daily series as `Output` declarations (name, meaning, unit, which population
weight turns agents into real people or posts, plot label and colour) and the headline numbers of a run
derived from them as `Headline` declarations (peak, total or final value of a series, or a run-level
number the component computes itself, such as retention). Everything else is derived from these
declarations: the DataCollector's reporters and the columns of ``timeseries.csv`` (`reporters`), the
headline metrics of ``summary.json`` (`headlines`), the columns of ``compare``, the objectives of
``optimize``, the labels and colours of every plot, and the number formats. Adding an output is one edit:
a declaration beside the code that computes it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

Weight = Literal["us", "cn", "real"]
"""How an agent-level value becomes a real one: times the US or Chinese agent weight (people per agent),
or already real (shares, levels, capacities)."""


@dataclass(frozen=True)
class Headline:
    """One number per run: ``how`` = peak, total or final value of the series it is declared on, or
    "run" for a number its component computes at the end (`Component.run_metrics`)."""

    name: str
    how: Literal["peak", "total", "final", "run"]
    meaning: str
    label: str  # short, for tables
    summary: bool = False  # printed by `run.py SCENARIO` after a run
    compare: bool = False  # a column of `run.py compare`
    objective: Literal["maximize", "minimize"] | None = None  # an objective of `run.py optimize`


@dataclass(frozen=True)
class Output:
    """One daily series (a column of timeseries.csv), in real units after weighting."""

    name: str
    meaning: str
    unit: str  # of the real value: people, posts, ties, views, reactions, reviews, share, index
    weight: Weight = "real"
    label: str = ""  # short, for plot legends (default: the meaning)
    color: str | None = None  # one colour per series, in every plot
    headlines: tuple[Headline, ...] = ()
    sum_of: tuple[str, ...] = ()  # a derived series: the sum of these outputs (already weighted)

    @property
    def legend(self) -> str:
        return self.label or self.meaning


def run_headlines(*items: Headline) -> tuple[Headline, ...]:
    """Run-level headline numbers of a component (no series of their own)."""
    assert all(h.how == "run" for h in items)
    return items


# --------------------------------------------------------------------------------------------------
# The catalogue: every component's declarations, in the model's column order
# --------------------------------------------------------------------------------------------------
def _components() -> tuple[type, ...]:
    from sim.cn_users import CnUsers
    from sim.events import Calendar
    from sim.network import CrossTies
    from sim.regulator import Regulator
    from sim.us_users import UsUsers

    return (UsUsers, CnUsers, CrossTies, Regulator, Calendar)


_CACHE: dict[str, dict] = {}


def outputs() -> dict[str, Output]:
    """Every daily series by name, in column order (component by component)."""
    if "outputs" not in _CACHE:
        declared = [o for component in _components() for o in component.OUTPUTS]
        _CACHE["outputs"] = {o.name: o for o in declared}
        assert len(_CACHE["outputs"]) == len(declared), "an output is declared twice"
    return _CACHE["outputs"]


def headlines() -> dict[str, tuple[Headline, Output | None]]:
    """Every headline metric by name, with the series it is computed from (None: run-level), component by
    component: a component's series headlines, then its run-level ones."""
    if "headlines" not in _CACHE:
        out: dict[str, tuple[Headline, Output | None]] = {}
        for component in _components():
            out.update({h.name: (h, o) for o in component.OUTPUTS for h in o.headlines})
            out.update({h.name: (h, None) for h in getattr(component, "RUN_HEADLINES", ())})
        _CACHE["headlines"] = out
    return _CACHE["headlines"]


def headline_unit(name: str) -> str:
    """Unit of a headline metric: its series' unit, or "share" for run-level ratios (retention)."""
    _, series = headlines()[name]
    return "share" if series is None else series.unit


def summary_metrics() -> dict[str, Headline]:
    """The lines of the summary `run.py SCENARIO` prints."""
    return {name: h for name, (h, _) in headlines().items() if h.summary}


def compare_metrics() -> dict[str, Headline]:
    """The columns of `run.py compare`."""
    return {name: h for name, (h, _) in headlines().items() if h.compare}


def objectives() -> dict[str, Headline]:
    """The objectives of `run.py optimize` (each with its direction)."""
    return {name: h for name, (h, _) in headlines().items() if h.objective}


def aggregate(how: str, values: np.ndarray) -> float:
    if how == "peak":
        return float(values.max())
    if how == "total":
        return float(values.sum())
    if how == "final":
        return float(values[-1])
    raise ValueError(f"unknown aggregation {how!r}")


def headline_metrics(series: dict[str, np.ndarray], run_level: dict[str, float]) -> dict[str, float]:
    """Every headline metric of one run, from its daily series and its components' run-level numbers."""
    return {
        name: float(run_level[name]) if source is None else aggregate(h.how, series[source.name])
        for name, (h, source) in headlines().items()
    }


# --------------------------------------------------------------------------------------------------
# Numbers for people: one format per unit
# --------------------------------------------------------------------------------------------------
def format_value(value: float | None, unit: str, *, signed: bool = False) -> str:
    """A number as a reader wants it: shares in % (differences in points), counts with k/M suffixes and
    three significant figures, never ``-0.0`` or scientific notation."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "+" if signed else ""
    if unit == "share":
        v = 100 * value
        v = 0.0 if abs(v) < 0.05 else v
        return f"{v:{sign}.1f} pt" if signed else f"{v:.1f}%"
    if unit == "index":
        return f"{value:{sign}.3g}"
    a = abs(value)
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= scale:
            v = value / scale
            return f"{v:{sign}.{_decimals(v)}f}{suffix}"
    v = 0.0 if a < 0.5 else value
    return f"{v:{sign}.0f}"


def _decimals(v: float) -> int:
    """Decimals for three significant figures of a number already scaled to [1, 1000)."""
    a = abs(v)
    return 2 if a < 10 else 1 if a < 100 else 0


def format_band(band: dict | None, unit: str, *, signed: bool = False) -> str:
    """``median [p10, p90]`` of a band dict (``-`` when there is no band)."""
    if band is None:
        return "-"
    if band.get("median") is None:
        return "n/a"
    f = lambda v: format_value(v, unit, signed=signed)  # noqa: E731
    return f"{f(band['median'])} [{f(band['p10'])}, {f(band['p90'])}]"


def format_effect(effect: dict | None, unit: str) -> str:
    """A paired difference: ``median [p10, p90]``, signed, and the probability of the median's sign (``p_sign``)."""
    sign = effect.get("p_sign") if effect else None
    return format_band(effect, unit, signed=True) + ("" if sign is None else f", P(sign) {sign:.2f}")


def weighted(values: dict[str, float], weights: dict[str, float], declared: Iterable[Output]) -> dict[str, float]:
    """Real values of a component's agent-level measurements, by each output's declared weight."""
    out = {}
    for o in declared:
        if not o.sum_of:
            out[o.name] = float(values[o.name]) * weights[o.weight]
    for o in declared:
        if o.sum_of:
            out[o.name] = sum(out[k] for k in o.sum_of)
    return out
