"""The scenario schema: every parameter, its default, its allowed range and its source.

A scenario YAML file is validated against `Scenario`. Keys are strict (a typo is an error, never a
silent default, as in Covasim), types are strict (``"0.5"`` is not a number, ``1`` is not a boolean) and
every number has a documented range. Each field carries a ``source``: a citation, an entry of
``data/observed_2025.csv``, or the word "assumption". ``docs/ODD.md`` lists them all.

Rates are per day; counts of people are real people (not agents).
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

TOPICS = ("pets_culture", "lifestyle", "appearance", "politics", "entertainment")
"""Post topics: the categories of Li et al. 2025 (cultural/pets, appearance, political) plus RedNote's
core lifestyle content and TikTok-style entertainment."""

PARAMETER_SET_VERSION = "2025.5"
"""Version of the default parameter set; bump it when a default changes (results then change)."""


def _iso_date(value: Any) -> Any:
    """Accept quoted ISO dates ("2025-01-19") as well as YAML's unquoted ones."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


EARLIEST_DATE, LATEST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
"""Dates a scenario may use: with outages of at most `MAX_OUTAGE_HOURS` every computed instant stays far
inside what the calendar (and matplotlib's date axis) can hold."""
MAX_OUTAGE_HOURS = 1_000_000  # about 114 years; null means for good


def _date_in_range(value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"must be a calendar date from {EARLIEST_DATE} to {LATEST_DATE} (got {value})")
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date), AfterValidator(_date_in_range)]

NAME_PATTERN = re.compile(r"\w[\w.-]{0,99}")
"""A scenario name is a plain file name (it names the default output folder): a letter, digit or _ first,
then up to 99 letters, digits, '.', '_' or '-'."""


def P(default: Any, lo: float | None = None, hi: float | None = None, *, src: str, doc: str) -> Any:
    """A documented parameter: default, inclusive range [lo, hi], source and meaning."""
    return Field(default, ge=lo, le=hi, description=doc, json_schema_extra={"source": src})


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --------------------------------------------------------------------------------------------------
# Populations and network
# --------------------------------------------------------------------------------------------------
class Population(Section):
    us_people: float = P(
        170e6,
        1e3,
        1e10,
        src="observed_2025.csv: tiktok_us_users (TikTok's claim)",
        doc="US TikTok users represented by the US agents.",
    )
    cn_people: float = P(
        300e6,
        1e3,
        1e10,
        src="observed_2025.csv: rednote_mau (Qian Gua)",
        doc="RedNote monthly users represented by the Chinese agents.",
    )
    us_agent_share: float = P(
        0.6,
        0.05,
        0.95,
        src="assumption (resolution choice: migrants are rare, so US agents get more)",
        doc="Share of the agents that are US users; the rest are Chinese users.",
    )
    us_rednote_accounts: float = P(
        3.4e6,
        0,
        1e9,
        src="observed_2025.csv: rednote_us_lifetime_downloads (Appfigures)",
        doc="US people holding a RedNote account at the start (active or dormant).",
    )
    us_rednote_dau: float = P(
        3.0e5,
        0,
        1e9,
        src="observed_2025.csv: rednote_us_dau 2025-01-06 (Similarweb)",
        doc="US RedNote daily active users at the start (a subset of the accounts).",
    )
    us_rednote_daily_share: float = P(
        0.5,
        0.01,
        1,
        src="assumption (DAU/MAU of social apps is about 0.5)",
        doc="With daily use as a choice: share of pre-surge members who open RedNote on a given day (the start has "
        "us_rednote_dau / this many members).",
    )
    us_tiktok_daily_use: float = P(
        0.49,
        0.01,
        1,
        src="observed_2025.csv: tiktok_us_dau 82.2M / 170M users, before the 2.1% dip",
        doc="Mean probability that a US user with TikTok installed opens it on a given day.",
    )
    cn_daily_use: float = P(
        0.4,
        0.01,
        1,
        src="assumption (RedNote DAU/MAU ratio is not public; ~0.4 is typical of the sector)",
        doc="Mean probability that a Chinese user opens RedNote on a given day.",
    )

    @model_validator(mode="after")
    def _dau_within_accounts(self) -> Population:
        if self.us_rednote_dau > self.us_rednote_accounts:
            raise ValueError("us_rednote_dau: must not exceed us_rednote_accounts")
        if self.us_rednote_accounts > self.us_people:
            raise ValueError("us_rednote_accounts: must not exceed us_people")
        return self


MAX_COMPLETE_USERS = 5_000
"""Largest population a 'complete' follow graph is built for (it has n * (n - 1) follows)."""


class Network(Section):
    kind: Literal["communities", "random", "complete"] = P(
        "communities",
        src="He et al. 2023; La Cava et al. 2023 (clustered co-migration)",
        doc="Follow graph: 'communities' (clustered, heavy-tailed followers), 'random' (Erdos-Renyi "
        "with the same mean out-degree) or 'complete' (for limit checks only; small sizes).",
    )
    us_mean_following: float = P(
        20.0,
        0.1,
        500,
        src="assumption (accounts a typical user follows closely enough to see their posts)",
        doc="Mean number of US accounts a US user follows.",
    )
    cn_mean_following: float = P(15.0, 0.1, 500, src="assumption", doc="Mean number of Chinese accounts a Chinese user follows.")
    community_size: int = P(
        150,
        2,
        100_000,
        src="assumption (Dunbar-sized interest communities)",
        doc="Mean size of the follow communities.",
    )
    within_community_share: float = P(
        0.7,
        0,
        1,
        src="assumption (co-migration clusters: He et al. 2023)",
        doc="Share of follows that stay inside the follower's community.",
    )
    popularity_exponent: float = P(
        2.1,
        1.5,
        4.0,
        src="assumption (follower counts on social platforms: power-law exponent ~2)",
        doc="Tail exponent of the follower-count (in-degree) distribution; smaller is heavier.",
    )
    popularity_cap_quantile: float = P(
        1e-3,
        1e-7,
        0.01,
        src="assumption (resolution: the follower distribution must have the same shape at every supported size, "
        "from 20 000 agents (12 000 US users); the top 0.1 %, the creators, share the cap; measured: their share of "
        "follows is 4.3-4.5 % from 12 000 to 600 000 users, against 5.7-14.2 % uncapped)",
        doc="Popularity is capped at the value this share of users exceeds, whatever the number of agents.",
    )
    creator_share: float = P(
        0.001,
        0,
        0.2,
        src="assumption (~170k US creators with large followings)",
        doc="Share of US users with the most followers counted as creators.",
    )


# --------------------------------------------------------------------------------------------------
# Exogenous US events
# --------------------------------------------------------------------------------------------------
class NewsEvent(Section):
    date: Date = P(..., src="MODEL_BRIEF.md section 2 (timeline)", doc="Calendar date of the event.")
    event: str = P(..., src="MODEL_BRIEF.md section 2", doc="Short name of the event.")
    salience: float = P(
        ...,
        -10,
        50,
        src="assumption (relative sizes; fitted in calibration)",
        doc="Jump in US ban salience on that day (negative = relief).",
    )
    audience: Literal["everyone", "creators"] = P(
        "everyone",
        src="MODEL_BRIEF.md 2 (12 Jan: creators post how-to-join videos)",
        doc="Who feels it: everyone, or only creators (calls to move that creators answer first).",
    )


class Outage(Section):
    start: Date = P(..., src="MODEL_BRIEF.md section 2", doc="Day the app goes dark in the US.")
    start_hour: float = P(0.0, 0, 24, src="MODEL_BRIEF.md section 2", doc="Hour of that day it goes dark.")
    hours: float | None = P(
        ...,
        0.01,
        MAX_OUTAGE_HOURS,
        src="MODEL_BRIEF.md section 2 (12-14 h in Jan 2025)",
        doc="How long it stays dark; null means for good.",
    )


class StoreRemoval(Section):
    removed: Date = P(..., src="MODEL_BRIEF.md section 2", doc="Day the app leaves the US app stores.")
    returned: Date | None = P(None, src="MODEL_BRIEF.md section 2", doc="Day it returns; null = never.")


class EnforcementPause(Section):
    start: Date = P(..., src="MODEL_BRIEF.md section 2", doc="Day an enforcement pause is announced.")
    until: Date = P(..., src="MODEL_BRIEF.md section 2", doc="Day the pause is due to end.")


class Timeline(Section):
    """US-side events (module `sim.events`)."""

    news: list[NewsEvent] = P([], src="MODEL_BRIEF.md section 2", doc="Dated news that moves ban salience.")
    salience_half_life_days: float = P(
        3.0,
        0.1,
        365,
        src="assumption (news attention decays within days; Quelle et al. 2025: ~1 week)",
        doc="Half-life of a news salience pulse.",
    )
    tiktok_outages: list[Outage] = P([], src="MODEL_BRIEF.md section 2", doc="Periods TikTok is dark.")
    dark_salience: float = P(
        2.0, 0, 10, src="assumption", doc="Ban salience added while TikTok is dark (times the dark share of the day)."
    )
    app_store_removals: list[StoreRemoval] = P([], src="MODEL_BRIEF.md section 2", doc="Periods TikTok cannot be installed.")
    store_removal_salience: float = P(
        0.3, 0, 10, src="assumption", doc="Ban salience added while TikTok is out of the app stores."
    )
    rednote_blocks: list[Outage] = P(
        [],
        src="seed articles 001, 003 (US officials said the law could apply to RedNote too)",
        doc="Periods RedNote's service is blocked in the US (no use, no sign-ups).",
    )
    rednote_store_removals: list[StoreRemoval] = P(
        [], src="seed articles 001, 003", doc="Periods RedNote cannot be installed in the US (no new accounts)."
    )
    enforcement_pauses: list[EnforcementPause] = P(
        [], src="MODEL_BRIEF.md section 2", doc="Executive orders pausing enforcement."
    )
    pause_relief: float = P(
        0.6, 0, 1, src="assumption", doc="Share of accumulated news salience removed when a pause is announced."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Timeline:
        for i, s in enumerate(self.app_store_removals):
            if s.returned is not None and s.returned <= s.removed:
                raise ValueError(f"app_store_removals[{i}].returned: must be after removed")
        for i, p in enumerate(self.enforcement_pauses):
            if p.until <= p.start:
                raise ValueError(f"enforcement_pauses[{i}].until: must be after start")
        return self


# --------------------------------------------------------------------------------------------------
# Platform policy and moderation (module `sim.regulator`)
# --------------------------------------------------------------------------------------------------
class Translation(Section):
    start: Date | None = P(
        dt.date(2025, 1, 19),
        src="MODEL_BRIEF.md section 2 (one-tap LLM translation, 19 Jan)",
        doc="Day built-in translation reaches everyone; null = never.",
    )
    quality: float = P(
        0.7,
        0,
        1,
        src="assumption (LLM translation of informal posts: good, not perfect)",
        doc="Share of the language barrier translation removes.",
    )
    grey_test_start: Date | None = P(
        dt.date(2025, 1, 17),
        src="MODEL_BRIEF.md section 2 (grey test ~17-18 Jan)",
        doc="Day a grey test gives translation to some users; null = no test.",
    )
    grey_test_share: float = P(0.1, 0, 1, src="assumption", doc="Share of users in the grey test.")


class RealName(Section):
    scope: Literal["none", "new_accounts", "all_foreign"] = P(
        "none",
        src="MODEL_BRIEF.md sections 2 and 4 (reported, unverified)",
        doc="Who must verify with mainland credentials: nobody, new foreign accounts, or all foreign accounts.",
    )
    start: Date | None = P(None, src="scenario lever", doc="Day verification starts (required unless scope is none).")
    credential_share: float = P(
        0.02,
        0,
        1,
        src="assumption (diaspora and students with a mainland phone number or ID)",
        doc="Share of US users able to verify.",
    )
    verification_friction: float = P(0.3, 0, 1, src="assumption", doc="Share of able users who give up at the verification step.")

    @model_validator(mode="after")
    def _start_matches_scope(self) -> RealName:
        if self.scope != "none" and self.start is None:
            raise ValueError(f"start: is required when scope is '{self.scope}' (a calendar date)")
        if self.scope == "none" and self.start is not None:
            raise ValueError("scope: is 'none' but start is set; use new_accounts or all_foreign, or drop start")
        return self


class WalledGarden(Section):
    enabled: bool = P(False, src="seed article 000 (dual-version strategy)", doc="Run a separate international feed.")
    start: Date | None = P(None, src="scenario lever", doc="Day it starts; null = from the first day.")
    cross_visibility: float = P(
        0.05, 0, 1, src="assumption", doc="Share of normal cross-feed reach foreign posts keep in the walled garden."
    )


class ServiceDegradation(Section):
    date: Date = P(..., src="MODEL_BRIEF.md section 2 (image loading failed 16 Jan)", doc="Day of the failure.")
    severity: float = P(..., 0, 1, src="assumption", doc="Share of the day's experience lost.")


class Moderation(Section):
    review_capacity: float = P(
        4.0e5,
        0,
        1e9,
        src="assumption (outsourced English moderators hired 13-16 Jan; reviews per day)",
        doc="Manual reviews per day for foreign posts and complaints (real posts).",
    )
    capacity_growth_per_day: float = P(
        0.05,
        0,
        1,
        src="assumption (hiring after the surge)",
        doc="Daily relative growth of review capacity after the state directive, up to capacity_max.",
    )
    capacity_max: float = P(2.0e6, 0, 1e10, src="assumption", doc="Largest review capacity after hiring.")
    directive_date: Date | None = P(
        dt.date(2025, 1, 13),
        src="MODEL_BRIEF.md section 2 (regulator instructions 13-16 Jan)",
        doc="Day the internet regulator tells the platform to watch foreign interactions; null = never.",
    )
    directive_tightening: float = P(0.3, 0, 1, src="assumption", doc="Tightening added by the directive.")
    manual_share_foreign: float = P(
        0.5,
        0,
        1,
        src="seed article 002 (machines weak on foreign slang; more manual review)",
        doc="Share of foreign-language posts the machine cannot decide and sends to manual review.",
    )
    machine_detection: float = P(
        0.6, 0, 1, src="assumption", doc="Probability the machine removes a violating foreign post it decides."
    )
    machine_false_positive: float = P(
        0.02, 0, 1, src="assumption", doc="Probability the machine removes a harmless foreign post it decides."
    )
    translation_accuracy_gain: float = P(
        0.5,
        0,
        1,
        src="assumption (translation lets Chinese-language tooling read the post)",
        doc="Share of the machine's foreign-language handicap removed by translation (times quality).",
    )
    manual_detection: float = P(0.9, 0, 1, src="assumption", doc="Probability a reviewer removes a violating post.")
    manual_false_positive: float = P(0.01, 0, 1, src="assumption", doc="Probability a reviewer removes a harmless post.")
    max_hold_days: int = P(
        2,
        0,
        30,
        src="MODEL_BRIEF.md section 2 ('visible after 48 h review')",
        doc="Held posts not reviewed within this many days are released on the machine's decision.",
    )
    complaint_true_success: float = P(
        0.7, 0, 1, src="assumption", doc="Probability a reviewed complaint against a violating post removes it."
    )
    complaint_malicious_success: float = P(
        0.05,
        0,
        1,
        src="seed article 000 (malicious complaints lead to sudden bans)",
        doc="Probability a reviewed complaint against a harmless post removes it.",
    )
    strike_limit: int = P(3, 1, 100, src="assumption", doc="Removed posts that get an account banned.")
    political_ban_prob: float = P(
        0.1,
        0,
        1,
        src="MODEL_BRIEF.md section 2 (opaque sudden bans of political posters)",
        doc="Probability a removed political post bans its author at once.",
    )
    tightening_gain: float = P(
        2.0, 0, 100, src="assumption", doc="Tightening per day per unit of violating share above tolerance."
    )
    violation_tolerance: float = P(0.05, 0, 1, src="assumption", doc="Violating share of foreign posts the regulator tolerates.")
    tightening_decay: float = P(0.02, 0, 1, src="assumption", doc="Daily relaxation of tightening.")


class Platform(Section):
    translation: Translation = Translation()
    real_name: RealName = RealName()
    walled_garden: WalledGarden = WalledGarden()
    moderation: Moderation = Moderation()
    service_degradations: list[ServiceDegradation] = P(
        [], src="MODEL_BRIEF.md section 2", doc="Days the app partly failed under load."
    )


class TopicValues(Section):
    """A value per post topic (keys: the names in `TOPICS`)."""

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, t) for t in TOPICS)


# --------------------------------------------------------------------------------------------------
# Behaviour of US users (module `sim.us_users`)
# --------------------------------------------------------------------------------------------------
class TopicShares(TopicValues):
    pets_culture: float = P(0.25, 0, 1, src="assumption (Li et al. 2025 categories)", doc="Share of pet and culture posts.")
    lifestyle: float = P(0.30, 0, 1, src="assumption", doc="Share of lifestyle posts (food, fashion, travel).")
    appearance: float = P(0.15, 0, 1, src="assumption", doc="Share of appearance and body posts.")
    politics: float = P(0.08, 0, 1, src="assumption", doc="Share of political posts.")
    entertainment: float = P(0.22, 0, 1, src="assumption", doc="Share of TikTok-style entertainment posts.")

    @model_validator(mode="after")
    def _positive_total(self) -> TopicShares:
        if sum(self.as_tuple()) <= 0:
            raise ValueError("pets_culture: topic shares must not all be zero")
        return self


class TopicFit(TopicValues):
    """Content fit of a topic with RedNote's lifestyle/search feed, in [0, 1]."""

    pets_culture: float = P(0.8, 0, 1, src="assumption (MODEL_BRIEF.md 4: lifestyle feed)", doc="Fit of pet and culture posts.")
    lifestyle: float = P(1.0, 0, 1, src="assumption", doc="Fit of lifestyle posts.")
    appearance: float = P(0.7, 0, 1, src="assumption", doc="Fit of appearance posts.")
    politics: float = P(0.1, 0, 1, src="assumption", doc="Fit of political posts.")
    entertainment: float = P(0.3, 0, 1, src="assumption", doc="Fit of entertainment video.")


class TopicViolation(TopicValues):
    """Probability a post of each topic breaks Chinese content rules."""

    pets_culture: float = P(0.005, 0, 1, src="assumption", doc="Violation probability of pet/culture posts.")
    lifestyle: float = P(0.01, 0, 1, src="assumption", doc="Violation probability of lifestyle posts.")
    appearance: float = P(
        0.08, 0, 1, src="MODEL_BRIEF.md 2 (body photos removed)", doc="Violation probability of appearance posts."
    )
    politics: float = P(
        0.3, 0, 1, src="MODEL_BRIEF.md 2 (political posts removed)", doc="Violation probability of political posts."
    )
    entertainment: float = P(0.03, 0, 1, src="assumption", doc="Violation probability of entertainment posts.")


class UsUsers(Section):
    join_base_rate: float = P(
        1.8e-5,
        0,
        1,
        src="observed_2025.csv: 1.1M US downloads in 2024 / 170M users / 365 days",
        doc="Daily sign-up hazard with no ban news and no friends on RedNote.",
    )
    join_salience_rate: float = P(
        4e-4,
        0,
        1,
        src="assumption (fitted in calibration)",
        doc="Sign-up hazard per unit of ban salience for a fully motivated user.",
    )
    creator_salience_multiplier: float = P(
        30.0,
        1,
        10000,
        src="MODEL_BRIEF.md 4 (creators with large followings moved first, 12 Jan videos)",
        doc="How much more strongly creators respond to ban salience.",
    )
    join_displaced_rate: float = P(
        1e-4,
        0,
        1,
        src="assumption (users who lose TikTok look for a substitute)",
        doc="Extra sign-up hazard for a user whose TikTok does not work that day (times the dark share).",
    )
    peer_influence: float = P(
        0.3,
        0,
        50,
        src="Bass 1969 q; Quelle et al. 2025 (directional, dose-dependent contagion)",
        doc="Sign-up hazard per unit share of followees who recently joined (rate contagion).",
    )
    exposure_memory_days: float | None = P(
        1.5,
        0.1,
        None,
        src="Quelle et al. 2025 (exposure effect fades within about a week)",
        doc="e-folding time of the effect of a followee's sign-up; null = never fades (Bass limit).",
    )
    contagion: Literal["rate", "threshold", "mixed"] = P(
        "rate",
        src="Karsai et al. 2014 (rate); Watts 2002, Centola 2010 (threshold); Bass 1969 (mixed)",
        doc="'rate': hazard grows with exposure; 'threshold': join once exposure reaches a personal threshold; "
        "'mixed': hazard grows with the share of all US users who joined recently (well mixed, no network: the "
        "Bass model when exposure_memory_days is null).",
    )
    threshold_mean: float = P(0.18, 0, 1, src="Watts 2002 (illustrative)", doc="Mean personal threshold (threshold contagion).")
    threshold_sd: float = P(0.05, 0, 1, src="assumption", doc="Spread of personal thresholds.")
    dormant_return_base: float = P(
        3.0e-3,
        0,
        1,
        src="steady state of observed_2025.csv: 0.3M DAU among 3.4M accounts",
        doc="Daily hazard that a dormant account becomes active with no news and no friends.",
    )
    dormant_return_multiplier: float = P(
        3.0,
        0,
        100,
        src="assumption (the app is already installed)",
        doc="Salience and peer terms for dormant accounts, relative to new sign-ups.",
    )
    habit: float = P(
        1.5, -10, 10, src="assumption (calibrated: sets the pre-surge lapse rate)", doc="Utility constant of staying active."
    )
    taste_sd: float = P(
        1.5,
        0,
        10,
        src="assumption (random-coefficient logit: persistent individual taste)",
        doc="Standard deviation of a user's personal taste for RedNote (utility units).",
    )
    w_engagement: float = P(
        0.8,
        0,
        10,
        src="Brock & Durlauf 2001; push-pull-mooring (assumption)",
        doc="Utility weight of log(1 + replies received per day).",
    )
    w_ties: float = P(0.5, 0, 10, src="assumption", doc="Utility weight of log(1 + Chinese followers).")
    w_friends: float = P(1.5, 0, 10, src="assumption", doc="Utility weight of the share of followees active on RedNote.")
    w_fit: float = P(1.0, 0, 10, src="MODEL_BRIEF.md 4 (lifestyle feed, not entertainment)", doc="Utility weight of content fit.")
    w_protest: float = P(
        1.0, 0, 10, src="seed article 002 ('snub the government')", doc="Utility weight of protest motive times salience."
    )
    w_novelty: float = P(
        2.0, 0, 10, src="assumption (curiosity at entry)", doc="Utility weight of fading novelty for the curious."
    )
    novelty_half_life_days: float = P(7.0, 0.1, 365, src="assumption", doc="Half-life of novelty after sign-up.")
    w_tenure: float = P(
        0.4,
        0,
        10,
        src="assumption (hazard of leaving falls with tenure: Kumar et al. 2011; Jeong et al. 2024)",
        doc="Utility weight of log(1 + days active since the last (re)activation).",
    )
    use_shift: float = P(
        1.0,
        -10,
        10,
        src="assumption (calibrated with habit: how many members open RedNote on a given day)",
        doc="Utility shift of opening RedNote today relative to staying a member: P(use today) = sigmoid(utility + use_shift).",
    )
    tiktok_sessions_per_day: float = P(
        8.0,
        1,
        100,
        src="assumption (daily users open TikTok several times a day)",
        doc="Sessions a daily user spreads over the day: an app that works for a share f of the day is missed with "
        "probability (1 - f)^sessions.",
    )
    tiktok_return_rush: float = P(
        0.3,
        0,
        5,
        src="observed_2025.csv: tiktok_us_dau 106.8M on 19 Jan (one-year high) against 82.2M on 13 Jan",
        doc="Extra TikTok use on the day its service comes back from an outage, relative to normal (the rush back).",
    )
    tiktok_return_rush_half_life_days: float = P(
        1.0, 0.1, 60, src="assumption (a one-day high, MODEL_BRIEF.md 5)", doc="Half-life of the rush back to TikTok."
    )
    pre_surge_tenure_days: float = P(
        365.0, 0, 3650, src="assumption", doc="Tenure given to US users active on RedNote at the start."
    )
    w_language: float = P(
        2.0, 0, 10, src="seed article 000 (no translation made it hard)", doc="Utility weight of language friction."
    )
    w_moderation: float = P(
        1.5,
        0,
        10,
        src="seed article 000 (opaque rules, sudden bans)",
        doc="Utility weight of recent moderation (held or removed posts).",
    )
    w_tiktok: float = P(
        1.5, 0, 10, src="MODEL_BRIEF.md 4 (outside option: is TikTok up)", doc="Utility weight of having a working TikTok."
    )
    w_other: float = P(0.5, 0, 10, src="assumption", doc="Utility weight of being active on another app (Lemon8, Instagram).")
    w_degradation: float = P(2.0, 0, 10, src="assumption", doc="Utility weight of a service failure that day.")
    engagement_memory_days: float = P(
        7.0, 0.1, 365, src="assumption", doc="e-folding time of remembered engagement and moderation."
    )
    post_prob: float = P(0.2, 0, 1, src="assumption", doc="Daily probability an active migrant posts.")
    creator_post_prob: float = P(0.8, 0, 1, src="assumption", doc="Daily probability an active creator posts.")
    topic_shares: TopicShares = TopicShares()
    topic_concentration: float = P(2.0, 0.01, 1000, src="assumption", doc="Dirichlet concentration of personal topic mixes.")
    topic_fit: TopicFit = TopicFit()
    topic_violation: TopicViolation = TopicViolation()
    protest_mean: float = P(0.3, 0, 1, src="assumption (BBC interviews: protest motive)", doc="Mean protest motive.")
    curiosity_mean: float = P(0.4, 0, 1, src="assumption", doc="Mean curiosity about China.")
    chinese_literacy_mean: float = P(
        0.03, 0, 1, src="assumption (~3.5M US Mandarin/Cantonese speakers / 330M)", doc="Mean Chinese literacy."
    )
    tiktok_displacement: float = P(
        0.05,
        0,
        1,
        src="observed_2025.csv: tiktok_us_dau fell only 2.1% during the surge",
        doc="Share of TikTok use displaced on days a user is active on RedNote.",
    )
    device_churn: float = P(
        0.002,
        0,
        1,
        src="assumption (phone replacement ~ every 18 months)",
        doc="Daily probability a user loses the TikTok app (new phone, uninstall).",
    )
    reinstall_prob: float = P(
        0.5, 0, 1, src="assumption", doc="Daily probability a user without TikTok reinstalls it while in stores."
    )
    other_join_rate: float = P(
        3e-4, 0, 1, src="observed_2025.csv: lemon8_us_dau 1.1M -> 1.7M", doc="Sign-up hazard of the other app per unit salience."
    )
    other_lapse: float = P(0.05, 0, 1, src="assumption", doc="Daily lapse rate on the other app.")
    other_initial_share: float = P(
        0.0065,
        0,
        1,
        src="observed_2025.csv: lemon8 ~1.1M DAU / 170M",
        doc="Share of US users active on the other app at the start.",
    )


# --------------------------------------------------------------------------------------------------
# Behaviour of Chinese users (module `sim.cn_users`)
# --------------------------------------------------------------------------------------------------
class TopicWelcome(TopicValues):
    """Probability a Chinese viewer welcomes a post (reply, like), before attitude and language."""

    pets_culture: float = P(
        0.5,
        0,
        1,
        src="Li et al. 2025 (cultural and pet threads draw praise); 'cat tax'",
        doc="Welcome probability for pet/culture posts.",
    )
    lifestyle: float = P(0.35, 0, 1, src="assumption", doc="Welcome probability for lifestyle posts.")
    appearance: float = P(
        0.3, 0, 1, src="Li et al. 2025 (appearance threads balanced)", doc="Welcome probability for appearance posts."
    )
    politics: float = P(
        0.05, 0, 1, src="Li et al. 2025 (political threads draw contempt)", doc="Welcome probability for political posts."
    )
    entertainment: float = P(0.25, 0, 1, src="assumption", doc="Welcome probability for entertainment posts.")


class TopicHostility(TopicValues):
    """Probability a Chinese viewer reacts with hostility, before attitude."""

    pets_culture: float = P(0.01, 0, 1, src="Li et al. 2025", doc="Hostility probability for pet/culture posts.")
    lifestyle: float = P(0.03, 0, 1, src="assumption", doc="Hostility probability for lifestyle posts.")
    appearance: float = P(0.15, 0, 1, src="Li et al. 2025 (balanced)", doc="Hostility probability for appearance posts.")
    politics: float = P(
        0.5, 0, 1, src="Li et al. 2025 (most contempt and anger)", doc="Hostility probability for political posts."
    )
    entertainment: float = P(0.04, 0, 1, src="assumption", doc="Hostility probability for entertainment posts.")


class TopicAppeal(TopicValues):
    """Relative reach of each topic in the Chinese feed."""

    pets_culture: float = P(2.0, 0, 100, src="assumption ('cat tax' virality)", doc="Feed weight of pet/culture posts.")
    lifestyle: float = P(1.0, 0, 100, src="assumption", doc="Feed weight of lifestyle posts.")
    appearance: float = P(1.0, 0, 100, src="assumption", doc="Feed weight of appearance posts.")
    politics: float = P(1.5, 0, 100, src="assumption (controversy spreads)", doc="Feed weight of political posts.")
    entertainment: float = P(0.7, 0, 100, src="assumption", doc="Feed weight of entertainment posts.")


class CnUsers(Section):
    openness_mean: float = P(0.6, 0, 1, src="assumption (coverage: mostly warm welcome)", doc="Mean openness to foreign content.")
    english_mean: float = P(0.3, 0, 1, src="assumption (young urban users; English homework swaps)", doc="Mean English ability.")
    nationalist_share: float = P(
        0.1, 0, 1, src="assumption ('our feed is being taken over' minority)", doc="Share starting hostile."
    )
    trend_rate: float = P(
        0.02,
        0,
        10,
        src="assumption (hashtag trending; calibrated to the 13-16 Jan S-curve of hashtag views)",
        doc="Daily hazard of noticing the newcomers from the trending hashtag when it trends fully.",
    )
    trend_half_signups: float = P(
        1.0e5,
        1,
        1e9,
        src="assumption (observed_2025.csv: ~2,000 then >70,000 #TikTokRefugee posts on 13-14 Jan, while new "
        "users ran at ~350,000 a day; calibrated)",
        doc="US sign-ups per day (people) at which the newcomers trend half as much as they can (the F50 of the "
        "Hill response F^k / (F^k + F50^k)): the hashtag was the arrivals introducing themselves.",
    )
    trend_steepness: float = P(
        4.0,
        0.5,
        20,
        src="assumption (trending lists react sharply to volume; large values approach a threshold)",
        doc="Hill exponent k of the trending response to the US sign-ups per day.",
    )
    awareness_peer_influence: float = P(
        1.5,
        0,
        50,
        src="assumption (with the trend defaults: hashtag views rise as an S-curve over 13-16 Jan; calibrated)",
        doc="Hazard of noticing per unit share of followees who noticed recently, while the newcomers trend "
        "(dose-dependent, simple contagion, scaled by the trend).",
    )
    curiosity_half_life_days: float = P(
        10.0, 0.1, 365, src="assumption (novelty of the 'refugees' wears off)", doc="Half-life of curiosity after noticing."
    )
    views_when_curious: float = P(
        6.0, 0, 1000, src="assumption", doc="Foreign posts a curious, fully open user views per active day."
    )
    views_from_feed: float = P(
        5.0, 0, 1000, src="assumption (feed mixing)", doc="Foreign posts any active user views per unit foreign feed share."
    )
    reply_share_when_welcoming: float = P(0.03, 0, 1, src="assumption", doc="Share of welcoming views that become a reply.")
    follow_given_welcome: float = P(
        0.005, 0, 1, src="assumption", doc="Probability a welcoming view becomes a follow (cross-cultural tie)."
    )
    follow_back: float = P(0.3, 0, 1, src="assumption", doc="Probability the migrant follows back.")
    complaint_given_hostile: float = P(
        0.02, 0, 1, src="seed article 000 (complaints, some malicious)", doc="Probability a hostile view is reported."
    )
    warmth_gain: float = P(0.02, 0, 1, src="assumption", doc="Attitude change per welcoming exchange.")
    hostility_gain: float = P(0.05, 0, 1, src="assumption", doc="Attitude change per hostile reaction (provocation).")
    dilution_tolerance: float = P(0.02, 0, 1, src="assumption", doc="Foreign share of the feed tolerated before attitudes sour.")
    dilution_gain: float = P(0.1, 0, 100, src="assumption", doc="Daily attitude loss per unit excess foreign share.")
    topic_welcome: TopicWelcome = TopicWelcome()
    topic_hostility: TopicHostility = TopicHostility()
    topic_appeal: TopicAppeal = TopicAppeal()
    posts_per_user_per_day: float = P(
        0.1, 0.001, 100, src="assumption", doc="Posts a Chinese user publishes per day (denominator of feed share)."
    )


class Mechanisms(Section):
    """Switches for ablation and limit checks (MODEL_BRIEF.md section 4: each mechanism switchable)."""

    news_salience: bool = P(True, src="MODEL_BRIEF.md 4", doc="Ban salience drives spontaneous sign-ups.")
    social_contagion: bool = P(True, src="MODEL_BRIEF.md 4", doc="Followees' sign-ups drive sign-ups.")
    spontaneous_joining: bool = P(True, src="MODEL_BRIEF.md 4", doc="Baseline sign-up hazard (no news, no friends).")
    lapse: bool = P(True, src="MODEL_BRIEF.md 4", doc="Active users can go dormant.")
    dormant_return: bool = P(True, src="MODEL_BRIEF.md 4", doc="Dormant accounts can return.")
    moderation: bool = P(True, src="MODEL_BRIEF.md 4", doc="The regulator reviews, holds and removes posts and bans accounts.")
    chinese_reactions: bool = P(True, src="MODEL_BRIEF.md 4", doc="Chinese users view, welcome, follow and complain.")
    attitude_drift: bool = P(True, src="MODEL_BRIEF.md 4", doc="Chinese attitudes change with exchanges and dilution.")
    outside_option: bool = P(True, src="MODEL_BRIEF.md 4", doc="TikTok and the other app compete for attention.")
    language_friction: bool = P(True, src="MODEL_BRIEF.md 4", doc="Language barrier lowers utility and reactions.")
    daily_use: bool = P(
        True,
        src="issue 12 (accounts and daily use, separately)",
        doc="Members choose each day whether to open RedNote (DAU <= members); apps used on a partly dark day count.",
    )
    tiktok_return_rush: bool = P(
        True, src="observed_2025.csv: tiktok_us_dau 19 Jan", doc="Users rush back to TikTok when its service returns."
    )
    outside_option_follows_tiktok: bool = P(
        True,
        src="MODEL_BRIEF.md 2 (Lemon8 and CapCut went dark and left the stores with TikTok)",
        doc="The other app (Lemon8-like) is dark and out of the stores whenever TikTok is.",
    )


# --------------------------------------------------------------------------------------------------
# Observation model: what each source measures (used by calibration and validation, not by the model)
# --------------------------------------------------------------------------------------------------
def PriorP(median: float, log_sd: float, lo: float, hi: float, *, src: str, doc: str) -> Any:
    """An observation-model parameter with a log-normal prior (its median is the default): ln(value) ~
    Normal(ln(median), log_sd). The calibration adds (ln(value) - ln(median)) / log_sd to its z-scores."""
    prior = f"prior: log-normal, median {median:g}, log-sd {log_sd:g}. "
    return Field(
        median,
        ge=lo,
        le=hi,
        description=doc,
        json_schema_extra={"source": prior + src, "prior_median": median, "prior_log_sd": log_sd},
    )


class Observation(Section):
    """How each source's number relates to the model's output. The simulation ignores this section;
    `sim.calibration` fits it jointly with the behaviour, each value pulled towards its prior."""

    similarweb_dau_scale: float = PriorP(
        1.0,
        0.7,
        0.1,
        30,
        src="assumption: no known direction of bias, so median 1; a third-party panel estimate of a mid-sized "
        "app can be off by a factor of about 2 (log-sd 0.7). The pre-surge US DAU of the model is Similarweb's "
        "6 Jan figure divided by this scale (`sim.calibration.with_parameters`).",
        doc="Similarweb's panel estimate of US RedNote DAU = this scale x the model's US RedNote DAU "
        "(us_rednote_dau). Ratios of two Similarweb figures do not depend on it.",
    )
    reinstall_share: float = PriorP(
        0.05,
        1.0,
        0.001,
        1,
        src="Sensor Tower glossary 'Download' (help.sensortower.com): a unique download per store account; "
        "re-downloads and installs on new devices of the same account are not counted. A returning holder counts "
        "only on another store account (new Apple ID, switch of platform): a few percent, assumption (log-sd 1).",
        doc="Share of the returns of dormant US account holders that the download trackers count as a "
        "download: downloads = new accounts + this share x returns (us_rednote_reactivations).",
    )
    company_us_share: float = PriorP(
        0.7,
        0.4,
        0.1,
        1,
        src="assumption: the company's figure came with the US influx (mostly US), but other TikTok users "
        "(Canada, UK, Australia) joined too and Sensor Tower put the US at just over a fifth of RedNote's "
        "downloads worldwide in early January; median 0.7, log-sd 0.4 (0.45 to 1 within one sd).",
        doc="Share of the company's count of new users that were new US accounts: company's new users = "
        "the model's new US accounts / this share.",
    )


def observation_priors() -> dict[str, tuple[float, float]]:
    """Dotted path -> (prior median, prior log-sd) of every observation-model parameter."""
    out = {}
    for name, info in Observation.model_fields.items():
        extra = info.json_schema_extra or {}
        out[f"observation.{name}"] = (float(extra["prior_median"]), float(extra["prior_log_sd"]))
    return out


# --------------------------------------------------------------------------------------------------
# Provenance of fitted parameters (written by `python run.py calibrate`)
# --------------------------------------------------------------------------------------------------
class ParameterSpread(Section):
    best: float = P(..., src="calibration", doc="Value of the best trial.")
    p10: float = P(..., src="calibration", doc="10th percentile over the good fits.")
    median: float = P(..., src="calibration", doc="Median over the good fits.")
    p90: float = P(..., src="calibration", doc="90th percentile over the good fits.")
    lower: float = P(..., src="calibration", doc="Lower end of the search range.")
    upper: float = P(..., src="calibration", doc="Upper end of the search range.")
    prior_median: float | None = P(None, src="calibration", doc="Median of the prior (observation-model parameters).")
    prior_log_sd: float | None = P(None, src="calibration", doc="Log-sd of the prior (observation-model parameters).")


class PosteriorRecord(Section):
    """What a Bayesian calibration (`calibrate --method posterior`, `sim.posterior`) adds to a fit file."""

    simulations: int = P(..., 1, None, src="calibration", doc="Prior simulations in the table (one run each).")
    kernel_width: float = P(..., 1, None, src="calibration", doc="h: sources treated as erring by h tolerances (1: as stated).")
    effective_draws: float = P(..., 0, None, src="calibration", doc="Kish's effective sample size of the posterior weights.")
    priors: dict[str, str] = P(..., src="calibration", doc="Each parameter's prior and its source.")
    contraction: dict[str, float] = P(..., src="calibration", doc="1 - posterior / prior variance, per parameter.")
    coverage: dict[str, dict[str, float]] = P(
        ..., src="calibration", doc="Simulation-based calibration: share of synthetic truths inside the 50 % and 90 % intervals."
    )
    p_values: dict[str, float] = P(..., src="calibration", doc="Posterior predictive p-value of every target.")
    model_probability: dict[str, float] = P(
        {}, src="calibration", doc="Posterior probability of each join model compared (equal prior odds); empty if none."
    )


class Calibration(Section):
    method: str = P(..., src="calibration", doc="How the fit was made (library, sampler).")
    date: Date = P(..., src="calibration", doc="Day the fit was made.")
    budget: int = P(..., 1, None, src="calibration", doc="Trials evaluated.")
    runs_per_point: int = P(..., 1, None, src="calibration", doc="Replicate runs averaged per trial.")
    agents: int = P(..., 1, None, src="calibration", doc="Agents per calibration run.")
    seed: int = P(..., 0, None, src="calibration", doc="Seed of the sampler and of the runs.")
    distance: float = P(..., 0, None, src="calibration", doc="Distance of the best trial (root mean square of z-scores).")
    good_fit_distance: float = P(..., 0, None, src="calibration", doc="Largest distance counted as a good fit.")
    targets: list[str] = P(..., src="calibration", doc="Observations the fit used.")
    held_out: list[str] = P(..., src="calibration", doc="Observations kept out of the fit.")
    parameters: dict[str, ParameterSpread] = P(..., src="calibration", doc="Spread of each fitted parameter.")
    good_fits: list[dict[str, float]] = P(..., src="calibration", doc="Parameter sets of the good fits (for predictive bands).")
    fit_until: Date | None = P(
        None, src="calibration", doc="Time split: only targets dated on or before this day were fitted; null = all."
    )
    not_fitted: dict[str, str] = P(
        {}, src="calibration", doc="Free parameters this fit left out, each with the reason and the value it used."
    )
    posterior: PosteriorRecord | None = P(
        None, src="calibration", doc="A Bayesian fit's record; its good_fits are then draws from the posterior."
    )


# --------------------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------------------
class Scenario(Section):
    name: str = P(..., src="scenario file", doc="Short name; the default output folder.")
    description: str = P("", src="scenario file", doc="What the scenario changes and why.")
    seed: int = P(20250113, 0, 2**63 - 1, src="scenario file", doc="Master seed of all random streams.")
    agents: int = P(
        200_000, 100, 200_000_000, src="assumption (results stable beyond ~200k: MODEL_BRIEF.md 3)", doc="Total agents."
    )
    start_date: Date = P(dt.date(2025, 1, 1), src="issue 2", doc="First simulated day.")
    end_date: Date = P(dt.date(2025, 6, 30), src="issue 2", doc="Last simulated day (inclusive).")
    parameters: Literal["posterior", "point"] = P(
        "posterior",
        src="issue 14",
        doc="posterior: when the fit is a posterior, run r uses its draw r mod D of the fitted parameters (values the "
        "scenario sets itself are kept); point: the fit's point estimate in every run (`--point`).",
    )
    population: Population = Population()
    network: Network = Network()
    timeline: Timeline = Timeline()
    platform: Platform = Platform()
    us_users: UsUsers = UsUsers()
    cn_users: CnUsers = CnUsers()
    mechanisms: Mechanisms = Mechanisms()
    observation: Observation = Observation()
    calibration: Calibration | None = P(
        None, src="python run.py calibrate", doc="Provenance of fitted parameters (not used by the model itself)."
    )

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not NAME_PATTERN.fullmatch(value):
            shown = repr(value) if len(value) <= 40 else repr(value[:37]) + "..."
            raise ValueError(
                "must be a plain file name: 1 to 100 letters, digits, '.', '_' or '-', starting with a letter, "
                f"digit or '_' (got {shown})"
            )
        return value

    @model_validator(mode="after")
    def _dates(self) -> Scenario:
        if self.network.kind == "complete":
            n_us = max(1, round(self.agents * self.population.us_agent_share))
            if max(n_us, self.agents - n_us) > MAX_COMPLETE_USERS:
                raise ValueError(
                    f"network.kind: 'complete' is for limit checks of at most {MAX_COMPLETE_USERS:,} users per "
                    f"population ({self.agents:,} agents give {max(n_us, self.agents - n_us):,}); "
                    "use 'communities' or 'random', or fewer agents"
                )
        if self.end_date <= self.start_date:
            raise ValueError("end_date: must be after start_date")
        if (self.end_date - self.start_date).days > 3 * 366:
            raise ValueError("end_date: the horizon must be at most three years after start_date")
        return self

    @property
    def days(self) -> int:
        """Number of simulated days (start and end inclusive)."""
        return (self.end_date - self.start_date).days + 1

    def date_of(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)

    def day_of(self, date: dt.date) -> int:
        return (date - self.start_date).days


def iter_parameters(model: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, Any]]:
    """Every leaf parameter of the schema as (dotted path, pydantic FieldInfo); lists of events count once."""
    rows: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        item = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(iter_parameters(annotation, path + "."))
        elif isinstance(item, type) and issubclass(item, BaseModel):
            rows.append((path, info))
            rows.extend(iter_parameters(item, path + "[]."))
        else:
            rows.append((path, info))
    return rows


ASSUMPTION_FACTOR = 2.0  # an assumed value is uncertain from value / this to value x this (log scale)


def assumption_range(path: str, value: float | None = None) -> tuple[float, float]:
    """From half to twice ``value`` (default: the schema's value of the parameter at dotted ``path``),
    within the schema's bounds: the range over which the assumption screen varies an assumed parameter
    and the prior of an influential assumption (`sim.calibration.FREE_PARAMETERS`)."""
    info = dict(iter_parameters())[path]
    value = float(info.default) if value is None else value
    lo = max([value / ASSUMPTION_FACTOR, *(m.ge for m in info.metadata if hasattr(m, "ge"))])
    hi = min([value * ASSUMPTION_FACTOR, *(m.le for m in info.metadata if hasattr(m, "le"))])
    return float(lo), float(hi)
