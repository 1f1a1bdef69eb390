"""Exogenous US events: ban salience, TikTok outages, app-store removals, enforcement pauses.

Everything here is a function of the calendar only, so it is computed once per run as one array per
quantity (index = day). The model reads ``schedule.salience[day]`` and so on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.params import Scenario


@dataclass(frozen=True)
class UsSchedule:
    salience: np.ndarray  # ban salience (>= 0), dimensionless
    creator_salience: np.ndarray  # salience as creators feel it: adds creator-only news
    tiktok_up: np.ndarray  # share of the day TikTok works in the US, [0, 1]
    in_store: np.ndarray  # TikTok can be installed from the US app stores
    headlines: tuple[tuple[str, ...], ...]  # names of the events of each day, for logs and the view


def dark_share(day_start: dt.datetime, start: dt.datetime, hours: float | None) -> float:
    """Share of the 24 hours from ``day_start`` during which an outage starting at ``start`` is dark."""
    end = None if hours is None else start + dt.timedelta(hours=hours)
    day_end = day_start + dt.timedelta(days=1)
    lo = max(day_start, start)
    hi = day_end if end is None else min(day_end, end)
    return max(0.0, (hi - lo).total_seconds() / 86400.0)


def build_us_schedule(scenario: Scenario) -> UsSchedule:
    """Day-by-day US state from the scenario's timeline (the loop is over days, not users)."""
    timeline, days = scenario.timeline, scenario.days
    decay = 0.5 ** (1.0 / timeline.salience_half_life_days)
    dark = np.zeros(days)
    in_store = np.ones(days, dtype=bool)
    headlines: list[list[str]] = [[] for _ in range(days)]
    pulses = np.zeros(days)
    creator_pulses = np.zeros(days)
    relief_days = np.zeros(days, dtype=bool)

    def day_index(date: dt.date) -> int | None:
        d = scenario.day_of(date)
        return d if 0 <= d < days else None

    for event in timeline.news:
        if (d := day_index(event.date)) is not None:
            (creator_pulses if event.audience == "creators" else pulses)[d] += event.salience
            headlines[d].append(event.event)
    for outage in timeline.tiktok_outages:
        start = dt.datetime.combine(outage.start, dt.time()) + dt.timedelta(hours=outage.start_hour)
        for d in range(days):
            dark[d] = min(1.0, dark[d] + dark_share(dt.datetime.combine(scenario.date_of(d), dt.time()), start, outage.hours))
        if (d := day_index(outage.start)) is not None:
            headlines[d].append("tiktok_goes_dark" + (" (for good)" if outage.hours is None else ""))
    for removal in timeline.app_store_removals:
        for d in range(days):
            date = scenario.date_of(d)
            if removal.removed <= date and (removal.returned is None or date < removal.returned):
                in_store[d] = False
        if (d := day_index(removal.removed)) is not None:
            headlines[d].append("tiktok_removed_from_app_stores")
        if removal.returned is not None and (d := day_index(removal.returned)) is not None:
            headlines[d].append("tiktok_back_in_app_stores")
    for pause in timeline.enforcement_pauses:
        if (d := day_index(pause.start)) is not None:
            relief_days[d] = True
            headlines[d].append(f"enforcement_paused_until_{pause.until.isoformat()}")
    # Going dark and leaving the stores are news too: a pulse on the first day of each.
    went_dark = np.diff(np.concatenate(([0.0], dark))) > 0
    pulses = pulses + timeline.dark_salience * np.where(went_dark, np.maximum(dark, 0.5), 0.0)
    left_store = np.diff(np.concatenate(([1], in_store.astype(int)))) < 0
    pulses = pulses + timeline.store_removal_salience * left_store

    # News from before the start still counts: its level on the eve of day 0 (day 0 decays it once more).
    def before_start(audience: tuple[str, ...]) -> float:
        return sum(
            e.salience * decay ** (-scenario.day_of(e.date) - 1)
            for e in timeline.news
            if scenario.day_of(e.date) < 0 and e.audience in audience
        )

    everyone = _decaying_level(pulses, relief_days, decay, timeline.pause_relief, before_start(("everyone",)))
    creators = _decaying_level(
        pulses + creator_pulses, relief_days, decay, timeline.pause_relief, before_start(("everyone", "creators"))
    )
    return UsSchedule(
        salience=everyone,
        creator_salience=creators,
        tiktok_up=1.0 - dark,
        in_store=in_store,
        headlines=tuple(tuple(h) for h in headlines),
    )


def _decaying_level(pulses: np.ndarray, relief: np.ndarray, decay: float, pause_relief: float, start_level: float) -> np.ndarray:
    """Salience: pulses that decay geometrically; an enforcement pause removes a share of it. Never < 0."""
    level, out = start_level, np.zeros(pulses.size)
    for d in range(pulses.size):
        level = level * decay + pulses[d]
        if relief[d]:
            level *= 1.0 - pause_relief
        out[d] = level
    return np.maximum(out, 0.0)
