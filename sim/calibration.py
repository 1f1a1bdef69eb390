"""Calibration to the January 2025 observations (pattern-oriented: several patterns at once).

Each target compares an observation with **what its source measures**, computed from the model's
output by an observation function with its own parameters (section ``observation`` of the scenario):

- Similarweb's panel DAU = ``similarweb_dau_scale`` x the model's US RedNote DAU (ratios of two
  Similarweb figures do not depend on the scale; the model's pre-surge DAU is Similarweb's 6 Jan figure
  divided by the scale, see `with_parameters`). Similarweb's TikTok DAU is compared with the model's as
  it is: the model's TikTok use was set from Similarweb's own 13 Jan figure.
- Download trackers (Sensor Tower, Appfigures, the unnamed tracker of seed 003) count first-time
  downloads per store account: downloads = new accounts + ``reinstall_share`` x returns of dormant
  account holders.
- The company's "new users" = the model's new US accounts / ``company_us_share``.

The observation parameters are fitted jointly with the behaviour, each pulled towards its stated prior
(a z-score of its log value against the prior joins the targets' z-scores), so conflicting sources are
reconciled in the open: the fit file and the validation report show each scale's prior and fitted value.

Statements that give an interval ("more than 700 000", "fewer than 700 000") are compared as
intervals (``low``/``high``), each with the reasoning about its wording; there are no guessed point
values. The distance of a parameter set is the root mean square of the z-scores over the fit targets
and the priors. Every target has a role in a fit (`Target.role`): fitted; informed a fixed parameter
(an observation that set a parameter is never held out); conflicting (with the reason); or held out.
A time split (``fit_until``) fits only targets dated on or before that day; parameters no such data can
inform (`NOT_INFORMED_BEFORE`) are then left out at a stated value.

The search uses optuna's TPE sampler with replicate runs averaged per point (common random numbers
across points: run r of every trial uses the same seed). The good fits are the trials within
`GOOD_FIT_FACTOR` of the best distance (at least `MIN_GOOD_FITS`); their spread is the reported
uncertainty and their parameter sets drive the predictive bands of the validation report.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.ensemble import run_one
from sim.executor import Executor
from sim.observations import informed_parameters, observation
from sim.params import Scenario, UsUsers, assumption_range, iter_parameters, observation_priors
from sim.scenario import deep_merge, get_path, scenario_to_dict, set_path, validate, with_values


class Free(NamedTuple):
    """A free parameter's range (searched by the point fit; the support of the posterior's prior)."""

    lower: float
    upper: float
    log: bool  # log scale: log-uniform prior, searched on a log scale
    source: str  # why this range (the prior's source); observation scales: their log-normal prior in sim.params


FREE_PARAMETERS: dict[str, Free] = {
    "us_users.join_salience_rate": Free(1e-4, 3e-3, True, "assumption: daily chance of a news-driven sign-up per unit of "
        "salience, from one in ten thousand to a third of a percent"),
    "us_users.peer_influence": Free(0.005, 1.5, True, "Bass-diffusion imitation coefficient q; reviews of product "
        "diffusion (Sultan, Farley & Lehmann 1990) put q near 0.38, ranging 0.1-1; widened below to 0.005 (the posterior "
        "of the history piled against the earlier bound 0.05) to allow broadcast-led joining"),
    "us_users.creator_salience_multiplier": Free(3.0, 300.0, True, "assumption: creators respond 3-300x as strongly as other "
        "users (the 12 Jan how-to-join videos came from creators: seed articles 001, 004)"),
    "us_users.dormant_return_multiplier": Free(0.3, 30.0, True, "assumption: the surge raises the return rate of dormant "
        "account holders (3.4 M lifetime downloads, Appfigures) between a third and thirty times"),
    "us_users.dormant_return_base": Free(1e-4, 3e-2, True, "assumption: quiet daily returns of dormant holders that keep the "
        "pre-surge DAU (300 k on 6 Jan, Similarweb) against lapses; a hundredfold range around the needed level"),
    "us_users.habit": Free(-3.0, 4.0, False, "assumption: the utility constant of staying, over seven logits (a range wide "
        "enough for members to lapse within days or to stay for months)"),
    "us_users.use_shift": Free(-4.0, 3.0, False, "assumption: shift of the daily-use logit, over seven logits (from few to "
        "almost all members opening the app on a given day)"),
    "us_users.join_displaced_rate": Free(1e-4, 0.05, True, "assumption: daily sign-up chance of users without a working "
        "TikTok (18-19 Jan outage, store removal), up to 5 % a day"),
    "us_users.tiktok_return_rush": Free(0.0, 1.5, False, "assumption: extra pull of TikTok on the day service returned "
        "(19 Jan, a one-year high of TikTok DAU, Similarweb), 0 = none"),
    "cn_users.trend_rate": Free(1e-3, 1.0, True, "assumption: daily hazard that a Chinese user notices the trending hashtag "
        "at full response, from 0.001 to 1"),
    "cn_users.trend_half_signups": Free(1e4, 1e7, True, "assumption: US sign-ups a day at which the hashtag trends at half "
        "response, from 10 k to 10 M (the company reported 700 k new users in two days)"),
    "cn_users.trend_steepness": Free(1.0, 10.0, False, "assumption: Hill exponent of the trending response, from gradual (1) "
        "to a switch (10)"),
    "cn_users.awareness_peer_influence": Free(0.1, 5.0, True, "assumption: how fast noticing spreads among followers, per "
        "noticing followee share"),
    "observation.similarweb_dau_scale": Free(0.1, 30.0, True, "log-normal prior in sim.params (Observation), truncated here"),
    "observation.reinstall_share": Free(0.001, 1.0, True, "log-normal prior in sim.params (Observation), truncated here"),
    "observation.company_us_share": Free(0.1, 1.0, True, "log-normal prior in sim.params (Observation), truncated here"),
}  # fmt: skip
# Assumed parameters that the Morris screen over every assumption (`python run.py sensitivity --factors
# assumptions`, docs/validation/assumption_screen.md) found influential for Day-90 retention or peak US DAU:
# inferred with the rest, each with a log-uniform prior from half to twice its assumed value.
SCREENED_ASSUMPTIONS = (
    "us_users.taste_sd",
    "us_users.w_tenure",
    "us_users.w_novelty",
    "us_users.chinese_literacy_mean",
    "network.us_mean_following",
    "network.popularity_exponent",
    "network.creator_share",
    "network.popularity_cap_quantile",
    "platform.translation.quality",  # also a lever: its prior describes 2025's translation; scenarios may set it
)


def _screened(path: str) -> Free:
    source = (dict(iter_parameters())[path].json_schema_extra or {}).get("source", "assumption")
    return Free(*assumption_range(path), True, f"{source}; half to twice that value: influential in the assumption screen")


FREE_PARAMETERS.update({path: _screened(path) for path in SCREENED_ASSUMPTIONS})
NOT_INFORMED_BEFORE: dict[str, tuple[dt.date, float, str]] = {
    # dotted path: (first day data can inform it, value when a time split leaves it out, why)
    "us_users.tiktok_return_rush": (
        dt.date(2025, 1, 19),
        0.0,
        "acts only when TikTok's service returns (19 Jan); its default was read off the 19 Jan TikTok DAU, "
        "so a fit that predicts 19 Jan sets it to 0 (no rush)",
    ),
    "us_users.join_displaced_rate": (
        dt.date(2025, 1, 18),
        float(UsUsers.model_fields["join_displaced_rate"].default),
        "acts only while TikTok is dark or out of the app stores (from 18 Jan); left at the schema default (assumption)",
    ),
}
GOOD_FIT_FACTOR = 1.25
MIN_GOOD_FITS = 5
REEVALUATE_TOP = 16  # best trials re-run with fresh replicates (avoids picking a lucky draw)
REEVALUATE_RUNS = 6
UNINFORMATIVE_FACTOR = 100.0  # a 10-90 % band wider than this factor tells nothing (never 'inside')


Series = dict[str, np.ndarray]


def _day(scenario: Scenario, series: Series, column: str, date: str) -> int | None:
    day = scenario.day_of(dt.date.fromisoformat(date))
    return day if 0 <= day < len(series[column]) else None


def _at(scenario: Scenario, series: Series, column: str, date: str) -> float:
    """The value of ``column`` on ``date``; NaN if the run does not cover that day."""
    day = _day(scenario, series, column, date)
    return math.nan if day is None else float(series[column][day])


def _sum(scenario: Scenario, series: Series, column: str, first: str, last: str) -> float:
    """Sum of ``column`` from ``first`` to ``last`` (inclusive); NaN if the run does not cover them."""
    a, b = (_day(scenario, series, column, d) for d in (first, last))
    return math.nan if a is None or b is None else float(series[column][a : b + 1].sum())


# ---- observation functions: what each source measures, from the model's output
def similarweb_dau(scenario: Scenario, series: Series, date: str) -> float:
    """Similarweb's panel estimate of US RedNote DAU on ``date``: its scale x the model's DAU."""
    return scenario.observation.similarweb_dau_scale * _at(scenario, series, "us_rednote_dau", date)


def similarweb_tiktok_dau(scenario: Scenario, series: Series, date: str) -> float:
    """Similarweb's US TikTok DAU: the model's (its TikTok use was set from Similarweb's 13 Jan figure)."""
    return _at(scenario, series, "us_tiktok_dau", date)


def downloads(scenario: Scenario, series: Series, first: str, last: str) -> float:
    """First-time US downloads from ``first`` to ``last`` as the trackers count them: new accounts plus
    the share of dormant holders' returns made on another store account (`reinstall_share`)."""
    new = _sum(scenario, series, "us_rednote_signups", first, last)
    returns = _sum(scenario, series, "us_rednote_reactivations", first, last)
    return new + scenario.observation.reinstall_share * returns


def company_new_users(scenario: Scenario, series: Series, first: str, last: str) -> float:
    """The company's count of new users: the model's new US accounts over the US share of them."""
    return _sum(scenario, series, "us_rednote_signups", first, last) / scenario.observation.company_us_share


def _ratio(a: float, b: float) -> float:
    return a / max(b, 1.0) if math.isfinite(a) and math.isfinite(b) else math.nan  # counts: at least one person


def hashtag_counter(scenario: Scenario, series: Series, beijing_date: str) -> float:
    """The #TikTokRefugee page's view counter as read on ``beijing_date``: the model's views sought out,
    summed from the hashtag's first day. The readings are Beijing dates, 13 hours ahead of the model's US
    Eastern days (the 14 Jan reading was taken in the Beijing morning, still 13 Jan in New York), so a
    reading dated D counts the model's days up to D - 1, from 12 Jan (13 Jan in Beijing)."""
    last = (dt.date.fromisoformat(beijing_date) - dt.timedelta(days=1)).isoformat()
    return _sum(scenario, series, "cn_hashtag_views", "2025-01-12", last)


def _hashtag_growth(day_from: str, day_to: str) -> Callable[[Scenario, Series], float]:
    """Growth factor of the hashtag's view counter between two Beijing-dated readings."""

    def f(s: Scenario, x: Series) -> float:
        return _ratio(hashtag_counter(s, x, day_to), max(hashtag_counter(s, x, day_from), 1.0))

    return f


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    low: float | None  # the source says at least this (None: no lower end)
    high: float | None  # ... and at most this (None: no upper end); a point value has low == high
    model: Callable[[Scenario, Series], float]  # the observation function: what the source measures
    sigma: float  # tolerance on the compared scale
    date: dt.date  # last day the observation covers (the time split uses it)
    measures: str  # the observation function in words
    source: str
    rows: tuple[tuple[str, str], ...]  # (metric, date) rows of data/observed_2025.csv it compares
    log: bool = True
    fit: bool = False  # a fit target of the full calibration
    conflicting: str = ""  # why it is kept out of the fit as conflicting with the fitted sources
    wording: str = ""  # how the source's words became low / high

    @property
    def observed(self) -> float:
        """A representative value: the point, the one end given, or the geometric middle of an interval."""
        if self.low is None or self.high is None:
            return float(self.high if self.low is None else self.low)
        return math.sqrt(self.low * self.high) if self.log and self.low > 0 else (self.low + self.high) / 2

    @property
    def informs(self) -> tuple[str, ...]:
        """Fixed parameters set by the observations this target compares."""
        return tuple(p for metric, date in self.rows for p in informed_parameters(metric, date))

    def role(self, fitted: set[str] | None = None) -> str:
        """'fitted', 'informed <parameters>', 'conflicting' or 'held out' in a fit that used the targets
        ``fitted`` (None: the full calibration). An observation that set a parameter is never held out."""
        if self.fit if fitted is None else self.name in fitted:
            return "fitted"
        if self.informs:
            return "informed " + ", ".join(self.informs)
        if self.conflicting:
            return "conflicting"
        return "held out"

    def _scale(self, v: float) -> float:
        return math.log(max(v, 1e-12)) if self.log else v

    def z(self, value: float) -> float:
        """Distance of ``value`` from the observed interval on the compared scale, in tolerances."""
        x = self._scale(value)
        if self.low is not None and x < self._scale(self.low):
            return (x - self._scale(self.low)) / self.sigma
        if self.high is not None and x > self._scale(self.high):
            return (x - self._scale(self.high)) / self.sigma
        return 0.0

    def inside(self, p10: float, p90: float) -> bool:
        """The model's 10-90 % band meets the observation (a point lies inside it; an interval overlaps it)."""
        eps = 1e-9
        below = self.high is not None and p10 > self.high + eps * abs(self.high)
        above = self.low is not None and p90 < self.low - eps * abs(self.low)
        return not (below or above)

    def consistent(self, p10: float, p90: float) -> bool:
        """The band overlaps the observation's own uncertainty (observed +- sigma on the compared scale)."""
        return self.z(p10) <= 1.0 and self.z(p90) >= -1.0

    def uninformative(self, p10: float, p90: float) -> bool:
        """A band on a log scale spanning more than `UNINFORMATIVE_FACTOR` (or reaching zero) tells nothing."""
        return self.log and (p10 <= 0 or p90 / p10 > UNINFORMATIVE_FACTOR)

    def status(self, p10: float | None, p90: float | None) -> str:
        """'uninformative', 'inside', 'within tolerance' or 'miss' ('no value' if no run covers the date)."""
        if p10 is None or p90 is None:
            return "no value"
        if self.uninformative(p10, p90):
            return "uninformative"
        if self.inside(p10, p90):
            return "inside"
        return "within tolerance" if self.consistent(p10, p90) else "miss"


def targets() -> list[Target]:
    dau, views, tt = "rednote_us_dau", "hashtag_tiktokrefugee_views", "tiktok_us_dau"
    v13, v14, v15, v16 = (observation(views, f"2025-01-{d}") for d in (13, 14, 15, 16))
    d = dt.date.fromisoformat
    sw = "Similarweb panel DAU = similarweb_dau_scale x the model's US RedNote DAU"
    sw_ratio = "ratio of two Similarweb DAU estimates (its scale cancels) = ratio of the model's US RedNote DAU"
    dl = "first-time downloads = new US accounts + reinstall_share x returns of dormant holders"
    return [
        Target("dau_6jan", "US RedNote DAU on 6 Jan (level)", observation(dau, "2025-01-06"), observation(dau, "2025-01-06"),
               lambda s, x: similarweb_dau(s, x, "2025-01-06"), sigma=0.3, date=d("2025-01-06"), measures=sw,
               source="Similarweb via Reuters", rows=((dau, "2025-01-06"),), fit=True),
        Target("dau_12jan_upper", "US RedNote DAU on 12 Jan is below 0.7 M (upper bound)", None, observation(dau, "2025-01-12"),
               lambda s, x: similarweb_dau(s, x, "2025-01-12"), sigma=0.1, date=d("2025-01-12"), measures=sw,
               source="Similarweb via Reuters", rows=((dau, "2025-01-12"),), fit=True,
               wording="'fewer than 700,000': an upper bound; the words give no floor and none is added (the 6 Jan "
                       "level and the ratios carry it)"),
        Target("jump_13_over_12", "one-day jump of US RedNote DAU, 13 Jan / 12 Jan (at least 3.4 / 0.7)",
               observation(dau, "2025-01-13") / observation(dau, "2025-01-12"), None,
               lambda s, x: _ratio(_at(s, x, "us_rednote_dau", "2025-01-13"), _at(s, x, "us_rednote_dau", "2025-01-12")),
               sigma=0.2, date=d("2025-01-13"), measures=sw_ratio, source="Similarweb via Reuters",
               rows=((dau, "2025-01-12"), (dau, "2025-01-13")), fit=True,
               wording="12 Jan is an upper bound, so the ratio is a lower bound"),
        Target("dau_13_over_6", "growth of US RedNote DAU, 13 Jan / 6 Jan",
               observation(dau, "2025-01-13") / observation(dau, "2025-01-06"), observation(dau, "2025-01-13") / observation(dau, "2025-01-06"),
               lambda s, x: _ratio(_at(s, x, "us_rednote_dau", "2025-01-13"), _at(s, x, "us_rednote_dau", "2025-01-06")),
               sigma=0.3, date=d("2025-01-13"), measures=sw_ratio, source="Similarweb via Reuters",
               rows=((dau, "2025-01-06"), (dau, "2025-01-13")), fit=True),
        Target("new_users_13_14jan", "the company's new users on 13-14 Jan ('more than 700,000')",
               observation("rednote_new_users_2d", "2025-01-14"), 1.0e6,
               lambda s, x: company_new_users(s, x, "2025-01-13", "2025-01-14"), sigma=0.2, date=d("2025-01-14"),
               measures="the company's new users = new US accounts / company_us_share",
               source="Reuters, person close to the company", rows=(("rednote_new_users_2d", "2025-01-14"),), fit=True,
               wording="'more than 700,000': a speaker with a count above a million would have said 'more than a "
                       "million', so the count lies between 0.7 and 1 M"),
        Target("tiktok_dau_change", "US TikTok DAU change, 13 Jan vs 6 Jan (multi-homing)",
               observation("tiktok_us_dau_wow_change", "2025-01-13"), observation("tiktok_us_dau_wow_change", "2025-01-13"),
               lambda s, x: _ratio(similarweb_tiktok_dau(s, x, "2025-01-13"), similarweb_tiktok_dau(s, x, "2025-01-06")) - 1.0,
               sigma=0.02, log=False, date=d("2025-01-13"), measures="ratio of two Similarweb TikTok DAU estimates, minus 1",
               source="Similarweb via Reuters (-2.1% week over week; weekly DAU noise ~2%)",
               rows=(("tiktok_us_dau_wow_change", "2025-01-13"),), fit=True),
        Target("downloads_8_14_over_1_7", "US downloads 8-14 Jan / 1-7 Jan ('more than 20 times')",
               observation("rednote_us_downloads_7d_growth", "2025-01-14"), 30.0,
               lambda s, x: _ratio(downloads(s, x, "2025-01-08", "2025-01-14"), downloads(s, x, "2025-01-01", "2025-01-07")),
               sigma=0.3, date=d("2025-01-14"), measures="ratio of " + dl, source="Sensor Tower via DESIblitz",
               rows=(("rednote_us_downloads_7d_growth", "2025-01-14"),), fit=True,
               wording="'more than 20 times': a figure in hand is rounded down to the round number below; above 30 the "
                       "writer would have said 'more than 30 times', as the same sentence does for the year-over-year growth"),
        Target("downloads_few_weeks", "US downloads 11 Jan - 7 Feb ('over 1.2 million in just a few weeks')",
               observation("rednote_us_downloads_few_weeks", "2025-02-07"), 1.5e6,
               lambda s, x: downloads(s, x, "2025-01-11", "2025-02-07"), sigma=0.2, date=d("2025-02-07"), measures=dl,
               source="Asia Society, 8 Feb 2025 (seed article 003)", rows=(("rednote_us_downloads_few_weeks", "2025-02-07"),),
               fit=True,
               wording="'over 1.2 million': with 1.5 million or more the writer would have said 'about 1.5 million'; 'in "
                       "just a few weeks' up to the article of 8 Feb: read as the four weeks 11 Jan - 7 Feb (before 11 Jan "
                       "downloads ran at about 3 000 a day, so the start matters little)"),
        Target("hashtag_growth_14_15", "cumulative #TikTokRefugee views, 15 Jan / 14 Jan", v15 / v14, v15 / v14,
               _hashtag_growth("2025-01-14", "2025-01-15"), sigma=0.4, date=d("2025-01-15"),
               measures="the hashtag page's view counter (Beijing dates: the model's views from 12 Jan ET to the day before; a ratio)",
               source="XHS hashtag page via TechNode, CNN", rows=((views, "2025-01-14"), (views, "2025-01-15")), fit=True),
        Target("tiktok_dau_19jan", "US TikTok DAU on 19 Jan (service restored at noon)", observation(tt, "2025-01-19"),
               observation(tt, "2025-01-19"), lambda s, x: similarweb_tiktok_dau(s, x, "2025-01-19"), sigma=0.1,
               date=d("2025-01-19"), measures="Similarweb TikTok DAU = the model's US TikTok DAU",
               source="Similarweb blog (a one-year high)", rows=((tt, "2025-01-19"),), fit=True),
        # ---- not fitted
        Target("hashtag_growth_13_14", "cumulative #TikTokRefugee views, 14 Jan / 13 Jan", v14 / v13, v14 / v13,
               _hashtag_growth("2025-01-13", "2025-01-14"), sigma=0.7, date=d("2025-01-14"),
               measures="the hashtag page's view counter (Beijing dates: the model's views from 12 Jan ET to the day before; a ratio)",
               source="XHS hashtag page via TechNode (13 Jan was the hashtag's first, partial day: a ratio to a near-zero base)",
               rows=((views, "2025-01-13"), (views, "2025-01-14"))),
        Target("hashtag_growth_15_16", "cumulative #TikTokRefugee views, 16 Jan / 15 Jan", v16 / v15, v16 / v15,
               _hashtag_growth("2025-01-15", "2025-01-16"), sigma=0.3, date=d("2025-01-16"),
               measures="the hashtag page's view counter (Beijing dates: the model's views from 12 Jan ET to the day before; a ratio)",
               source="XHS hashtag page via CNN, Xinhua", rows=((views, "2025-01-15"), (views, "2025-01-16"))),
        Target("downloads_week_over_week", "US downloads per day 6-12 Jan / 1-5 Jan (+194 % week over week)",
               1.0 + observation("rednote_us_downloads_wow_change", "2025-01-14"), 1.0 + observation("rednote_us_downloads_wow_change", "2025-01-14"),
               lambda s, x: _ratio(downloads(s, x, "2025-01-06", "2025-01-12") / 7, downloads(s, x, "2025-01-01", "2025-01-05") / 5),
               sigma=0.5, date=d("2025-01-12"), measures="ratio of " + dl, source="Sensor Tower via Reuters/CNN",
               rows=(("rednote_us_downloads_wow_change", "2025-01-14"),),
               wording="'this week' in an article of 14 Jan, window not stated: read as 6-12 Jan against the week before "
                       "(the model starts on 1 Jan: daily means, 1-5 Jan); a week holding 13-14 Jan would contradict the "
                       "'more than 20 times' of 8-14 Jan from the same tracker"),
        Target("other_app_dau_13jan", "US DAU of the other app (Lemon8) on 13 Jan", observation("lemon8_us_dau", "2025-01-13"),
               observation("lemon8_us_dau", "2025-01-13"), lambda s, x: _at(s, x, "us_other_dau", "2025-01-13"), sigma=0.3,
               date=d("2025-01-13"), measures="Similarweb DAU of Lemon8 = the model's other-app DAU",
               source="Similarweb via Reuters", rows=(("lemon8_us_dau", "2025-01-13"),)),
    ]  # fmt: skip


def fit_targets(fit_until: dt.date | None = None) -> list[Target]:
    """The targets a fit uses: the full calibration's, dated on or before ``fit_until`` if given."""
    return [t for t in targets() if t.fit and (fit_until is None or t.date <= fit_until)]


def fit_end(fit_until: dt.date | None = None) -> dt.date:
    """The calibration's run horizon: the last day any of its fit targets reads."""
    return max(t.date for t in fit_targets(fit_until))


def free_parameters(fit_until: dt.date | None = None) -> dict[str, Free]:
    """The parameters a fit searches: all of `FREE_PARAMETERS` but those no data up to ``fit_until`` can inform."""
    left_out = not_fitted(fit_until)
    return {p: r for p, r in FREE_PARAMETERS.items() if p not in left_out}


def not_fitted(fit_until: dt.date | None = None) -> dict[str, tuple[float, str]]:
    """Free parameters a time split leaves out: path -> (the value it uses, why)."""
    if fit_until is None:
        return {}
    return {p: (v, why) for p, (first, v, why) in NOT_INFORMED_BEFORE.items() if fit_until < first and p in FREE_PARAMETERS}


def prior_z(values: dict[str, float]) -> dict[str, float]:
    """z of each observation-model parameter's log value against its prior (only those in ``values``)."""
    priors = observation_priors()
    return {p: (math.log(v) - math.log(priors[p][0])) / priors[p][1] for p, v in values.items() if p in priors}


def with_parameters(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with dotted-path parameters replaced. When Similarweb's scale is among them, the
    model's pre-surge US DAU becomes Similarweb's 6 Jan figure divided by that scale (the figure that
    set `population.us_rednote_dau` is in Similarweb's units), at most the accounts that exist."""
    values = {path: float(value) for path, value in values.items()}
    scale = values.get("observation.similarweb_dau_scale")
    if scale is not None:
        accounts = float(get_path(scenario, "population.us_rednote_accounts"))
        values["population.us_rednote_dau"] = min(observation("rednote_us_dau", "2025-01-06") / scale, accounts)
    return with_values(scenario, values, source="calibration point")


def parameter_draw(scenario: Scenario, run: int) -> Scenario:
    """The scenario run ``run`` runs. With a posterior fit (`Calibration.posterior`) and ``parameters:
    posterior``, the fitted parameters are those of posterior draw ``run mod D`` (`Calibration.good_fits`):
    run r of every scenario and every tool uses the same draw and the same random numbers, so paired
    differences carry parameter uncertainty. A fitted parameter the scenario sets to a value other than the
    fit's point estimate (a lever, a variant's own value) keeps that value."""
    draws = posterior_draws(scenario)
    if not draws:
        return scenario
    cal = scenario.calibration
    draw = draws[run % len(draws)]
    return with_parameters(scenario, {p: v for p, v in draw.items() if get_path(scenario, p) == cal.parameters[p].best})


def posterior_draws(scenario: Scenario) -> list[dict[str, float]]:
    """The posterior draws runs of ``scenario`` take their fitted parameters from (run r: draw r mod D);
    empty when it runs a point estimate (no posterior fit, or ``parameters: point``)."""
    cal = scenario.calibration
    if scenario.parameters != "posterior" or cal is None or cal.posterior is None:
        return []
    return cal.good_fits


def parameter_source(scenario: Scenario, run: int) -> str:
    """Where run ``run``'s fitted parameters come from, in words (what the view and reports say)."""
    cal, draws = scenario.calibration, posterior_draws(scenario)
    if cal is None:
        return "the scenario's own values (no fit)"
    if not draws:
        kind = "posterior medians" if cal.posterior is not None else "best fit"
        return f"the fit's point estimate ({kind})"
    return f"posterior draw {run % len(draws)} of {len(draws)} (run {run})"


def statistics(scenario: Scenario, runs: int, run_offset: int = 0) -> dict[str, list[float]]:
    """Every target's model value in each of ``runs`` runs (NaN for dates past the horizon)."""
    out: dict[str, list[float]] = {t.name: [] for t in targets()}
    for run in range(run_offset, run_offset + runs):
        series = run_one(scenario, run).series
        for t in targets():
            out[t.name].append(t.model(scenario, series))
    return out


def distance(stats: dict[str, list[float]], values: dict[str, float] | None = None, fit_until: dt.date | None = None) -> float:
    """Root mean square of the z-scores of the run-averaged statistics over the fit targets (those dated
    on or before ``fit_until``) and of the priors of the observation parameters in ``values``."""
    zs = [t.z(float(np.mean(stats[t.name]))) for t in fit_targets(fit_until)]
    zs += list(prior_z(values or {}).values())
    return float(np.sqrt(np.mean(np.square(zs))))


def _evaluate(job: tuple[Scenario, dict[str, float], int, int, dt.date | None]) -> tuple[float, dict[str, list[float]]]:
    base, values, runs, run_offset, fit_until = job
    stats = statistics(with_parameters(base, values), runs, run_offset)
    return distance(stats, values, fit_until), stats


@dataclass
class CalibrationResult:
    best: dict[str, float]
    best_distance: float
    good: list[tuple[float, dict[str, float]]]
    trials: list[tuple[float, dict[str, float]]]
    fit_until: dt.date | None = None
    not_fitted: dict[str, tuple[float, str]] | None = None


def calibration_scenario(scenario: Scenario, fit_until: dt.date | None = None) -> Scenario:
    """The scenario a fit runs: horizon up to the last fit target, left-out parameters at their stated values."""
    end = max(fit_end(fit_until), scenario.start_date + dt.timedelta(days=1))
    fixed = {path: value for path, (value, _) in not_fitted(fit_until).items()}
    # the fit's own values in every run (a posterior fit of the base must not replace them: `parameter_draw`)
    return with_values(scenario.model_copy(update={"end_date": end, "parameters": "point"}), fixed, source="calibration scenario")


def calibrate(
    scenario: Scenario,
    budget: int,
    runs_per_point: int,
    executor: Executor | None = None,
    seed: int = 0,
    on_trial: Callable[[int, float], None] | None = None,
    fit_until: dt.date | None = None,
) -> CalibrationResult:
    """Search the free parameters with optuna (TPE), evaluating as many points at a time as the
    executor runs in parallel; then re-evaluate the best trials with `REEVALUATE_RUNS` fresh runs each
    and choose the best and the good fits on those fresh distances. With ``fit_until`` (a time split)
    only targets dated up to that day count, and the search starts from the schema defaults rather than
    from the scenario's values (which may come from a fit to later data)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    free = free_parameters(fit_until)
    fit_scenario = calibration_scenario(scenario, fit_until)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(max(10, budget // 5), budget), multivariate=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    start = Scenario(name="defaults") if fit_until is not None else scenario
    study.enqueue_trial({p: _current(start, p) for p in free})
    trials: list[tuple[float, dict[str, float]]] = []
    executor = executor or Executor()
    while len(trials) < budget:
        batch = [study.ask() for _ in range(min(executor.parallelism, budget - len(trials)))]
        points = [{p: t.suggest_float(p, f.lower, f.upper, log=f.log) for p, f in free.items()} for t in batch]
        outcomes = executor.map(_evaluate, [(fit_scenario, values, runs_per_point, 0, fit_until) for values in points])
        for trial, values, (dist, _) in zip(batch, points, outcomes):
            study.tell(trial, dist)
            trials.append((dist, values))
            if on_trial:
                on_trial(len(trials), dist)
    # Re-run the best trials with fresh replicates: the search's own distances favour lucky draws.
    trials.sort(key=lambda t: t[0])
    top = [values for _, values in trials[: min(REEVALUATE_TOP, len(trials))]]
    fresh = executor.map(_evaluate, [(fit_scenario, values, REEVALUATE_RUNS, runs_per_point, fit_until) for values in top])
    rescored = sorted(((dist, values) for (dist, _), values in zip(fresh, top)), key=lambda t: t[0])
    best_distance = rescored[0][0]
    good = [t for t in rescored if t[0] <= GOOD_FIT_FACTOR * best_distance]
    if len(good) < MIN_GOOD_FITS:
        good = rescored[: min(MIN_GOOD_FITS, len(rescored))]
    return CalibrationResult(
        best=rescored[0][1],
        best_distance=best_distance,
        good=good,
        trials=trials,
        fit_until=fit_until,
        not_fitted=not_fitted(fit_until),
    )


def _current(scenario: Scenario, path: str) -> float:
    free = FREE_PARAMETERS[path]
    return float(min(max(float(get_path(scenario, path)), free.lower), free.upper))


def fit_document(scenario_name: str, result: CalibrationResult, budget: int, runs_per_point: int, agents: int, seed: int) -> dict:
    """The YAML document of a fit file: fitted values plus provenance (schema: `sim.params.Calibration`).
    Parameters a time split left out are written at the value the fit used, so a scenario applying
    this fit never inherits a value fitted to later data."""
    suffix = f"_until_{result.fit_until.isoformat()}" if result.fit_until else ""
    doc: dict = {
        "name": f"{scenario_name}{suffix}_fit",
        "description": f"Parameters fitted by `python run.py calibrate` for {scenario_name}"
        + (f", to the observations up to {result.fit_until.isoformat()} only (a time split)." if result.fit_until else "."),
    }
    for path, value in result.best.items():
        set_path(doc, path, float(value))
    for path, (value, _) in (result.not_fitted or {}).items():
        set_path(doc, path, float(value))
    scale = result.best.get("observation.similarweb_dau_scale")
    if scale is not None:  # the pre-surge DAU in the model's units (see with_parameters)
        set_path(doc, "population.us_rednote_dau", observation("rednote_us_dau", "2025-01-06") / float(scale))
    priors = observation_priors()
    spread = {}
    for path in result.best:
        lo, hi = FREE_PARAMETERS[path].lower, FREE_PARAMETERS[path].upper
        values = np.array([v[path] for _, v in result.good])
        p10, med, p90 = np.percentile(values, [10, 50, 90])
        spread[path] = {
            "best": float(result.best[path]),
            "p10": float(p10),
            "median": float(med),
            "p90": float(p90),
            "lower": lo,
            "upper": hi,
        }
        if path in priors:
            spread[path] |= {"prior_median": priors[path][0], "prior_log_sd": priors[path][1]}
    fitted = [t.name for t in fit_targets(result.fit_until)]
    doc["calibration"] = {
        "method": f"optuna TPE (multivariate), replicate runs averaged per point, common random numbers; "
        f"best {REEVALUATE_TOP} trials re-run with {REEVALUATE_RUNS} fresh runs each; "
        "observation scales fitted jointly with log-normal priors",
        "date": dt.date.today().isoformat(),
        "budget": budget,
        "runs_per_point": runs_per_point,
        "agents": agents,
        "seed": seed,
        "distance": float(result.best_distance),
        "good_fit_distance": float(max(d for d, _ in result.good)),
        "targets": fitted,
        "held_out": [t.name for t in targets() if t.name not in fitted],
        "parameters": spread,
        "good_fits": [{k: float(v) for k, v in values.items()} for _, values in result.good],
        "fit_until": result.fit_until.isoformat() if result.fit_until else None,
        "not_fitted": {p: f"{v:g}: {why}" for p, (v, why) in (result.not_fitted or {}).items()},
    }
    return doc


FIT_SECTIONS = ("population", "us_users", "cn_users", "observation")


def apply_fit(scenario: Scenario, fit: dict) -> Scenario:
    """A scenario with a fit document's parameters merged in and its calibration record replacing the
    scenario's (used by the validation's time split, tests and notebooks)."""
    merged = deep_merge(scenario_to_dict(scenario), {k: v for k, v in fit.items() if k in FIT_SECTIONS})
    if "calibration" in fit:
        merged["calibration"] = fit["calibration"]
    return validate(merged, source="fit")
