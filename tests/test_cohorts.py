"""Retention by weekly sign-up cohort (`sim.cohorts`): the in-run accumulator against a plain loop, the
pooled retention as the cohorts' weighted mean, and what a run hands on (checkpoints, plot selection)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim import cohorts
from sim.ensemble import load_checkpoints, run_one, save_checkpoint
from sim.model import MigrationModel
from sim.output import cohort_label, drawn_cohorts
from sim.us_users import RETENTION_DAYS
from tests.conftest import small


def loop_reference(signup: list[int], used: list[list[bool]], start: dt.date, max_days: int) -> dict:
    """By ISO week (year, week) of the sign-up date: cohort size, and per day since sign-up the members
    observed inside the horizon and those who used RedNote, counted user by user and day by day."""
    days = len(used)
    out: dict = {}
    for i, s in enumerate(signup):
        if s < 0:
            continue
        week = (start + dt.timedelta(days=s)).isocalendar()[:2]
        entry = out.setdefault(week, {"size": 0, "observed": [0] * (max_days + 1), "retained": [0] * (max_days + 1)})
        entry["size"] += 1
        for t in range(s, min(s + max_days, days - 1) + 1):
            entry["observed"][t - s] += 1
            entry["retained"][t - s] += int(used[t][i])
    return out


def synthetic(n: int, days: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sign-up days (-1: before the run or never) and daily use, as the model makes them: nobody uses
    RedNote before their sign-up, everyone uses it on the sign-up day, and account holders from before
    the run use it too (they belong to no cohort)."""
    rng = np.random.default_rng(seed)
    signup = np.where(rng.random(n) < 0.7, rng.integers(0, days, n), -1)
    used = (rng.random((days, n)) < rng.random(n)) & (np.arange(days)[:, None] >= signup)
    used[signup[signup >= 0], np.flatnonzero(signup >= 0)] = True
    return signup, used


@pytest.mark.parametrize(("start", "days", "max_days"), [(dt.date(2025, 1, 1), 40, 12), (dt.date(2024, 12, 29), 23, 30)])
def test_accumulator_equals_a_plain_loop(start, days, max_days):
    """Weeks cross a year end and a horizon shorter than max_days; the first week starts mid-week."""
    signup, used = synthetic(300, days, seed=days)
    rows = []
    for t in range(days):
        known = np.where(signup <= t, signup, -1)  # the model knows a sign-up only from its day on
        rows.append(cohorts.users_by_days_since_signup(known, used[t], t, max_days))
    weight = 2.5
    got = cohorts.by_week(np.vstack(rows), np.bincount(signup[signup >= 0], minlength=days), start, weight)
    want = loop_reference(signup.tolist(), used.tolist(), start, max_days)
    width = min(max_days, days - 1) + 1
    assert got.observed.shape == got.retained.shape == (got.first_day.size, width)
    for k in range(got.first_day.size):
        first = start + dt.timedelta(days=int(got.first_day[k]))
        last = start + dt.timedelta(days=int(got.last_day[k]))
        assert first.isocalendar()[:2] == last.isocalendar()[:2] and (k == 0 or first.weekday() == 0)
        entry = want.get(first.isocalendar()[:2], {"size": 0, "observed": [0] * width, "retained": [0] * width})
        assert got.signups[k] == pytest.approx(weight * entry["size"])
        np.testing.assert_allclose(got.observed[k], weight * np.array(entry["observed"][:width]))
        np.testing.assert_allclose(got.retained[k], weight * np.array(entry["retained"][:width]))
    assert got.signups.sum() == pytest.approx(weight * (signup >= 0).sum())  # every sign-up is in one cohort
    assert got.last_day[-1] == days - 1 and (got.first_day[1:] == got.last_day[:-1] + 1).all()


def test_the_model_fills_the_accumulator_from_its_daily_use():
    """The real `UsUsers.measure` on a synthetic history gives what the loop counts, and its pooled Day-N
    retention is the cohorts' mean weighted by the members observed at Day N."""
    model = MigrationModel(small(agents=3000, days=40))
    us = model.us
    signup, used = synthetic(us.n, 40, seed=3)
    for t in range(40):
        us.signup_day = np.where(signup <= t, signup, -1).astype(np.int32)
        us.uses_today, us.users_today = used[t], np.flatnonzero(used[t])
        us.use_chance = used[t].astype(np.float32)  # retention counts the chance to open the app: here certain
        us.joins_today, us.ever_joined = np.flatnonzero(signup == t), np.flatnonzero(us.signup_day >= 0)
        us.measure(model.calendar.today(t))
    got = us.retention_by_cohort(model.config.start_date)
    want = loop_reference(signup.tolist(), used.tolist(), model.config.start_date, max(RETENTION_DAYS))
    for k in range(got.first_day.size):
        week = model.config.date_of(int(got.first_day[k])).isocalendar()[:2]
        np.testing.assert_allclose(got.retained[k] / us.weight, want[week]["retained"][:40])
        np.testing.assert_allclose(got.observed[k] / us.weight, want[week]["observed"][:40])
    for d, pooled in us.retention().items():
        if d < 40:
            assert pooled == pytest.approx(got.retained[:, d].sum() / got.observed[:, d].sum())


@pytest.fixture(scope="module")
def short_run():
    return run_one(small(agents=20_000, days=100), run=1)


def test_pooled_retention_is_the_size_weighted_mean_of_the_cohorts(short_run):
    c = short_run.cohorts
    shares = c.shares()
    for d in RETENTION_DAYS:
        pooled = short_run.metrics[f"retention_day{d}"]
        w = c.observed[:, d]
        assert w.sum() > 0
        assert pooled == pytest.approx(np.nansum(shares[:, d] * w) / w.sum(), rel=1e-12, abs=1e-15)
    # a cohort whose whole week reached day d is weighted by its size
    complete = c.last_day + 90 <= 99
    np.testing.assert_allclose(c.observed[complete, 90], c.signups[complete])


def test_cohorts_of_a_real_run_are_weeks_in_order_with_shares_in_0_1(short_run):
    c, scenario = short_run.cohorts, small(agents=20_000, days=100)
    shares = c.shares()
    assert np.nanmin(shares) >= 0 and np.nanmax(shares) <= 1
    assert (np.diff(c.first_day) > 0).all() and c.first_day[0] == 0 and c.last_day[-1] == 99
    assert all(scenario.date_of(int(f)).weekday() == 0 for f in c.first_day[1:])  # ISO weeks start on Monday
    surge = [k for k in range(c.first_day.size) if scenario.date_of(int(c.first_day[k])) == dt.date(2025, 1, 13)]
    assert surge and c.last_day[surge[0]] - c.first_day[surge[0]] == 6
    # cohort sizes are people: they add up to the run's sign-ups (us_rednote_cumulative_signups)
    assert c.signups.sum() == pytest.approx(short_run.series["us_rednote_cumulative_signups"][-1])
    assert (c.retained <= c.observed + 1e-9).all() and (c.observed <= c.signups[:, None] + 1e-9).all()
    # a new member opens the app on the sign-up day, unless shut that day: in a cohort of two agents one ban
    # halves the share, so the check is on cohorts of at least 20 agents
    defined = c.observed[:, 0] >= 20 * c.weight
    assert defined.any() and (shares[defined, 0] > 0.9).all()


def test_checkpoints_keep_the_cohorts(short_run, tmp_path):
    scenario = small(agents=20_000, days=100)
    save_checkpoint(tmp_path, scenario, short_run)
    loaded = load_checkpoints(tmp_path, scenario)[1].cohorts
    for name in ("first_day", "last_day", "signups", "observed", "retained"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(short_run.cohorts, name))
    assert loaded.weight == short_run.cohorts.weight


def test_bands_and_the_cohorts_drawn():
    def run(signups: list[float], share: float) -> cohorts.CohortRetention:
        size = np.array(signups)
        observed = np.repeat(size[:, None], 3, axis=1)
        return cohorts.CohortRetention(np.arange(size.size) * 7, np.arange(size.size) * 7 + 6, size, observed,
                                       observed * share, weight=10.0)  # fmt: skip

    sizes = [0.0, 5.0, 1000.0, 60.0, *([20.0] * 12)]
    b = cohorts.bands([run(sizes, s) for s in (0.1, 0.2, 0.3, 0.4, 0.5)])
    assert np.isnan(b.median[0]).all() and (b.runs[0] == 0).all() and (b.runs[1:] == 5).all()
    np.testing.assert_allclose(b.median[2], 0.3)
    assert b.p10[2, 0] == pytest.approx(0.14) and b.p90[2, 0] == pytest.approx(0.46)
    np.testing.assert_allclose(b.agents, np.array(sizes) / 10)
    drawn = drawn_cohorts(b)  # >= 1 % of sign-ups (not the 5 of 1305), the 10 largest, in date order
    assert drawn == sorted(drawn) and len(drawn) == 10 and 1 not in drawn and {2, 3} <= set(drawn)


@pytest.mark.parametrize(
    ("first", "last", "label"),
    [
        (dt.date(2025, 1, 13), dt.date(2025, 1, 19), "13\u201319 Jan 2025"),
        (dt.date(2025, 1, 27), dt.date(2025, 2, 2), "27 Jan\u201302 Feb 2025"),
        (dt.date(2024, 12, 30), dt.date(2025, 1, 5), "30 Dec 2024\u201305 Jan 2025"),
        (dt.date(2025, 6, 30), dt.date(2025, 6, 30), "30 Jun 2025"),
    ],
)
def test_cohort_labels_carry_the_year(first, last, label):
    assert cohort_label(first, last) == label
