"""MigrationModel: the Mesa shell around array-based populations of US and Chinese users.

The model owns no rules: `step` only sequences the components, each of which owns its state and its
rules in its own module. One step is one day, in this fixed order (populations update synchronously
within a stage; the stages run one after another, so later stages see the results of earlier ones):

  1. events      `Calendar.today`: the day's context (`sim.events.Day`: ban salience, TikTok up or dark,
                 app stores, the platform's policy of the day), read by every component
  2. regulator   `Regulator.enforce`: real-name sweep; reviews of yesterday's complaints and of held
                 posts; strikes and bans. It returns who is blocked or banned; `UsUsers.apply_moderation` applies
                 them, and the released posts whose author can still be seen go out
  3. exposure    `CnUsers.observe`: Chinese users' share of followees who noticed the newcomers (US
                 users' exposure is the first thing `UsUsers.decide` computes; both from the state at the
                 start of the day)
  4. decisions   `UsUsers.decide`: sign-up / return / lapse, TikTok and other-app use, posting;
                 `Regulator.screen`: machine screening of the new posts (hold, remove, publish), decisions
                 applied as in 2; `CnUsers.decide`: activity, noticing, viewing published posts,
                 reactions, attitude drift; complaints go to the regulator for tomorrow
  5. graph       `CrossTies.add`: new cross-cultural follow ties; `UsUsers.receive_feedback`: replies,
                 ties and moderation fed back into US users' memories
  6. recording   every component's `measure()`, weighted by its `OUTPUTS` declarations into real people
                 or posts; the DataCollector stores one row

Randomness: one master seed; each mechanism draws from its own named stream, each draw keyed by (day,
user or post, slot) (`sim.streams`, `sim.rng`), so every draw is common across scenarios.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from typing import Any

import mesa
import numba
import numpy as np
from threadpoolctl import ThreadpoolController

from sim import network, results
from sim.cn_users import CnUsers
from sim.cohorts import CohortRetention
from sim.events import Calendar, Day
from sim.params import Scenario
from sim.regulator import Regulator
from sim.streams import Streams
from sim.us_users import Posts, UsUsers

THREADS_MIN_AGENTS = 100_000
"""Runs with fewer agents use one thread in their compiled kernels (on more, all the calling thread may
use): at 20 000 agents two threads gained nothing measurable (0.52-0.61 s either way), at 200 000 they
gained 1.2x, and small runs side by side (tests, notebooks) would otherwise compete for the cores. The
numbers are the same on any number of threads."""

REPORTERS: dict[str, str] = {name: o.meaning for name, o in results.outputs().items()}
"""Every daily series (a column of timeseries.csv) and its meaning, from the components' declarations."""


class MigrationModel(mesa.Model):
    """US TikTok users, Chinese RedNote users and the platform regulator on a follow graph."""

    def __init__(self, scenario: Scenario, run: int = 0) -> None:
        """Run ``run`` of ``scenario``; with a posterior fit it runs the run's own draw of the fitted parameters."""
        from sim.calibration import parameter_draw  # (sim.calibration imports the ensembles, which import this module)

        started = time.perf_counter()
        threads = numba.get_num_threads() if scenario.agents >= THREADS_MIN_AGENTS else 1
        with kernel_threads(threads):
            self._build(parameter_draw(scenario, run), run, threads, started)

    def _build(self, scenario: Scenario, run: int, threads: int, started: float) -> None:
        streams = Streams(scenario.seed, run)
        super().__init__(rng=int(streams.get("mesa").integers(2**62)))
        self.config, self.run_index, self.streams, self.threads = scenario, run, streams, threads
        self.day = 0
        pop, net, platform = scenario.population, scenario.network, scenario.platform
        self.n_us = max(1, round(scenario.agents * pop.us_agent_share))
        self.n_cn = max(1, scenario.agents - self.n_us)
        self.us_weight = pop.us_people / self.n_us
        self.cn_weight = pop.cn_people / self.n_cn
        self.weights = {"us": self.us_weight, "cn": self.cn_weight, "real": 1.0}

        def graph(n: int, mean_following: float, stream: str):
            return network.follow_graph(
                n, mean_following, streams.get(stream), kind=net.kind, community_size=net.community_size,
                within_share=net.within_community_share, popularity_exponent=net.popularity_exponent,
                popularity_cap_quantile=net.popularity_cap_quantile,
            )  # fmt: skip

        self.calendar = Calendar(scenario, scenario.mechanisms)
        self.us = UsUsers(
            scenario.us_users,
            pop,
            scenario.mechanisms,
            graph(self.n_us, net.us_mean_following, "network.us"),
            self.n_us,
            self.us_weight,
            grey_test_share=platform.translation.grey_test_share,
            credential_share=platform.real_name.credential_share,
            verification_friction=platform.real_name.verification_friction,
            creator_share=net.creator_share,
            tie_scale=self.cn_weight / self.us_weight,  # real Chinese followers per agent tie, per real US user
            topic_violation=np.asarray(scenario.us_users.topic_violation.as_tuple()),
            streams=streams,
        )
        self.cn = CnUsers(
            scenario.cn_users,
            pop,
            scenario.mechanisms,
            graph(self.n_cn, net.cn_mean_following, "network.cn"),
            self.n_cn,
            self.cn_weight,
            streams,
            foreign_weight=self.us_weight,
        )
        self.regulator = Regulator(
            self, platform, scenario.mechanisms, self.n_us, self.us_weight, streams, self.us.topic_violation
        )
        self.ties = network.CrossTies(self.n_us, self.n_cn)
        self.components = (self.us, self.cn, self.ties, self.regulator, self.calendar)  # in the order of the columns
        self.metrics: dict[str, float] = {}
        self.stage_seconds: dict[str, float] = {"build": time.perf_counter() - started}
        self._last_tick = time.perf_counter()
        self.datacollector = mesa.DataCollector(model_reporters={k: _reporter(k) for k in REPORTERS})
        self.running = True

    # ----------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One day (see the module docstring for the order), its kernels on `threads` threads."""
        with kernel_threads(self.threads):
            self._day()

    def _day(self) -> None:
        self._last_tick = time.perf_counter()
        us, cn, reg, clock = self.us, self.cn, self.regulator, self._clock
        today = self.calendar.today(self.day)
        clock("events")
        released, decisions = reg.enforce(today, us)
        us.apply_moderation(decisions)
        released = released.take(us.can_be_seen(released.author))
        clock("regulator")
        cn.observe()
        clock("exposure")
        posts = us.decide(today)
        clock("us_decisions")
        screened, decisions = reg.screen(today, posts)
        us.apply_moderation(decisions)
        published = Posts.concat(released, screened)
        clock("screening")
        reactions = cn.decide(
            today,
            published,
            volume=reg.expected_published(us.expected_posts, released),
            arrivals=us.expected_signups,
            author_reach=us.author_reach,
            n_us=us.n,
        )
        reg.receive_complaints(published, reactions.complaints_per_post)
        clock("cn_decisions")
        new_followers = self.ties.add(reactions.follow_viewer, reactions.follow_author, reactions.follow_back)
        us.receive_feedback(
            replies=reactions.replies_per_author,
            moderation_events=reg.today.moderation_events,
            new_cn_followers=new_followers,
        )
        clock("graph")
        self.record(today)
        clock("recording")
        self.day += 1
        if self.day >= self.config.days:
            self.running = False

    def record(self, today: Day) -> None:
        """Every component's measurements, weighted into real units by its declarations, as one row."""
        self.metrics = {}
        for component in self.components:
            self.metrics.update(results.weighted(component.measure(today), self.weights, component.OUTPUTS))
        self.datacollector.collect(self)

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
    def run_metrics(self) -> dict[str, float]:
        """Run-level headline numbers the components compute themselves (retention)."""
        return self.us.run_metrics()

    def retention_by_cohort(self) -> CohortRetention:
        """Retention of the weekly sign-up cohorts of the days run so far (`sim.cohorts`)."""
        return self.us.retention_by_cohort(self.config.start_date)


@contextlib.contextmanager
def kernel_threads(n: int) -> Iterator[None]:
    """Compiled kernels called from this thread use ``n`` threads inside the block (numba's setting is per
    calling thread), and BLAS one thread (set and undone by this thread, with threadpoolctl).

    Why BLAS too: the model's one BLAS call (a dot product in `UsUsers._post`) let OpenBLAS start its
    own threads, which then spin-wait for more work and took a core from the compiled kernels' threads:
    calls of a few milliseconds stalled for 20 ms, and a million agents took 9.6 s instead of 8.3 s.
    OpenBLAS's threaded dot also adds in another order (above 10 000 entries: different last bits on
    one and two threads), so a model's numbers would have depended on the number of BLAS threads. (How
    the OpenBLAS build numpy ships scopes the setting when several threads set it differs between
    versions; here a limit set in one thread was not seen as undone by another, so each model's thread
    sets and undoes its own.)"""
    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        with _blas().limit(limits=1, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(before)


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's thread pools (found once: 0.6 ms; a limit then costs ~7 us to set and undo)."""
    return ThreadpoolController()


def _reporter(name: str):
    def report(model: MigrationModel) -> float:
        return float(model.metrics[name])

    report.__name__ = name
    return report
