"""Exogenous events: the US ban timeline and the platform's dated policy, and the day's context.

US side: ban salience (news pulses that decay, relief when enforcement is paused), TikTok outages,
app-store removals. Platform side: translation (launch, grey test, quality), real-name verification
(scope, start), the walled-off international feed, service failures and the state directive.

Everything here is a function of the calendar only, so it is computed once per run as one array per
quantity (index = day). `Calendar.today(day)` turns them into the `Day` context that every component
reads: the single route by which the date, the ban and the platform's policy reach the rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.params import Mechanisms, Scenario
from sim.results import Output


@dataclass(frozen=True)
class UsSchedule:
    salience: np.ndarray  # ban salience (>= 0), dimensionless
    creator_salience: np.ndarray  # salience as creators feel it: adds creator-only news
    tiktok_up: np.ndarray  # share of the day TikTok works in the US, [0, 1]
    in_store: np.ndarray  # TikTok can be installed from the US app stores
    tiktok_restored_days_ago: np.ndarray  # days since TikTok last came back from an outage (inf: never)
    rednote_up: np.ndarray  # share of the day RedNote works in the US, [0, 1]
    rednote_in_store: np.ndarray  # RedNote can be installed from the US app stores
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
    dark, restored = _dark_by_day(scenario, timeline.tiktok_outages, "tiktok", headlines)
    in_store = _in_store_by_day(scenario, timeline.app_store_removals, "tiktok", headlines)
    rednote_dark, _ = _dark_by_day(scenario, timeline.rednote_blocks, "rednote", headlines)
    rednote_in_store = _in_store_by_day(scenario, timeline.rednote_store_removals, "rednote", headlines)
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
        tiktok_restored_days_ago=restored,
        rednote_up=1.0 - rednote_dark,
        rednote_in_store=rednote_in_store,
        headlines=tuple(tuple(h) for h in headlines),
    )


def _dark_by_day(scenario: Scenario, outages: list, app: str, headlines: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Share of each day an app is dark, and the days since it last came back (inf before any return)."""
    days = scenario.days
    dark = np.zeros(days)
    restored = np.full(days, np.inf)
    midnight = [dt.datetime.combine(scenario.date_of(d), dt.time()) for d in range(days)]
    for outage in outages:
        start = dt.datetime.combine(outage.start, dt.time()) + dt.timedelta(hours=outage.start_hour)
        for d in range(days):
            dark[d] = min(1.0, dark[d] + dark_share(midnight[d], start, outage.hours))
        if 0 <= (d := scenario.day_of(outage.start)) < days:
            headlines[d].append(f"{app}_goes_dark" + (" (for good)" if outage.hours is None else ""))
        if outage.hours is not None:
            back = scenario.day_of((start + dt.timedelta(hours=outage.hours)).date())
            if back < days:
                later = np.arange(max(back, 0), days)
                restored[later] = np.minimum(restored[later], later - back)
                if back >= 0:
                    headlines[back].append(f"{app}_service_restored")
    return dark, restored


def _in_store_by_day(scenario: Scenario, removals: list, app: str, headlines: list[list[str]]) -> np.ndarray:
    """Whether an app can be installed from the US app stores, day by day."""
    days = scenario.days
    in_store = np.ones(days, dtype=bool)
    for removal in removals:
        first = max(scenario.day_of(removal.removed), 0)
        last = days if removal.returned is None else min(scenario.day_of(removal.returned), days)
        in_store[first:last] = False
        if 0 <= (d := scenario.day_of(removal.removed)) < days:
            headlines[d].append(f"{app}_removed_from_app_stores")
        if removal.returned is not None and 0 <= (d := scenario.day_of(removal.returned)) < days:
            headlines[d].append(f"{app}_back_in_app_stores")
    return in_store


def _decaying_level(pulses: np.ndarray, relief: np.ndarray, decay: float, pause_relief: float, start_level: float) -> np.ndarray:
    """Salience: pulses that decay geometrically; an enforcement pause removes a share of it. Never < 0."""
    level, out = start_level, np.zeros(pulses.size)
    for d in range(pulses.size):
        level = level * decay + pulses[d]
        if relief[d]:
            level *= 1.0 - pause_relief
        out[d] = level
    return np.maximum(out, 0.0)


# --------------------------------------------------------------------------------------------------
# The platform's dated policy
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlatformSchedule:
    """Day-by-day platform policy (index = day), from the scenario's `platform` section."""

    translation_quality: np.ndarray
    grey_translation_quality: np.ndarray
    verify_new_accounts: np.ndarray
    real_name_sweep_day: int | None
    visibility: np.ndarray
    degradation: np.ndarray
    directive_day: int | None


def build_platform_schedule(scenario: Scenario) -> PlatformSchedule:
    platform, days = scenario.platform, scenario.days
    dates = np.array([scenario.date_of(d) for d in range(days)])

    def from_day(date) -> np.ndarray:
        return np.zeros(days, dtype=bool) if date is None else dates >= date

    tr = platform.translation
    translation = from_day(tr.start) * tr.quality
    grey = from_day(tr.grey_test_start) * tr.quality
    rn = platform.real_name
    verify = from_day(rn.start) if rn.scope != "none" else np.zeros(days, dtype=bool)
    sweep = None
    if rn.scope == "all_foreign" and rn.start is not None:
        sweep = max(scenario.day_of(rn.start), 0)
        sweep = sweep if sweep < days else None
    wg = platform.walled_garden
    walled = (from_day(wg.start) if wg.start is not None else np.ones(days, dtype=bool)) & wg.enabled
    degradation = np.zeros(days)
    for failure in platform.service_degradations:
        d = scenario.day_of(failure.date)
        if 0 <= d < days:
            degradation[d] = max(degradation[d], failure.severity)
    directive = None
    if platform.moderation.directive_date is not None:
        d = scenario.day_of(platform.moderation.directive_date)
        directive = max(d, 0) if d < days else None
    return PlatformSchedule(
        translation_quality=translation,
        grey_translation_quality=grey,
        verify_new_accounts=verify,
        real_name_sweep_day=sweep,
        visibility=np.where(walled, wg.cross_visibility, 1.0),
        degradation=degradation,
        directive_day=directive,
    )


# --------------------------------------------------------------------------------------------------
# The day's context: what every component reads
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Day:
    """The world on one day, as the events set it (read-only for every component)."""

    day: int
    date: dt.date
    salience: float  # US ban salience (0 when the news mechanism is off)
    creator_salience: float  # salience as creators see it (includes creator-only news)
    tiktok_up: float  # share of the day TikTok works in the US
    in_store: bool  # TikTok can be installed from the US app stores
    tiktok_restored_days_ago: float  # days since TikTok came back from an outage (inf: never)
    rednote_up: float  # share of the day RedNote works in the US
    rednote_in_store: bool  # RedNote can be installed from the US app stores
    translation_quality: float  # built-in translation for everyone (0 = none)
    grey_translation_quality: float  # for users in the grey test
    verify_new_accounts: bool  # real-name verification of new accounts
    real_name_sweep: bool  # today existing foreign accounts must verify
    directive: bool  # today the state directive reaches the platform
    after_directive: bool  # the directive has come (hiring of moderators goes on)
    visibility: float  # reach of foreign posts among Chinese users (walled garden < 1)
    degradation: float  # service failure severity today


class Calendar:
    """The exogenous events of one scenario, day by day."""

    OUTPUTS = (
        Output("ban_salience", "US ban salience (dimensionless)", "index"),
        Output("tiktok_up", "share of the day TikTok worked in the US", "share"),
        Output("rednote_up", "share of the day RedNote worked in the US", "share"),
    )

    def __init__(self, scenario: Scenario, mechanisms: Mechanisms) -> None:
        self.scenario = scenario
        self.us = build_us_schedule(scenario)
        self.platform = build_platform_schedule(scenario)
        self.news = mechanisms.news_salience

    def today(self, day: int) -> Day:
        s, ps = self.us, self.platform
        return Day(
            day=day,
            date=self.scenario.date_of(day),
            salience=float(s.salience[day]) if self.news else 0.0,
            creator_salience=float(s.creator_salience[day]) if self.news else 0.0,
            tiktok_up=float(s.tiktok_up[day]),
            in_store=bool(s.in_store[day]),
            tiktok_restored_days_ago=float(s.tiktok_restored_days_ago[day]),
            rednote_up=float(s.rednote_up[day]),
            rednote_in_store=bool(s.rednote_in_store[day]),
            translation_quality=float(ps.translation_quality[day]),
            grey_translation_quality=float(ps.grey_translation_quality[day]),
            verify_new_accounts=bool(ps.verify_new_accounts[day]),
            real_name_sweep=ps.real_name_sweep_day == day,
            directive=ps.directive_day == day,
            after_directive=ps.directive_day is not None and day >= ps.directive_day,
            visibility=float(ps.visibility[day]),
            degradation=float(ps.degradation[day]),
        )

    def measure(self, today: Day) -> dict[str, float]:
        return {"ban_salience": today.salience, "tiktok_up": today.tiktok_up, "rednote_up": today.rednote_up}
