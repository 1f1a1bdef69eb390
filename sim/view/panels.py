"""What the browser view draws, as plain matplotlib figures and text (no Solara here, so each panel can be
tested and reused in a notebook). Every chart spans the whole horizon, so the lines grow as the model steps.
"""

from __future__ import annotations

import datetime as dt
import math

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from sim.model import MigrationModel
from sim.observations import similarweb_dau_points
from sim.output import subplots
from sim.results import outputs
from sim.us_users import ACTIVE, BANNED, BLOCKED, DORMANT
from sim.view.levers import describe

PANEL_SIZE = (6.0, 3.4)  # inches; at 80 dpi a panel is ~480 x 270 pixels
DPI = 80

US_COLOURS = {"no RedNote account": "#c8c8c8", "active on RedNote": "#d62728", "dormant account": "#ff9f40",
              "banned or blocked": "#222222"}  # fmt: skip
CN_COLOURS = {"has not noticed": "#c6dbef", "noticed, welcoming": "#2ca02c", "noticed, wary": "#7b3fa0"}


def series(model: MigrationModel, column: str) -> np.ndarray:
    """The reporter's values for the days run so far."""
    return np.asarray(model.datacollector.model_vars.get(column, []), dtype=np.float64)


def days_so_far(model: MigrationModel) -> list[dt.date]:
    return [model.config.date_of(d) for d in range(model.day)]


def _axes(title: str, ylabel: str, model: MigrationModel) -> tuple[Figure, Axes]:
    """A panel whose time axis spans the whole horizon."""
    fig, ax = subplots(figsize=PANEL_SIZE)
    ax.set_xlim(model.config.start_date, model.config.end_date)
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(ylabel, fontsize=8)
    return fig, ax


def _lines(ax: Axes, model: MigrationModel, columns: list[str], scale: float, style: str = "-") -> None:
    """The series so far, each with its declared label and colour (`sim.results.Output`)."""
    x = days_so_far(model)
    declared = outputs()
    for column in columns:
        o = declared[column]
        ax.plot(x, series(model, column) / scale, color=o.color, label=o.legend, linewidth=1.4, linestyle=style)


def _finish(fig: Figure, ax: Axes, **legend) -> Figure:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc=legend.pop("loc", "upper right"), **legend)
    return _margins(fig)


def us_rednote_figure(model: MigrationModel) -> Figure:
    """US users active on RedNote and daily sign-ups; the observed 2025 points (Similarweb) in black."""
    fig, ax = _axes("US users on RedNote", "million people", model)
    _lines(ax, model, ["us_rednote_dau", "us_rednote_signups"], 1e6)
    observed, label = similarweb_dau_points(model.config)
    if observed:
        ax.scatter([d for d, _ in observed], [v / 1e6 for _, v in observed], color="black", s=16, zorder=5, label=label)
    ax.set_ylim(bottom=0)
    return _finish(fig, ax)


def platform_mix_figure(model: MigrationModel) -> Figure:
    """Where US users are: TikTok only, both, RedNote only, dormant RedNote accounts, banned or blocked."""
    fig, ax = _axes("US users by platform", "million people", model)
    _lines(ax, model, ["us_mix_tiktok_only", "us_mix_both", "us_mix_rednote_only", "us_rednote_dormant"], 1e6)
    x = days_so_far(model)
    ax.plot(x, (series(model, "accounts_banned") + series(model, "accounts_blocked_unverified")) / 1e6,
            color=outputs()["accounts_banned"].color, label="banned or blocked on RedNote", linewidth=1.4)  # fmt: skip
    ax.set_yscale("symlog", linthresh=1.0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_ylim(0, max(200.0, ax.get_ylim()[1]))
    return _finish(fig, ax, loc="center right")


def moderation_figure(model: MigrationModel) -> Figure:
    """Reviews, removals and backlog per day (left); US accounts banned so far (right axis)."""
    fig, ax = _axes("Moderation of US posts", "thousand posts per day", model)
    _lines(ax, model, ["reviews", "posts_removed", "review_backlog"], 1e3)
    ax.set_ylim(bottom=0)
    return _with_right_axis(fig, ax, model, ["accounts_banned"], 1e3, "thousand accounts banned (dashed)", loc="upper right")


def hosts_figure(model: MigrationModel) -> Figure:
    """Chinese hosts: shares aware and welcoming (left, %); cross-cultural ties and complaints (right)."""
    fig, ax = _axes("Chinese hosts", "% of Chinese users", model)
    _lines(ax, model, ["cn_aware_share", "cn_welcoming_share"], 0.01)
    ax.set_ylim(0, 100)
    return _with_right_axis(fig, ax, model, ["cross_cultural_ties", "complaints"], 1e6, "million (dashed)", loc="center right")


def _with_right_axis(
    fig: Figure, ax: Axes, model: MigrationModel, columns: list[str], scale: float, ylabel: str, loc: str
) -> Figure:
    """Plot the series dashed on a second y axis; one legend for both axes."""
    right = ax.twinx()
    _lines(right, model, columns, scale, style="--")
    right.set_ylabel(ylabel, fontsize=8)
    right.tick_params(labelsize=8)
    right.set_ylim(bottom=0)
    ax.legend(handles=ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0], fontsize=7, loc=loc)
    return _margins(fig)


def network_figure(model) -> Figure:
    """The fixed sample (`ViewModel.sample`): US users (circles, left) and Chinese users (squares, right)
    coloured by state; grey lines are follows, green lines are Chinese users following sampled US users."""
    s = model.sample
    fig, ax = subplots(figsize=(PANEL_SIZE[0], PANEL_SIZE[1] + 0.6))
    for xy, edges in ((s.us_xy, s.us_edges), (s.cn_xy, s.cn_edges)):
        if edges.size:
            segments = np.stack((xy[edges[:, 0]], xy[edges[:, 1]]), axis=1)
            ax.add_collection(_segments(segments, "#bbbbbb", 0.4, 0.5))
    start, end = s.cross_ties(model)
    if start.size:
        ax.add_collection(_segments(np.stack((start, end), axis=1), "#2ca02c", 0.8, 0.55))
        ax.scatter(end[:, 0], end[:, 1], s=6, facecolors="none", edgecolors="#2ca02c", linewidths=0.5, zorder=2)
    us_state = _us_labels(model.us.state[s.us])
    for label, colour in US_COLOURS.items():
        pts = s.us_xy[us_state == label]
        ax.scatter(pts[:, 0], pts[:, 1], s=14, color=colour, edgecolors="white", linewidths=0.3, zorder=3)
    cn_state = _cn_labels(model.cn.aware_day[s.cn] >= 0, model.cn.attitude[s.cn] > 0)
    for label, colour in CN_COLOURS.items():
        pts = s.cn_xy[cn_state == label]
        ax.scatter(pts[:, 0], pts[:, 1], s=14, marker="s", color=colour, edgecolors="white", linewidths=0.3, zorder=3)
    ax.text(0.5, 1.02, f"{s.us.size} US users", ha="center", fontsize=9)
    ax.text(s.cn_xy[:, 0].mean() if s.cn.size else 1.85, 1.02, f"{s.cn.size} Chinese users", ha="center", fontsize=9)
    ax.set_xlim(-0.02, 2.37)
    ax.set_ylim(-0.02, 1.1)
    ax.set_axis_off()
    ax.set_title(f"A fixed sample of users on {model.config.date_of(max(model.day - 1, 0)):%d %b}: "
                 f"{start.shape[0]} Chinese follows of these US users", fontsize=10, loc="left")  # fmt: skip
    handles = [Line2D([], [], marker="o", linestyle="", color=c, label=f"US: {k}") for k, c in US_COLOURS.items()]
    handles += [Line2D([], [], marker="s", linestyle="", color=c, label=f"CN: {k}") for k, c in CN_COLOURS.items()]
    handles.append(Line2D([], [], color="#2ca02c", label="Chinese user follows US user"))
    fig.legend(handles=handles, fontsize=7, loc="lower center", ncol=3, frameon=False)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.2)
    return fig


def headline(model) -> list[str]:
    """Markdown lines: the day, the headline numbers so far, the levers in this run (or the input error)."""
    if getattr(model, "input_error", None):
        return [f"Input not used: {model.input_error}.", "Fix it and press Reset; until then nothing runs."]
    s = model.config
    if model.day == 0:
        lines = [f"**Before day 1** ({s.date_of(0):%a %d %b %Y}) of scenario **{s.name}**: press Step or ▶"]
    else:
        lines = [f"**Day {model.day} of {s.days}** ({s.date_of(model.day - 1):%a %d %b %Y}) of scenario **{s.name}**"]
    m = model.metrics
    if m:
        kept = ", ".join(f"day {d}: {'not yet' if math.isnan(v) else f'{100 * v:.0f}%'}" for d, v in model.us.retention().items())
        per_day = 1000 * sum(v for k, v in model.stage_seconds.items() if k != "build") / model.day
        lines += [
            "",
            f"- US users on RedNote today **{_people(m['us_rednote_dau'])}**; sign-ups so far **{_people(m['us_rednote_cumulative_signups'])}**",
            f"- Migrants still active N days after sign-up: {kept}",
            f"- Cross-cultural ties {_people(m['cross_cultural_ties'])}; US accounts banned {_people(m['accounts_banned'])}; "
            f"Chinese users welcoming {100 * m['cn_welcoming_share']:.0f}%",
            f"- Model time {per_day:.0f} ms per day at {s.agents:,} agents (drawing the charts takes longer)",
        ]
    return lines + ["", "**This run**", ""] + [f"- {line}" for line in describe(s)]


def _margins(fig: Figure) -> Figure:
    """Fixed margins (tight_layout would draw every panel twice: slower at each step)."""
    fig.subplots_adjust(left=0.1, right=0.88, top=0.9, bottom=0.1)
    return fig


def _people(value: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.{1 if unit == 'M' else 0}f} {unit}"
    return f"{value:.0f}"


def _us_labels(state: np.ndarray) -> np.ndarray:
    names = np.array(list(US_COLOURS))
    code = np.zeros(state.size, dtype=np.int64)
    code[state == ACTIVE] = 1
    code[state == DORMANT] = 2
    code[(state == BANNED) | (state == BLOCKED)] = 3
    return names[code]


def _cn_labels(aware: np.ndarray, welcoming: np.ndarray) -> np.ndarray:
    names = np.array(list(CN_COLOURS))
    return names[np.where(~aware, 0, np.where(welcoming, 1, 2))]


def _segments(segments: np.ndarray, colour: str, width: float, alpha: float) -> LineCollection:
    return LineCollection(segments, colors=colour, linewidths=width, alpha=alpha, zorder=1)
