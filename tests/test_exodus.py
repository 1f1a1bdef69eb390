"""What happened after the peak: daily use as a choice, TikTok's return and pause, the app stores, RedNote's
own availability (issue 12). Each statement is checked on paired runs (common random numbers)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.ensemble import run_one
from sim.params import UsUsers as UsParams
from sim.us_users import availability, return_rush
from tests.conftest import small

EXODUS = {"daily_use": True, "tiktok_return_rush": True, "outside_option_follows_tiktok": True}
RUNS = range(3)


def runs(name: str, days: int = 60, agents: int = 20_000, **changes) -> list:
    mechanisms = {**EXODUS, **changes.pop("mechanisms", {})}
    scenario = small(name, agents=agents, days=days, mechanisms=mechanisms, **changes)
    return [run_one(scenario, r) for r in RUNS]


def window(results: list, column: str, first: int, last: int) -> np.ndarray:
    """Per run: the column summed over days first..last (inclusive)."""
    return np.array([r.series[column][first : last + 1].sum() for r in results])


# --------------------------------------------------------------------------------------------------
# Rules against plain arithmetic
# --------------------------------------------------------------------------------------------------
def test_an_app_up_part_of_the_day_is_missed_only_if_every_session_falls_in_the_dark():
    for up, sessions in [(0.5, 8), (0.9375, 8), (0.0, 3), (1.0, 1), (0.2, 2)]:
        missed = 1.0
        for _ in range(int(sessions)):
            missed *= 1.0 - up
        assert availability(up, sessions) == pytest.approx(1.0 - missed)


def test_the_rush_back_to_tiktok_halves_every_half_life_and_is_zero_before_any_return():
    p = UsParams(tiktok_return_rush=0.4, tiktok_return_rush_half_life_days=2.0)
    assert return_rush(p, 0.0) == pytest.approx(0.4)
    assert return_rush(p, 2.0) == pytest.approx(0.2)
    assert return_rush(p, 6.0) == pytest.approx(0.05)
    assert return_rush(p, math.inf) == 0.0


# --------------------------------------------------------------------------------------------------
# Daily use
# --------------------------------------------------------------------------------------------------
def test_daily_users_are_members_and_weekly_and_monthly_users_nest():
    for r in runs("historical_2025", days=50):
        s = r.series
        assert np.all(s["us_rednote_dau"] <= s["us_rednote_members"] + 1e-6)
        assert np.all(s["us_rednote_dau"] <= s["us_rednote_wau"] + 1e-6)
        assert np.all(s["us_rednote_wau"] <= s["us_rednote_mau"] + 1e-6)
        assert np.all((s["us_rednote_dau_mau"] >= 0) & (s["us_rednote_dau_mau"] <= 1))


def test_members_open_the_app_less_often_when_using_it_is_worth_less():
    def share_using(shift: float) -> float:
        r = runs("historical_2025", days=40, us_users={"use_shift": shift})[0]
        return float(np.mean(r.series["us_rednote_dau"][20:] / r.series["us_rednote_members"][20:]))

    low, high = share_using(-2.0), share_using(2.0)
    assert low < high - 0.1
    assert 0.0 < low < 1.0


def test_without_the_daily_choice_daily_users_are_exactly_the_members():
    r = runs("historical_2025", days=30, mechanisms={"daily_use": False})[0]
    assert np.array_equal(r.series["us_rednote_dau"], r.series["us_rednote_members"])


# --------------------------------------------------------------------------------------------------
# 19-20 Jan: TikTok back and the pause; 13 Feb: back in the app stores
# --------------------------------------------------------------------------------------------------
def test_users_rush_back_to_tiktok_the_day_its_service_returns():
    day19 = small().day_of(small().start_date.replace(day=19))
    with_rush = runs("historical_2025", days=25)
    without = runs("historical_2025", days=25, mechanisms={"tiktok_return_rush": False})
    before = np.array([r.series["us_tiktok_dau"][12] for r in with_rush])  # 13 Jan
    rushed = np.array([r.series["us_tiktok_dau"][day19] for r in with_rush])
    plain = np.array([r.series["us_tiktok_dau"][day19] for r in without])
    assert np.all(rushed > 1.15 * before)  # a high on the day it returns, as observed (106.8 M vs 82.2 M)
    assert np.all(rushed > plain)
    # ... and the pull of TikTok takes RedNote users away on the days after
    assert np.all(window(with_rush, "us_rednote_dau", day19, day19 + 3) < window(without, "us_rednote_dau", day19, day19 + 3))


def test_without_the_pause_rednote_use_stays_higher():
    s = small()
    first, last = s.day_of(s.start_date.replace(day=21)), s.day_of(s.start_date.replace(month=2, day=28))
    history, no_pause = runs("historical_2025", days=last + 1), runs("no_pause", days=last + 1)
    assert np.all(window(no_pause, "us_rednote_dau", first, last) > window(history, "us_rednote_dau", first, last))


def test_with_tiktok_back_in_the_stores_daily_sign_ups_fall_faster():
    s = small()
    back = s.day_of(s.start_date.replace(month=2, day=13))
    displaced = {"join_displaced_rate": 0.003}  # users without TikTok look for a substitute
    history = runs("historical_2025", days=back + 14, agents=50_000, us_users=displaced)
    never = runs("no_store_return", days=back + 14, agents=50_000, us_users=displaced)
    # identical until the return (common random numbers) ...
    assert np.array_equal(history[0].series["us_rednote_signups"][:back], never[0].series["us_rednote_signups"][:back])
    # ... then fewer sign-ups in the week after it than if TikTok had stayed out of the stores
    week_after = (back + 2, back + 8)
    assert np.all(window(history, "us_rednote_signups", *week_after) < window(never, "us_rednote_signups", *week_after))


def test_lemon8_leaves_the_stores_with_tiktok_so_its_users_stop_growing():
    s = small()
    out = (s.day_of(s.start_date.replace(day=20)), s.day_of(s.start_date.replace(month=2, day=12)))
    follows = runs("historical_2025", days=45)
    independent = runs("historical_2025", days=45, mechanisms={"outside_option_follows_tiktok": False})
    assert np.all(window(follows, "us_other_dau", *out) < window(independent, "us_other_dau", *out))


# --------------------------------------------------------------------------------------------------
# RedNote's own availability in the US
# --------------------------------------------------------------------------------------------------
def test_rednote_out_of_the_stores_gets_no_new_accounts_and_blocked_gets_no_users():
    s = small()
    removed, blocked = s.day_of(s.start_date.replace(month=3, day=1)), s.day_of(s.start_date.replace(month=4, day=1))
    for r in runs("rednote_banned", days=blocked + 10):
        assert r.series["us_rednote_signups"][removed:].sum() == 0
        assert r.series["us_rednote_signups"][:removed].sum() > 0
        assert r.series["us_rednote_dau"][blocked:].sum() == 0
        assert r.series["us_rednote_dau"][blocked - 1] > 0


def test_plots_put_similarweb_on_the_models_scale():
    from sim.observations import observed_points, similarweb_dau_points

    s = small(observation={"similarweb_dau_scale": 2.5})
    raw = observed_points("rednote_us_dau", s.start_date, s.end_date)
    scaled, label = similarweb_dau_points(s)
    assert [v for _, v in scaled] == pytest.approx([v / 2.5 for _, v in raw]) and len(raw) == 3
    assert "2.5" in label


# --------------------------------------------------------------------------------------------------
# The historical scenario as shipped (its posterior): the shape of the exodus in most posterior draws
# --------------------------------------------------------------------------------------------------
NEW_ACCOUNTS_BY_7_FEB = (0.6e6, 3.0e6)
"""Install sources: 'over 1.2 million' US downloads in the weeks to 8 Feb (seed 003; first installs per store
account, so new accounts plus the few reinstalls trackers count), read as 1.2-1.5 M; the model's median of
new US accounts from 11 Jan to 7 Feb must lie within a factor 2 of that reading."""
DRAWS = 40
"""Posterior draws (run r: draw r) at 20 000 agents: the statements below are about the posterior, so each
says in what share of draws it holds; none of the post-peak magnitudes was fitted."""


@pytest.fixture(scope="module")
def shipped() -> tuple:
    from sim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    s = load_scenario(SCENARIOS / "historical_2025.yaml", overrides={"agents": 20_000, "days": 60})
    assert s.parameters == "posterior" and s.calibration.posterior is not None
    return s, [run_one(s, r) for r in range(DRAWS)]


def share(flags) -> float:
    return float(np.mean(list(flags)))


def test_the_shipped_history_peaks_in_the_surge_week_and_drops_within_days_of_tiktoks_return(shipped):
    s, results = shipped
    day = lambda month, d: s.day_of(s.start_date.replace(month=month, day=d))  # noqa: E731
    dau = [r.series["us_rednote_dau"] for r in results]
    assert share(day(1, 13) <= int(np.argmax(x)) <= day(1, 19) for x in dau) >= 0.75  # the peak is in 13-19 Jan
    # the day after TikTok's return, use falls by a fifth or more, and within five days below 60 % of the peak
    assert share(x[day(1, 20)] < 0.8 * x[day(1, 19)] for x in dau) > 0.5
    assert share(x[day(1, 24)] < 0.6 * x.max() for x in dau) > 0.5


def test_the_shipped_history_loses_sign_ups_within_a_week_of_tiktoks_return_to_the_stores(shipped):
    s, results = shipped
    day = lambda month, d: s.day_of(s.start_date.replace(month=month, day=d))  # noqa: E731
    before = [r.series["us_rednote_signups"][day(2, 6) : day(2, 12) + 1].sum() for r in results]
    after = [r.series["us_rednote_signups"][day(2, 14) : day(2, 20) + 1].sum() for r in results]
    assert share(a < 0.75 * b for a, b in zip(after, before)) > 0.5


def test_the_shipped_history_makes_as_many_new_accounts_as_the_install_sources_allow(shipped):
    s, results = shipped
    first, last = s.day_of(s.start_date.replace(day=11)), s.day_of(s.start_date.replace(month=2, day=7))
    new = np.median([r.series["us_rednote_signups"][first : last + 1].sum() for r in results])
    assert NEW_ACCOUNTS_BY_7_FEB[0] <= new <= NEW_ACCOUNTS_BY_7_FEB[1]
