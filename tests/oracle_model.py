"""A straightforward Mesa model of the same rules: one Python object per user, plain loops.

Written from the ODD description (docs/ODD.md, section 7), not from the vectorized code, so that it can
serve as a correctness oracle: the distributions of outcomes over seeds must agree with MigrationModel's.
It is also the speed baseline of benchmarks/bench_scale.py. It shares only inputs with the real model:
the scenario, the exogenous schedules and the follow-graph generator. Its random numbers come from one
numpy generator per run, drawn in agent order, so single runs differ from the vectorized model's;
distributions must not.
"""

from __future__ import annotations

import math
from collections import deque

import mesa
import numpy as np

from sim import network
from sim.events import build_platform_schedule, build_us_schedule
from sim.params import TOPICS, Scenario

NONE, ACTIVE, DORMANT, BANNED, BLOCKED = range(5)
POLITICS = TOPICS.index("politics")


def beta(rng, mean, concentration=2.0):
    if mean <= 0 or mean >= 1:
        return min(max(mean, 0.0), 1.0)
    return rng.beta(concentration * mean, concentration * (1 - mean))


class USUser(mesa.Agent):
    def __init__(self, model, index, rng, p, pop, grey_share, credential_share):
        super().__init__(model)
        self.index = index
        self.protest, self.curiosity = beta(rng, p.protest_mean), beta(rng, p.curiosity_mean)
        self.literacy = beta(rng, p.chinese_literacy_mean, 0.5)
        self.taste = rng.normal(0, p.taste_sd)
        shares = np.array(p.topic_shares.as_tuple()) / sum(p.topic_shares.as_tuple())
        self.mix = rng.dirichlet(np.maximum(p.topic_concentration * shares, 1e-3))
        self.fit = float(self.mix @ np.array(p.topic_fit.as_tuple()))
        self.tiktok_propensity = beta(rng, pop.us_tiktok_daily_use)
        self.threshold = min(max(rng.normal(p.threshold_mean, p.threshold_sd), 0), 1)
        self.credentials = rng.random() < credential_share
        self.grey = rng.random() < grey_share
        self.creator = False
        self.state, self.signup_day, self.activated_day = NONE, -1, -(10**6)
        self.signal = self.engagement = self.moderation = 0.0
        self.not_joined = self.use_chance = 0.0  # expected shares of the people the agent stands for
        self.strikes = self.true_strikes = self.cn_followers = 0
        self.tiktok_installed, self.tiktok_active = True, rng.random() < self.tiktok_propensity
        self.other_active = rng.random() < p.other_initial_share
        self.other_used, self.uses = self.other_active, False
        self.following: list[USUser] = []
        self.replies = self.mod_events = 0.0
        self.new_followers = 0


class CNUser(mesa.Agent):
    def __init__(self, model, index, rng, p, pop):
        super().__init__(model)
        self.index = index
        self.openness, self.english, self.daily_use = (
            beta(rng, p.openness_mean),
            beta(rng, p.english_mean),
            beta(rng, pop.cn_daily_use),
        )
        nationalist = rng.random() < p.nationalist_share
        a = rng.normal(-0.5, 0.2) if nationalist else rng.normal(0.6 * self.openness + 0.1, 0.2)
        self.attitude = min(max(a, -1), 1)
        self.active, self.aware, self.curious, self.signal = False, 0.0, 0.0, 0.0
        self.following: list[CNUser] = []


class OracleModel(mesa.Model):
    def __init__(self, scenario: Scenario, run: int = 0) -> None:
        # int: Mesa 3.5 seeds random.Random with it, which takes no numpy integer on Python 3.13
        super().__init__(rng=int(np.random.SeedSequence([scenario.seed, run, 77]).generate_state(1)[0]))
        s, pop, net, plat = scenario, scenario.population, scenario.network, scenario.platform
        self.s, self.day, self.r = s, 0, np.random.default_rng(np.random.SeedSequence([s.seed, run, 99]))
        r = self.r
        n_us = max(1, round(s.agents * pop.us_agent_share))
        n_cn = max(1, s.agents - n_us)
        self.w_us, self.w_cn = pop.us_people / n_us, pop.cn_people / n_cn
        p = s.us_users
        self.us = [
            USUser(self, i, r, p, pop, plat.translation.grey_test_share, plat.real_name.credential_share) for i in range(n_us)
        ]
        self.cn = [CNUser(self, j, r, s.cn_users, pop) for j in range(n_cn)]
        for users, mean in ((self.us, net.us_mean_following), (self.cn, net.cn_mean_following)):
            g = network.follow_graph(len(users), mean, r, kind=net.kind, community_size=net.community_size,
                                     within_share=net.within_community_share, popularity_exponent=net.popularity_exponent,
                                     popularity_cap_quantile=net.popularity_cap_quantile)  # fmt: skip
            for i, u in enumerate(users):
                u.following = [users[j] for j in g.indices[g.indptr[i] : g.indptr[i + 1]]]
        followers = np.zeros(n_us)
        for u in self.us:
            for v in u.following:
                followers[v.index] += 1
        self.reach = [1 + math.log1p(f) for f in followers]
        for i in np.argsort(-(followers + r.random(n_us) * 0.5))[: round(net.creator_share * n_us)]:
            self.us[i].creator = True
        members = pop.us_rednote_dau / (pop.us_rednote_daily_share if s.mechanisms.daily_use else 1.0)
        n_acc, n_dau = round(pop.us_rednote_accounts / self.w_us), round(members / self.w_us)
        accounts = self._weighted(self.us, [0.02 + u.literacy + 0.5 * u.curiosity for u in self.us], n_acc)
        for u in accounts:
            u.state = DORMANT
        for u in self._weighted(accounts, [(0.05 + u.literacy) * math.exp(u.taste) for u in accounts], n_dau):
            u.state, u.activated_day, u.uses = ACTIVE, -round(p.pre_surge_tenure_days), True
        for u in self.us:
            u.not_joined, u.newly = float(u.state == NONE), 0.0
        self.pass_share = 1.0
        self.us_sched, self.plat = build_us_schedule(s), build_platform_schedule(s)
        self.capacity, self.tightening = plat.moderation.review_capacity, 0.0
        self.backlog: deque = deque()
        self.complained: list = []
        self.ties: set = set()
        self.back_ties: set = set()
        self.banned_total = self.signups_total = 0
        s0 = min(p.other_initial_share, 0.99)
        self.other_base = p.other_lapse * s0 / (1 - s0)
        self.series: dict[str, list[float]] = {
            k: [] for k in ("us_rednote_dau", "us_rednote_signups", "cross_cultural_ties", "posts_removed", "us_tiktok_dau")
        }

    def _weighted(self, users, weights, k):
        keys = [math.log(self.r.random()) / max(w, 1e-12) for w in weights]
        order = sorted(range(len(users)), key=lambda i: -keys[i])
        return [users[i] for i in order[:k]]

    # ------------------------------------------------------------------------------------------------
    def step(self) -> None:
        s, d, r, p, mech = self.s, self.day, self.r, self.s.us_users, self.s.mechanisms
        mod = s.platform.moderation
        sal = self.us_sched.salience[d] if mech.news_salience else 0.0
        csal = self.us_sched.creator_salience[d] if mech.news_salience else 0.0
        up, in_store = self.us_sched.tiktok_up[d], self.us_sched.in_store[d]
        sessions = p.tiktok_sessions_per_day

        def avail(f: float) -> float:  # a daily user misses an app only if every session falls in the dark
            return 1 - (1 - f) ** sessions

        rn = avail(self.us_sched.rednote_up[d])
        rn_store = self.us_sched.rednote_in_store[d]
        since = self.us_sched.tiktok_restored_days_ago[d]
        rho = p.tiktok_return_rush * 0.5 ** (since / p.tiktok_return_rush_half_life_days) if mech.tiktok_return_rush else 0.0
        tq, gq = self.plat.translation_quality[d], self.plat.grey_translation_quality[d]
        removed_today = 0
        for u in self.us:
            u.replies = u.mod_events = 0.0
            u.new_followers = 0
        # 2. regulator: sweep, complaint reviews, backlog, expiry
        if self.plat.real_name_sweep_day == d:
            for u in self.us:
                if u.state in (ACTIVE, DORMANT) and not (
                    u.credentials and r.random() >= s.platform.real_name.verification_friction
                ):
                    u.state, u.uses = BLOCKED, False
        released = []
        if mech.moderation:
            budget = self.capacity / self.w_us
            budget = int(budget) + (r.random() < budget - int(budget))
            for post, c in self.complained[:budget]:
                sp = mod.complaint_true_success if post[2] else min(1, mod.complaint_malicious_success * (1 + self.tightening))
                if r.random() < 1 - (1 - min(sp, 1 - 1e-12)) ** c:
                    removed_today += self._remove(post)
            budget -= min(budget, len(self.complained))
            self.complained = []
            while budget > 0 and self.backlog:
                post = self.backlog.popleft()
                budget -= 1
                if r.random() < (mod.manual_detection if post[2] else mod.manual_false_positive):
                    removed_today += self._remove(post)
                else:
                    released.append(post)
            det, fp = self._machine(tq)
            keep = deque()
            for post in self.backlog:
                if d - post[3] >= mod.max_hold_days:
                    if r.random() < (det if post[2] else fp):
                        removed_today += self._remove(post)
                    else:
                        released.append(post)
                else:
                    keep.append(post)
            self.backlog = keep
            released = [q for q in released if q[0].state in (ACTIVE, DORMANT)]
        # 3-4. US decisions, synchronous: exposure, friends and utility from the state at the start of the day
        start = {u: (u.state, u.signal) for u in self.us}
        joins = []
        arrivals = 0.0  # expected sign-ups today (agents)
        for u in self.us:
            k = len(u.following)
            expo = sum(start[v][1] for v in u.following) / k if k else 0.0
            friends = sum(start[v][0] == ACTIVE for v in u.following) / k if k else 0.0
            works = up * u.tiktok_installed
            motive = 1.0 if u.creator else 0.5 * (u.protest + u.curiosity)
            h = (p.join_base_rate if mech.spontaneous_joining else 0) + (
                p.join_salience_rate * (csal if u.creator else sal) * motive * (p.creator_salience_multiplier if u.creator else 1)
                if mech.news_salience
                else 0
            )
            h += p.join_displaced_rate * (1 - works) if mech.outside_option else 0
            h += p.peer_influence * expo if mech.social_contagion and p.contagion == "rate" else 0
            h *= rn
            thresh = mech.social_contagion and p.contagion == "threshold" and expo > 0 and expo >= u.threshold
            st = start[u][0]
            u.uses, u.use_chance = False, 0.0
            acting = u.not_joined * (1.0 if thresh else 1 - math.exp(-h)) * rn_store
            verify = u.credentials * (1 - s.platform.real_name.verification_friction) if self.plat.verify_new_accounts[d] else 1.0
            u.newly, u.not_joined = acting * verify, u.not_joined - acting
            arrivals += u.newly
            if st == NONE and (r.random() < 1 - math.exp(-h) or thresh) and rn_store:
                if self.plat.verify_new_accounts[d] and not (
                    u.credentials and r.random() >= s.platform.real_name.verification_friction
                ):
                    u.state = BLOCKED
                else:
                    joins.append(u)
            elif (
                st == DORMANT
                and mech.dormant_return
                and (r.random() < 1 - math.exp(-(p.dormant_return_base * rn + p.dormant_return_multiplier * h)) or thresh)
            ):
                u.state, u.activated_day, u.uses, u.use_chance = ACTIVE, d, True, 1.0
            elif st == ACTIVE and (mech.lapse or mech.daily_use):
                q = max(tq, gq) if u.grey else tq
                a = d - u.activated_day
                util = (p.habit + u.taste + p.w_engagement * math.log1p(u.engagement) + p.w_ties * math.log1p(u.cn_followers * self.w_cn / self.w_us)
                        + p.w_friends * friends + p.w_fit * u.fit + p.w_protest * u.protest * sal
                        + p.w_novelty * u.curiosity * 0.5 ** (a / p.novelty_half_life_days) + p.w_tenure * math.log1p(a)
                        - p.w_moderation * u.moderation - p.w_degradation * self.plat.degradation[d])  # fmt: skip
                if mech.language_friction:
                    util -= p.w_language * (1 - u.literacy) * (1 - q)
                if mech.outside_option:
                    util -= p.w_tiktok * works * (1 + rho) + p.w_other * u.other_used
                if mech.lapse and r.random() >= 1 / (1 + math.exp(-util)):
                    u.state = DORMANT
                elif mech.daily_use:
                    u.use_chance = rn / (1 + math.exp(-(util + p.use_shift)))
                    u.uses = r.random() < u.use_chance
                else:
                    u.use_chance = 1.0
        for u in joins:
            u.state, u.signup_day, u.activated_day, u.uses, u.use_chance = ACTIVE, d, d, True, 1.0
        if not mech.daily_use:
            for u in self.us:
                u.uses = u.state == ACTIVE
        decay = 1.0 if p.exposure_memory_days is None else math.exp(-1 / p.exposure_memory_days)
        for u in self.us:
            u.signal = u.signal * decay + u.newly  # followers see the expected share who signed up
            if u.tiktok_installed:
                u.tiktok_installed = r.random() >= p.device_churn
            elif in_store:
                u.tiktok_installed = r.random() < p.reinstall_prob
            u.tiktok_active = u.tiktok_installed and r.random() < (avail(up) if mech.daily_use else up) * min(
                1.0, u.tiktok_propensity * (1 + rho)
            ) * (1 - p.tiktok_displacement * u.uses)
            follows = mech.outside_option_follows_tiktok
            u.other_active = (
                r.random() >= p.other_lapse
                if u.other_active
                else r.random() < (1 - math.exp(-(self.other_base + p.other_join_rate * sal))) * (in_store or not follows)
            )
            u.other_used = u.other_active and (not follows or r.random() < avail(up))
        viol = s.us_users.topic_violation.as_tuple()
        posts = []
        for u in self.us:
            if u.uses and r.random() < (p.creator_post_prob if u.creator else p.post_prob):
                topic = int(min(np.searchsorted(np.cumsum(u.mix), r.random(), side="right"), len(TOPICS) - 1))
                posts.append((u, topic, r.random() < viol[topic], d))
        # screening
        published = list(released)
        if mech.moderation:
            manual = min(1, mod.manual_share_foreign * (1 - mod.translation_accuracy_gain * tq) * (1 + self.tightening))
            det, fp = self._machine(tq)
            if posts:
                v = sum(q[2] for q in posts) / len(posts)
                self.pass_share = (1 - manual) * (1 - v * det - (1 - v) * fp)
            for post in posts:
                if mod.max_hold_days > 0 and r.random() < manual:
                    self.backlog.append(post)
                    post[0].mod_events += 0.5
                elif r.random() < (det if post[2] else fp):
                    removed_today += self._remove(post)
                else:
                    published.append(post)
            share = sum(viol[q[1]] for q in posts) / len(posts) if posts else 0.0  # expected violating share
            pressure = mod.tightening_gain * max(0.0, share - mod.violation_tolerance) + (
                mod.directive_tightening if self.plat.directive_day == d else 0
            )
            self.tightening = min(1.0, max(0.0, self.tightening * (1 - mod.tightening_decay) + pressure))
            if self.plat.directive_day is not None and d >= self.plat.directive_day:
                self.capacity = min(mod.capacity_max, self.capacity * (1 + mod.capacity_growth_per_day))
        else:
            published += posts
        # Chinese users
        c = s.cn_users
        vis = self.plat.visibility[d]
        expected_posts = sum(u.use_chance * (p.creator_post_prob if u.creator else p.post_prob) for u in self.us)
        expected_out = expected_posts * (self.pass_share if mech.moderation else 1.0) + len(released)
        foreign = expected_out * self.w_us * vis
        cn_posts = s.population.cn_people * s.population.cn_daily_use * c.posts_per_user_per_day
        feed = foreign / (foreign + cn_posts)
        seen = arrivals * self.w_us * vis  # the arrivals introducing themselves
        trending = (
            seen**c.trend_steepness / (seen**c.trend_steepness + c.trend_half_signups**c.trend_steepness) if seen > 0 else 0.0
        )
        cstart = {v: v.signal for v in self.cn}
        weights = np.array([c.topic_appeal.as_tuple()[q[1]] * self.reach[q[0].index] for q in published]) if published else None
        complaints = [0] * len(published)
        cdecay = 0.5 ** (1 / c.curiosity_half_life_days)
        q_cn = tq if mech.language_friction else 1.0
        for v in self.cn:
            v.active = r.random() < v.daily_use
            k = len(v.following)
            expo = sum(cstart[w] for w in v.following) / k if k else 0.0
            # the share of the agent's people who notice today (an expected value, not a draw)
            noticed = (1 - v.aware) * (1 - math.exp(-trending * (c.trend_rate + c.awareness_peer_influence * expo)))
            v.aware, v.curious = v.aware + noticed, v.curious * cdecay + noticed
            v.signal = v.signal * math.exp(-1 / 7) + noticed
            wel = hos = 0
            if mech.chinese_reactions and published:
                cur = v.curious
                lam = v.active * vis * (c.views_when_curious * v.openness * cur + c.views_from_feed * feed)
                for _ in range(r.poisson(lam)):
                    i = int(
                        min(np.searchsorted(np.cumsum(weights), r.random() * weights.sum(), side="right"), len(published) - 1)
                    )
                    author, topic = published[i][0], published[i][1]
                    pw = c.topic_welcome.as_tuple()[topic] * (1 + v.attitude)
                    if mech.language_friction:
                        pw *= 0.5 + 0.5 * (v.english + (1 - v.english) * q_cn)
                    pw, ph = min(pw, 1), min(c.topic_hostility.as_tuple()[topic] * (1 - v.attitude), 1)
                    if pw + ph > 1:
                        pw, ph = pw / (pw + ph), ph / (pw + ph)
                    x = r.random()
                    if x < pw:
                        wel += 1
                        if r.random() < c.reply_share_when_welcoming:
                            author.replies += 1
                        if r.random() < c.follow_given_welcome and (v.index, author.index) not in self.ties:
                            self.ties.add((v.index, author.index))
                            author.new_followers += 1
                            if r.random() < c.follow_back:
                                self.back_ties.add((author.index, v.index))
                    elif x < pw + ph:
                        hos += 1
                        if r.random() < c.complaint_given_hostile:
                            complaints[i] += 1
            if mech.attitude_drift:
                dil = c.dilution_gain * max(0.0, feed - c.dilution_tolerance) * (1 - v.openness) * v.active
                v.attitude = min(1.0, max(-1.0, v.attitude + c.warmth_gain * wel - c.hostility_gain * hos - dil))
        self.complained = [(q, k) for q, k in zip(published, complaints) if k > 0]
        keep = math.exp(-1 / p.engagement_memory_days)
        for u in self.us:
            u.engagement = keep * u.engagement + (1 - keep) * u.replies * self.w_cn / self.w_us
            u.moderation = keep * u.moderation + (1 - keep) * u.mod_events
            u.cn_followers += u.new_followers
        self.signups_total += len(joins)
        self.series["us_rednote_dau"].append(sum(u.uses for u in self.us) * self.w_us)
        self.series["us_rednote_signups"].append(len(joins) * self.w_us)
        self.series["cross_cultural_ties"].append(len(self.ties) * self.w_cn + len(self.back_ties) * self.w_us)
        self.series["posts_removed"].append(removed_today * self.w_us)
        self.series["us_tiktok_dau"].append(sum(u.tiktok_active for u in self.us) * self.w_us)
        self.day += 1

    def _machine(self, tq):
        mod = self.s.platform.moderation
        det = min(
            1.0,
            (mod.machine_detection + (mod.manual_detection - mod.machine_detection) * mod.translation_accuracy_gain * tq)
            * (1 + self.tightening),
        )
        return det, min(1.0, mod.machine_false_positive * (1 + 2 * self.tightening))

    def _remove(self, post) -> int:
        u, topic, violating, _ = post
        u.mod_events += 1.0
        u.strikes += 1
        u.true_strikes += violating
        if u.state != BANNED and (u.strikes >= self.s.platform.moderation.strike_limit
                                  or (topic == POLITICS and self.r.random() < self.s.platform.moderation.political_ban_prob)):  # fmt: skip
            u.state, u.uses = BANNED, False
            self.banned_total += 1
        return 1

    def run(self) -> None:
        for _ in range(self.s.days):
            self.step()
