"""What the browser view draws, as plain matplotlib figures and text (no Solara here, so each panel can be
tested and reused in a notebook). Every chart spans the whole horizon, so the lines grow as the model steps.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
import zlib
from dataclasses import dataclass

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter
from PIL import Image

from sim.calibration import parameter_source
from sim.model import MigrationModel
from sim.observations import similarweb_dau_points
from sim.output import subplots
from sim.results import outputs
from sim.us_users import ACTIVE, BANNED, BLOCKED, DORMANT
from sim.view.levers import describe, lever_label

PANEL_SIZE = (6.0, 3.4)  # inches; at 80 dpi a panel is ~480 x 270 pixels
DPI = 80

US_COLOURS = {"no RedNote account": "#c8c8c8", "active on RedNote": "#d62728", "dormant account": "#ff9f40",
              "banned or blocked": "#222222"}  # fmt: skip
# a Chinese agent stands for many users: "noticed" when at least half of them have noticed the newcomers
CN_COLOURS = {"most have not noticed": "#c6dbef", "noticed, welcoming": "#2ca02c", "noticed, wary": "#7b3fa0"}


def series(model: MigrationModel, column: str) -> np.ndarray:
    """The reporter's values for the days run so far (a ``+`` joins columns that are summed)."""
    return sum(np.asarray(model.datacollector.model_vars.get(c, []), dtype=np.float64) for c in column.split("+"))


def days_so_far(model: MigrationModel) -> list[dt.date]:
    return [model.config.date_of(d) for d in range(model.day)]


def day_numbers(model: MigrationModel) -> np.ndarray:
    """Matplotlib date numbers of the days run so far (what the lines' x data hold)."""
    return mdates.date2num(model.config.start_date) + np.arange(model.day, dtype=np.float64)


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


@dataclass(frozen=True)
class Series:
    """A line of a chart: its label and colour are the output's declaration (`sim.results.Output`)."""

    column: str  # a reporter, or reporters joined by "+" (summed; drawn in the first one's colour)
    style: str = "-"
    right: bool = False  # on the right-hand axis
    label: str | None = None  # None: the declared legend (only a summed series names itself)

    @property
    def legend(self) -> str:
        return self.label or outputs()[self.column].legend

    @property
    def colour(self) -> str | None:
        return outputs()[self.column.split("+")[0]].color


@dataclass(frozen=True)
class TimeChart:
    """A chart of reporters over the whole horizon (left axis from 0; an optional right axis from 0)."""

    title: str
    ylabel: str
    scale: float
    lines: tuple[Series, ...]
    legend_loc: str = "upper right"
    right_ylabel: str = ""
    right_scale: float = 1.0
    left_top: float | None = None  # a fixed top of the left axis (None: grows with the data)
    symlog_min_top: float | None = None  # a symlog left axis (linthresh 1) reaching at least this
    similarweb: bool = False  # Similarweb's observed DAU as black points (`similarweb_dau_points`)


US_REDNOTE = TimeChart("US users on RedNote", "million people", 1e6, (
    Series("us_rednote_dau"),
    Series("us_rednote_signups"),
), similarweb=True)  # fmt: skip
PLATFORM_MIX = TimeChart("US users by platform", "million people", 1e6, (
    Series("us_mix_tiktok_only"),
    Series("us_mix_both"),
    Series("us_mix_rednote_only"),
    Series("us_rednote_dormant"),
    Series("accounts_banned+accounts_blocked_unverified", label="banned or blocked on RedNote"),
), legend_loc="center right", symlog_min_top=200.0)  # fmt: skip
MODERATION = TimeChart("Moderation of US posts", "thousand posts per day", 1e3, (
    Series("reviews"),
    Series("posts_removed"),
    Series("review_backlog"),
    Series("accounts_banned", "--", right=True),
), right_ylabel="thousand accounts banned (dashed)", right_scale=1e3)  # fmt: skip
HOSTS = TimeChart("Chinese hosts", "% of Chinese users", 0.01, (
    Series("cn_aware_share"),
    Series("cn_welcoming_share"),
    Series("cross_cultural_ties", "--", right=True),
    Series("complaints", "--", right=True),
), legend_loc="center right", right_ylabel="million (dashed)", right_scale=1e6, left_top=100.0)  # fmt: skip
BASELINE_ALPHA = 0.3  # the scenario without the user's levers: the same colours, faint
HEADROOM = 1.25  # a growing axis jumps to this multiple of its data (so it is redrawn rarely)


class LiveFigure:
    """A figure drawn in three layers, each over a cached picture of the layers below (blitting): what never
    changes (frame, x axis, titles, legend, the network's layout) once per model; what depends on the y
    scale (`scaled`: the y axes with their grid and labels, observed points) again only when an axis has to
    grow, with the `overlays` (the legend) pasted back over it from the first picture; the data artists
    every day. One instance per panel and browser tab."""

    def __init__(self) -> None:
        self.model = None
        self.fig: Figure | None = None
        self.static = None  # the picture without the scaled and the data artists
        self.overlay_pixels: list = []  # the overlays as drawn in `static`
        self.background = None  # the picture without the data artists
        self.animated: list = []
        self.scaled: list = []
        self.overlays: list = []  # opaque artists drawn over the scaled ones, which never change

    def png(self, model) -> bytes:
        if model is not self.model:
            self.model, self.fig, self.animated = model, *self.build(model, animated=True)
            FigureCanvasAgg(self.fig)
            self.static = self.background = None
        rescaled = self.update(model)
        canvas = self.fig.canvas
        if self.static is None:
            hidden = self.animated + self.scaled
            for artist in hidden:
                artist.set_visible(False)
            canvas.draw()
            self.static = canvas.copy_from_bbox(self.fig.bbox)
            self.overlay_pixels = [canvas.copy_from_bbox(a.get_window_extent()) for a in self.overlays]
            for artist in hidden:
                artist.set_visible(True)
        if rescaled or self.background is None:
            canvas.restore_region(self.static)
            for artist in self.scaled:
                self.fig.draw_artist(artist)
            for pixels in self.overlay_pixels:
                canvas.restore_region(pixels)
            self.background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self.background)
        for artist in self.animated:
            self.fig.draw_artist(artist)
        return encode_png(self.fig)

    def figure(self, model) -> Figure:
        """A plain figure of ``model`` today (for tests and notebooks)."""
        fig, _ = self.build(model, animated=False)
        self.update(model)
        return fig

    def build(self, model, animated: bool) -> tuple[Figure, list]:
        """A new figure for ``model`` and its data artists; sets `scaled` (artists that move with the y scale)."""
        raise NotImplementedError

    def update(self, model) -> bool:
        """Set the data artists to ``model`` today; True if an axis had to grow (the scaled layer is redrawn)."""
        raise NotImplementedError


class LiveTimeChart(LiveFigure):
    def __init__(self, spec: TimeChart) -> None:
        super().__init__()
        self.spec = spec

    def build(self, model, animated: bool) -> tuple[Figure, list]:
        spec = self.spec
        fig, ax = _axes(spec.title, spec.ylabel, model)
        right = ax.twinx() if any(s.right for s in spec.lines) else None
        self.axes = {False: ax, True: right}
        self.runs, self.baselines, lines = [], [], []  # lines: in the order a full draw draws them
        baseline = getattr(model, "baseline", None)
        for s in spec.lines:
            target = self.axes[s.right]
            if baseline is not None:
                (faint,) = target.plot([], [], color=s.colour, linestyle=s.style, linewidth=1.0, alpha=BASELINE_ALPHA,
                                       animated=animated)  # fmt: skip
                self.baselines.append((s, faint))
                lines.append(faint)
            (line,) = target.plot([], [], color=s.colour, linestyle=s.style, linewidth=1.4, label=s.legend, animated=animated)
            self.runs.append((s, line))
            lines.append(line)
        points = []
        if spec.similarweb:
            observed, label = similarweb_dau_points(model.config)
            if observed:
                points.append(ax.scatter([d for d, _ in observed], [v / spec.scale for _, v in observed], color="black",
                                         s=16, zorder=5, label=label))  # fmt: skip
        if spec.symlog_min_top is not None:
            ax.set_yscale("symlog", linthresh=1.0)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        if right is not None:
            right.set_ylabel(spec.right_ylabel, fontsize=8)
            right.tick_params(labelsize=8)
        handles = [h for a in (ax, right) if a is not None for h in a.get_legend_handles_labels()[0]]
        if baseline is not None:
            handles.append(Line2D([], [], color="grey", alpha=0.5, linewidth=1.0, label="faint: without your levers"))
        # opaque, so that its cached pixels are the same whatever the grid behind it
        self.overlays = [ax.legend(handles=handles, fontsize=7, loc=spec.legend_loc, framealpha=1.0)]
        axes = [a for a in (ax, right) if a is not None]
        # in drawing order: the y axes (ticks, labels, grid), the frame over the grid's ends, observed points
        self.scaled = [a.yaxis for a in axes] + [spine for a in axes for spine in a.spines.values()] + points
        self.tops = {False: None, True: None}
        _margins(fig)
        return fig, lines

    def update(self, model) -> bool:
        spec, x = self.spec, day_numbers(model)
        peak = {False: 0.0, True: 0.0}
        for source, lines in ((getattr(model, "baseline", None), self.baselines), (model, self.runs)):
            if source is None:
                continue
            xs = day_numbers(source)
            for s, line in lines:
                y = series(source, s.column) / (spec.right_scale if s.right else spec.scale)
                line.set_data(xs if source is not model else x, y)
                if y.size:
                    peak[s.right] = max(peak[s.right], float(np.nanmax(y)))
        changed = False
        for side, ax in self.axes.items():
            if ax is None:
                continue
            if side is False and spec.left_top is not None:
                top = spec.left_top
            elif side is False and spec.symlog_min_top is not None:
                top = max(spec.symlog_min_top, HEADROOM * peak[side])
            else:
                top = HEADROOM * peak[side] if peak[side] > 0 else 1.0
            if self.tops[side] is None or peak[side] > self.tops[side]:  # the first day, or the data outgrew it
                self.tops[side] = top
                ax.set_ylim(0, top)
                changed = True
        return changed


class LiveNetwork(LiveFigure):
    """The fixed sample (`ViewModel.sample`): US users (circles, left) and Chinese users (squares, right)
    coloured by state; grey lines are follows, green lines are Chinese users following sampled US users."""

    def build(self, model, animated: bool) -> tuple[Figure, list]:
        s = model.sample
        fig, ax = subplots(figsize=(PANEL_SIZE[0], PANEL_SIZE[1] + 0.6))
        for xy, edges in ((s.us_xy, s.us_edges), (s.cn_xy, s.cn_edges)):
            if edges.size:
                segments = np.stack((xy[edges[:, 0]], xy[edges[:, 1]]), axis=1)
                ax.add_collection(_segments(segments, "#bbbbbb", 0.4, 0.5))
        self.ties = ax.add_collection(_segments(np.zeros((0, 2, 2)), "#2ca02c", 0.8, 0.55))
        self.tie_ends = ax.scatter(np.zeros(0), np.zeros(0), s=6, facecolors="none", edgecolors="#2ca02c", linewidths=0.5,
                                   zorder=2)  # fmt: skip
        self.us_points = ax.scatter(s.us_xy[:, 0], s.us_xy[:, 1], s=14, edgecolors="white", linewidths=0.3, zorder=3)
        self.cn_points = ax.scatter(s.cn_xy[:, 0], s.cn_xy[:, 1], s=14, marker="s", edgecolors="white", linewidths=0.3,
                                    zorder=3)  # fmt: skip
        ax.text(0.5, 1.02, f"{s.us.size} US users", ha="center", fontsize=9)
        ax.text(s.cn_xy[:, 0].mean() if s.cn.size else 1.85, 1.02, f"{s.cn.size} Chinese users", ha="center", fontsize=9)
        ax.set_xlim(-0.02, 2.37)
        ax.set_ylim(-0.02, 1.1)
        ax.set_axis_off()
        self.title = ax.text(0.0, 1.04, "", transform=ax.transAxes, fontsize=10)
        handles = [Line2D([], [], marker="o", linestyle="", color=c, label=f"US: {k}") for k, c in US_COLOURS.items()]
        handles += [Line2D([], [], marker="s", linestyle="", color=c, label=f"CN: {k}") for k, c in CN_COLOURS.items()]
        handles.append(Line2D([], [], color="#2ca02c", label="Chinese user follows US user"))
        fig.legend(handles=handles, fontsize=7, loc="lower center", ncol=3, frameon=False)
        fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.2)
        artists = [self.ties, self.tie_ends, self.us_points, self.cn_points, self.title]
        for artist in artists:
            artist.set_animated(animated)
        return fig, artists

    def update(self, model) -> bool:
        s = model.sample
        start, end = s.cross_ties(model)
        self.ties.set_segments(np.stack((start, end), axis=1) if start.size else np.zeros((0, 2, 2)))
        self.tie_ends.set_offsets(end if end.size else np.zeros((0, 2)))
        self.us_points.set_facecolor(US_RGBA[_us_codes(model.us.state[s.us])])
        self.cn_points.set_facecolor(CN_RGBA[_cn_codes(model.cn.aware[s.cn] >= 0.5, model.cn.attitude[s.cn] > 0)])
        self.title.set_text(f"A fixed sample of users on {model.config.date_of(max(model.day - 1, 0)):%d %b}: "
                            f"{start.shape[0]} Chinese follows of these US users")  # fmt: skip
        return False


def live_panels() -> list[LiveFigure]:
    """One renderer per panel, in page order (a browser tab keeps its own)."""
    return [LiveTimeChart(US_REDNOTE), LiveTimeChart(PLATFORM_MIX), LiveTimeChart(MODERATION), LiveTimeChart(HOSTS),
            LiveNetwork()]  # fmt: skip


def us_rednote_figure(model: MigrationModel) -> Figure:
    """US users active on RedNote and daily sign-ups; the observed 2025 points (Similarweb) in black."""
    return LiveTimeChart(US_REDNOTE).figure(model)


def platform_mix_figure(model: MigrationModel) -> Figure:
    """Where US users are: TikTok only, both, RedNote only, dormant RedNote accounts, banned or blocked."""
    return LiveTimeChart(PLATFORM_MIX).figure(model)


def moderation_figure(model: MigrationModel) -> Figure:
    """Reviews, removals and backlog per day (left); US accounts banned so far (right axis)."""
    return LiveTimeChart(MODERATION).figure(model)


def hosts_figure(model: MigrationModel) -> Figure:
    """Chinese hosts: shares aware and welcoming (left, %); cross-cultural ties and complaints (right)."""
    return LiveTimeChart(HOSTS).figure(model)


def network_figure(model) -> Figure:
    """The fixed sample of users, coloured by state, with the Chinese follows of the sampled US users."""
    return LiveNetwork().figure(model)


def encode_png(fig: Figure) -> bytes:
    """The canvas as PNG, written for speed: these images go to a browser on this machine every day. RGB
    (the figures are opaque), no row filter, zlib level 1: half the time of Pillow's PNG (whose adaptive
    row filters took as long as drawing the panel) for files a few per cent larger."""
    width, height = fig.canvas.get_width_height()
    rgb = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    rows = np.empty((height, 1 + 3 * width), np.uint8)  # each row: filter type 0 (none), then its pixels
    rows[:, 0] = 0
    rows[:, 1:] = np.frombuffer(rgb.tobytes(), np.uint8).reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, deflate, no interlace
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 1)) + _chunk(b"IEND", b"")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def figure_png(figure: Figure) -> bytes:
    """A plain figure drawn in full, as PNG."""
    FigureCanvasAgg(figure).draw()
    return encode_png(figure)


def headline(model) -> list[str]:
    """Markdown lines: the day, the headline numbers so far, the levers in this run (or the input error)."""
    errors = getattr(model, "input_errors", [])
    if errors:
        fix = "Fix it and press Reset" if len(errors) == 1 else f"Fix these {len(errors)} and press Reset"
        return [f"Input not used: {message}." for message in errors] + [f"{fix}; until then nothing runs."]
    s = model.config
    changed = getattr(model, "levers_changed", {})
    name = f"**{s.name}**" + (f" with your levers ({', '.join(map(lever_label, changed))})" if changed else " as written")
    if model.day == 0:
        lines = [f"**Before day 1** ({s.date_of(0):%a %d %b %Y}) of scenario {name}: press Step or ▶"]
    else:
        lines = [f"**Day {model.day} of {s.days}** ({s.date_of(model.day - 1):%a %d %b %Y}) of scenario {name}"]
    if getattr(model, "baseline", None) is not None:
        lines.append("Faint lines: the same scenario without your levers (same agents and seed).")
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
    fitted = f"Fitted parameters: {parameter_source(s, model.run_index)}"
    return lines + ["", "**This run**", ""] + [f"- {line}" for line in [*describe(s), fitted]]


def _margins(fig: Figure) -> Figure:
    """Fixed margins (tight_layout would draw every panel twice: slower at each step)."""
    fig.subplots_adjust(left=0.1, right=0.88, top=0.9, bottom=0.1)
    return fig


def _people(value: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.{1 if unit == 'M' else 0}f} {unit}"
    return f"{value:.0f}"


def _us_codes(state: np.ndarray) -> np.ndarray:
    """Index into `US_COLOURS` of each US user's RedNote state."""
    code = np.zeros(state.size, dtype=np.int64)
    code[state == ACTIVE] = 1
    code[state == DORMANT] = 2
    code[(state == BANNED) | (state == BLOCKED)] = 3
    return code


def _cn_codes(aware: np.ndarray, welcoming: np.ndarray) -> np.ndarray:
    """Index into `CN_COLOURS` of each Chinese user's attention and attitude."""
    return np.where(~aware, 0, np.where(welcoming, 1, 2))


US_RGBA, CN_RGBA = to_rgba_array(list(US_COLOURS.values())), to_rgba_array(list(CN_COLOURS.values()))
"""The palettes as RGBA rows, indexed by code (no colour-name parsing per point and day)."""


def _segments(segments: np.ndarray, colour: str, width: float, alpha: float) -> LineCollection:
    return LineCollection(segments, colors=colour, linewidths=width, alpha=alpha, zorder=1)
