"""Writing results: timeseries.csv, quantiles.csv (and .parquet), retention_by_cohort.csv, summary.json,
plots/*.png, scenario.resolved.yaml and report.html.

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
import numpy as np
import yaml  # noqa: E402
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim import __version__  # noqa: E402
from sim.cohorts import CohortBands, bands  # noqa: E402
from sim.ensemble import RunResult, band, dates, series_band, summarize  # noqa: E402
from sim.events import build_platform_schedule, build_us_schedule
from sim.model import REPORTERS  # noqa: E402
from sim.observations import similarweb_dau_points  # noqa: E402
from sim.params import PARAMETER_SET_VERSION, Scenario  # noqa: E402
from sim.results import format_value, headlines, outputs  # noqa: E402
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
    summary["caveats"] = caveats(scenario, len(results))
    write_timeseries(folder / "timeseries.csv", scenario, results)
    write_quantiles(folder, scenario, results)
    write_retention_by_cohort(folder / "retention_by_cohort.csv", scenario, results)
    write_resolved(folder / "scenario.resolved.yaml", scenario, extra)
    plot_all(folder / "plots", scenario, results)
    (folder / "summary.json").write_text(json_text(summary))
    from sim.report import run_report

    (folder / "report.html").write_text(run_report(folder, scenario, results, summary, extra))
    return summary


# --------------------------------------------------------------------------------------------------
# Caveats: said on the command line, in summary.json and in the report (and importable by the view)
# --------------------------------------------------------------------------------------------------
FEW_RUNS = 10
"""Below this many runs the 10-90 % bands are rough (they settle from about 15, the default)."""
TESTED_MIN_AGENTS = 20_000
"""The smallest size at which the historical scenario's headline outputs are tested to agree with a
1 000 000-agent run (tests/test_attention.py); below it nothing says they do."""


def caveats(scenario: Scenario, runs: int) -> list[str]:
    """What a reader must know before trusting the numbers: too few runs for a band, a size below the one
    from which results are tested not to depend on it. One sentence each."""
    out = []
    if runs == 1:
        out.append("1 run: no band of run-to-run variation; use --runs 10 or more before reading differences")
    elif runs < FEW_RUNS:
        out.append(
            f"{runs} runs: the 10-90 % bands are rough below {FEW_RUNS} runs (they settle from about 15, the default); "
            "treat them as indicative"
        )
    if scenario.agents < TESTED_MIN_AGENTS:
        out.append(
            f"{scenario.agents:,} agents: fewer than the {TESTED_MIN_AGENTS:,} from which results are tested not to "
            "depend on the agent count; below it a migrant cohort is a handful of agents"
        )
    return out


# --------------------------------------------------------------------------------------------------
# The scenario's own events, for markers on every time axis
# --------------------------------------------------------------------------------------------------
_EVENT_WORDS = {
    "tiktok_goes_dark": "TikTok dark",
    "tiktok_service_restored": "TikTok back",
    "tiktok_removed_from_app_stores": "out of app stores",
    "tiktok_back_in_app_stores": "back in app stores",
    "enforcement_paused": "ban enforcement paused",
    "rednote_goes_dark": "RedNote blocked",
    "rednote_service_restored": "RedNote back",
    "rednote_removed_from_app_stores": "RedNote out of app stores",
    "rednote_back_in_app_stores": "RedNote back in app stores",
}


def events(scenario: Scenario) -> list[tuple[dt.date, str]]:
    """The dated turning points of ``scenario`` inside its horizon, one entry per day (labels joined):
    the ban, TikTok back, the app-store removal and return, the enforcement pauses and RedNote's own
    availability (from `build_us_schedule`'s headlines), translation and real-name checks (from the platform
    schedule). News pulses are left out (they are many, and drawn as the salience)."""
    us, platform = build_us_schedule(scenario), build_platform_schedule(scenario)
    found: dict[int, list[str]] = {}
    for day, names in enumerate(us.headlines):
        for name in names:
            for key, word in _EVENT_WORDS.items():
                if name.startswith(key):
                    found.setdefault(day, []).append(word + (" for good" if name.endswith("(for good)") else ""))
    for series, word in (
        (platform.grey_translation_quality, "translation test"),
        (platform.translation_quality, "translation for all"),
    ):
        on = np.flatnonzero(series > 0)
        if on.size and on[0] > 0:
            found.setdefault(int(on[0]), []).append(word)
    verify = np.flatnonzero(platform.verify_new_accounts)
    if verify.size and verify[0] > 0:
        found.setdefault(int(verify[0]), []).append("real-name checks")
    return [(scenario.date_of(d), ", ".join(dict.fromkeys(words))) for d, words in sorted(found.items())]


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


def plain(value: float) -> str:
    """A number for a CSV cell: ten significant digits, never scientific notation or ``-0`` (values below
    1e-9 are rounding noise and written as 0)."""
    v = float(value)
    if not math.isfinite(v):
        return ""
    if abs(v) < 1e-9:
        return "0"
    return np.format_float_positional(v, precision=10, unique=True, fractional=False, trim="-")


def write_timeseries(path: Path, scenario: Scenario, results: list[RunResult]) -> None:
    day_dates = [d.isoformat() for d in dates(scenario)]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(TIMESERIES_COLUMNS)
        for result in results:
            columns = [result.series[k] for k in REPORTERS]
            for day in range(scenario.days):
                writer.writerow([result.run, day, day_dates[day], *(plain(c[day]) for c in columns)])


def quantile_columns() -> tuple[str, ...]:
    return ("day", "date", *(f"{k}_{q}" for k in REPORTERS for q in ("p10", "median", "p90")))


def write_quantiles(folder: Path, scenario: Scenario, results: list[RunResult]) -> None:
    """quantiles.csv: one row per day, the 10th percentile, median and 90th percentile across runs of
    every series; quantiles.parquet too where pyarrow is installed."""
    bands = {k: series_band(results, k) for k in REPORTERS}
    day_dates = [d.isoformat() for d in dates(scenario)]
    rows = [
        [day, day_dates[day], *(plain(bands[k][i][day]) for k in REPORTERS for i in range(3))] for day in range(scenario.days)
    ]
    with (folder / "quantiles.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(quantile_columns())
        writer.writerows(rows)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    table = {"day": list(range(scenario.days)), "date": dates(scenario)}
    table.update({f"{k}_{q}": bands[k][i] for k in REPORTERS for i, q in enumerate(("p10", "median", "p90"))})
    pq.write_table(pa.table(table), folder / "quantiles.parquet")


RETENTION_BY_COHORT_COLUMNS = ("cohort_start", "cohort_end", "day_since_signup", "cohort_people", "observed_people",
                               "retention_median", "retention_p10", "retention_p90", "runs")  # fmt: skip


def cohort_bands(results: list[RunResult]) -> CohortBands | None:
    """Retention by weekly sign-up cohort across runs (None: the runs carry no cohorts, e.g. made by hand)."""
    cohorts = [r.cohorts for r in results if r.cohorts is not None]
    return bands(cohorts) if cohorts and len(cohorts) == len(results) else None


def write_retention_by_cohort(path: Path, scenario: Scenario, results: list[RunResult]) -> None:
    """retention_by_cohort.csv, long format: one row per (weekly sign-up cohort, day since sign-up) from day 0
    while the cohort's first day is inside the horizon. ``cohort_people``: its sign-ups (median of runs);
    ``observed_people``: those whose day d fell inside the horizon (fewer only near the end of the run);
    ``retention_*``: the share of the observed using RedNote that day, median and 10-90 % of the ``runs``
    in which anyone was observed (empty where none was)."""
    b = cohort_bands(results)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(RETENTION_BY_COHORT_COLUMNS)
        if b is None:
            return
        for k in range(b.first_day.size):
            first, last = scenario.date_of(int(b.first_day[k])), scenario.date_of(int(b.last_day[k]))
            for d in range(min(b.median.shape[1], scenario.days - int(b.first_day[k]))):
                writer.writerow([first.isoformat(), last.isoformat(), d, plain(b.signups[k]), plain(b.observed[k, d]),
                                 plain(b.median[k, d]), plain(b.p10[k, d]), plain(b.p90[k, d]), int(b.runs[k, d])])  # fmt: skip


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
DATE_FORMAT = "%d %b %Y"
"""Every time axis shows the year: the model runs any calendar, not only 2025."""


def _band_plot(
    ax: Axes,
    scenario: Scenario,
    results: list[RunResult],
    column: str,
    label: str,
    color: str,
    scale: float = 1e6,
    linestyle: str = "-",
) -> None:
    x = dates(scenario)
    p10, med, p90 = series_band(results, column)
    ax.plot(x, med / scale, color=color, linestyle=linestyle, label=label + (" (median)" if len(results) > 1 else ""))
    if len(results) > 1:
        ax.fill_between(x, p10 / scale, p90 / scale, color=color, alpha=0.2, linewidth=0)


def _distinct_styles(colors: list[str]) -> list[str]:
    """A line style per series: solid, but dashed or dotted for a colour close to an earlier one in the
    same panel (two purples must not look alike)."""
    styles, seen = [], []
    for c in colors:
        rgb = np.array(to_rgb(c))
        close = sum(1 for other in seen if np.abs(rgb - other).sum() < 0.45)
        styles.append(("-", "--", ":", "-.")[close % 4])
        seen.append(rgb)
    return styles


def date_axis(ax: Axes) -> None:
    """Dates with the year on the x axis."""
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter(DATE_FORMAT))
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")


def mark_events(ax: Axes, marks: list[tuple[dt.date, str]], *, numbers: bool = True) -> None:
    """A dotted vertical line at each event, numbered at the top (the key is `event_key`); events too close
    to read apart share one label ("1-4")."""
    if not marks:
        return
    for day, _ in marks:
        ax.axvline(day, color="0.35", linestyle=":", linewidth=0.9, zorder=1)
    if not numbers:
        return
    span = max(1, (marks[-1][0] - marks[0][0]).days, *(len(line.get_xdata()) for line in ax.lines[:1]))
    groups: list[list[int]] = []
    for k, (day, _) in enumerate(marks, start=1):
        if groups and (day - marks[groups[-1][-1] - 1][0]).days <= span / 45:
            groups[-1].append(k)
        else:
            groups.append([k])
    for g in groups:
        first, last = marks[g[0] - 1][0], marks[g[-1] - 1][0]
        middle = mdates.date2num(first) + (mdates.date2num(last) - mdates.date2num(first)) / 2
        ax.annotate(str(g[0]) if len(g) == 1 else f"{g[0]}-{g[-1]}", (middle, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=7, color="0.25")  # fmt: skip


def event_key(marks: list[tuple[dt.date, str]]) -> str:
    """``1 18 Jan 2025 TikTok dark; 2 ...``: the key to the numbered event markers."""
    return "   ".join(f"{k} {day.strftime('%d %b %Y')}: {what}" for k, (day, what) in enumerate(marks, start=1))


def _caption(fig: Figure, marks: list[tuple[dt.date, str]]) -> None:
    if marks:
        import textwrap

        text = "Events (dotted lines): " + event_key(marks)
        fig.text(0.01, 0.005, "\n".join(textwrap.wrap(text, 170)), fontsize=7, color="0.25", va="bottom", ha="left")


def _finish(ax: Axes, title: str, ylabel: str, scale: float = 1.0, unit: str = "people") -> None:
    ax.set_title(title, fontsize=10, pad=12)
    ax.set_ylabel(ylabel)
    date_axis(ax)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_value(v * scale, unit)))
    ax.grid(alpha=0.3)
    # Legend outside the axes: it never hides a line or a band.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)


def _figure(
    path: Path,
    scenario: Scenario,
    results: list[RunResult],
    panels: list[tuple[str, str, float, list[str]]],
) -> None:
    """One PNG with a panel per (title, y label, scale, series names); each series' label and colour come
    from its declaration (`sim.results.Output`). Every panel carries the scenario's event markers and
    dates with the year; the first panel of the DAU figure also gets the observed points."""
    declared = outputs()
    marks = events(scenario)
    fig, axes = subplots(len(panels), 1, figsize=(10, 3.4 * len(panels) + 0.6), sharex=True)
    for k, (ax, (title, ylabel, scale, columns)) in enumerate(zip(axes, panels)):
        styles = _distinct_styles([declared[c].color or f"C{i}" for i, c in enumerate(columns)])
        for i, column in enumerate(columns):
            color = declared[column].color or f"C{i}"
            _band_plot(ax, scenario, results, column, declared[column].legend, color, scale=scale, linestyle=styles[i])
        if k == 0 and columns[0] == "us_rednote_dau":
            obs, label = similarweb_dau_points(scenario)
            if obs:
                ax.scatter([d for d, _ in obs], [v / scale for _, v in obs], color="black", zorder=5, s=18, label=label)
        mark_events(ax, marks)
        _finish(ax, title, ylabel, scale, declared[columns[0]].unit)
    fig.tight_layout(rect=(0, 0.05 if marks else 0, 1, 1))
    _caption(fig, marks)
    fig.savefig(path, dpi=110)


def retention_band(results: list[RunResult]) -> list[tuple[str, int, dict]]:
    """(label, N, band across runs) of every Day-N retention headline, in order of N."""
    out = []
    for name, (h, _) in headlines().items():
        if name.startswith("retention_day"):
            out.append((h.label, int(name.removeprefix("retention_day")), band(r.metrics[name] for r in results)))
    return sorted(out, key=lambda t: t[1])


def plot_retention(path: Path, scenario: Scenario, results: list[RunResult]) -> None:
    """The headline: share of migrants still active N days after their own sign-up (pooled over the
    sign-up cohorts whose day N is inside the horizon), median and 10-90 % band across runs."""
    rows = [(label, n, b) for label, n, b in retention_band(results) if b["median"] is not None]
    fig, ax = subplots(figsize=(7, 4))
    if rows:
        x = [n for _, n, _ in rows]
        med = np.array([b["median"] for _, _, b in rows]) * 100
        lo = med - np.array([b["p10"] for _, _, b in rows]) * 100
        hi = np.array([b["p90"] for _, _, b in rows]) * 100 - med
        color = "#7b3294"
        ax.plot(x, med, color=color, marker="o", label="median of runs")
        if len(results) > 1:
            ax.errorbar(x, med, yerr=[lo, hi], fmt="none", ecolor=color, capsize=4, label="10-90 % of runs")
        for xi, m in zip(x, med):
            ax.annotate(f"{m:.1f}%", (xi, m), xytext=(6, 4), textcoords="offset points", fontsize=8)
        ax.set_xticks(x, [label for label, _, _ in rows])
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no cohort reaches Day 7 inside the horizon", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("% of migrants active on RedNote")
    ax.set_xlabel("days after their own sign-up")
    runs = f"{len(results)} run{'s' if len(results) > 1 else ''}"
    ax.set_title(f"{scenario.name}: retention of US migrants ({runs}, sign-ups {scenario.start_date.year})", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


COHORT_MIN_SHARE = 0.01
"""A weekly cohort is drawn when it holds at least this share of the run's sign-ups (smaller ones are a few
agents: noise); every cohort is in retention_by_cohort.csv."""
COHORT_MAX_LINES = 10  # at most this many (the largest), one colour each
COHORT_FEW_AGENTS = 30
"""A cohort of fewer agents per run (median) is drawn dashed: its shares move in steps of several points."""


def cohort_label(first: dt.date, last: dt.date) -> str:
    """``13-19 Jan 2025``, ``27 Jan-02 Feb 2025``, ``30 Dec 2024-05 Jan 2025`` (the year always shown)."""
    if first.year != last.year:
        return f"{first:%d %b %Y}\u2013{last:%d %b %Y}"
    if first.month != last.month:
        return f"{first:%d %b}\u2013{last:%d %b %Y}"
    return f"{first:%d}\u2013{last:%d %b %Y}" if first != last else f"{first:%d %b %Y}"


def _store_note(first: int, last: int, out_of_store: np.ndarray) -> str:
    """Whether TikTok was out of the US app stores in the days a cohort signed up."""
    out = int(out_of_store[first : last + 1].sum())
    days = last - first + 1
    if out == 0:
        return ""
    return "; TikTok out of app stores" + ("" if out == days else f" {out} of {days} days")


def drawn_cohorts(b: CohortBands) -> list[int]:
    """The cohorts `plot_retention_by_cohort` draws: at least `COHORT_MIN_SHARE` of the sign-ups, the
    `COHORT_MAX_LINES` largest, in date order."""
    total = float(b.signups.sum())
    big = [k for k in range(b.signups.size) if total > 0 and b.signups[k] >= COHORT_MIN_SHARE * total]
    return sorted(sorted(big, key=lambda k: -b.signups[k])[:COHORT_MAX_LINES])


def plot_retention_by_cohort(path: Path, scenario: Scenario, results: list[RunResult]) -> None:
    """Share of each weekly sign-up cohort using RedNote d days after sign-up, one line per cohort (median
    across runs), from day 1 (day 0, the sign-up day, is close to 100 % by definition)."""
    b = cohort_bands(results)
    fig, ax = subplots(figsize=(10, 4.8))
    runs = f"{len(results)} run{'s' if len(results) > 1 else ''}"
    ax.set_title(f"{scenario.name}: retention by week of sign-up (median of {runs})", fontsize=10, pad=14)
    drawn = drawn_cohorts(b) if b is not None else []
    if drawn and b.median.shape[1] > 1:
        out_of_store = ~build_us_schedule(scenario).in_store.astype(bool)
        days = np.arange(1, b.median.shape[1])
        colours = [f"C{i}" for i in range(len(drawn))]
        for k, colour in zip(drawn, colours):
            first, last = int(b.first_day[k]), int(b.last_day[k])
            label = (f"{cohort_label(scenario.date_of(first), scenario.date_of(last))}: "
                     f"{format_value(b.signups[k], 'people')} people{_store_note(first, last, out_of_store)}")  # fmt: skip
            few = b.agents[k] < COHORT_FEW_AGENTS
            ax.plot(days, b.median[k, 1:], color=colour, linewidth=1.0 if few else 1.6, linestyle="--" if few else "-",
                    label=label)  # fmt: skip
        for n in (7, 30, 90):
            if n < b.median.shape[1]:
                ax.axvline(n, color="0.35", linestyle=":", linewidth=0.9, zorder=1)
                ax.annotate(f"Day {n}", (n, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom", fontsize=7, color="0.25")  # fmt: skip
        ax.set_xlim(1, days[-1])
        top = np.nanmax(b.median[drawn, 1:]) if np.isfinite(b.median[drawn, 1:]).any() else 0.0
        ax.set_ylim(0, max(1.1 * top, 0.01))
        ax.legend(title="signed up (people, median of runs)", title_fontsize=7, fontsize=7, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)  # fmt: skip
        notes = []
        if any(b.agents[k] < COHORT_FEW_AGENTS for k in drawn):
            notes.append(f"Dashed: fewer than {COHORT_FEW_AGENTS} agents a run (noisy).")
        left_out = [k for k in range(b.signups.size) if k not in drawn and b.signups[k] > 0]
        if left_out:
            share = b.signups[left_out].sum() / b.signups.sum()
            notes.append(
                f"Not drawn: {len(left_out)} smaller weekly cohorts ({format_value(share, 'share')} of sign-ups together)."
            )
        notes.append("Every cohort, with its 10-90 % band across runs, is in retention_by_cohort.csv.")
        fig.text(0.01, 0.01, " ".join(notes), fontsize=7, color="0.25", va="bottom", ha="left")
    else:
        ax.text(0.5, 0.5, "no sign-ups in this run, or a horizon of one day", ha="center", va="center", transform=ax.transAxes)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_value(v, "share")))
    ax.set_ylabel("share of the cohort using RedNote")
    ax.set_xlabel("days after their own sign-up (weeks are ISO weeks, Monday to Sunday)")
    ax.grid(alpha=0.3)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=110)


def plot_all(folder: Path, scenario: Scenario, results: list[RunResult]) -> None:
    runs = f"{len(results)} run{'s' if len(results) > 1 else ''}, seed {scenario.seed}"
    _figure(folder / "us_rednote.png", scenario, results, [
        (f"{scenario.name}: US users active on RedNote ({runs})", "people", 1e6, ["us_rednote_dau"]),
        ("Daily sign-ups and returns", "people per day", 1e6, ["us_rednote_signups", "us_rednote_reactivations"]),
    ])  # fmt: skip
    _figure(folder / "platform_mix.png", scenario, results, [
        ("US users active on TikTok / other app", "people", 1e6, ["us_mix_tiktok_only", "us_other_dau"]),
        ("US users on RedNote", "people", 1e6, [
            "us_mix_both", "us_mix_rednote_only", "us_rednote_dormant", "accounts_banned", "accounts_blocked_unverified",
        ]),
    ])  # fmt: skip
    _figure(folder / "moderation.png", scenario, results, [
        ("Moderation per day", "posts", 1e3, ["posts_held", "posts_removed", "complaints", "review_backlog"]),
        ("US accounts banned (cumulative)", "people", 1e3, ["accounts_banned", "wrongful_bans"]),
    ])  # fmt: skip
    plot_retention(folder / "retention.png", scenario, results)
    plot_retention_by_cohort(folder / "retention_by_cohort.png", scenario, results)
