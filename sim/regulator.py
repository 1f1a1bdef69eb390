"""The platform regulator: RedNote's moderation under state pressure, and the platform's policy levers.

What the regulator does each day:
  at the start of the day (`enforce`):
    1. real-name sweep: on its start day with scope 'all_foreign', accounts without mainland credentials
       are blocked;
    2. reviews: yesterday's complaints first, then the held-post backlog first-in-first-out, within the
       day's review capacity; posts held longer than `max_hold_days` are released on the machine's call;
    3. strikes and bans for removed posts (political removals can ban at once);
  when US users post (`screen`):
    4. the machine sends a share of foreign posts to manual review (held: visible to nobody) and decides
       the rest, less accurately on foreign text unless translation is on;
    5. tightening follows the share of removed content, plus a jump on the state directive's day;
       capacity grows after the directive (hiring).
Policy levers read from `PlatformSchedule`: translation (start, quality, grey test), real-name
verification (scope, start), walled-off international feed, service failures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np

from sim.params import TOPICS, Mechanisms, Platform, Scenario
from sim.streams import Streams
from sim.us_users import ACTIVE, BANNED, BLOCKED, DORMANT, UsUsers

POLITICS = TOPICS.index("politics")
HELD_WEIGHT, REMOVED_WEIGHT = 0.5, 1.0  # how much a held / removed post weighs in a user's moderation memory


@dataclass(frozen=True)
class PlatformSchedule:
    """Day-by-day platform policy (index = day), from the scenario's `platform` section."""

    translation_quality: np.ndarray
    grey_translation_quality: np.ndarray
    verify_new_accounts: np.ndarray
    real_name_sweep_day: int | None
    visibility: np.ndarray
    degradation: np.ndarray
    directive_day: int | None


def build_platform_schedule(scenario: Scenario) -> PlatformSchedule:
    platform, days = scenario.platform, scenario.days
    dates = np.array([scenario.date_of(d) for d in range(days)])

    def from_day(date) -> np.ndarray:
        return np.zeros(days, dtype=bool) if date is None else dates >= date

    tr = platform.translation
    translation = from_day(tr.start) * tr.quality
    grey = from_day(tr.grey_test_start) * tr.quality
    rn = platform.real_name
    verify = from_day(rn.start) if rn.scope != "none" else np.zeros(days, dtype=bool)
    sweep = None
    if rn.scope == "all_foreign" and rn.start is not None:
        sweep = max(scenario.day_of(rn.start), 0)
        sweep = sweep if sweep < days else None
    wg = platform.walled_garden
    walled = (from_day(wg.start) if wg.start is not None else np.ones(days, dtype=bool)) & wg.enabled
    degradation = np.zeros(days)
    for failure in platform.service_degradations:
        d = scenario.day_of(failure.date)
        if 0 <= d < days:
            degradation[d] = max(degradation[d], failure.severity)
    directive = None
    if platform.moderation.directive_date is not None:
        d = scenario.day_of(platform.moderation.directive_date)
        directive = max(d, 0) if d < days else None
    return PlatformSchedule(
        translation_quality=translation,
        grey_translation_quality=grey,
        verify_new_accounts=verify,
        real_name_sweep_day=sweep,
        visibility=np.where(walled, wg.cross_visibility, 1.0),
        degradation=degradation,
        directive_day=directive,
    )


@dataclass
class Posts:
    """A batch of foreign posts (one row each)."""

    author: np.ndarray
    topic: np.ndarray
    violating: np.ndarray
    created: np.ndarray

    @classmethod
    def empty(cls) -> Posts:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.int8), np.zeros(0, bool), np.zeros(0, np.int32))

    def __len__(self) -> int:
        return int(self.author.size)

    def take(self, mask_or_index: np.ndarray) -> Posts:
        return Posts(
            self.author[mask_or_index], self.topic[mask_or_index], self.violating[mask_or_index], self.created[mask_or_index]
        )

    @staticmethod
    def concat(*batches: Posts) -> Posts:
        return Posts(*(np.concatenate([getattr(b, f) for b in batches]) for f in ("author", "topic", "violating", "created")))


def machine_removes(violating: np.ndarray, u: np.ndarray, detection: float, false_positive: float) -> np.ndarray:
    """The machine's call on posts it decides: catch violations with `detection`, hit harmless posts
    with `false_positive`."""
    return np.where(violating, u < detection, u < false_positive)


def complaint_removes(
    violating: np.ndarray, complaints: np.ndarray, u: np.ndarray, true_success: float, malicious_success: float
) -> np.ndarray:
    """A reviewed post with c complaints is removed with probability 1 - (1 - s)^c (s by truth)."""
    s = np.where(violating, true_success, malicious_success)
    return u < -np.expm1(complaints * np.log1p(-np.minimum(s, 1 - 1e-12)))


@dataclass
class DayCounts:
    """What the regulator did today (agent-level counts)."""

    reviews: int = 0
    removed: int = 0
    held: int = 0
    released: int = 0
    screened: int = 0
    banned: int = 0
    wrongful_banned: int = 0
    blocked_by_sweep: int = 0
    moderation_events: np.ndarray = field(default_factory=lambda: np.zeros(0))


class Regulator(mesa.Agent):
    """RedNote's moderation desk. One agent; its state is the backlog, tightening and capacity."""

    def __init__(
        self, model: mesa.Model, platform: Platform, mechanisms: Mechanisms, schedule: PlatformSchedule, us_weight: float
    ) -> None:
        super().__init__(model)
        # Mesa 3.3 keeps every model that ever had an agent as a key of the class-level Agent._ids, so
        # no model could be freed: ~40 MB lost per run, which exhausted memory in long calibrations
        # (mesa issue #3179, fixed by PR #3180 in 3.4.2, which removed _ids). The id is assigned; the entry is not needed.
        getattr(mesa.Agent, "_ids", {}).pop(model, None)
        self.params, self.mech, self.schedule, self.us_weight = platform.moderation, mechanisms, schedule, us_weight
        self.verification_friction = platform.real_name.verification_friction
        self.capacity = platform.moderation.review_capacity  # real reviews per day
        self.tightening = 0.0
        self.backlog = Posts.empty()
        self.complained = Posts.empty()  # published posts with complaints, reviewed tomorrow
        self.complaint_counts = np.zeros(0, dtype=np.int64)
        self.today = DayCounts()
        self.banned_total = 0
        self.wrongful_banned_total = 0
        self.removed_total = 0

    def step(self) -> None:  # pragma: no cover - the model calls enforce/screen in its fixed order
        raise RuntimeError("MigrationModel calls Regulator.enforce and Regulator.screen explicitly")

    # ----------------------------------------------------------------------------------------------
    def enforce(self, day: int, us: UsUsers, streams: Streams) -> Posts:
        """Start of day: real-name sweep, reviews, expiry of held posts, bans. Returns released posts."""
        self.today = DayCounts(moderation_events=np.zeros(us.n, dtype=np.float32))
        if self.schedule.real_name_sweep_day == day:
            self._real_name_sweep(day, us, streams)
        if not self.mech.moderation:
            return Posts.empty()
        p = self.params
        rng = streams.get("regulator.review", day)
        budget = _stochastic_round(self.capacity / self.us_weight, rng)
        # 1. complaints of yesterday (reviewed first)
        k = min(budget, len(self.complained))
        reviewed = self.complained.take(slice(0, k))
        removed = complaint_removes(
            reviewed.violating,
            self.complaint_counts[:k],
            rng.random(k),
            p.complaint_true_success,
            min(1.0, p.complaint_malicious_success * (1 + self.tightening)),
        )
        self.complained, self.complaint_counts = Posts.empty(), np.zeros(0, dtype=np.int64)
        self._remove(reviewed.take(removed), us, rng)
        budget -= k
        # 2. backlog, first in first out
        k = min(budget, len(self.backlog))
        batch, self.backlog = self.backlog.take(slice(0, k)), self.backlog.take(slice(k, None))
        removed_b = np.where(batch.violating, rng.random(k) < p.manual_detection, rng.random(k) < p.manual_false_positive)
        self._remove(batch.take(removed_b), us, rng)
        released = batch.take(~removed_b)
        # 3. held too long: the machine decides
        expired = (day - self.backlog.created) >= p.max_hold_days
        late, self.backlog = self.backlog.take(expired), self.backlog.take(~expired)
        detection, false_positive = self._machine_rates(day)
        late_removed = machine_removes(late.violating, rng.random(len(late)), detection, false_positive)
        self._remove(late.take(late_removed), us, rng)
        released = Posts.concat(released, late.take(~late_removed))
        # released posts only reach viewers if their author can still be seen
        released = released.take(np.isin(us.state[released.author], (ACTIVE, DORMANT)))
        self.today.reviews = int(reviewed.author.size + batch.author.size)
        self.today.released = len(released)
        return released

    def screen(self, day: int, posts: Posts, us: UsUsers, streams: Streams) -> Posts:
        """Machine screening of today's new posts: hold, remove or publish. Returns published posts."""
        self.today.screened = len(posts)
        if not self.mech.moderation:
            return posts
        p = self.params
        rng = streams.get("regulator.screen", day)
        quality = self.schedule.translation_quality[day]
        manual = min(1.0, p.manual_share_foreign * (1.0 - p.translation_accuracy_gain * quality) * (1.0 + self.tightening))
        held = rng.random(len(posts)) < manual if p.max_hold_days > 0 else np.zeros(len(posts), dtype=bool)
        self.backlog = Posts.concat(self.backlog, posts.take(held))
        self.today.held = int(held.sum())
        np.add.at(self.today.moderation_events, posts.author[held], HELD_WEIGHT)
        decided = posts.take(~held)
        detection, false_positive = self._machine_rates(day)
        removed = machine_removes(decided.violating, rng.random(len(decided)), detection, false_positive)
        self._remove(decided.take(removed), us, rng)
        self._update_pressure(day, len(posts))
        return decided.take(~removed)

    def receive_complaints(self, published: Posts, complaints_per_post: np.ndarray) -> None:
        """Chinese users' complaints, reviewed at the start of tomorrow."""
        has = complaints_per_post > 0
        self.complained = published.take(has)
        self.complaint_counts = complaints_per_post[has].astype(np.int64)

    # ----------------------------------------------------------------------------------------------
    def _machine_rates(self, day: int) -> tuple[float, float]:
        p, quality = self.params, self.schedule.translation_quality[day]
        detection = p.machine_detection + (p.manual_detection - p.machine_detection) * p.translation_accuracy_gain * quality
        detection = min(1.0, detection * (1.0 + self.tightening))
        false_positive = min(1.0, p.machine_false_positive * (1.0 + 2.0 * self.tightening))
        return detection, false_positive

    def _remove(self, removed: Posts, us: UsUsers, rng: np.random.Generator) -> None:
        """Strikes for removed posts; bans at the strike limit or, for politics, sometimes at once."""
        if len(removed) == 0:
            return
        self.today.removed += len(removed)
        self.removed_total += len(removed)
        np.add.at(self.today.moderation_events, removed.author, REMOVED_WEIGHT)
        np.add.at(us.strikes, removed.author, 1)
        np.add.at(us.true_strikes, removed.author, removed.violating.astype(np.int16))
        sudden = removed.author[(removed.topic == POLITICS) & (rng.random(len(removed)) < self.params.political_ban_prob)]
        candidates = np.union1d(removed.author[us.strikes[removed.author] >= self.params.strike_limit], sudden)
        candidates = candidates[us.state[candidates] != BANNED]
        us.state[candidates] = BANNED
        wrongful = int((us.true_strikes[candidates] == 0).sum())
        self.today.banned += candidates.size
        self.today.wrongful_banned += wrongful
        self.banned_total += candidates.size
        self.wrongful_banned_total += wrongful

    def _update_pressure(self, day: int, n_posts: int) -> None:
        p = self.params
        removed_share = self.today.removed / n_posts if n_posts else 0.0
        pressure = p.tightening_gain * max(0.0, removed_share - p.violation_tolerance)
        if self.schedule.directive_day == day:
            pressure += p.directive_tightening
        self.tightening = float(np.clip(self.tightening * (1.0 - p.tightening_decay) + pressure, 0.0, 1.0))
        if self.schedule.directive_day is not None and day >= self.schedule.directive_day:
            self.capacity = min(p.capacity_max, self.capacity * (1.0 + p.capacity_growth_per_day))

    def _real_name_sweep(self, day: int, us: UsUsers, streams: Streams) -> None:
        holders = np.isin(us.state, (ACTIVE, DORMANT))
        friction = self.verification_friction
        passes = us.has_credentials & (streams.uniform("regulator.sweep", day, us.n) >= friction)
        blocked = holders & ~passes
        us.state[blocked] = BLOCKED
        self.today.blocked_by_sweep = int(blocked.sum())


def _stochastic_round(x: float, rng: np.random.Generator) -> int:
    base = int(np.floor(x))
    return base + int(rng.random() < x - base)
