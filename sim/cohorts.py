"""Retention by sign-up cohort: of the US users who made a RedNote account in the same week, the share who
used RedNote on each day after their own sign-up (day 0 = the sign-up day).

Pooled Day-N retention (`UsUsers.retention`) mixes the people who joined before the surge, in the surge
week and while TikTok was out of the app stores; analysts need them apart. A cohort is an **ISO week**
(Monday to Sunday) because the weeks of 2025 fall on its turning points: Mon 13 - Sun 19 Jan is the
surge week, and the three weeks after it (20 Jan - 9 Feb) are the weeks TikTok was paused and out of the
app stores. TikTok's return to the stores on Thu 13 Feb falls inside the week of 10-16 Feb, which holds
people from both sides of it. The first and last weeks of a run are cut by its horizon (the 2025
scenarios start on Wed 1 Jan: their first cohort is 1-5 Jan).

Retention is defined on daily use (``uses_today``), as the pooled one. During a run the accumulator is
one row per day: today's users counted by the days since their own sign-up (`users_by_days_since_signup`,
one ``np.bincount``); at the end `by_week` folds those rows into weekly cohorts. A cohort member counts
at day d only if their day d fell inside the horizon (``observed``), so a weekly cohort near the end of a
run is measured on its members who got that far, and the pooled Day-N retention is exactly the mean of the
cohorts' Day-N retention weighted by ``observed[:, N]``. Counts are people: agents times the US agent
weight, which is the same for every US agent, so shares do not depend on it.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np


def users_by_days_since_signup(signup_day: np.ndarray, used: np.ndarray, day: int, max_days: int) -> np.ndarray:
    """Today's users who signed up in this run, counted by days since their own sign-up (0..``max_days``).

    ``signup_day`` is each user's sign-up day (-1: before the run or never), ``used`` whether they used
    RedNote today, or their chance to (the model counts retention in expectation over the daily draw)."""
    recent = (used > 0) & (signup_day >= max(0, day - max_days))
    return np.bincount(day - signup_day[recent], weights=np.asarray(used, dtype=np.float64)[recent], minlength=max_days + 1)


@dataclass(frozen=True)
class CohortRetention:
    """Weekly sign-up cohorts of one run; counts in people. Row k is a cohort, column d a day since sign-up."""

    first_day: np.ndarray  # (K,) the cohort's first day inside the horizon (day index of the run)
    last_day: np.ndarray  # (K,) its last day inside the horizon
    signups: np.ndarray  # (K,) people who signed up in the cohort's week
    observed: np.ndarray  # (K, D+1) of those, people whose day d after sign-up fell inside the horizon
    retained: np.ndarray  # (K, D+1) of those, people who used RedNote on their day d
    weight: float  # people per US agent (the counts are agents times this)

    def shares(self) -> np.ndarray:
        """Share of each cohort using RedNote d days after sign-up (NaN where nobody was observed)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.observed > 0, self.retained / np.where(self.observed > 0, self.observed, 1.0), np.nan)


def by_week(used_by_day: np.ndarray, signups_by_day: np.ndarray, start: dt.date, weight: float) -> CohortRetention:
    """Fold a run's daily rows into ISO-week cohorts.

    ``used_by_day[t, d]``: agents who signed up on day t - d and used RedNote on day t (the rows of
    `users_by_days_since_signup`); ``signups_by_day[s]``: agents who signed up on day s; ``start``: the date
    of day 0; ``weight``: people per US agent. Columns stop at the horizon (d <= T - 1)."""
    days = used_by_day.shape[0]
    width = min(used_by_day.shape[1], days)
    offset = start.weekday()  # Monday = 0: day t is in week (t + offset) // 7
    week = (np.arange(days) + offset) // 7
    n_weeks = int(week[-1]) + 1 if days else 0
    starts = np.arange(n_weeks) * 7 - offset
    t, d = np.indices((days, width))
    s = t - d  # the sign-up day of the users counted in used_by_day[t, d]
    cell = lambda rows, cols: rows * width + cols  # noqa: E731 - flat index of (week, day since sign-up)
    size = n_weeks * width
    ok = s >= 0
    retained = np.bincount(cell(week[s[ok]], d[ok]), weights=used_by_day[:, :width][ok], minlength=size)
    seen = t + d <= days - 1  # read t as the sign-up day here: its day d is inside the horizon
    observed = np.bincount(cell(week[t[seen]], d[seen]), weights=signups_by_day[t[seen]], minlength=size)
    return CohortRetention(
        first_day=np.maximum(starts, 0),
        last_day=np.minimum(starts + 6, days - 1),
        signups=np.bincount(week, weights=signups_by_day[:days], minlength=n_weeks) * weight,
        observed=observed.reshape(n_weeks, width) * weight,
        retained=retained.reshape(n_weeks, width) * weight,
        weight=float(weight),
    )


@dataclass(frozen=True)
class CohortBands:
    """Weekly cohorts across runs: medians and the 10-90 % band of the shares (NaN where no run observed
    anyone), and in how many runs each share is defined."""

    first_day: np.ndarray  # (K,)
    last_day: np.ndarray  # (K,)
    signups: np.ndarray  # (K,) median across runs, people
    agents: np.ndarray  # (K,) median across runs, agents (how noisy a cohort's shares are)
    observed: np.ndarray  # (K, D+1) median across runs, people
    p10: np.ndarray  # (K, D+1)
    median: np.ndarray
    p90: np.ndarray
    runs: np.ndarray  # (K, D+1) runs in which the share is defined


def bands(runs: list[CohortRetention]) -> CohortBands:
    """Median and 10th/90th percentiles across runs of one scenario (all runs have the same cohorts)."""
    first = runs[0]
    shares = np.stack([r.shares() for r in runs])
    with warnings.catch_warnings():  # a cohort nobody reached at day d has no percentile: NaN, as intended
        warnings.simplefilter("ignore", RuntimeWarning)
        p10, median, p90 = np.nanpercentile(shares, [10, 50, 90], axis=0)
    return CohortBands(
        first_day=first.first_day,
        last_day=first.last_day,
        signups=np.median(np.stack([r.signups for r in runs]), axis=0),
        agents=np.median(np.stack([r.signups / r.weight for r in runs]), axis=0),
        observed=np.median(np.stack([r.observed for r in runs]), axis=0),
        p10=p10,
        median=median,
        p90=p90,
        runs=np.isfinite(shares).sum(axis=0),
    )
