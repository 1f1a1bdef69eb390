"""MigrationModel: the Mesa shell around array-based populations of US and Chinese users.

One step is one day, in this fixed order (populations update synchronously within a stage; the stages
run one after another, so later stages see the results of earlier ones):

  1. events      US schedule (ban salience, TikTok up or dark, app stores) and platform policy of the day
  2. regulator   real-name sweep; reviews of yesterday's complaints and of held posts; strikes and bans
  3. exposure    sparse matrix-vector products: US users' share of followees who recently moved to
                 RedNote and share active there; Chinese users' share of followees who noticed the
                 newcomers (all from the state at the start of the day)
  4. decisions   US users: sign-up / return / lapse, TikTok and other-app use, posting;
                 regulator: machine screening of the new posts (hold, remove, publish);
                 Chinese users: activity, noticing, viewing published posts, reactions, attitude drift
  5. graph       new cross-cultural follow ties; replies, ties and moderation fed back to US users
  6. recording   the DataCollector stores one row of scalar reporters (counts in real people)

Randomness: one master seed; each mechanism draws from its own named stream per day (`sim.streams`).
"""

from __future__ import annotations

import time
from typing import Any

import mesa
import numpy as np

from sim import network
from sim.cn_users import CnToday, CnUsers
from sim.events import build_us_schedule
from sim.params import Scenario
from sim.regulator import Posts, Regulator, build_platform_schedule
from sim.streams import Streams
from sim.us_users import ACTIVE, BLOCKED, DORMANT, UsToday, UsUsers

RETENTION_DAYS = (7, 30, 90)

REPORTERS: dict[str, str] = {
    # column: meaning (all counts in real people or real posts; "daily" = flow that day)
    "us_rednote_dau": "US users active on RedNote that day",
    "us_rednote_signups": "new US RedNote accounts that day",
    "us_rednote_cumulative_signups": "new US RedNote accounts since the start",
    "us_rednote_reactivations": "dormant US accounts that came back that day",
    "us_rednote_dormant": "US accounts that exist but were not used that day",
    "us_tiktok_dau": "US users who opened TikTok that day",
    "us_other_dau": "US users active on the other app (Lemon8/Instagram-like) that day",
    "us_mix_tiktok_only": "US users active on TikTok but not RedNote",
    "us_mix_both": "US users active on both TikTok and RedNote",
    "us_mix_rednote_only": "US users active on RedNote but not TikTok",
    "cn_rednote_dau": "Chinese users active on RedNote that day",
    "cn_views_of_us_posts": "views of US posts by Chinese users that day",
    "cn_hashtag_views": "views Chinese users sought out (proxy of #TikTokRefugee hashtag views) that day",
    "cn_welcomes": "welcoming reactions (reply, like) to US posts that day",
    "cn_hostile_reactions": "hostile reactions to US posts that day",
    "cn_aware_share": "share of Chinese users who have noticed the newcomers",
    "cn_welcoming_share": "share of Chinese users with a welcoming attitude",
    "cross_cultural_ties": "follow ties between Chinese and US users (stock)",
    "complaints": "complaints against US posts that day",
    "us_posts": "posts by US users that day",
    "posts_published": "US posts that became visible that day",
    "posts_held": "US posts sent to manual review that day",
    "posts_removed": "US posts removed that day",
    "reviews": "manual reviews done that day",
    "review_backlog": "US posts waiting for manual review at the end of the day",
    "review_capacity": "manual reviews the platform can do per day",
    "accounts_banned": "US accounts banned since the start (stock)",
    "wrongful_bans": "banned US accounts none of whose removed posts broke the rules (stock)",
    "accounts_blocked_unverified": "US accounts blocked for lacking mainland credentials (stock)",
    "ban_salience": "US ban salience (dimensionless)",
    "tiktok_up": "share of the day TikTok worked in the US",
    "moderation_tightening": "regulator's tightening level, 0 to 1",
}


class MigrationModel(mesa.Model):
    """US TikTok users, Chinese RedNote users and the platform regulator on a follow graph."""

    def __init__(self, scenario: Scenario, run: int = 0) -> None:
        self._started = time.perf_counter()
        streams = Streams(scenario.seed, run)
        super().__init__(rng=int(streams.get("mesa").integers(2**62)))
        self.config, self.run_index, self.streams = scenario, run, streams
        self.day = 0
        pop, net = scenario.population, scenario.network
        self.n_us = max(1, round(scenario.agents * pop.us_agent_share))
        self.n_cn = max(1, scenario.agents - self.n_us)
        self.us_weight = pop.us_people / self.n_us
        self.cn_weight = pop.cn_people / self.n_cn
        self.tie_scale = self.cn_weight / self.us_weight  # real Chinese followers per agent tie, per real US user

        def graph(n: int, mean_following: float, stream: str):
            return network.follow_graph(
                n, mean_following, streams.get(stream), kind=net.kind, community_size=net.community_size,
                within_share=net.within_community_share, popularity_exponent=net.popularity_exponent,
            )  # fmt: skip

        us_graph = graph(self.n_us, net.us_mean_following, "network.us")
        cn_graph = graph(self.n_cn, net.cn_mean_following, "network.cn")
        platform = scenario.platform
        self.us = UsUsers(
            scenario.us_users,
            pop,
            scenario.mechanisms,
            us_graph,
            self.n_us,
            self.us_weight,
            grey_test_share=platform.translation.grey_test_share,
            credential_share=platform.real_name.credential_share,
            creator_share=net.creator_share,
            streams=streams,
        )
        self.cn = CnUsers(scenario.cn_users, pop, scenario.mechanisms, cn_graph, self.n_cn, self.cn_weight, streams)
        self.us_schedule = build_us_schedule(scenario)
        self.platform_schedule = build_platform_schedule(scenario)
        self.regulator = Regulator(self, platform, scenario.mechanisms, self.platform_schedule, self.us_weight)
        self.ties = network.TieSet(self.n_us)  # Chinese user -> US user follows
        self.back_ties = network.TieSet(self.n_cn)  # US user -> Chinese user follows
        self.author_reach = (1.0 + np.log1p(self.us.followers)).astype(np.float64)
        self.cumulative_signups = 0
        self.retention_hits = {d: 0 for d in RETENTION_DAYS}
        self.retention_cohort = {d: 0 for d in RETENTION_DAYS}
        self.metrics: dict[str, float] = {}
        self.stage_seconds: dict[str, float] = {"build": time.perf_counter() - self._started}
        self._last_tick = time.perf_counter()
        self.datacollector = mesa.DataCollector(model_reporters={k: _reporter(k) for k in REPORTERS})
        self.running = True

    # ----------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One day (see the module docstring for the order)."""
        self._last_tick = time.perf_counter()
        day, streams, us, cn, reg = self.day, self.streams, self.us, self.cn, self.regulator
        mech = self.config.mechanisms
        clock = self._clock
        # 1. events
        us_today = self._us_today(day)
        clock("events")
        # 2. regulator
        released = reg.enforce(day, us, streams)
        clock("regulator")
        # 3. exposure (Chinese users here; US users' exposure is the first thing UsUsers.step computes)
        cn.observe()
        clock("exposure")
        # 4. decisions
        authors, topics = us.step(us_today, streams)
        clock("us_decisions")
        violation = np.asarray(self.config.us_users.topic_violation.as_tuple())[topics]
        broke_rules = streams.uniform("us.violation", day, us.n)[authors] < violation  # per-user draw: common random numbers
        new_posts = Posts(authors, topics, broke_rules, np.full(authors.size, day, np.int32))
        published = Posts.concat(released, reg.screen(day, new_posts, us, streams))
        clock("screening")
        visibility = float(self.platform_schedule.visibility[day])
        foreign_real = len(published) * self.us_weight * visibility
        cn_posts_real = (
            self.config.population.cn_people * self.config.population.cn_daily_use * self.config.cn_users.posts_per_user_per_day
        )
        cn_today = CnToday(
            day=day,
            translation_quality=float(self.platform_schedule.translation_quality[day]) if mech.language_friction else 1.0,
            visibility=visibility,
            feed_share=foreign_real / (foreign_real + cn_posts_real),
            foreign_posts_millions=foreign_real / 1e6,
        )
        reactions = cn.decide(cn_today, published.author, published.topic, self.author_reach[published.author], us.n, streams)
        reg.receive_complaints(published, reactions.complaints_per_post)
        clock("cn_decisions")
        # 5. graph updates and feedback to US users
        new_ties = self.ties.add(reactions.follow_viewer, reactions.follow_author)
        back = reactions.follow_back & new_ties
        self.back_ties.add(reactions.follow_author[back], reactions.follow_viewer[back])
        us.receive_feedback(
            replies_real=reactions.replies_per_author * self.tie_scale,
            moderation_events=reg.today.moderation_events,
            new_cn_followers=np.bincount(reactions.follow_author[new_ties], minlength=us.n),
        )
        clock("graph")
        # 6. recording
        self._measure(us_today, len(new_posts), len(published), reactions)
        self.datacollector.collect(self)
        clock("recording")
        self.day += 1
        if self.day >= self.config.days:
            self.running = False

    def _clock(self, stage: str) -> None:
        """Add the time since the previous stage ended to ``stage_seconds[stage]`` (for benchmarks)."""
        now = time.perf_counter()
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + now - self._last_tick
        self._last_tick = now

    def run(self, progress: Any = None) -> None:
        """Run to the end of the horizon; ``progress`` is called with 1 after each day."""
        while self.running:
            self.step()
            if progress is not None:
                progress(1)

    # ----------------------------------------------------------------------------------------------
    def _us_today(self, day: int) -> UsToday:
        s, ps, mech = self.us_schedule, self.platform_schedule, self.config.mechanisms
        return UsToday(
            day=day,
            salience=float(s.salience[day]) if mech.news_salience else 0.0,
            creator_salience=float(s.creator_salience[day]) if mech.news_salience else 0.0,
            tiktok_up=float(s.tiktok_up[day]),
            in_store=bool(s.in_store[day]),
            translation_quality=float(ps.translation_quality[day]),
            grey_translation_quality=float(ps.grey_translation_quality[day]),
            verify_new_accounts=bool(ps.verify_new_accounts[day]),
            verification_friction=self.config.platform.real_name.verification_friction,
            degradation=float(ps.degradation[day]),
            tie_scale=self.tie_scale,
        )

    def _measure(self, us_today: UsToday, n_posts: int, n_published: int, reactions: Any) -> None:
        us, cn, reg, w, wc = self.us, self.cn, self.regulator, self.us_weight, self.cn_weight
        counts = us.counts()
        on_rn = us.state == ACTIVE
        signups = int(us.signed_up_today.sum())
        self.cumulative_signups += signups
        for d in RETENTION_DAYS:
            cohort = us.signup_day == self.day - d
            if self.day >= d:
                self.retention_cohort[d] += int(cohort.sum())
                self.retention_hits[d] += int((cohort & on_rn).sum())
        self.metrics = {
            "us_rednote_dau": counts[ACTIVE] * w,
            "us_rednote_signups": signups * w,
            "us_rednote_cumulative_signups": self.cumulative_signups * w,
            "us_rednote_reactivations": int((us.activated_today & ~us.signed_up_today).sum()) * w,
            "us_rednote_dormant": counts[DORMANT] * w,
            "us_tiktok_dau": int(us.tiktok_active.sum()) * w,
            "us_other_dau": int(us.other_active.sum()) * w,
            "us_mix_tiktok_only": int((us.tiktok_active & ~on_rn).sum()) * w,
            "us_mix_both": int((us.tiktok_active & on_rn).sum()) * w,
            "us_mix_rednote_only": int((~us.tiktok_active & on_rn).sum()) * w,
            "cn_rednote_dau": int(cn.active.sum()) * wc,
            "cn_views_of_us_posts": reactions.views * wc,
            "cn_hashtag_views": reactions.hashtag_views * wc,
            "cn_welcomes": reactions.welcomes * wc,
            "cn_hostile_reactions": reactions.hostile * wc,
            "cn_aware_share": cn.aware_share(),
            "cn_welcoming_share": cn.welcoming_share(),
            "cross_cultural_ties": len(self.ties) * wc + len(self.back_ties) * w,
            "complaints": float(reactions.complaints_per_post.sum()) * wc,
            "us_posts": n_posts * w,
            "posts_published": n_published * w,
            "posts_held": reg.today.held * w,
            "posts_removed": reg.today.removed * w,
            "reviews": reg.today.reviews * w,
            "review_backlog": len(reg.backlog) * w,
            "review_capacity": reg.capacity,
            "accounts_banned": reg.banned_total * w,
            "wrongful_bans": reg.wrongful_banned_total * w,
            "accounts_blocked_unverified": counts[BLOCKED] * w,
            "ban_salience": us_today.salience,
            "tiktok_up": us_today.tiktok_up,
            "moderation_tightening": reg.tightening,
        }

    def retention(self) -> dict[int, float]:
        """Day-N retention of migrants who signed up in this run: share active N days after sign-up,
        over the cohorts whose day N fell inside the horizon (NaN if there were none)."""
        return {
            d: (self.retention_hits[d] / self.retention_cohort[d]) if self.retention_cohort[d] else float("nan")
            for d in RETENTION_DAYS
        }


def _reporter(name: str):
    def report(model: MigrationModel) -> float:
        return float(model.metrics[name])

    report.__name__ = name
    return report
