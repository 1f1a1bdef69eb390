"""Chinese attention to the newcomers (issue 12): a smooth, saturating trending response plus
dose-dependent peer noticing, whose results do not depend on how many agents represent the people.

The rules are checked against plain loops; the component, fed the same foreign posts, gives the same
attention curve at every agent count; the historical scenario's headline outputs are compared across
20 000, 50 000, 200 000 and 1 000 000 agents (replicate runs; tolerance = 3 standard errors of the
smaller size's median on a log scale plus 10 % for the single 1 M run's own noise).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from functools import cache

import numpy as np
import pytest

from sim import cn_users, network
from sim.ensemble import run_one
from sim.events import Calendar
from sim.params import CnUsers
from sim.streams import Streams
from tests.conftest import small

RNG = np.random.default_rng(12)


# --------------------------------------------------------------------------------------------------
# The rules against plain loops
# --------------------------------------------------------------------------------------------------
def test_trend_salience_is_a_smooth_saturating_hill_response():
    for volume in [0.0, 1.0, 5e4, 1e5, 3e5, 5e5, 7e5, 1e6, 1e8]:
        for half, k in [(5e5, 6.0), (1e5, 1.0), (3e5, 2.5)]:
            expected = volume**k / (volume**k + half**k) if volume > 0 else 0.0
            assert cn_users.trend_salience(volume, half, k) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert cn_users.trend_salience(5e5, 5e5, 6.0) == pytest.approx(0.5)  # half response at F50
    grid = np.linspace(1e4, 2e6, 400)
    s = np.array([cn_users.trend_salience(f, 5e5, 6.0) for f in grid])
    assert (np.diff(s) > 0).all() and s[-1] < 1.0  # rises smoothly, saturates below 1
    assert np.abs(np.diff(s)).max() < 0.02  # no jump anywhere: small noise in F moves it a little
    # the old hard threshold is the limit of infinite steepness
    assert cn_users.trend_salience(4.9e5, 5e5, 500.0) < 1e-4 < 1 - 1e-4 < cn_users.trend_salience(5.1e5, 5e5, 500.0)


def test_notice_hazard_and_expected_hashtag_views_match_loops():
    p, n = CnUsers(), 80
    exposure = RNG.random(n).astype(np.float32) * 0.4
    hazard = cn_users.notice_hazard(p, 0.37, exposure)
    seek_aware, seek_new, p_notice = RNG.random(25) * 3, RNG.random(n) * 4, RNG.random(n)
    views = cn_users.expected_hashtag_views(seek_aware, seek_new, p_notice)
    total = 0.0
    for i in range(n):
        assert hazard[i] == pytest.approx(p.trend_rate * 0.37 + p.awareness_peer_influence * float(exposure[i]))
        total += p_notice[i] * seek_new[i]
    total += sum(seek_aware)
    assert views == pytest.approx(total)


def test_expected_hashtag_views_are_the_mean_of_the_drawn_ones():
    """Counting today's noticing in expectation is unbiased: the mean over draws of who notices agrees."""
    seek_aware, seek_new, p_notice = RNG.random(30), RNG.random(200) * 5, RNG.random(200) * 0.05
    drawn = [seek_aware.sum() + seek_new[RNG.random(200) < p_notice].sum() for _ in range(4000)]
    se = np.std(drawn) / math.sqrt(len(drawn))
    assert abs(np.mean(drawn) - cn_users.expected_hashtag_views(seek_aware, seek_new, p_notice)) < 4 * se


# --------------------------------------------------------------------------------------------------
# The component alone: the same foreign posts give the same attention curve at every agent count
# --------------------------------------------------------------------------------------------------
SURGE = [0.1] * 11 + [0.4, 0.8, 1.1, 1.3, 1.4, 1.5, 1.5, 1.6]  # 1-19 Jan: foreign posts, in units of the fitted
# half-response volume `trend_half_posts`, so that the trend takes off over 13-16 Jan whatever the fit
POSTS_DRAWN = 200  # agent posts standing for the day's real volume


def attention_curve(n_cn: int, run: int) -> tuple[np.ndarray, np.ndarray]:
    """Aware share and hashtag views (real) per day of Chinese users fed FOREIGN_POSTS."""
    scenario = small(agents=20_000, days=len(SURGE))
    streams = Streams(scenario.seed, run)
    follows = network.follow_graph(n_cn, scenario.network.cn_mean_following, streams.get("network.cn"))
    weight = scenario.population.cn_people / n_cn
    cn = cn_users.CnUsers(
        scenario.cn_users, scenario.population, scenario.mechanisms, follows, n_cn, weight, streams, foreign_weight=1.0
    )
    calendar = Calendar(scenario, scenario.mechanisms)
    authors, topics = np.zeros(POSTS_DRAWN, dtype=np.int64), np.zeros(POSTS_DRAWN, dtype=np.int64)
    aware, views = [], []
    for day, volume in enumerate(np.array(SURGE) * scenario.cn_users.trend_half_posts):
        today = dataclasses.replace(calendar.today(day), visibility=1.0)
        cn.foreign_weight = volume / POSTS_DRAWN
        cn.observe()
        views.append(cn._decide(today, authors, topics, np.ones(1), 1).hashtag_views * weight)
        aware.append(cn.aware_share())
    return np.array(aware), np.array(views)


def growth(views: np.ndarray) -> np.ndarray:
    """Growth factors of cumulative views from 13 Jan: 14/13, 15/14, 16/15 Jan."""
    cum = np.cumsum(views[12:16])
    return cum[1:] / cum[:-1]


def test_same_foreign_posts_give_the_same_attention_curve_at_every_agent_count():
    reference_aware, reference_views = attention_curve(400_000, 0)  # the Chinese agents of a 1 M run
    assert 0.001 < reference_aware[12] < 0.1 < reference_aware[15] < 0.9  # an S-curve over 13-16 Jan
    for n_cn in (8_000, 20_000, 80_000):  # those of 20 k, 50 k and 200 k runs
        curves = [attention_curve(n_cn, run) for run in range(3)]
        aware = np.median([a for a, _ in curves], axis=0)
        g = np.median([growth(v) for _, v in curves], axis=0)
        assert np.abs(aware[12:] - reference_aware[12:]).max() < 0.03 + 0.1 * reference_aware[12:].max(), n_cn
        assert np.abs(np.log(g / growth(reference_views))).max() < 0.25, (n_cn, g, growth(reference_views))


# --------------------------------------------------------------------------------------------------
# The historical scenario at 20 k, 50 k, 200 k and 1 M agents
# --------------------------------------------------------------------------------------------------
DAYS = 20  # 1-20 Jan: the surge, the outage and the return of TikTok
RUNS = 3
CN_HEADLINES = ("hashtag_growth_14_13", "hashtag_growth_15_14", "hashtag_growth_16_15", "aware_share_16jan", "aware_share_20jan")
US_HEADLINES = ("peak_us_rednote_dau", "total_signups", "cross_cultural_ties", "retention_day7")


@cache
def headlines(agents: int, run: int) -> dict[str, float]:
    scenario = small("historical_2025", agents=agents, days=DAYS)
    result = run_one(scenario, run)
    x, day = result.series, {d: scenario.day_of(dt.date(2025, 1, d)) for d in (13, 16)}
    g = growth(x["cn_hashtag_views"][day[13] - 12 :])
    return {
        "hashtag_growth_14_13": g[0],
        "hashtag_growth_15_14": g[1],
        "hashtag_growth_16_15": g[2],
        "aware_share_16jan": x["cn_aware_share"][day[16]],
        "aware_share_20jan": x["cn_aware_share"][-1],
        **{k: result.metrics[k] for k in US_HEADLINES},
    }


def disagreements(names: tuple[str, ...], sizes: tuple[int, ...]) -> list[str]:
    """Headlines whose median at a size differs from the 1 M run by more than the noise allows."""
    reference = headlines(1_000_000, 0)
    found = []
    for agents in sizes:
        for name in names:
            logs = np.log([headlines(agents, run)[name] for run in range(RUNS)])
            tolerance = 3 * logs.std(ddof=1) / math.sqrt(RUNS) + 0.1
            gap = np.median(logs) - math.log(reference[name])
            if abs(gap) > tolerance:
                found.append(f"{name} at {agents}: median {math.exp(np.median(logs)):.3g} vs {reference[name]:.3g} at 1 M")
    return found


@pytest.mark.xfail(
    strict=True,
    reason="issue 12, open: fed the same foreign posts the Chinese side agrees at every size (the test above), but in "
    "the full model at the recalibrated levels the foreign volume of 200 000 agents is a few dozen agent posts a "
    "day, and the fitted steep trending response turns its noise into a faster take-off (aware share on 20 Jan: "
    "0.021 at 200 k, 0.004 at 1 M)",
)
def test_chinese_attention_does_not_depend_on_the_agent_count_where_the_us_side_does_not():
    assert not disagreements(CN_HEADLINES, (200_000,))


@pytest.mark.xfail(
    strict=True,
    reason="issue 12, open: with the recalibrated levels (about 1 M new US accounts, a surge of ~70 agents at "
    "20 000) the model is too coarse below ~1 M agents. Medians of 3 runs against one 1 M run, 1-20 Jan: peak US "
    "DAU 0.57 M (20 k), 0.37 M (50 k), 0.31 M (200 k), 0.25 M (1 M); Chinese aware share on 20 Jan 0.42, 0.13, "
    "0.021, 0.004; cross-cultural ties 1.04 M, 0.28 M, 0.09 M, 0.05 M. The fitted Chinese attention (a steep "
    "response far below its half-volume, near-critical peer noticing) amplifies the small-count noise.",
)
def test_headline_outputs_do_not_depend_on_the_agent_count():
    assert not disagreements(CN_HEADLINES + US_HEADLINES, (20_000, 50_000, 200_000))
