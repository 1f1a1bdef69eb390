"""The browser view: Mesa's SolaraViz with the scenario picker, the levers and six panels.

Served by ``python run.py view`` (see `sim.view.server`); ``MIGRATION_VIEW_SCENARIO`` names the scenario
selected at start. Each browser tab gets its own model. Lever changes take effect on Reset, as in every
Mesa view; Step advances one day (or "Render Interval" days).
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import warnings

import solara

with warnings.catch_warnings():  # solara's hook linter flags a hook in Mesa 3.3's own ComponentsView; harmless
    warnings.simplefilter("ignore", UserWarning)
    from mesa.visualization import SolaraViz
    from mesa.visualization.utils import update_counter

from sim.model import REPORTERS
from sim.scenario import ScenarioError
from sim.view import panels
from sim.view.levers import AS_SCENARIO, LEVERS, load_base, scenario_choices
from sim.view.model import RUN_LABEL, ViewModel
from sim.view.server import SCENARIO_ENV

PLAY_INTERVAL_MS = 1  # Mesa's pause between played days (its default, 100 ms, would cap Play near 6 days/s)
# Mesa's SolaraViz shows a tab bar ("Page 0") even for one page, and a "Use Threads" box; this view has one
# page, and drawing in another thread while the model steps would show half-updated days. Hidden:
HIDE_MESA_EXTRAS = """
.v-tabs { display: none !important; }
.v-navigation-drawer .v-input--checkbox { display: none !important; }
"""
TEXT_STYLE = "font-size: 13px; line-height: 1.35;"
TITLE = "TikTok refugees on RedNote, 2025: what-if view"
HOW_TO = (
    "Set levers at left (blank = the scenario's value), then **Reset**. **Step** runs a day, **▶** plays. "
    "Dates as YYYY-MM-DD; 'none', 'never' or 'forever' where a lever allows them."
)


def loadable_scenarios(extra: str | None = None) -> tuple[list[str], list[str]]:
    """Picker entries whose files load, and a one-line reason for each file that does not."""
    good, bad = [], []
    for choice in scenario_choices(extra):
        try:
            load_base(choice)
            good.append(choice)
        except ScenarioError as exc:
            bad.append(str(exc))
    return good, bad


def model_params(choices: list[str], selected: str) -> dict:
    """SolaraViz inputs: the scenario picker, then one input per lever (blank = the scenario's value)."""
    params: dict = {
        "scenario_file": {"type": "Select", "value": selected, "values": choices, "label": "Scenario"},
        "run": {"type": "InputText", "value": "", "label": RUN_LABEL},
    }
    for lever in LEVERS:
        if lever.choices:
            params[lever.name] = {"type": "Select", "value": AS_SCENARIO, "values": list(lever.choices), "label": lever.label}
        else:
            params[lever.name] = {"type": "InputText", "value": "", "label": lever.label}
    return params


def figure_panel(index: int):
    """A Solara component showing panel ``index`` of `panels.live_panels`; redrawn when the model or its day
    changes. Each browser tab keeps its own figures and only redraws their data (see `panels.LiveFigure`)."""

    @solara.component
    def Panel(model: ViewModel):
        update_counter.get()  # Mesa bumps this after each step and reset
        live = solara.use_memo(lambda: panels.live_panels()[index], [])
        png = solara.use_memo(lambda: live.png(model), dependencies=[id(model), model.day])
        return solara.Image(png, width="100%")

    Panel.__name__ = f"Panel{index}"
    return Panel


def markdown_html(lines: list[str]) -> str:
    """The headline's few Markdown forms (``**bold**``, ``- item``, blank lines) as HTML. Solara's Markdown
    component would ask for KaTeX from a CDN on every render, which does not exist offline."""
    out, items = [], []
    for line in lines + [""]:
        text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(line.removeprefix("- ")))
        if line.startswith("- "):
            items.append(f"<li>{text}</li>")
            continue
        if items:
            out.append(f"<ul style='margin:2px 0; padding-left:18px'>{''.join(items)}</ul>")
            items = []
        if line:
            out.append(f"<div>{text}</div>")
    return "".join(out)


def run_csv(model: ViewModel) -> str:
    """The days run so far, one row each: day, date and every reporter (the columns of timeseries.csv),
    then the same reporters of the scenario without the user's levers (``baseline_`` prefix) when shown."""
    days = range(1, model.day + 1)
    header = ["day", "date", *REPORTERS]
    columns = [list(days), [model.config.date_of(d - 1).isoformat() for d in days]]
    columns += [model.datacollector.model_vars[name] for name in REPORTERS]
    if model.baseline is not None:
        header += [f"baseline_{name}" for name in REPORTERS]
        columns += [model.baseline.datacollector.model_vars[name][: model.day] for name in REPORTERS]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*columns))
    return buffer.getvalue()


def headline_panel(skipped: list[str]):
    @solara.component
    def Headline(model: ViewModel):
        update_counter.get()
        style = {"padding": "4px 8px", "height": "100%", "overflow-y": "auto", "font-size": "13px", "line-height": "1.35"}
        with solara.Column(gap="2px", style=style) as column:
            solara.HTML(unsafe_innerHTML=markdown_html([HOW_TO]), style=TEXT_STYLE + " color: #555;")
            if model.input_errors:
                with solara.Error(classes=["input-error"]):
                    solara.HTML(unsafe_innerHTML=markdown_html(panels.headline(model)), style=TEXT_STYLE)
            else:
                solara.HTML(unsafe_innerHTML=markdown_html(panels.headline(model)), classes=["run-headline"], style=TEXT_STYLE)
                if model.day:
                    name = f"{model.config.name}_day{model.day}.csv"
                    solara.FileDownload(lambda: run_csv(model), filename=name, label="Download this run (CSV)")
            for reason in skipped:
                solara.Warning(f"Scenario file not offered: {reason}")
        return column

    return Headline


def components(skipped: list[str]) -> list:
    return [
        (headline_panel(skipped), 0),
        *((figure_panel(index), 0) for index in range(len(panels.live_panels()))),
    ]


def selected_scenario(choices: list[str]) -> str:
    """The scenario named by the server's --scenario (by path), else the historical one, else the first."""
    wanted = os.environ.get(SCENARIO_ENV)
    if wanted:
        for choice in choices:
            if choice == wanted or os.path.realpath(choice) == os.path.realpath(wanted) or choice == os.path.basename(wanted):
                return choice
    return "historical_2025.yaml" if "historical_2025.yaml" in choices else choices[0]


@solara.component
def Page():
    choices, skipped = solara.use_memo(lambda: loadable_scenarios(os.environ.get(SCENARIO_ENV)), [])
    selected = selected_scenario(choices)
    model = solara.use_memo(lambda: ViewModel(scenario_file=selected), [])
    panels_, params = solara.use_memo(lambda: (components(skipped), model_params(choices, selected)), [])
    solara.Title(TITLE)
    solara.Style(HIDE_MESA_EXTRAS)
    SolaraViz(model, components=panels_, model_params=params, name=TITLE, play_interval=PLAY_INTERVAL_MS)
