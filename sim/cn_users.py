"""Chinese RedNote users (the hosts): traits, state and every daily rule.

What a Chinese user does each day (`CnUsers.observe` then `CnUsers.decide`, all users at once):
  1. opens RedNote or not;
  2. may notice the foreign newcomers: the hashtag trends with a smooth, saturating (Hill) response to the
     volume of foreign posts, and followees who noticed recently pass it on in proportion to their share
     (dose-dependent); curiosity fades after noticing. Each agent stands for thousands of users: the share
     of them who have noticed is its state (its expected value, updated each day), not a yes/no draw;
  3. views foreign posts: curious users seek them out, everyone meets some in the feed in proportion to
     the foreign share of the feed (less in a walled-off international version);
  4. reacts to each view by topic, attitude and understanding: welcome (reply, sometimes follow: a
     cross-cultural tie), neutral, or hostility (sometimes a complaint to the platform, malicious or not);
  5. attitude drifts: warmer after welcoming exchanges, colder after hostile ones and when foreigners
     dilute the feed beyond a tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np
import scipy.sparse as sp

from sim import network
from sim.events import Day
from sim.params import CnUsers as CnParams
from sim.params import Mechanisms, Population
from sim.results import Headline, Output
from sim.rng import draw, guide_table, pick, poisson_draw
from sim.streams import Streams
from sim.us_users import Posts, beta_with_mean


@dataclass
class Reactions:
    """Outcome of one day of viewing (agent-level counts)."""

    views: int
    hashtag_views: float  # expected views sought out by curious users (proxy of #TikTokRefugee views)
    welcomes: int
    hostile: int
    replies_per_author: np.ndarray  # length n_us (agent-level replies)
    complaints_per_post: np.ndarray  # length n_published
    follow_viewer: np.ndarray  # new tie Chinese viewer -> US author
    follow_author: np.ndarray
    follow_back: np.ndarray  # which of those ties the author returns


# --------------------------------------------------------------------------------------------------
# Rules as pure functions
# --------------------------------------------------------------------------------------------------
def trend_salience(foreign_posts: float, half_posts: float, steepness: float) -> float:
    """How strongly the newcomers trend in [0, 1): a Hill response F^k / (F^k + F50^k) to today's foreign
    posts F. Smooth, so every agent count sees the same response to the same volume (a hard threshold
    turns the small run-to-run noise of F near the threshold into all-or-nothing attention); saturating,
    because a trending list has only so much room; k -> infinity recovers a step at F50."""
    if foreign_posts <= 0.0:
        return 0.0
    if steepness * (math.log(half_posts) - math.log(foreign_posts)) > 700.0:  # (F50 / F)^k would overflow
        return 0.0
    return float(1.0 / (1.0 + (half_posts / foreign_posts) ** steepness))


def notice_hazard(p: CnParams, salience: float, exposure: np.ndarray) -> np.ndarray:
    """Daily hazard of noticing the newcomers while they trend (``salience`` in [0, 1]): from the trending
    hashtag itself (same for everyone) and from followees who noticed recently, linear in their share
    (simple, dose-dependent contagion: Quelle et al. 2025). Both scale with the trend: people pass on a
    topic while it is hot. Without that, a vanishing share of "aware" users before the surge (a
    hundredth of a person, which only a share-valued state can have) would grow exponentially by word of
    mouth alone and set the level of attention in January (the "atto-fox" problem of mean-field models)."""
    return noticing(salience, p.trend_rate, p.awareness_peer_influence, np.asarray(exposure, dtype=np.float64))


@nb.njit(cache=True, inline="always")
def noticing(salience, trend_rate, peer, exposure):  # pragma: no cover - compiled
    """`notice_hazard` with the parameters spelled out (scalars or arrays)."""
    return salience * (trend_rate + peer * exposure)


@nb.njit(cache=True, inline="always")
def notice(aware, curious, signal, hazard, curiosity_decay, signal_decay):  # pragma: no cover - compiled
    """One day of noticing, as shares of the people each agent stands for: of those not yet aware, a share
    ``1 - exp(-hazard)`` notices today. Returns the new (aware, curious, signal): ``curious`` is the
    curiosity of the agent's people (1 for each who noticed today, fading by ``curiosity_decay`` a day),
    ``signal`` what followers see (noticed recently, fading by ``signal_decay`` a day). Scalars or arrays.

    Why shares and not a draw per agent: at a few thousand Chinese agents the first noticers would be
    single agents, each standing for tens of thousands of users, and a contagion started by one agent is
    all or nothing; real attention among 300 M users has no such lumps. Every share stays in [0, 1]."""
    newly = (1.0 - aware) * -np.expm1(-hazard)
    return aware + newly, curious * curiosity_decay + newly, signal * signal_decay + newly


def view_rate(
    p: CnParams, active: np.ndarray, openness: np.ndarray, curiosity: np.ndarray, visibility: float, feed_share: float
) -> np.ndarray:
    """Expected foreign posts each user views today."""
    return viewing(active, openness, curiosity, visibility, p.views_when_curious, p.views_from_feed * feed_share)


@nb.njit(cache=True, inline="always")
def viewing(active, openness, curiosity, visibility, when_curious, from_feed):  # pragma: no cover - compiled
    """`view_rate` with the parameters spelled out: curious users seek posts out, everyone meets some in the
    feed (``from_feed``: views from the feed at today's foreign share). Scalars or arrays."""
    return active * visibility * (when_curious * openness * curiosity + from_feed)


CHUNK = 1 << 16
"""Float sums over users are added in fixed chunks of rows, in chunk order: the same for any thread count."""


@nb.njit(cache=True, parallel=True)
def _attention_and_views(
    key, active_u, daily_use, aware, curious, signal, exposure, salience, trend_rate, peer, curiosity_decay, signal_decay,
    openness, visibility, when_curious, from_feed, draw_views, active, views, seek, sought,
):  # fmt: skip  # pragma: no cover - compiled
    """Steps 1-3 of a Chinese user's day for every user i (stream ``cn.day``): opens RedNote (slot 0, drawn
    for everyone in one vectorised pass: ``active_u``), the shares who notice (`notice`, from the
    start-of-day ``exposure``), and, if active and there are posts to see, the foreign posts viewed
    (Poisson, slot 1). ``seek[i]``: the views user i seeks out (0 if not active); ``sought[c]``: their sum
    over chunk c of `CHUNK` rows, added in row order (the hashtag-views proxy).

    The users are split evenly between threads, and the sums are a second, light pass: split by chunks,
    two threads had 4 and 3 chunks of 400 000 users (1.5x, against 2.0x now)."""
    k0, k1, day1 = key
    n = active.size
    for i in nb.prange(n):
        on = active_u[i] < daily_use[i]
        active[i] = on
        hazard = noticing(salience, trend_rate, peer, exposure[i])
        aware[i], curious[i], signal[i] = notice(aware[i], curious[i], signal[i], hazard, curiosity_decay, signal_decay)
        views[i], seek[i] = 0, 0.0
        if on:
            seek[i] = viewing(1.0, openness[i], curious[i], visibility, when_curious, 0.0)
            if draw_views:
                views[i] = poisson_draw(k0, k1, day1, i, 1, seek[i] + visibility * from_feed)
    for c in nb.prange(sought.size):
        total = 0.0
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            total += seek[i]  # + 0.0 for the users not active leaves the sum as it was
        sought[c] = total


BLOCK = 1 << 12
"""Rows per task of the passes that list today's users (`_on_and_viewers`)."""


@nb.njit(cache=True, parallel=True)
def _on_and_viewers(active, views):  # pragma: no cover - compiled
    """Today's active users, the viewers among them (in row order), each viewer's views and its first row
    among today's views: ``flatnonzero(active)``, ``on[views[on] > 0]``, ``views[viewers]`` and their
    exclusive cumulative sum, and the day's views, in one count and one fill pass over blocks of `BLOCK`
    rows. Both passes are branch-free (whether a row is listed is random: a branch on it mispredicts
    every other row): each row is written at the block's next free place, which the next listed row
    overwrites, until the block's share is full."""
    n = active.size
    blocks = -(-n // BLOCK)
    n_on, n_viewers, n_views = np.zeros(blocks + 1, np.int64), np.zeros(blocks + 1, np.int64), np.zeros(blocks + 1, np.int64)
    for b in nb.prange(blocks):
        a, z, v = 0, 0, 0
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            a += active[i]
            z += views[i] > 0
            v += views[i]
        n_on[b + 1], n_viewers[b + 1], n_views[b + 1] = a, z, v
    for b in range(blocks):  # block offsets
        n_on[b + 1] += n_on[b]
        n_viewers[b + 1] += n_viewers[b]
        n_views[b + 1] += n_views[b]
    on, viewers = np.empty(n_on[blocks], np.int64), np.empty(n_viewers[blocks], np.int64)
    counts, first = np.empty(n_viewers[blocks], np.int64), np.empty(n_viewers[blocks], np.int64)
    for b in nb.prange(blocks):
        a, i = n_on[b], b * BLOCK
        while a < n_on[b + 1]:
            on[a] = i
            a += active[i]
            i += 1
        z, v, i = n_viewers[b], n_views[b], b * BLOCK
        while z < n_viewers[b + 1]:
            viewers[z], counts[z], first[z] = i, views[i], v
            z += views[i] > 0
            v += views[i]
            i += 1
    return on, viewers, counts, first, n_views[blocks]


def reaction_probabilities(
    p: CnParams, mech: Mechanisms, topic: np.ndarray, attitude: np.ndarray, english: np.ndarray, translation_quality: float
) -> tuple[np.ndarray, np.ndarray]:
    """P(welcome), P(hostile) of each view (`reaction_chances_one` over arrays; attitude and English are
    float32 traits)."""
    welcome, hostile = np.empty(len(topic)), np.empty(len(topic))
    _reaction_chances_of(
        np.asarray(p.topic_welcome.as_tuple())[topic], np.asarray(p.topic_hostility.as_tuple())[topic],
        np.asarray(attitude, np.float32), np.asarray(english, np.float32), float(translation_quality),
        bool(mech.language_friction), welcome, hostile,
    )  # fmt: skip
    return welcome, hostile


def _reaction_chances(welcome_base, hostile_base, attitude, english, translation_quality, language_friction):
    """P(welcome), P(hostile) of a view of a post whose topic has these base chances. Attitude in [-1, 1]
    scales welcome by (1 + a) and hostility by (1 - a); welcoming needs understanding (English, or
    translation), half of it does not (pets, photos). Attitude and English are float32 (their arithmetic
    too, as numpy does with float32 arrays and Python floats); the chances float64, scaled down to sum to 1
    at most."""
    one, half = np.float32(1.0), np.float32(0.5)
    welcome = welcome_base * np.float64(one + attitude)
    hostile = hostile_base * np.float64(one - attitude)
    if language_friction:
        understand = english + (one - english) * np.float32(translation_quality)
        welcome = welcome * np.float64(half + half * understand)
    welcome, hostile = min(welcome, 1.0), min(hostile, 1.0)
    total = welcome + hostile
    if total > 1.0:
        scale = 1.0 / max(total, 1e-12)
        return welcome * scale, hostile * scale
    return welcome, hostile


# compiled twice from the one definition: inlined into `_views_and_reactions`, and as a loop over arrays
reaction_chances_one = nb.njit(inline="always", cache=True)(_reaction_chances)


@nb.njit(cache=True)
def _reaction_chances_of(
    welcome_base, hostile_base, attitude, english, translation_quality, friction, welcome, hostile
):  # pragma: no cover - compiled
    for j in range(welcome.size):
        welcome[j], hostile[j] = reaction_chances_one(
            welcome_base[j], hostile_base[j], attitude[j], english[j], translation_quality, friction
        )


@nb.njit(cache=True, parallel=True)
def _views_and_reactions(
    key, viewers, counts, first, cum, guide, post_topic, post_author, welcome_base, hostile_base, attitude, english,
    translation_quality, language_friction, reply_share, complaint_share, follow_share, follow_back_share,
    viewer, post, author, welcome, hostile, reply, complaint, follow, follow_back,
):  # fmt: skip  # pragma: no cover - compiled
    """Step 4 of a Chinese user's day for every view (stream ``cn.reactions``; view v of a viewer draws slots
    5v..5v+4): the post seen (slot 5v, picked by appeal: ``cum``), welcome or hostility (5v+1, chances
    `reaction_chances_one`), a reply or a complaint (5v+2), a follow (5v+3), a follow-back (5v+4). Viewer r
    has ``counts[r]`` views, written from row ``first[r]`` of the outputs."""
    k0, k1, day1 = key
    for r in nb.prange(viewers.size):
        i = viewers[r]
        for v in range(counts[r]):
            j, slot = first[r] + v, 5 * v
            seen = pick(k0, k1, day1, i, slot, cum, guide)
            topic = post_topic[seen]
            w, h = reaction_chances_one(
                welcome_base[topic], hostile_base[topic], attitude[i], english[i], translation_quality,
                language_friction,
            )  # fmt: skip
            u = draw(k0, k1, day1, i, slot + 1, 0)
            viewer[j], post[j], author[j] = i, seen, post_author[seen]
            welcome[j] = u < w
            hostile[j] = not welcome[j] and u < w + h
            u = draw(k0, k1, day1, i, slot + 2, 0)
            reply[j] = welcome[j] and u < reply_share
            complaint[j] = hostile[j] and u < complaint_share
            follow[j] = welcome[j] and draw(k0, k1, day1, i, slot + 3, 0) < follow_share
            follow_back[j] = follow[j] and draw(k0, k1, day1, i, slot + 4, 0) < follow_back_share


def drift_attitude(
    p: CnParams,
    attitude: np.ndarray,
    welcomes: np.ndarray,
    hostile: np.ndarray,
    active: np.ndarray,
    openness: np.ndarray,
    feed_share: float,
) -> np.ndarray:
    """Warmer with good exchanges, colder with hostile ones and with feed dilution beyond tolerance
    (`drifted_of`, `diluted_of` with this scenario's gains)."""
    dilution = diluted_of(dilution_rate(p, feed_share), np.asarray(openness, np.float32), active)
    return drifted_of(attitude, welcomes, hostile, dilution, p.warmth_gain, p.hostility_gain).astype(np.float32)


def dilution_rate(p: CnParams, feed_share: float) -> float:
    """Today's attitude loss of a fully closed, active user: the foreign share of the feed beyond tolerance."""
    return p.dilution_gain * max(0.0, feed_share - p.dilution_tolerance)


def _diluted(rate, openness, active):
    """Attitude lost to today's dilution: ``rate`` for a closed active user, less the more open (float32)."""
    return rate * (np.float32(1.0) - openness) * np.float32(active)


def _drifted(attitude, welcomes, hostile, dilution, warmth_gain, hostility_gain):
    """Tomorrow's attitude: up ``warmth_gain`` per welcoming exchange, down ``hostility_gain`` per hostile
    reaction and by ``dilution``, kept in [-1, 1]."""
    return min(max(attitude + warmth_gain * welcomes - hostility_gain * hostile - dilution, -1.0), 1.0)


# compiled twice from the one definition: inlined into `_drift_rows`, and as ufuncs for arrays
diluted_one, drifted_one = nb.njit(inline="always", cache=True)(_diluted), nb.njit(inline="always", cache=True)(_drifted)
diluted_of = nb.vectorize(["float32(float32, float32, boolean)"], cache=True)(_diluted)
drifted_of = nb.vectorize(["float64(" + ", ".join(["float64"] * 6) + ")"], cache=True)(_drifted)


@nb.njit(cache=True)
def _drift_rows(
    rows, viewer, welcome, hostile, attitude, openness, active, rate, warmth_gain, hostility_gain
):  # pragma: no cover - compiled
    """`drift_attitude` of ``rows`` (sorted), in place; ``viewer`` (sorted, each one of ``rows``) has one row
    per view, ``welcome`` / ``hostile`` whether that view was answered so."""
    rate32, j = np.float32(rate), 0
    for r in range(rows.size):
        i, welcomes, hostiles = rows[r], 0, 0
        while j < viewer.size and viewer[j] == i:
            welcomes += welcome[j]
            hostiles += hostile[j]
            j += 1
        dilution = np.float64(diluted_one(rate32, openness[i], active[i]))
        attitude[i] = np.float32(
            drifted_one(np.float64(attitude[i]), float(welcomes), float(hostiles), dilution, warmth_gain, hostility_gain)
        )


# --------------------------------------------------------------------------------------------------
# The population
# --------------------------------------------------------------------------------------------------
class CnUsers:
    """Chinese users as rows of arrays: agent id = row index."""

    OUTPUTS = (
        Output("cn_rednote_dau", "Chinese users active on RedNote that day", "people", "cn"),
        Output("cn_views_of_us_posts", "views of US posts by Chinese users that day", "views", "cn"),
        Output("cn_hashtag_views", "views Chinese users sought out (proxy of #TikTokRefugee hashtag views) that day", "views", "cn",
               "hashtag views"),
        Output("cn_welcomes", "welcoming reactions (reply, like) to US posts that day", "reactions", "cn", "welcomes"),
        Output("cn_hostile_reactions", "hostile reactions to US posts that day", "reactions", "cn", "hostile reactions"),
        Output("cn_aware_share", "share of Chinese users who have noticed the newcomers", "share", "real", "noticed the newcomers", "tab:blue"),
        Output("cn_welcoming_share", "share of Chinese users with a welcoming attitude", "share", "real", "welcoming attitude", "tab:green"),
        Output("complaints", "complaints against US posts that day", "posts", "cn", "complaints", "tab:orange", (
            Headline("complaints", "total", "complaints against US posts over the horizon", "complaints"),
        )),
    )  # fmt: skip

    def __init__(
        self,
        params: CnParams,
        population: Population,
        mechanisms: Mechanisms,
        follows: sp.csr_matrix,
        n: int,
        weight: float,
        streams: Streams,
        *,
        foreign_weight: float,
    ) -> None:
        self.p, self.mech, self.follows, self.n, self.weight = params, mechanisms, follows, n, weight
        self.streams, self.foreign_weight = streams, foreign_weight
        # real posts Chinese users make per day: the rest of the feed foreign posts compete with
        self.own_posts_real = population.cn_people * population.cn_daily_use * params.posts_per_user_per_day
        self.reactions: Reactions | None = None
        rng = streams.get("cn.traits")
        p = params
        self.n_following = network.out_degree(follows)
        self.openness = beta_with_mean(rng, p.openness_mean, n)
        self.english = beta_with_mean(rng, p.english_mean, n)
        self.daily_use = beta_with_mean(rng, population.cn_daily_use, n)
        self.nationalist = rng.random(n) < p.nationalist_share
        friendly = np.clip(rng.normal(0.6 * self.openness + 0.1, 0.2), -1, 1)
        hostile = np.clip(rng.normal(-0.5, 0.2, n), -1, 1)
        self.attitude = np.where(self.nationalist, hostile, friendly).astype(np.float32)
        self.active = np.zeros(n, dtype=bool)
        self.dau = 0
        self._active_u = np.empty(n, dtype=np.float64)  # today's cn.day slot-0 draws (reused buffer)
        self.aware = np.zeros(n, dtype=np.float32)  # share of the agent's people who have noticed the newcomers
        self.curious = np.zeros(n, dtype=np.float32)  # their curiosity (1 on the day of noticing, then fading)
        self.notice_signal = np.zeros(n, dtype=np.float32)  # noticed recently: what their followers see
        self.exposure = np.zeros(n, dtype=np.float32)
        self.curiosity_decay = 0.5 ** (1.0 / p.curiosity_half_life_days)
        self.signal_decay = float(np.exp(-1.0 / 7.0))

    def observe(self) -> None:
        """Exposure stage: share of followees who noticed the newcomers recently (state at start of day)."""
        self.exposure = network.exposure(self.follows, self.notice_signal)

    def feed(self, today: Day, volume: float, arrivals: float) -> tuple[float, float, float, float]:
        """What today's Chinese feed shows of the newcomers: (real foreign posts, real US sign-ups seen
        introducing themselves, share of the feed that is foreign, translation quality as Chinese readers
        meet it). ``volume`` is the expected agent posts going out (see `Regulator.expected_published`),
        ``arrivals`` the expected sign-ups in agents (see `UsUsers.decide`)."""
        foreign_real = volume * self.foreign_weight * today.visibility
        translation = today.translation_quality if self.mech.language_friction else 1.0
        share = foreign_real / (foreign_real + self.own_posts_real)
        return foreign_real, arrivals * self.foreign_weight * today.visibility, share, translation

    def decide(
        self,
        today: Day,
        published: Posts,
        *,
        volume: float,
        arrivals: float,
        author_reach: np.ndarray,
        n_us: int,
    ) -> Reactions:
        """Activity, noticing, viewing today's published foreign posts and reacting to them (``volume``
        and ``arrivals``: see `feed`)."""
        self.reactions = self._decide(
            today, published.author, published.topic, self.feed(today, volume, arrivals), author_reach, n_us
        )
        return self.reactions

    def _decide(
        self,
        today: Day,
        authors: np.ndarray,
        topics: np.ndarray,
        feed: tuple[float, float, float, float],
        author_reach: np.ndarray,
        n_us: int,
    ) -> Reactions:
        p, n, day, streams = self.p, self.n, today.day, self.streams
        _, arrivals, feed_share, translation_quality = feed
        # the hashtag trends with the arrivals introducing themselves (#TikTokRefugee), not with the posts
        # of US users who were on RedNote before
        salience = trend_salience(arrivals, p.trend_half_signups, p.trend_steepness)
        views, seek, sought = np.empty(n, np.int64), np.empty(n, np.float64), np.empty(-(-n // CHUNK), np.float64)
        reacting = self.mech.chinese_reactions
        _attention_and_views(
            streams.kernel("cn.day", day), streams.uniforms_all("cn.day", day, n, out=self._active_u), self.daily_use, self.aware, self.curious, self.notice_signal, self.exposure,
            salience, p.trend_rate, p.awareness_peer_influence, self.curiosity_decay, self.signal_decay, self.openness,
            today.visibility if reacting else 0.0, p.views_when_curious, p.views_from_feed * feed_share,
            reacting and authors.size > 0, self.active, views, seek, sought,
        )  # fmt: skip
        on, viewers, counts, first, views_today = _on_and_viewers(self.active, views)
        m = int(views_today)
        self.dau = on.size
        hashtag_views = float(sought.sum())  # expected views sought out (also of older posts)
        if m == 0:
            self._drift(on, np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, bool), feed_share)
            return Reactions(
                0, hashtag_views, 0, 0, np.zeros(n_us, np.int64), np.zeros(authors.size),
                *(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0, dtype=bool),
            )  # fmt: skip
        cum = np.cumsum(np.asarray(p.topic_appeal.as_tuple())[topics] * author_reach[authors])
        viewer, post, author = (np.empty(m, np.int64) for _ in range(3))
        welcome, hostile, reply, complaint, follow, follow_back = (np.empty(m, bool) for _ in range(6))
        _views_and_reactions(
            streams.kernel("cn.reactions", day), viewers, counts, first, cum, guide_table(cum), topics, authors,
            np.asarray(p.topic_welcome.as_tuple()), np.asarray(p.topic_hostility.as_tuple()), self.attitude,
            self.english, translation_quality, self.mech.language_friction, p.reply_share_when_welcoming,
            p.complaint_given_hostile, p.follow_given_welcome, p.follow_back,
            viewer, post, author, welcome, hostile, reply, complaint, follow, follow_back,
        )  # fmt: skip
        self._drift(on, viewer, welcome, hostile, feed_share)
        return Reactions(
            views=m,
            hashtag_views=hashtag_views,
            welcomes=int(welcome.sum()),
            hostile=int(hostile.sum()),
            replies_per_author=np.bincount(author[reply], minlength=n_us),
            complaints_per_post=np.bincount(post[complaint], minlength=authors.size),
            follow_viewer=viewer[follow],
            follow_author=author[follow],
            follow_back=follow_back[follow],
        )

    def _drift(self, on: np.ndarray, viewer: np.ndarray, welcome: np.ndarray, hostile: np.ndarray, feed_share: float) -> None:
        """Attitude drift: of every active user ``on`` when foreigners dilute the feed beyond the tolerance,
        else only of today's viewers (for everyone else nothing changes). ``viewer``: one row per view."""
        p = self.p
        if not self.mech.attitude_drift:
            return
        rows = on if feed_share > p.dilution_tolerance else viewer[np.flatnonzero(np.diff(viewer, prepend=-1))]  # sorted
        _drift_rows(
            rows, viewer, welcome, hostile, self.attitude, self.openness, self.active, dilution_rate(p, feed_share),
            p.warmth_gain, p.hostility_gain,
        )  # fmt: skip

    def measure(self, today: Day) -> dict[str, float]:
        """Today's agent-level values of `OUTPUTS`."""
        r = self.reactions
        assert r is not None
        return {
            "cn_rednote_dau": self.dau,
            "cn_views_of_us_posts": r.views,
            "cn_hashtag_views": r.hashtag_views,
            "cn_welcomes": r.welcomes,
            "cn_hostile_reactions": r.hostile,
            "cn_aware_share": self.aware_share(),
            "cn_welcoming_share": self.welcoming_share(),
            "complaints": float(r.complaints_per_post.sum()),
        }

    def welcoming_share(self) -> float:
        return float(np.mean(self.attitude > 0))

    def aware_share(self) -> float:
        return float(np.mean(self.aware, dtype=np.float64))
