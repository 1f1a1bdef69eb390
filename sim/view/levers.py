"""What the browser view's inputs mean: the registry's policy levers and run settings (`sim.levers`), as text.

A blank lever keeps the scenario's own value, so every scenario file can be explored as written and one
lever at a time. Bad input never reaches the model: `apply_levers` raises `LeverError` listing every bad
value at once, one line each naming the lever, what was given and what is allowed, and the view shows them. What each lever does
(the ban levers edit the scenario's first outage and first store removal, moved together) is declared
once, in `sim.levers.LEVERS`; this module only adds the view's drop-down entry "as in scenario".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim import levers as registry
from sim.levers import KEEP as AS_SCENARIO
from sim.levers import MAX_AGENTS as MAX_VIEW_AGENTS
from sim.params import Scenario
from sim.scenario import ScenarioError, load_scenario

__all__ = ["AS_SCENARIO", "LEVERS", "LEVER_NAMES", "MAX_VIEW_AGENTS", "LeverError", "apply_levers", "changed_levers",
           "describe", "lever_label", "load_base"]  # fmt: skip

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


class LeverError(registry.LeverError):
    """Lever values the view cannot use: ``messages``, one line each (lever, value, what is allowed)."""

    def __init__(self, *messages: str) -> None:
        self.messages = list(messages)
        super().__init__("\n".join(messages))


@dataclass(frozen=True)
class ViewInput:
    """One input of the view: a registry lever as the page shows it."""

    name: str  # keyword of `ViewModel`
    label: str
    help: str
    choices: tuple[str, ...] = ()  # a drop-down ("as in scenario" first); empty: free text


LEVERS: tuple[ViewInput, ...] = tuple(
    ViewInput(lever.name, lever.label, lever.help, (AS_SCENARIO, *lever.choices) if lever.choices else ())
    for lever in registry.of_kind(registry.POLICY, registry.RUN)
)
LEVER_NAMES = tuple(lever.name for lever in LEVERS)


def scenario_choices(extra: str | Path | None = None) -> list[str]:
    """Scenario files the view offers: every file in scenarios/ (by name) and ``extra`` (by path)."""
    names = sorted(p.name for p in SCENARIO_DIR.glob("*.yaml"))
    if extra is not None and Path(extra).resolve().parent != SCENARIO_DIR:
        names.append(str(Path(extra).resolve()))
    return names


def scenario_path(choice: str) -> Path:
    """The file behind a picker entry (a name in scenarios/ or a path)."""
    path = Path(choice)
    return path if path.is_absolute() else SCENARIO_DIR / path


def load_base(choice: str) -> Scenario:
    """The scenario file as written (a `ScenarioError` names the file and key if it is bad)."""
    path = scenario_path(choice)
    if not path.is_file():
        raise ScenarioError(f"{choice}: no such scenario file")
    return load_scenario(path)


def apply_levers(base: Scenario, values: dict[str, Any]) -> Scenario:
    """``base`` with the non-blank levers applied, validated. `LeverError` lists every bad value
    (`sim.levers.lever_errors`): first each lever that is bad on its own (a date out of range, text for a
    number, ...); if there are none, each bad combination (a store return before the ban, verification
    without a date, ...)."""
    unknown = set(values) - set(LEVER_NAMES)
    if unknown:
        raise LeverError(f"unknown lever {sorted(unknown)[0]!r}; allowed: {', '.join(LEVER_NAMES)}")
    errors = registry.lever_errors(base, values)
    if errors:
        raise LeverError(*errors)
    try:
        return registry.set_levers(base, values, source=f"{base.name} with the view's levers")
    except registry.LeverError as exc:  # lever_errors found none, so this is not expected; shown all the same
        raise LeverError(str(exc)) from None


def changed_levers(values: dict[str, Any]) -> dict[str, str]:
    """The levers that change something (not blank, not 'as in scenario'), as stripped text."""
    return {k: text for k, v in values.items() if (text := "" if v is None else str(v).strip()) not in ("", AS_SCENARIO)}


def lever_label(name: str) -> str:
    """The label the view shows for lever ``name``."""
    return registry.LEVERS[name].label


def describe(scenario: Scenario) -> list[str]:
    """The lever values a scenario actually uses, one short line each (what the view shows as 'this run')."""
    tl, pf = scenario.timeline, scenario.platform
    if tl.tiktok_outages:
        first = tl.tiktok_outages[0]
        length = "for good" if first.hours is None else f"for {first.hours:g} h"
        hour, minute = divmod(round(first.start_hour * 60), 60)
        ban = f"TikTok dark from {_fmt(first.start)} {hour:02d}:{minute:02d} {length}"
        if len(tl.tiktok_outages) > 1:
            ban += f" (+{len(tl.tiktok_outages) - 1} later outage(s) as in the file)"
    else:
        ban = "no TikTok outage"
    if tl.app_store_removals:
        store = tl.app_store_removals[0]
        back = "never back" if store.returned is None else f"back {_fmt(store.returned)}"
        ban += f"; out of the app stores {_fmt(store.removed)}, {back}"
    tr = pf.translation
    translation = "no translation" if tr.start is None else f"translation from {_fmt(tr.start)}, quality {tr.quality:.2f}"
    real_name = "no real-name verification" if pf.real_name.scope == "none" else (
        f"real-name verification of {pf.real_name.scope.replace('_', ' ')} from {_fmt(pf.real_name.start)}"
    )  # fmt: skip
    wg = pf.walled_garden
    garden = (
        f"walled garden on (foreign posts keep {wg.cross_visibility:.0%} of their reach)" if wg.enabled else "one shared feed"
    )
    return [
        f"Ban: {ban}",
        f"Platform: {translation}; {real_name}; {garden}; {pf.moderation.review_capacity:,.0f} reviews/day at first",
        f"Model: {scenario.agents:,} agents, seed {scenario.seed}, {_fmt(scenario.start_date)} to {_fmt(scenario.end_date)}",
    ]


# --------------------------------------------------------------------------------------------------
def _fmt(day: dt.date | None) -> str:
    return "-" if day is None else day.strftime("%d %b %Y").lstrip("0")
