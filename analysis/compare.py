"""Compare scenarios with common random numbers: headline metrics with bands and paired differences.

Run r of every scenario uses the same seed and the same run index, so each mechanism draws the same
random numbers in every scenario; the difference run r of scenario k minus run r of the first scenario
is then mostly the policy's effect, not noise. Its median and 10-90 % band are reported.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter

from sim.ensemble import RunResult, band, dates, run_ensemble, series_band  # noqa: E402
from sim.executor import Executor, cpu_count  # noqa: E402
from sim.levers import POLICY, of_kind, read_levers  # noqa: E402
from sim.output import caveats, date_axis, event_key, events, mark_events, subplots  # noqa: E402
from sim.params import Scenario  # noqa: E402
from sim.results import compare_metrics, format_band, format_effect, format_value, headline_unit  # noqa: E402

COMPARE_METRICS = compare_metrics()  # metric: its declaration (`sim.results`)


def compare(
    scenarios: list[Scenario], runs: int, executor: Executor | int | None = None, on_run=None
) -> dict[str, list[RunResult]]:
    """Ensembles of every scenario with the same seeds (the first scenario's seed is used for all).
    ``executor``: an `Executor`, or a number of local processes (default: one per CPU)."""
    seed = scenarios[0].seed
    own = not isinstance(executor, Executor)
    ex = executor if isinstance(executor, Executor) else Executor(processes=executor or cpu_count())
    try:
        return {s.name: run_ensemble(s.model_copy(update={"seed": seed}), runs, ex, on_run=on_run) for s in scenarios}
    finally:
        if own:
            ex.close()


def paired_differences(results: dict[str, list[RunResult]], metric: str) -> dict[str, dict]:
    """Per scenario after the first: the band of run r minus run r of the first, and ``p_sign``, the share
    of runs whose difference has the sign of the median (with a posterior fit, over parameter draws too)."""
    names = list(results)
    base = [r.metrics[metric] for r in results[names[0]]]
    out = {}
    for name in names[1:]:
        diffs = [r.metrics[metric] - b for r, b in zip(results[name], base)]
        out[name] = band(diffs) | {"p_sign": probability_of_sign(diffs)}
    return out


def probability_of_sign(diffs: list[float]) -> float | None:
    """Share of the finite differences with the sign of their median (None if none is finite or the median
    is 0: an effect without a sign)."""
    arr = np.asarray(diffs, dtype=float)
    arr = arr[np.isfinite(arr)]
    median = float(np.median(arr)) if arr.size else 0.0
    if median == 0:
        return None
    return float(np.mean(arr > 0) if median > 0 else np.mean(arr < 0))


def table_rows(results: dict[str, list[RunResult]]) -> list[dict]:
    rows = []
    first = list(results)[0]
    diffs = {m: paired_differences(results, m) for m in COMPARE_METRICS}
    for name, runs in results.items():
        row: dict = {"scenario": name}
        for metric in COMPARE_METRICS:
            b = band(r.metrics[metric] for r in runs)
            row[metric] = b
            row[f"{metric}_diff"] = None if name == first else diffs[metric][name]
        rows.append(row)
    return rows


def lever_table(scenarios: list[Scenario]) -> list[str]:
    """Markdown table of every policy lever (rows) of each scenario (columns), read through the lever
    registry; a value that differs from the first scenario's is in bold, so readers see what differs."""
    values = [read_levers(s) for s in scenarios]
    lines = [
        "| lever | " + " | ".join(s.name for s in scenarios) + " |",
        "|---|" + "---|" * len(scenarios),
    ]
    for lever in of_kind(POLICY):
        cells = [lever.format(v[lever.name]) for v in values]
        shown = [
            c if k == 0 or v[lever.name] == values[0][lever.name] else f"**{c}**" for k, (c, v) in enumerate(zip(cells, values))
        ]
        lines.append(f"| {lever.label} | " + " | ".join(shown) + " |")
    return lines


def _fmt(b: dict | None, metric: str, signed: bool = False) -> str:
    return format_band(b, headline_unit(metric), signed=signed)


def write_comparison(
    out: Path, scenarios: list[Scenario], results: dict[str, list[RunResult]], title: str = "Scenario comparison"
) -> list[dict]:
    """comparison.md, comparison.csv, comparison.json, report.html and plots (levels over time, paired
    differences) in ``out`` (which must exist)."""
    rows = table_rows(results)
    first, runs = scenarios[0].name, len(next(iter(results.values())))
    notes = comparison_caveats(scenarios, runs)
    md = [
        f"# {title} ({runs} runs each, seed {scenarios[0].seed}, common random numbers)",
        "",
        *(f"**Caveat:** {c}." for c in notes),
        *([""] if notes else []),
        "Each cell: median [10 %, 90 %] across runs.",
        "",
        "| scenario | " + " | ".join(h.label for h in COMPARE_METRICS.values()) + " |",
        "|---|" + "---|" * len(COMPARE_METRICS),
    ]
    for row in rows:
        md.append(f"| {row['scenario']} | " + " | ".join(_fmt(row[m], m) for m in COMPARE_METRICS) + " |")
    md += [
        "",
        "## Levers",
        "",
        f"The policy levers each scenario sets (`sim.levers`; the ban levers describe its first outage and store "
        f"removal, later events are as in each file); **bold**: different from `{first}`.",
        "",
        *lever_table(scenarios),
        "",
        f"## Paired difference to `{first}`",
        "",
        f"Run r of each scenario minus run r of `{first}` (same random numbers, and the same posterior draw when the fit is "
        "a posterior): median [10 %, 90 %], and P(sign), the share of runs whose difference has the median's sign.",
        "",
        "| scenario | " + " | ".join(h.label for h in COMPARE_METRICS.values()) + " |",
        "|---|" + "---|" * len(COMPARE_METRICS),
    ]
    for row in rows[1:]:
        md.append(
            f"| {row['scenario']} | "
            + " | ".join(format_effect(row[f"{m}_diff"], headline_unit(m)) for m in COMPARE_METRICS)
            + " |"
        )
    md += ["", "![Paired differences](compare_diff.png)", "", "![US RedNote DAU and sign-ups](compare_dau.png)", ""]
    (out / "comparison.md").write_text("\n".join(md) + "\n")
    with (out / "comparison.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        header = ["scenario"]
        for m in COMPARE_METRICS:
            header += [
                f"{m}_median",
                f"{m}_p10",
                f"{m}_p90",
                f"{m}_diff_median",
                f"{m}_diff_p10",
                f"{m}_diff_p90",
                f"{m}_diff_p_sign",
            ]
        writer.writerow(header)
        for row in rows:
            line = [row["scenario"]]
            for m in COMPARE_METRICS:
                d = row[f"{m}_diff"] or {"median": "", "p10": "", "p90": "", "p_sign": ""}
                line += [row[m]["median"], row[m]["p10"], row[m]["p90"], d["median"], d["p10"], d["p90"], d["p_sign"]]
            writer.writerow(line)
    (out / "comparison.json").write_text(json.dumps(rows, indent=2) + "\n")
    _plot(out / "compare_dau.png", scenarios, results)
    plot_differences(out / "compare_diff.png", rows)
    from sim.report import comparison_report

    (out / "report.html").write_text(comparison_report(out, scenarios, results, rows, notes, lever_table(scenarios), title))
    return rows


def comparison_caveats(scenarios: list[Scenario], runs: int) -> list[str]:
    """The run-count and size caveats (`sim.output.caveats`) of a comparison, each said once."""
    return list(dict.fromkeys(c for s in scenarios for c in caveats(s, runs)))


def plot_differences(path: Path, rows: list[dict]) -> None:
    """One panel per compared metric: each scenario's paired difference to the first, median dot and
    10-90 % bar, in the metric's own unit, with the zero line."""
    others = rows[1:]
    fig, axes = subplots(len(COMPARE_METRICS), 1, figsize=(9, 1.0 + (0.45 * len(others) + 0.9) * len(COMPARE_METRICS)))
    names = [r["scenario"] for r in others]
    for ax, (metric, h) in zip(np.atleast_1d(axes), COMPARE_METRICS.items()):
        unit = headline_unit(metric)
        y = np.arange(len(others))[::-1]
        for yi, r in zip(y, others):
            d = r[f"{metric}_diff"]
            if d is None or d["median"] is None:
                continue
            color = "#1b7837" if d["p10"] > 0 else "#b2182b" if d["p90"] < 0 else "0.45"
            ax.plot([d["p10"], d["p90"]], [yi, yi], color=color, linewidth=3, alpha=0.6, solid_capstyle="butt")
            ax.plot([d["median"]], [yi], "o", color=color)
            ax.annotate(format_value(d["median"], unit, signed=True), (d["median"], yi), xytext=(0, 5),
                        textcoords="offset points", ha="center", fontsize=7)  # fmt: skip
        ax.axvline(0, color="0.3", linewidth=0.8)
        ax.set_yticks(y, names, fontsize=8)
        ax.set_ylim(-0.7, len(others) - 0.3)
        ax.set_title(f"{h.label}: difference to {rows[0]['scenario']}", fontsize=9, loc="left")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p, unit=unit: format_value(v, unit, signed=True)))
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _plot(path: Path, scenarios: list[Scenario], results: dict[str, list[RunResult]]) -> None:
    """DAU and sign-ups of every scenario (median, 10-90 % band), and the paired daily DAU difference to
    the first scenario; dates with the year, the first scenario's events as dotted lines."""
    fig, axes = subplots(3, 1, figsize=(10, 10), sharex=True)
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    first = scenarios[0]
    for k, s in enumerate(scenarios):
        x = dates(s)
        color = colors[k % len(colors)]
        for ax, column in zip(axes, ("us_rednote_dau", "us_rednote_signups")):
            p10, med, p90 = series_band(results[s.name], column)
            ax.plot(x, med, color=color, label=s.name)
            ax.fill_between(x, p10, p90, color=color, alpha=0.2, linewidth=0)
        if k > 0 and s.days == first.days:
            diff = np.vstack([r.series["us_rednote_dau"] - b.series["us_rednote_dau"]
                              for r, b in zip(results[s.name], results[first.name])])  # fmt: skip
            p10, med, p90 = np.percentile(diff, [10, 50, 90], axis=0)
            axes[2].plot(x, med, color=color, label=f"{s.name} - {first.name}")
            axes[2].fill_between(x, p10, p90, color=color, alpha=0.2, linewidth=0)
    axes[0].set_title("US users active on RedNote (median, 10-90 % band)", fontsize=10, pad=12)
    axes[1].set_title("New US RedNote accounts per day", fontsize=10, pad=12)
    axes[2].set_title(f"Paired difference in US users on RedNote (run r minus run r of {first.name})", fontsize=10, pad=12)
    axes[2].axhline(0, color="0.3", linewidth=0.8)
    marks = events(first)
    for ax in axes:
        ax.set_ylabel("people")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_value(v, "people", signed=v < 0)))
        mark_events(ax, marks)
        date_axis(ax)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout(rect=(0, 0.04 if marks else 0, 1, 1))
    if marks:
        import textwrap

        text = f"Events of {first.name} (dotted lines): " + event_key(marks)
        fig.text(0.01, 0.005, "\n".join(textwrap.wrap(text, 170)), fontsize=7, color="0.25", va="bottom")
    fig.savefig(path, dpi=110)


def mean_metric(results: list[RunResult], metric: str) -> float:
    values = np.array([r.metrics[metric] for r in results], dtype=float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def effect(results: dict[str, list[RunResult]], base: str, other: str, metric: str) -> tuple[str, dict]:
    """How ``other`` changes ``metric`` relative to ``base``, judged on the paired differences (run r
    minus run r): "raises" or "lowers" only when the whole 10-90 % band of differences is on one side
    of zero, otherwise "does not measurably change". Returns the verb and the band."""
    diffs = [r.metrics[metric] - b.metrics[metric] for r, b in zip(results[other], results[base])]
    b = band(diffs)
    if b["median"] is None:
        return "does not measurably change", b
    if b["p10"] > 0:
        return "raises", b
    if b["p90"] < 0:
        return "lowers", b
    return "does not measurably change", b
