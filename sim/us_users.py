"""US TikTok users (the migrants): traits, per-platform state and every daily rule.

What a US user does each day (`UsUsers.decide`, all users at once, from the state at the start of the day):
  1. looks at the accounts they follow: how many recently moved to RedNote (exposure), how many are active;
  2. without a RedNote account: may sign up (ban salience x motive, a push if TikTok is dark, and peer
     exposure), subject to real-name verification; with a dormant account: may come back;
  3. active on RedNote: stays active with probability sigmoid(utility), else goes dormant;
  4. opens TikTok if it works and is installed (loses the app sometimes; reinstalls only while in stores),
     and the other app (Lemon8/Instagram-like outside option);
  5. if active on RedNote, may post, on a topic drawn from a personal topic mix; whether a post breaks
     the platform's rules is a property of the post (by topic).
The population owns its state: the regulator's decisions (bans, blocks) are applied here
(`apply_moderation`), and after the Chinese users have reacted `receive_feedback` folds replies, new
followers and moderation into the memories that enter tomorrow's utility.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sim import network
from sim.cohorts import CohortRetention, by_week, users_by_days_since_signup
from sim.events import Day
from sim.params import TOPICS, Mechanisms, Population
from sim.params import UsUsers as UsParams
from sim.results import Headline, Output, run_headlines
from sim.streams import Streams

NONE, ACTIVE, DORMANT, BANNED, BLOCKED = 0, 1, 2, 3, 4
"""RedNote account states. Leaving is going quiet (DORMANT), not deleting; BANNED and BLOCKED (failed
real-name verification) are absorbing."""
STATE_NAMES = ("none", "active", "dormant", "banned", "blocked")
LONG_AGO = -(10**6)  # "activated" day of accounts that were active before the run
RETENTION_DAYS = (7, 30, 90)


@dataclass
class Posts:
    """A batch of US users' posts (one row each): author, topic, whether it breaks the rules, day made."""

    author: np.ndarray
    topic: np.ndarray
    violating: np.ndarray
    created: np.ndarray

    @classmethod
    def empty(cls) -> Posts:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.int8), np.zeros(0, bool), np.zeros(0, np.int32))

    def __len__(self) -> int:
        return int(self.author.size)

    def take(self, mask_or_index: np.ndarray | slice) -> Posts:
        return Posts(
            self.author[mask_or_index], self.topic[mask_or_index], self.violating[mask_or_index], self.created[mask_or_index]
        )

    @staticmethod
    def concat(*batches: Posts) -> Posts:
        return Posts(*(np.concatenate([getattr(b, f) for b in batches]) for f in ("author", "topic", "violating", "created")))


@dataclass(frozen=True)
class Moderation:
    """The regulator's decisions about US accounts, for the population to apply."""

    blocked: np.ndarray  # accounts blocked for lacking mainland credentials (indices)
    banned: np.ndarray  # accounts banned (indices)

    @classmethod
    def none(cls) -> Moderation:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64))


def beta_with_mean(rng: np.random.Generator, mean: float, n: int, concentration: float = 2.0) -> np.ndarray:
    """Beta(c*m, c*(1-m)) draws; degenerate means give constant arrays."""
    if mean <= 0.0 or mean >= 1.0:
        return np.full(n, min(max(mean, 0.0), 1.0), dtype=np.float32)
    return rng.beta(concentration * mean, concentration * (1.0 - mean), n).astype(np.float32)


def weighted_sample(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn with probability proportional to weights (Efraimidis-Spirakis)."""
    k = int(min(max(k, 0), weights.size))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.log(rng.random(weights.size)) / np.maximum(weights, 1e-12)
    return np.argpartition(-keys, k - 1)[:k]


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def availability(up: float, sessions: float) -> float:
    """Share of daily users who find an app working on a day it works for a share ``up`` of the time:
    a user misses it only if all of their sessions fall in the dark hours."""
    return 1.0 - (1.0 - up) ** sessions


def return_rush(p: UsParams, days_since_return: float) -> float:
    """Extra use of TikTok in the days after its service comes back (users rush back to it)."""
    return p.tiktok_return_rush * 0.5 ** (days_since_return / p.tiktok_return_rush_half_life_days)


# --------------------------------------------------------------------------------------------------
# Rules as pure functions (tests compare each with a plain loop)
# --------------------------------------------------------------------------------------------------
def join_hazard(
    p: UsParams,
    mech: Mechanisms,
    salience: np.ndarray | float,
    motive: np.ndarray,
    creator_multiplier: np.ndarray,
    tiktok_dark: np.ndarray,
    exposure: np.ndarray,
) -> np.ndarray:
    """Daily sign-up hazard of users without an account (Bass-type: spontaneous + peer term)."""
    h = np.zeros_like(exposure)
    if mech.spontaneous_joining:
        h += p.join_base_rate
    if mech.news_salience:
        h += p.join_salience_rate * salience * motive * creator_multiplier
    if mech.outside_option:
        h += p.join_displaced_rate * tiktok_dark
    if mech.social_contagion and p.contagion == "rate":
        h += p.peer_influence * exposure
    return h


def act_chance(hazard: np.ndarray, p: UsParams, mech: Mechanisms, exposure: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Chance of acting today: 1 - exp(-hazard); with threshold contagion 1 for everyone whose exposure
    reached their personal threshold (fractional-threshold rule, Watts 2002)."""
    chance = -np.expm1(-hazard)
    if mech.social_contagion and p.contagion == "threshold":
        chance = np.where((exposure > 0) & (exposure >= threshold), 1.0, chance)
    return chance


def adopt(
    hazard: np.ndarray, u: np.ndarray, p: UsParams, mech: Mechanisms, exposure: np.ndarray, threshold: np.ndarray
) -> np.ndarray:
    """Who acts today: a uniform draw ``u`` below the chance of acting (`act_chance`)."""
    return u < act_chance(hazard, p, mech, exposure, threshold)


def expected_signups(
    not_joined: np.ndarray, chance: np.ndarray, in_store: bool, verify_chance: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Sign-ups among the people an agent stands for, in expectation: of the share ``not_joined`` who never
    had an account, a share ``chance`` acts today if the app is in the store, and of those the verified
    ones join (the others are blocked). Returns (share joining today, share still without an account).

    Followers react to these shares, not to the agent's own draw: an agent stands for hundreds or
    thousands of people, and a real user's followee is one of them, who joined with this chance. A 0/1
    signal would make all those people sign up together and turn contagion into a lumpy branching
    process whose outcome depends on how many agents there are."""
    acting = not_joined * chance * float(in_store)
    return (acting * verify_chance).astype(np.float32), (not_joined - acting).astype(np.float32)


def stay_utility(
    p: UsParams,
    mech: Mechanisms,
    *,
    taste: np.ndarray,
    engagement: np.ndarray,
    ties_real: np.ndarray,
    friends_share: np.ndarray,
    fit: np.ndarray,
    protest: np.ndarray,
    salience: float,
    curiosity: np.ndarray,
    novelty: np.ndarray,
    tenure: np.ndarray,
    friction: np.ndarray,
    moderation: np.ndarray,
    tiktok_works: np.ndarray,
    other_active: np.ndarray,
    degradation: float,
) -> np.ndarray:
    """Utility of staying active on RedNote (logit choice; Brock & Durlauf 2001, push-pull-mooring)."""
    u = (
        p.habit
        + taste
        + p.w_engagement * np.log1p(engagement)
        + p.w_ties * np.log1p(ties_real)
        + p.w_friends * friends_share
        + p.w_fit * fit
        + p.w_protest * protest * (salience if mech.news_salience else 0.0)
        + p.w_novelty * curiosity * novelty
        + p.w_tenure * np.log1p(tenure)
        - p.w_moderation * moderation
        - p.w_degradation * degradation
    )
    if mech.language_friction:
        u = u - p.w_language * friction
    if mech.outside_option:
        u = u - p.w_tiktok * tiktok_works - p.w_other * other_active
    return u


def language_friction(literacy: np.ndarray, translation_quality: np.ndarray | float) -> np.ndarray:
    """Share of RedNote a user cannot follow: the illiterate share, reduced by translation."""
    return (1.0 - literacy) * (1.0 - translation_quality)


def draw_topics(u: np.ndarray, topic_cdf: np.ndarray) -> np.ndarray:
    """Topic index of each post by inverse CDF of the author's topic mix."""
    return (u[:, None] >= topic_cdf[:, :-1]).sum(axis=1).astype(np.int8)


# --------------------------------------------------------------------------------------------------
# The population
# --------------------------------------------------------------------------------------------------
class UsUsers:
    """US users as rows of arrays: agent id = row index; rows are never deleted."""

    OUTPUTS = (
        Output("us_rednote_dau", "US users active on RedNote that day", "people", "us", "US users on RedNote (model)", "tab:red", (
            Headline("peak_us_rednote_dau", "peak", "highest US RedNote DAU (people)", "peak US DAU", summary=True, compare=True),
            Headline("final_us_rednote_dau", "final", "US RedNote DAU on the last day (people)", "final US DAU"),
        )),
        Output("us_rednote_members", "US RedNote members: account holders who have not gone dormant", "people", "us",
               "members", "tab:pink"),
        Output("us_rednote_wau", "US users who opened RedNote in the last 7 days", "people", "us", "weekly users", "salmon"),
        Output("us_rednote_mau", "US users who opened RedNote in the last 30 days", "people", "us", "monthly users", "peru"),
        Output("us_rednote_dau_mau", "daily over monthly US RedNote users (stickiness)", "share", "real", "DAU / MAU"),
        Output("us_rednote_signups", "new US RedNote accounts that day", "people", "us", "new accounts", "tab:blue", (
            Headline("total_signups", "total", "new US RedNote accounts over the horizon (people)", "new US accounts", summary=True, compare=True),
        )),
        Output("us_rednote_cumulative_signups", "new US RedNote accounts since the start", "people", "us", "new accounts (cumulative)"),
        Output("us_rednote_reactivations", "dormant US accounts that came back that day", "people", "us",
               "dormant accounts back", "tab:orange"),
        Output("us_rednote_dormant", "US accounts that exist but were not used that day", "people", "us",
               "dormant RedNote account", "tab:gray"),
        Output("us_tiktok_dau", "US users who opened TikTok that day", "people", "us", "TikTok", "tab:cyan"),
        Output("us_other_dau", "US users active on the other app (Lemon8/Instagram-like) that day", "people", "us",
               "other app", "tab:purple"),
        Output("us_mix_tiktok_only", "US users active on TikTok but not RedNote", "people", "us", "TikTok only", "black"),
        Output("us_mix_both", "US users active on both TikTok and RedNote", "people", "us", "TikTok and RedNote", "tab:olive"),
        Output("us_mix_rednote_only", "US users active on RedNote but not TikTok", "people", "us", "RedNote only", "tab:orange"),
        Output("accounts_blocked_unverified", "US accounts blocked for lacking mainland credentials (stock)", "people", "us",
               "blocked (real-name)", "tab:pink", (
            Headline("accounts_blocked_unverified", "final",
                     "US accounts blocked by real-name verification at the end (people)", "blocked by real-name"),
        )),
        Output("us_posts", "posts by US users that day", "posts", "us", "posts by US users"),
    )  # fmt: skip
    RUN_HEADLINES = run_headlines(*(
        Headline(f"retention_day{d}", "run", f"share of migrants active on RedNote {d} days after their own sign-up",
                 f"Day-{d} retention", summary=True, compare=d >= 30, objective="maximize" if d == 90 else None)
        for d in RETENTION_DAYS
    ))  # fmt: skip

    def __init__(
        self,
        params: UsParams,
        population: Population,
        mechanisms: Mechanisms,
        follows: sp.csr_matrix,
        n: int,
        weight: float,
        *,
        grey_test_share: float,
        credential_share: float,
        verification_friction: float,
        creator_share: float,
        tie_scale: float,
        topic_violation: np.ndarray,
        streams: Streams,
    ) -> None:
        self.p, self.mech, self.follows, self.n, self.weight = params, mechanisms, follows, n, weight
        self.streams, self.tie_scale, self.verification_friction = streams, tie_scale, verification_friction
        self.topic_violation = np.asarray(topic_violation)
        rng = streams.get("us.traits")
        p = params
        self.n_following = network.out_degree(follows)
        self.followers = network.in_degree(follows)
        self.author_reach = (1.0 + np.log1p(self.followers)).astype(np.float64)  # how far a post travels
        # -- traits (fixed for the run)
        self.protest = beta_with_mean(rng, p.protest_mean, n)
        self.curiosity = beta_with_mean(rng, p.curiosity_mean, n)
        self.literacy = beta_with_mean(rng, p.chinese_literacy_mean, n, concentration=0.5)
        self.taste = rng.normal(0.0, p.taste_sd, n).astype(np.float32)
        shares = np.asarray(p.topic_shares.as_tuple()) / sum(p.topic_shares.as_tuple())
        alpha = np.maximum(p.topic_concentration * shares, 1e-3)
        mix = rng.gamma(alpha, size=(n, len(TOPICS)))
        mix /= np.maximum(mix.sum(axis=1, keepdims=True), 1e-300)
        self.topic_cdf = np.cumsum(mix, axis=1).astype(np.float32)
        self.fit = (mix @ np.asarray(p.topic_fit.as_tuple())).astype(np.float32)
        self.tiktok_propensity = beta_with_mean(rng, population.us_tiktok_daily_use, n)
        self.threshold = np.clip(rng.normal(p.threshold_mean, p.threshold_sd, n), 0.0, 1.0).astype(np.float32)
        self.has_credentials = rng.random(n) < credential_share
        self.grey_test = rng.random(n) < grey_test_share
        jitter = rng.random(n) * 0.5  # break follower-count ties at random, not by row number
        n_creators = int(round(creator_share * n))
        self.is_creator = np.zeros(n, dtype=bool)
        if n_creators:
            self.is_creator[np.argpartition(-(self.followers + jitter), n_creators - 1)[:n_creators]] = True
        self.creator_multiplier = np.where(self.is_creator, p.creator_salience_multiplier, 1.0).astype(np.float32)
        # Creators' motive is fear of losing their audience (MODEL_BRIEF.md 3): full strength.
        self.motive = np.where(self.is_creator, 1.0, 0.5 * (self.protest + self.curiosity)).astype(np.float32)
        # -- state
        self.state = np.full(n, NONE, dtype=np.int8)
        accounts = weighted_sample(
            rng, 0.02 + self.literacy + 0.5 * self.curiosity, round(population.us_rednote_accounts / weight)
        )
        self.state[accounts] = DORMANT
        # Pre-surge regulars are the account holders who like RedNote most: literate and high taste.
        liking = (0.05 + self.literacy[accounts]) * np.exp(self.taste[accounts])
        members = population.us_rednote_dau / (population.us_rednote_daily_share if mechanisms.daily_use else 1.0)
        regulars = accounts[weighted_sample(rng, liking, round(members / weight))]
        self.state[regulars] = ACTIVE
        self.signup_day = np.full(n, -1, dtype=np.int32)  # sign-up day in this run; -1: before or never
        self.activated_day = np.full(n, LONG_AGO, dtype=np.int32)  # last (re)activation
        self.activated_day[regulars] = -round(p.pre_surge_tenure_days)
        self.join_signal = np.zeros(n, dtype=np.float32)  # decaying "just moved to RedNote" signal
        self.not_joined = (self.state == NONE).astype(np.float32)  # share of the agent's people without an account
        self.engagement = np.zeros(n, dtype=np.float32)  # remembered replies per day (real)
        self.moderation = np.zeros(n, dtype=np.float32)  # remembered held/removed posts per day
        self.cn_followers = np.zeros(n, dtype=np.int32)  # agent-level cross-cultural ties received
        self.uses_today = self.state == ACTIVE  # opened RedNote today (members only)
        self.last_use_day = np.where(self.uses_today, -1, LONG_AGO).astype(np.int32)
        self.tiktok_installed = np.ones(n, dtype=bool)
        self.tiktok_active = rng.random(n) < self.tiktok_propensity
        self.other_active = rng.random(n) < p.other_initial_share
        self.other_used_today = self.other_active
        self.signed_up_today = np.zeros(n, dtype=bool)
        self.activated_today = np.zeros(n, dtype=bool)
        self.blocked_today = np.zeros(n, dtype=bool)
        self.posts_today = 0
        self.expected_posts = 0.0
        self.expected_signups = 0.0  # today's sign-ups in expectation (agents): the newcomers arriving
        self.use_chance = np.zeros(n, dtype=np.float32)
        s0 = min(p.other_initial_share, 0.99)
        self.other_base_rate = p.other_lapse * s0 / (1.0 - s0)  # keeps the other app's share steady
        memory = p.exposure_memory_days
        self.signal_decay = 1.0 if memory is None else float(np.exp(-1.0 / memory))
        self.memory_decay = float(np.exp(-1.0 / p.engagement_memory_days))
        # -- what is measured over the run
        self.cumulative_signups = 0
        self.retention_hits = dict.fromkeys(RETENTION_DAYS, 0.0)
        self.retention_cohort = dict.fromkeys(RETENTION_DAYS, 0)
        self.retention_by_day: list[np.ndarray] = []  # per day: users by days since their own sign-up (sim.cohorts)

    # ----------------------------------------------------------------------------------------------
    def decide(self, today: Day) -> Posts:
        """One day of decisions (synchronous: everyone reacts to the state at the start of the day).

        Returns today's posts.
        """
        p, mech, n, day, streams = self.p, self.mech, self.n, today.day, self.streams
        active = self.state == ACTIVE
        exposure = network.exposure(self.follows, self.join_signal, self.n_following)
        tiktok_works = (today.tiktok_up * self.tiktok_installed).astype(np.float32)
        rednote = availability(today.rednote_up, p.tiktok_sessions_per_day)  # 1 unless RedNote is blocked

        # -- sign-ups and returns (an account is made in the app: it must be installable and working)
        salience = np.where(self.is_creator, today.creator_salience, today.salience).astype(np.float32)
        hazard = join_hazard(p, mech, salience, self.motive, self.creator_multiplier, 1.0 - tiktok_works, exposure) * rednote
        u_join = streams.uniform("us.join", day, n)
        chance = act_chance(hazard, p, mech, exposure, self.threshold)
        joins = (u_join < chance) & (self.state == NONE) & today.rednote_in_store
        if today.verify_new_accounts:
            verified = self.has_credentials & (streams.uniform("us.verify", day, n) >= self.verification_friction)
            self.blocked_today = joins & ~verified
            joins &= verified
        else:
            self.blocked_today = np.zeros(n, dtype=bool)
        returns = np.zeros(n, dtype=bool)
        if mech.dormant_return:
            dormant = self.state == DORMANT
            ret_hazard = (p.dormant_return_base * rednote) + p.dormant_return_multiplier * hazard
            returns = dormant & adopt(ret_hazard, u_join, p, mech, exposure, self.threshold)
        verify_chance = self.has_credentials * (1.0 - self.verification_friction) if today.verify_new_accounts else 1.0
        newly, self.not_joined = expected_signups(self.not_joined, chance, today.rednote_in_store, verify_chance)
        self.expected_signups = float(newly.sum(dtype=np.float64))

        # -- staying a member or lapsing, and opening RedNote today (members at the start of the day;
        #    computed on their rows only)
        lapses = np.zeros(n, dtype=bool)
        idx = np.flatnonzero(active)
        utility = self.stay_utility_of(idx, today, active, tiktok_works) if (mech.lapse or mech.daily_use) else None
        if mech.lapse:
            lapses[idx] = streams.uniform("us.lapse", day, n)[idx] >= sigmoid(utility)
        stay = idx[~lapses[idx]]
        # chance that each member opens RedNote today (1 for new and returning members, and without the
        # daily choice); its sum is the expected DAU
        self.use_chance = np.zeros(n, dtype=np.float32)
        if mech.daily_use:
            self.use_chance[stay] = sigmoid(utility[~lapses[idx]] + p.use_shift) * rednote
            uses = np.zeros(n, dtype=bool)
            uses[stay] = streams.uniform("us.use", day, n)[stay] < self.use_chance[stay]
        else:
            self.use_chance[stay] = 1.0
        self.use_chance[joins | returns] = 1.0
        self.state[lapses] = DORMANT
        self.state[self.blocked_today] = BLOCKED
        self.state[joins | returns] = ACTIVE
        self.signup_day[joins] = day
        self.activated_day[joins | returns] = day
        self.signed_up_today, self.activated_today = joins, joins | returns
        # a new or returning member opens the app that day; without the daily choice every member does
        self.uses_today = (uses | joins | returns) if mech.daily_use else self.state == ACTIVE
        self.last_use_day[self.uses_today] = day
        # Followers notice sign-ups ("I just joined RedNote"), not quiet returns: the expected share of the
        # agent's people who signed up recently (at most 1: the shares joining sum to at most 1).
        self.join_signal = (self.join_signal * self.signal_decay + newly).astype(np.float32)

        self._use_tiktok_and_other(today)
        return self._post(day)

    def stay_utility_of(self, idx: np.ndarray, today: Day, active: np.ndarray, tiktok_works: np.ndarray) -> np.ndarray:
        """Utility of staying active for users ``idx`` (see `stay_utility`)."""
        p = self.p
        quality = np.where(
            self.grey_test[idx], max(today.translation_quality, today.grey_translation_quality), today.translation_quality
        )
        return stay_utility(
            p,
            self.mech,
            taste=self.taste[idx],
            engagement=self.engagement[idx],
            ties_real=self.cn_followers[idx] * self.tie_scale,
            friends_share=network.exposure(self.follows[idx], active, self.n_following[idx]),
            fit=self.fit[idx],
            protest=self.protest[idx],
            salience=today.salience,
            curiosity=self.curiosity[idx],
            novelty=0.5 ** ((today.day - self.activated_day[idx]) / p.novelty_half_life_days),
            tenure=(today.day - self.activated_day[idx]).astype(np.float32),
            friction=language_friction(self.literacy[idx], quality),
            moderation=self.moderation[idx],
            tiktok_works=tiktok_works[idx] * (1.0 + self._rush(today)),
            other_active=self.other_used_today[idx],
            degradation=today.degradation,
        )

    def _rush(self, today: Day) -> float:
        """Extra pull of TikTok in the days after it comes back (0 without that mechanism)."""
        return return_rush(self.p, today.tiktok_restored_days_ago) if self.mech.tiktok_return_rush else 0.0

    def _use_tiktok_and_other(self, today: Day) -> None:
        p, mech, n, streams = self.p, self.mech, self.n, self.streams
        u = streams.uniform("us.tiktok_app", today.day, n)
        lose = self.tiktok_installed & (u < p.device_churn)
        regain = ~self.tiktok_installed & today.in_store & (u < p.reinstall_prob)
        self.tiktok_installed = (self.tiktok_installed & ~lose) | regain
        # a daily user opens TikTok if it works in one of their sessions; without the daily-use mechanism
        # use is proportional to the hours it works
        up = availability(today.tiktok_up, p.tiktok_sessions_per_day) if mech.daily_use else today.tiktok_up
        rush = self._rush(today)
        propensity = np.minimum(self.tiktok_propensity * (1.0 + rush), 1.0) if rush else self.tiktok_propensity
        use = up * propensity * (1.0 - p.tiktok_displacement * self.uses_today)
        self.tiktok_active = self.tiktok_installed & (streams.uniform("us.tiktok_use", today.day, n) < use)
        u = streams.uniform("us.other_app", today.day, n)
        join_other = -np.expm1(-(self.other_base_rate + p.other_join_rate * today.salience))
        if mech.outside_option_follows_tiktok:  # Lemon8 and CapCut left the stores and went dark with TikTok
            join_other = join_other * today.in_store
        self.other_active = np.where(self.other_active, u >= p.other_lapse, u < join_other)
        self.other_used_today = self.other_active
        if mech.outside_option_follows_tiktok:
            other_up = availability(today.tiktok_up, p.tiktok_sessions_per_day)
            self.other_used_today = self.other_active & (streams.uniform("us.other_open", today.day, n) < other_up)

    def _post(self, day: int) -> Posts:
        p, streams = self.p, self.streams
        prob = np.where(self.is_creator, p.creator_post_prob, p.post_prob)
        posts = self.uses_today & (streams.uniform("us.post", day, self.n) < prob)
        authors = np.flatnonzero(posts).astype(np.int32)
        topics = draw_topics(streams.uniform("us.topic", day, self.n)[authors], self.topic_cdf[authors])
        # per-user draw, so which posts break the rules is common across scenarios
        violating = streams.uniform("us.violation", day, self.n)[authors] < self.topic_violation[topics]
        self.posts_today = int(authors.size)
        self.expected_posts = float(np.dot(self.use_chance, prob))  # over who opens the app and who posts
        return Posts(authors, topics, violating, np.full(authors.size, day, np.int32))

    # ----------------------------------------------------------------------------------------------
    def apply_moderation(self, decisions: Moderation) -> None:
        """The regulator's decisions: blocked accounts (real-name), then bans (a ban overrides a block)."""
        self.state[decisions.blocked] = BLOCKED
        self.state[decisions.banned] = BANNED
        self.uses_today[decisions.blocked] = self.uses_today[decisions.banned] = False  # a shut account is not a user
        self.use_chance[decisions.blocked] = self.use_chance[decisions.banned] = 0.0

    def can_be_seen(self, authors: np.ndarray) -> np.ndarray:
        """Whether posts by these authors can still reach viewers (their account exists and is not shut)."""
        return np.isin(self.state[authors], (ACTIVE, DORMANT))

    def receive_feedback(self, replies_real: np.ndarray, moderation_events: np.ndarray, new_cn_followers: np.ndarray) -> None:
        """Fold today's replies (real replies per real user), held/removed posts and new Chinese
        followers into the memories that enter tomorrow's utility."""
        keep = self.memory_decay
        self.engagement = (keep * self.engagement + (1.0 - keep) * replies_real).astype(np.float32)
        self.moderation = (keep * self.moderation + (1.0 - keep) * moderation_events).astype(np.float32)
        self.cn_followers += new_cn_followers.astype(np.int32)

    # ----------------------------------------------------------------------------------------------
    def counts(self) -> np.ndarray:
        """Agents per RedNote state (index = state code)."""
        return np.bincount(self.state, minlength=len(STATE_NAMES))

    def measure(self, today: Day) -> dict[str, float]:
        """Today's agent-level values of `OUTPUTS`; also counts the retention cohorts."""
        day = today.day
        counts = self.counts()
        on_rn = self.uses_today if self.mech.daily_use else self.state == ACTIVE  # retention is defined on use
        weekly, monthly = int((self.last_use_day > day - 7).sum()), int((self.last_use_day > day - 30).sum())
        signups = int(self.signed_up_today.sum())
        self.cumulative_signups += signups
        for d in RETENTION_DAYS:
            if day >= d:
                cohort = self.signup_day == day - d
                self.retention_cohort[d] += int(cohort.sum())
                # in expectation over today's draw of who opens the app (the cohort's summed chances): the
                # same retention without the draw's noise, which at small agent counts leaves days at 0
                self.retention_hits[d] += float(self.use_chance[cohort].sum(dtype=np.float64))
        self.retention_by_day.append(users_by_days_since_signup(self.signup_day, self.use_chance, day, max(RETENTION_DAYS)))
        return {
            "us_rednote_dau": int(on_rn.sum()),
            "us_rednote_members": counts[ACTIVE],
            "us_rednote_wau": weekly,
            "us_rednote_mau": monthly,
            "us_rednote_dau_mau": int(on_rn.sum()) / monthly if monthly else 0.0,
            "us_rednote_signups": signups,
            "us_rednote_cumulative_signups": self.cumulative_signups,
            "us_rednote_reactivations": int((self.activated_today & ~self.signed_up_today).sum()),
            "us_rednote_dormant": counts[DORMANT],
            "us_tiktok_dau": int(self.tiktok_active.sum()),
            "us_other_dau": int(self.other_used_today.sum()),
            "us_mix_tiktok_only": int((self.tiktok_active & ~on_rn).sum()),
            "us_mix_both": int((self.tiktok_active & on_rn).sum()),
            "us_mix_rednote_only": int((~self.tiktok_active & on_rn).sum()),
            "accounts_blocked_unverified": counts[BLOCKED],
            "us_posts": self.posts_today,
        }

    def retention(self) -> dict[int, float]:
        """Day-N retention of migrants who signed up in this run: share active N days after sign-up,
        over the cohorts whose day N fell inside the horizon (NaN if there were none)."""
        return {
            d: (self.retention_hits[d] / self.retention_cohort[d]) if self.retention_cohort[d] else float("nan")
            for d in RETENTION_DAYS
        }

    def retention_by_cohort(self, start: dt.date) -> CohortRetention:
        """Retention of the weekly sign-up cohorts of this run (ISO weeks; ``start`` is the date of day 0),
        in people: see `sim.cohorts`."""
        width = max(RETENTION_DAYS) + 1
        used = np.vstack(self.retention_by_day) if self.retention_by_day else np.zeros((0, width), np.int64)
        signups = np.bincount(self.signup_day[self.signup_day >= 0], minlength=used.shape[0])[: used.shape[0]]
        return by_week(used, signups, start, self.weight)

    def run_metrics(self) -> dict[str, float]:
        return {f"retention_day{d}": r for d, r in self.retention().items()}
