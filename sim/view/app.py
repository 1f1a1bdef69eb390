"""The browser view: Mesa's SolaraViz with the scenario picker, the levers and six panels.

Served by ``python run.py view`` (see `sim.view.server`); ``MIGRATION_VIEW_SCENARIO`` names the scenario
selected at start. Each browser tab gets its own model. Lever changes take effect on Reset, as in every
Mesa view; Step advances one day (or "Render Interval" days).
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable

import solara
from matplotlib.figure import Figure

with warnings.catch_warnings():  # solara's hook linter flags a hook in Mesa 3.3's own ComponentsView; harmless
    warnings.simplefilter("ignore", UserWarning)
    from mesa.visualization import SolaraViz
    from mesa.visualization.utils import update_counter

from sim.scenario import ScenarioError
from sim.view import panels
from sim.view.levers import AS_SCENARIO, LEVERS, load_base, scenario_choices
from sim.view.model import ViewModel
from sim.view.server import SCENARIO_ENV

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
    params: dict = {"scenario_file": {"type": "Select", "value": selected, "values": choices, "label": "Scenario"}}
    for lever in LEVERS:
        if lever.choices:
            params[lever.name] = {"type": "Select", "value": AS_SCENARIO, "values": list(lever.choices), "label": lever.label}
        else:
            params[lever.name] = {"type": "InputText", "value": "", "label": lever.label}
    return params


def figure_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=panels.DPI)
    return buffer.getvalue()


def figure_panel(draw: Callable[[ViewModel], Figure]):
    """A Solara component drawing ``draw(model)``; redrawn only when the model or its day changes."""

    @solara.component
    def Panel(model: ViewModel):
        update_counter.get()  # Mesa bumps this after each step and reset
        png = solara.use_memo(lambda: figure_png(draw(model)), dependencies=[id(model), model.day])
        return solara.Image(png, width="100%")

    Panel.__name__ = draw.__name__
    return Panel


def headline_panel(skipped: list[str]):
    @solara.component
    def Headline(model: ViewModel):
        update_counter.get()
        lines = panels.headline(model)
        style = {"padding": "4px 8px", "height": "100%", "overflow-y": "auto", "font-size": "13px", "line-height": "1.35"}
        with solara.Column(gap="2px", style=style) as column:
            solara.Markdown(HOW_TO, style={"color": "#555"})
            if model.input_error:
                solara.Error(" ".join(lines), classes=["input-error"])
            else:
                solara.Markdown("\n".join(lines), style={"font-size": "13px", "line-height": "1.35"})
            for reason in skipped:
                solara.Warning(f"Scenario file not offered: {reason}")
        return column

    return Headline


def components(skipped: list[str]) -> list:
    return [
        (headline_panel(skipped), 0),
        (figure_panel(panels.us_rednote_figure), 0),
        (figure_panel(panels.platform_mix_figure), 0),
        (figure_panel(panels.moderation_figure), 0),
        (figure_panel(panels.hosts_figure), 0),
        (figure_panel(panels.network_figure), 0),
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
    SolaraViz(model, components=panels_, model_params=params, name=TITLE)
