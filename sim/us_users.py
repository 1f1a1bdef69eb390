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
import math
from dataclasses import dataclass

import numba as nb
import numpy as np
import scipy.sparse as sp

from sim import network
from sim.cohorts import CohortRetention, by_week, users_by_days_since_signup
from sim.events import Day
from sim.params import TOPICS, Mechanisms, Population
from sim.params import UsUsers as UsParams
from sim.results import Headline, Output, run_headlines
from sim.rng import draw, draw_pair
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
def join_rates(p: UsParams, mech: Mechanisms) -> tuple[float, float, float, float]:
    """The sign-up hazard's coefficients (base, salience, displaced, peer) with switched-off mechanisms at 0."""
    return (
        p.join_base_rate if mech.spontaneous_joining else 0.0,
        p.join_salience_rate if mech.news_salience else 0.0,
        p.join_displaced_rate if mech.outside_option else 0.0,
        p.peer_influence if mech.social_contagion and p.contagion in ("rate", "mixed") else 0.0,
    )


def threshold_rule(p: UsParams, mech: Mechanisms) -> bool:
    return bool(mech.social_contagion and p.contagion == "threshold")


def _hazard(base, salience_rate, displaced_rate, peer, salience, motive, creator_multiplier, tiktok_dark, exposure):
    """Daily sign-up hazard (Bass-type: spontaneous + news + TikTok dark + peer term; `join_rates`)."""
    return base + salience_rate * salience * motive * creator_multiplier + displaced_rate * tiktok_dark + peer * exposure


def _chance(hazard, threshold_rule, exposure, threshold):
    """Chance of acting today: 1 - exp(-hazard); under the fractional-threshold rule (Watts 2002) 1 for
    everyone whose exposure reached their personal threshold."""
    if threshold_rule and exposure > 0.0 and exposure >= threshold:
        return 1.0
    return -math.expm1(-hazard)


# each rule compiled twice from the one definition: inlined into the daily kernel, and as a ufunc for arrays
hazard_one, chance_one = nb.njit(inline="always", cache=True)(_hazard), nb.njit(inline="always", cache=True)(_chance)
hazard_of = nb.vectorize(["float64(" + ", ".join(["float64"] * 9) + ")"], cache=True)(_hazard)
chance_of = nb.vectorize(["float64(float64, boolean, float64, float64)"], cache=True)(_chance)


def join_hazard(
    p: UsParams,
    mech: Mechanisms,
    salience: np.ndarray | float,
    motive: np.ndarray,
    creator_multiplier: np.ndarray,
    tiktok_dark: np.ndarray,
    exposure: np.ndarray,
) -> np.ndarray:
    """Daily sign-up hazard of users without an account (`hazard_of` with this scenario's coefficients)."""
    return hazard_of(*join_rates(p, mech), salience, motive, creator_multiplier, tiktok_dark, exposure)


def act_chance(hazard: np.ndarray, p: UsParams, mech: Mechanisms, exposure: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Chance of acting today (`chance_of`)."""
    return chance_of(hazard, threshold_rule(p, mech), exposure, threshold)


def adopt(
    hazard: np.ndarray, u: np.ndarray, p: UsParams, mech: Mechanisms, exposure: np.ndarray, threshold: np.ndarray
) -> np.ndarray:
    """Who acts today: a uniform draw ``u`` below the chance of acting (`act_chance`)."""
    return u < act_chance(hazard, p, mech, exposure, threshold)


@nb.njit(cache=True, inline="always")
def expected_signups(not_joined, chance, in_store, verify_chance):  # pragma: no cover - compiled
    """Sign-ups among the people an agent stands for, in expectation: of the share ``not_joined`` who never
    had an account, a share ``chance`` acts today if the app is in the store, and of those the verified
    ones join (the others are blocked). Returns (share joining today, share still without an account).

    Followers react to these shares, not to the agent's own draw: an agent stands for hundreds or
    thousands of people, and a real user's followee is one of them, who joined with this chance. A 0/1
    signal would make all those people sign up together and turn contagion into a lumpy branching
    process whose outcome depends on how many agents there are."""
    acting = not_joined * chance * (1.0 if in_store else 0.0)
    return acting * verify_chance, not_joined - acting


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
# The daily passes over every user, compiled: one pass per stage, each user's rule in registers, draws
# made only by users to whom a rule applies (`sim.streams` lists the streams and slots)
# --------------------------------------------------------------------------------------------------
JOINED, BLOCKED_AT_SIGNUP, RETURNED = 1, 2, 3  # `_sign_ups_and_returns` outcome codes (0: nothing)


@nb.njit(cache=True, parallel=True)
def _sign_ups_and_returns(
    join_u, verify_key, exposures, join_signal, signal_decay, rates, threshold_on, return_base, return_multiplier,
    dormant_return, salience, creator_salience, tiktok_up, rednote, in_store, verify, friction,
    state, not_joined, is_creator, motive, creator_multiplier, threshold, has_credentials, tiktok_installed,
    new_signal, newly, outcome,
):  # fmt: skip  # pragma: no cover - compiled
    """Step 2 of `UsUsers.decide` for every user i, from the state at the start of the day: sign-up hazard
    and chance from the ``exposures`` (mean ``join_signal`` of the followees), the expected shares
    (``not_joined`` in place, ``newly``, ``new_signal``), and the user's own draw ``join_u`` (``us.join``
    slot 0, drawn for everyone in one vectorised pass: most users have no account) deciding a sign-up
    (then ``us.verify`` slot 0 if verification applies) or, with a dormant account, a return."""
    base, salience_rate, displaced_rate, peer = rates
    for i in nb.prange(state.size):
        exposure = exposures[i]
        works = tiktok_up * tiktok_installed[i]
        sal = creator_salience if is_creator[i] else salience
        hazard = hazard_one(
            base, salience_rate, displaced_rate, peer, sal, motive[i], creator_multiplier[i], 1.0 - works, exposure
        )
        hazard *= rednote
        chance = chance_one(hazard, threshold_on, exposure, threshold[i])
        verify_chance = (1.0 - friction) * has_credentials[i] if verify else 1.0
        joining, left = expected_signups(not_joined[i], chance, in_store, verify_chance)
        not_joined[i] = left
        newly[i] = joining
        new_signal[i] = join_signal[i] * signal_decay + joining
        outcome[i] = 0
        if state[i] == NONE and in_store:
            if join_u[i] < chance:
                passes = not verify or (
                    has_credentials[i] and draw(verify_key[0], verify_key[1], verify_key[2], i, 0) >= friction
                )
                outcome[i] = JOINED if passes else BLOCKED_AT_SIGNUP
        elif state[i] == DORMANT and dormant_return:
            back = chance_one(return_base * rednote + return_multiplier * hazard, threshold_on, exposure, threshold[i])
            if join_u[i] < back:
                outcome[i] = RETURNED


@nb.njit(cache=True, parallel=True)
def _apps(
    key, tiktok_installed, tiktok_active, other_active, other_used, uses_today, tiktok_propensity, device_churn, reinstall,
    in_store, use_up, rush, displacement, join_other, other_lapse, other_follows_tiktok, other_up,
):  # fmt: skip  # pragma: no cover - compiled
    """Step 4 of `UsUsers.decide` for every user i (stream ``us.apps``): TikTok is lost (device churn) or
    reinstalled while in the stores (slot 0) and opened if it works in one of the user's sessions (slot 1;
    less by those who opened RedNote: displacement); the other app is joined or left (slot 2) and, if it
    went dark with TikTok, opened when it works (slot 3)."""
    k0, k1, day1 = key
    for i in nb.prange(tiktok_installed.size):
        u, u_open = draw_pair(k0, k1, day1, i, 0)  # slots 0 and 1
        u_other, u_other_open = draw_pair(k0, k1, day1, i, 1)  # slots 2 and 3
        if tiktok_installed[i]:
            tiktok_installed[i] = u >= device_churn
        elif in_store:
            tiktok_installed[i] = u < reinstall
        active = False
        if tiktok_installed[i]:
            use = use_up * min(tiktok_propensity[i] * (1.0 + rush), 1.0) * (1.0 - displacement * uses_today[i])
            active = u_open < use
        tiktok_active[i] = active
        other_active[i] = u_other >= other_lapse if other_active[i] else u_other < join_other
        other_used[i] = other_active[i] and (not other_follows_tiktok or u_other_open < other_up)


@nb.njit(cache=True, parallel=True)
def _remember(
    engagement, moderation, cn_followers, replies, tie_scale, events, new_followers, keep
):  # pragma: no cover - compiled
    """Memories fade by ``keep`` a day and take in today's news: engagement from the real replies per real
    user (``replies`` * ``tie_scale``), moderation from ``events`` (float32, as numpy's float32 arrays
    with Python floats); Chinese followers add up. Rows with no memory and no news stay 0 untouched."""
    keep32, fresh32, fresh = np.float32(keep), np.float32(1.0 - keep), 1.0 - keep
    for i in nb.prange(engagement.size):
        if replies[i] != 0 or engagement[i] != 0:
            engagement[i] = np.float32(np.float64(keep32 * engagement[i]) + fresh * (replies[i] * tie_scale))
        if events[i] != 0 or moderation[i] != 0:
            moderation[i] = keep32 * moderation[i] + fresh32 * events[i]
        cn_followers[i] += new_followers[i]


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
        self.post_prob = np.where(self.is_creator, p.creator_post_prob, p.post_prob)  # chance to post on a day of use
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
        self.users_today = np.flatnonzero(self.uses_today)  # the same, as indices
        self.could_use = self.users_today  # members with a chance to open RedNote today
        self.last_use_day = np.where(self.uses_today, -1, LONG_AGO).astype(np.int32)
        self.has_used = self.uses_today.copy()  # used RedNote during the run (weekly and monthly users are among them)
        self.ever_used = self.users_today  # the same, as indices
        self.tiktok_installed = np.ones(n, dtype=bool)
        self.tiktok_active = rng.random(n) < self.tiktok_propensity
        self.other_active = rng.random(n) < p.other_initial_share
        self.other_used_today = self.other_active.copy()
        empty = np.zeros(0, dtype=np.int64)
        self.joins_today, self.returns_today, self.blocked_today = empty, empty, empty  # indices
        self.ever_joined = empty  # everyone who signed up in this run, in order
        self.posts_today = 0
        self.expected_posts = 0.0
        self.expected_signups = 0.0  # today's sign-ups in expectation (agents): the newcomers arriving
        self.use_chance = np.zeros(n, dtype=np.float32)
        self._join_u = np.empty(n, dtype=np.float64)  # today's us.join draws (reused buffer)
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
    def exposure(self) -> np.ndarray:
        """Each user's exposure to recent sign-ups: the mean join signal of the accounts they follow, or of
        every US user under well-mixed contagion (the Bass null of the model comparison)."""
        if self.p.contagion == "mixed":
            return np.full(self.n, self.join_signal.mean(dtype=np.float64), dtype=np.float32)
        return network.exposure(self.follows, self.join_signal)

    def decide(self, today: Day) -> Posts:
        """One day of decisions (synchronous: everyone reacts to the state at the start of the day).

        Returns today's posts.
        """
        p, mech, n, day, streams = self.p, self.mech, self.n, today.day, self.streams
        members = np.flatnonzero(self.state == ACTIVE)  # at the start of the day
        rednote = availability(today.rednote_up, p.tiktok_sessions_per_day)  # 1 unless RedNote is blocked

        # -- sign-ups and returns (an account is made in the app: it must be installable and working), and
        #    what followers see of them (the expected share of the agent's people who signed up recently:
        #    sign-ups, not quiet returns)
        new_signal, newly = np.empty(n, np.float32), np.empty(n, np.float32)
        outcome = np.empty(n, np.int8)
        _sign_ups_and_returns(
            streams.uniforms_all("us.join", day, n, out=self._join_u), streams.kernel("us.verify", day),
            self.exposure(), self.join_signal, self.signal_decay, join_rates(p, mech), threshold_rule(p, mech), p.dormant_return_base,
            p.dormant_return_multiplier, mech.dormant_return, today.salience, today.creator_salience, today.tiktok_up,
            rednote, today.rednote_in_store, today.verify_new_accounts, self.verification_friction,
            self.state, self.not_joined, self.is_creator, self.motive, self.creator_multiplier, self.threshold,
            self.has_credentials, self.tiktok_installed, new_signal, newly, outcome,
        )  # fmt: skip
        self.join_signal = new_signal
        self.expected_signups = float(newly.sum(dtype=np.float64))
        changed = np.flatnonzero(outcome.view(np.bool_))  # the same rows; numpy's nonzero of bytes is ~10x faster
        joins = changed[outcome[changed] == JOINED]
        self.blocked_today = changed[outcome[changed] == BLOCKED_AT_SIGNUP]
        arrivals = changed[outcome[changed] != BLOCKED_AT_SIGNUP]  # new and returning members

        # -- staying a member or lapsing (``us.stay`` slot 0), and opening RedNote today (slot 1): members
        #    at the start of the day; the chance to open it is 1 for new and returning members, and for
        #    every member without the daily choice; its sum is the expected DAU
        stay, lapsed = members, members[:0]
        self.use_chance = np.zeros(n, dtype=np.float32)
        if members.size and (mech.lapse or mech.daily_use):
            utility = self.stay_utility_of(members, today, rednote)
            if mech.lapse:
                kept = streams.uniforms("us.stay", day, members, 0) < sigmoid(utility)
                stay, lapsed, utility = members[kept], members[~kept], utility[kept]
            if mech.daily_use:
                self.use_chance[stay] = sigmoid(utility + p.use_shift) * rednote
        if not mech.daily_use:
            self.use_chance[stay] = 1.0
        self.use_chance[arrivals] = 1.0
        self.state[lapsed] = DORMANT
        self.state[self.blocked_today] = BLOCKED
        self.state[arrivals] = ACTIVE
        self.signup_day[joins] = day
        self.activated_day[arrivals] = day
        self.joins_today, self.returns_today = joins, changed[outcome[changed] == RETURNED]
        self.ever_joined = np.concatenate((self.ever_joined, joins))
        first_use = arrivals[~self.has_used[arrivals]]  # a dormant account from before the run may come back
        self.has_used[first_use] = True
        self.ever_used = np.concatenate((self.ever_used, first_use))
        opened = stay[streams.uniforms("us.stay", day, stay, 1) < self.use_chance[stay]] if mech.daily_use else stay
        self.users_today = np.concatenate((opened, arrivals))
        self.could_use = np.concatenate((stay, arrivals))
        self.uses_today = np.zeros(n, dtype=bool)
        self.uses_today[self.users_today] = True
        self.last_use_day[self.users_today] = day

        self._use_tiktok_and_other(today)
        return self._post(day)

    def stay_utility_of(self, idx: np.ndarray, today: Day, rednote: float) -> np.ndarray:
        """Utility of staying active for members ``idx`` (see `stay_utility`), from the start of the day."""
        p = self.p
        quality = np.where(
            self.grey_test[idx], max(today.translation_quality, today.grey_translation_quality), today.translation_quality
        )
        works = today.tiktok_up * self.tiktok_installed[idx]
        return stay_utility(
            p,
            self.mech,
            taste=self.taste[idx],
            engagement=self.engagement[idx],
            ties_real=self.cn_followers[idx] * self.tie_scale,
            friends_share=network.share_in_state(self.follows, self.state, ACTIVE, idx),
            fit=self.fit[idx],
            protest=self.protest[idx],
            salience=today.salience,
            curiosity=self.curiosity[idx],
            novelty=0.5 ** ((today.day - self.activated_day[idx]) / p.novelty_half_life_days),
            tenure=(today.day - self.activated_day[idx]).astype(np.float32),
            friction=language_friction(self.literacy[idx], quality),
            moderation=self.moderation[idx],
            tiktok_works=works * (1.0 + self._rush(today)),
            other_active=self.other_used_today[idx],
            degradation=today.degradation,
        )

    def _rush(self, today: Day) -> float:
        """Extra pull of TikTok in the days after it comes back (0 without that mechanism)."""
        return return_rush(self.p, today.tiktok_restored_days_ago) if self.mech.tiktok_return_rush else 0.0

    def _use_tiktok_and_other(self, today: Day) -> None:
        """TikTok and the other app, for every user (`_apps`)."""
        p, mech = self.p, self.mech
        # a daily user opens TikTok if it works in one of their sessions; without the daily-use mechanism
        # use is proportional to the hours it works
        use_up = availability(today.tiktok_up, p.tiktok_sessions_per_day) if mech.daily_use else today.tiktok_up
        join_other = -np.expm1(-(self.other_base_rate + p.other_join_rate * today.salience))
        follows_tiktok = mech.outside_option_follows_tiktok  # Lemon8 and CapCut left the stores and went dark with TikTok
        if follows_tiktok:
            join_other *= today.in_store
        _apps(
            self.streams.kernel("us.apps", today.day), self.tiktok_installed, self.tiktok_active, self.other_active,
            self.other_used_today, self.uses_today, self.tiktok_propensity, p.device_churn, p.reinstall_prob,
            today.in_store, use_up, self._rush(today), p.tiktok_displacement, join_other, p.other_lapse, follows_tiktok,
            availability(today.tiktok_up, p.tiktok_sessions_per_day),
        )  # fmt: skip

    def _post(self, day: int) -> Posts:
        """Today's users may post (``us.post`` slot 0), on a topic from their mix (slot 1); whether the post
        breaks the rules is drawn per post (slot 2), so it is common across scenarios."""
        streams, users = self.streams, self.users_today
        prob = self.post_prob
        authors = np.sort(users[streams.uniforms("us.post", day, users, 0) < prob[users]]).astype(np.int32)
        topics = draw_topics(streams.uniforms("us.post", day, authors, 1), self.topic_cdf[authors])
        violating = streams.uniforms("us.post", day, authors, 2) < self.topic_violation[topics]
        self.posts_today = int(authors.size)
        could = self.could_use  # everyone with a chance to open the app today
        self.expected_posts = float(np.dot(self.use_chance[could], prob[could]))  # over who opens the app and who posts
        return Posts(authors, topics, violating, np.full(authors.size, day, np.int32))

    # ----------------------------------------------------------------------------------------------
    def apply_moderation(self, decisions: Moderation) -> None:
        """The regulator's decisions: blocked accounts (real-name), then bans (a ban overrides a block)."""
        self.state[decisions.blocked] = BLOCKED
        self.state[decisions.banned] = BANNED
        self.uses_today[decisions.blocked] = self.uses_today[decisions.banned] = False  # a shut account is not a user
        self.users_today = self.users_today[self.uses_today[self.users_today]]
        self.use_chance[decisions.blocked] = self.use_chance[decisions.banned] = 0.0

    def can_be_seen(self, authors: np.ndarray) -> np.ndarray:
        """Whether posts by these authors can still reach viewers (their account exists and is not shut)."""
        return np.isin(self.state[authors], (ACTIVE, DORMANT))

    def receive_feedback(self, replies: np.ndarray, moderation_events: np.ndarray, new_cn_followers: np.ndarray) -> None:
        """Fold today's replies (agent-level replies per author: `tie_scale` real replies per real user each),
        held/removed posts and new Chinese followers into the memories that enter tomorrow's utility, in one
        compiled pass (`_remember`)."""
        _remember(
            self.engagement, self.moderation, self.cn_followers, replies, self.tie_scale, moderation_events,
            new_cn_followers, self.memory_decay,
        )  # fmt: skip

    # ----------------------------------------------------------------------------------------------
    def counts(self) -> np.ndarray:
        """Agents per RedNote state (index = state code); one comparison per state (a bincount of int8 casts
        every row to int64 first: ~10x slower)."""
        return np.array([np.count_nonzero(self.state == code) for code in range(len(STATE_NAMES))])

    def measure(self, today: Day) -> dict[str, float]:
        """Today's agent-level values of `OUTPUTS`; also counts the retention cohorts. Retention is defined
        on use. Computed on the few users concerned (today's users, everyone who ever used RedNote or
        signed up in this run), not on every row."""
        day, users = today.day, self.users_today
        counts = self.counts()
        last_use = self.last_use_day[self.ever_used]
        weekly, monthly = int((last_use > day - 7).sum()), int((last_use > day - 30).sum())
        self.cumulative_signups += self.joins_today.size
        joined = self.ever_joined
        signed_up, chance = self.signup_day[joined], self.use_chance[joined]
        for d in RETENTION_DAYS:
            if day >= d:
                cohort = signed_up == day - d
                self.retention_cohort[d] += int(cohort.sum())
                # in expectation over today's draw of who opens the app (the cohort's summed chances): the
                # same retention without the draw's noise, which at small agent counts leaves days at 0
                self.retention_hits[d] += float(chance[cohort].sum(dtype=np.float64))
        self.retention_by_day.append(users_by_days_since_signup(signed_up, chance, day, max(RETENTION_DAYS)))
        tiktok = int(np.count_nonzero(self.tiktok_active))
        both = int(np.count_nonzero(self.tiktok_active[users]))
        return {
            "us_rednote_dau": users.size,
            "us_rednote_members": counts[ACTIVE],
            "us_rednote_wau": weekly,
            "us_rednote_mau": monthly,
            "us_rednote_dau_mau": users.size / monthly if monthly else 0.0,
            "us_rednote_signups": self.joins_today.size,
            "us_rednote_cumulative_signups": self.cumulative_signups,
            "us_rednote_reactivations": self.returns_today.size,
            "us_rednote_dormant": counts[DORMANT],
            "us_tiktok_dau": tiktok,
            "us_other_dau": int(np.count_nonzero(self.other_used_today)),
            "us_mix_tiktok_only": tiktok - both,
            "us_mix_both": both,
            "us_mix_rednote_only": users.size - both,
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
