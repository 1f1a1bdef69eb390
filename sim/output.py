"""Writing results: timeseries.csv, summary.json, plots/*.png, scenario.resolved.yaml.

The command line writes them into a staging folder (`sim.staging.Stage`) that is moved into place only
when complete, so an interrupted run never leaves a folder that looks finished and an earlier result in
the destination is replaced only at that last moment (recoverably).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates  # noqa: E402
import yaml  # noqa: E402
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim import __version__  # noqa: E402
from sim.ensemble import RunResult, dates, series_band, summarize  # noqa: E402
from sim.model import REPORTERS  # noqa: E402
from sim.observations import observed_points  # noqa: E402
from sim.params import PARAMETER_SET_VERSION, Scenario  # noqa: E402
from sim.results import outputs  # noqa: E402
from sim.scenario import scenario_to_dict  # noqa: E402


def subplots(*args, figsize: tuple[float, float] | None = None, **kwargs):
    """Like pyplot.subplots, on a standalone Figure: no pyplot state, no backend switch (so importing
    this package never changes a notebook's inline backend)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


TIMESERIES_COLUMNS = ("run", "day", "date", *REPORTERS)


def write_results(folder: Path, scenario: Scenario, results: list[RunResult], extra: dict[str, Any] | None = None) -> dict:
    """Write all outputs of an ensemble into ``folder`` (a staging folder of `sim.staging.Stage`, which
    swaps it into place once complete); returns the summary."""
    folder = Path(folder)
    (folder / "plots").mkdir(parents=True, exist_ok=True)
    summary = summarize(scenario, results)
    summary["version"] = __version__
    write_timeseries(folder / "timeseries.csv", scenario, results)
    write_resolved(folder / "scenario.resolved.yaml", scenario, extra)
    plot_all(folder / "plots", scenario, results)
    (folder / "summary.json").write_text(json_text(summary))
    return summary


def json_text(data: Any) -> str:
    """Strict JSON (NaN and infinities become null, as the definitions say), indented, one final newline."""

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(data), indent=2, allow_nan=False) + "\n"


def write_timeseries(path: Path, scenario: Scenario, results: list[RunResult]) -> None:
    day_dates = [d.isoformat() for d in dates(scenario)]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(TIMESERIES_COLUMNS)
        for result in results:
            columns = [result.series[k] for k in REPORTERS]
            for day in range(scenario.days):
                writer.writerow([result.run, day, day_dates[day], *(format(float(c[day]), ".10g") for c in columns)])


def write_resolved(path: Path, scenario: Scenario, extra: dict[str, Any] | None) -> None:
    header = {
        "# generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "# package_version": __version__,
        "# parameter_set": PARAMETER_SET_VERSION,
    }
    body = scenario_to_dict(scenario)
    lines = [f"{k}: {v}" for k, v in header.items()]
    if extra:
        lines += [f"# {k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False))


# --------------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------------
def _band_plot(
    ax: Axes, scenario: Scenario, results: list[RunResult], column: str, label: str, color: str, scale: float = 1e6
) -> None:
    x = dates(scenario)
    p10, med, p90 = series_band(results, column)
    ax.plot(x, med / scale, color=color, label=label + (" (median)" if len(results) > 1 else ""))
    if len(results) > 1:
        ax.fill_between(x, p10 / scale, p90 / scale, color=color, alpha=0.25, linewidth=0, label="10-90% of runs")


def _finish(ax: Axes, title: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")


def _figure(
    path: Path,
    scenario: Scenario,
    results: list[RunResult],
    panels: list[tuple[str, str, float, list[str]]],
    *,
    stacked: bool = False,
) -> None:
    """One PNG with a panel per (title, y label, scale, series names); each series' label and colour come
    from its declaration (`sim.results.Output`). The first panel of the DAU figure also gets the observed
    points."""
    declared = outputs()
    fig, axes = subplots(
        *((len(panels), 1) if stacked else (1, len(panels))), figsize=(9, 6.5) if stacked else (12, 4.5), sharex=stacked
    )
    for k, (ax, (title, ylabel, scale, columns)) in enumerate(zip(axes, panels)):
        for column in columns:
            _band_plot(ax, scenario, results, column, declared[column].legend, declared[column].color, scale=scale)
        if (
            k == 0
            and columns[0] == "us_rednote_dau"
            and (obs := observed_points("rednote_us_dau", scenario.start_date, scenario.end_date))
        ):
            ax.scatter(
                [d for d, _ in obs], [v / scale for _, v in obs], color="black", zorder=5, s=18, label="observed (Similarweb)"
            )
        _finish(ax, title, ylabel)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_all(folder: Path, scenario: Scenario, results: list[RunResult]) -> None:
    runs = f"{len(results)} run{'s' if len(results) > 1 else ''}, seed {scenario.seed}"
    _figure(folder / "us_rednote.png", scenario, results, [
        (f"{scenario.name}: US users active on RedNote ({runs})", "million people", 1e6, ["us_rednote_dau"]),
        ("Daily sign-ups and returns", "million people per day", 1e6, ["us_rednote_signups", "us_rednote_reactivations"]),
    ], stacked=True)  # fmt: skip
    _figure(folder / "platform_mix.png", scenario, results, [
        ("US users active on TikTok / other app", "million people", 1e6, ["us_mix_tiktok_only", "us_other_dau"]),
        ("US users on RedNote", "million people", 1e6, [
            "us_mix_both", "us_mix_rednote_only", "us_rednote_dormant", "accounts_banned", "accounts_blocked_unverified",
        ]),
    ])  # fmt: skip
    _figure(folder / "moderation.png", scenario, results, [
        ("Moderation per day", "thousand posts", 1e3, ["posts_held", "posts_removed", "complaints", "review_backlog"]),
        ("US accounts banned (cumulative)", "thousand people", 1e3, ["accounts_banned", "wrongful_bans"]),
    ])  # fmt: skip
