"""Scientific behaviour: each policy lever moves the outcome the way the mechanisms say it should.

Scenarios are compared with the same seeds (common random numbers), at a reduced size, over 120 days so
that Day-90 retention is defined for the January cohorts. Each comparison averages two runs at the fit's
point estimate (the posterior medians): these are statements about the rules at given parameters; what
the posterior as a whole says about each policy is `compare`'s (README, "All shipped scenarios compared").
"""

from __future__ import annotations

from functools import cache

import numpy as np

from sim.ensemble import RunResult, run_one
from tests.conftest import small

AGENTS, DAYS, RUNS = 30_000, 120, 2


@cache
def results(name: str) -> tuple[RunResult, ...]:
    scenario = small(name, agents=AGENTS, days=DAYS, parameters="point")
    return tuple(run_one(scenario, run) for run in range(RUNS))


def mean(name: str, metric: str) -> float:
    return float(np.mean([r.metrics[metric] for r in results(name)]))


def mean_series(name: str, column: str) -> np.ndarray:
    return np.mean([r.series[column] for r in results(name)], axis=0)


def test_no_ban_gives_far_fewer_signups_than_history():
    # without the law only the baseline of 2024 (1.1 M downloads a year) and quiet returns remain
    assert mean("no_ban", "total_signups") < 0.3 * mean("historical_2025", "total_signups")
    surge = slice(12, 31)  # 13-31 Jan; the peak of a near-flat, noisy series is biased upward at test sizes
    assert (
        mean_series("no_ban", "us_rednote_dau")[surge].mean()
        < 0.25 * mean_series("historical_2025", "us_rednote_dau")[surge].mean()
    )


def test_permanent_ban_keeps_more_users_at_90_days():
    assert mean("permanent_ban", "retention_day90") > 1.5 * mean("historical_2025", "retention_day90")
    assert mean("permanent_ban", "final_us_rednote_dau") > mean("historical_2025", "final_us_rednote_dau")


def test_delayed_ban_brings_a_second_wave_in_april():
    april = slice(small().day_of(__import__("datetime").date(2025, 4, 5)), None)
    assert (
        mean_series("delayed_ban", "us_rednote_signups")[april].sum()
        > 3 * mean_series("historical_2025", "us_rednote_signups")[april].sum()
    )


def test_earlier_translation_keeps_more_and_no_translation_keeps_fewer():
    """Paired by run (common random numbers): translation from 13 Jan keeps more users active through
    the surge weeks in every run; no translation keeps fewer at Day 7 and Day 30. (The six-day head
    start adds only ~0.6 points of Day-30 retention at 100k agents: too small to assert at test size.)"""
    window = slice(12, 59)  # 13 Jan - 28 Feb
    for early, hist in zip(results("early_translation"), results("historical_2025")):
        assert early.series["us_rednote_dau"][window].sum() > hist.series["us_rednote_dau"][window].sum()
        assert early.metrics["retention_day7"] > hist.metrics["retention_day7"]
    for metric in ("retention_day7", "retention_day30"):
        assert mean("no_translation", metric) < 0.8 * mean("historical_2025", metric)
    assert mean("no_translation", "cross_cultural_ties") < mean("historical_2025", "cross_cultural_ties")


def test_strict_real_name_leaves_fewer_active_foreign_users():
    hist, strict = mean_series("historical_2025", "us_rednote_dau"), mean_series("strict_real_name", "us_rednote_dau")
    after = slice(small().day_of(__import__("datetime").date(2025, 1, 21)), None)
    assert (strict[after] < hist[after]).all()
    assert mean("strict_real_name", "accounts_blocked_unverified") > 0.5 * mean("historical_2025", "total_signups")
    assert mean("historical_2025", "accounts_blocked_unverified") == 0


def test_walled_garden_gives_fewer_ties_and_fewer_complaints():
    assert mean("walled_garden", "cross_cultural_ties") < 0.2 * mean("historical_2025", "cross_cultural_ties")
    assert mean("walled_garden", "complaints") < 0.2 * mean("historical_2025", "complaints")


def test_tiktok_dau_barely_moves_during_the_surge_and_peaks_the_day_it_returns():
    """Multi-homing: migrants keep TikTok (observed: -2.1% week over week around 13 Jan); on 19 Jan, dark
    until noon, its daily users reach a high as users rush back (observed: 106.8 M against 82.2 M)."""
    s = small(agents=AGENTS, days=DAYS)
    tt = mean_series("historical_2025", "us_tiktok_dau")
    week_before, surge_week = tt[s.day_of(__import__("datetime").date(2025, 1, 3)) : 9].mean(), tt[12:17].mean()
    assert abs(surge_week / week_before - 1) < 0.03
    assert tt[18] > 1.1 * week_before and tt[18] == tt.max()  # 19 Jan


def test_more_peer_influence_gives_more_signups():
    low = run_one(small(agents=AGENTS, days=40, us_users={"peer_influence": 0.1}))
    high = run_one(small(agents=AGENTS, days=40, us_users={"peer_influence": 0.5}))
    assert high.metrics["total_signups"] > 1.3 * low.metrics["total_signups"]


def test_more_review_capacity_gives_a_smaller_backlog():
    low = run_one(
        small(agents=AGENTS, days=40, platform={"moderation": {"review_capacity": 2e3, "capacity_growth_per_day": 0.0}})
    )
    high = run_one(
        small(agents=AGENTS, days=40, platform={"moderation": {"review_capacity": 5e6, "capacity_growth_per_day": 0.0}})
    )
    # posts held today wait at least until tomorrow, so even ample capacity leaves one day's worth; without
    # capacity they wait until the machine decides them after max_hold_days (2): at most two days' worth
    assert high.metrics["peak_review_backlog"] < 0.8 * low.metrics["peak_review_backlog"]
    assert high.series["reviews"].sum() > 5 * low.series["reviews"].sum()
