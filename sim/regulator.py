"""The platform regulator: RedNote's moderation under state pressure.

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
The platform's dated policy (translation, real-name verification, the directive) reaches it through the
day's context (`sim.events.Day`). The regulator owns its records (backlog, complaints, strikes, bans,
tightening, capacity) and returns its decisions about accounts (`Moderation`: who is blocked, who is
banned) and the posts it lets through; the US population applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np

from sim.events import Day
from sim.params import TOPICS, Mechanisms, Platform
from sim.results import Headline, Output
from sim.streams import Streams
from sim.us_users import ACTIVE, DORMANT, Moderation, Posts, UsUsers

POLITICS = TOPICS.index("politics")
HELD_WEIGHT, REMOVED_WEIGHT = 0.5, 1.0  # how much a held / removed post weighs in a user's moderation memory


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
    screened: int = 0
    banned: int = 0
    wrongful_banned: int = 0
    blocked_by_sweep: int = 0
    published: int = 0
    moderation_events: np.ndarray = field(default_factory=lambda: np.zeros(0))
    blocked: list[np.ndarray] = field(default_factory=list)  # decisions not yet handed to the users
    bans: list[np.ndarray] = field(default_factory=list)

    def decisions(self) -> Moderation:
        """Hand over (and forget) the account decisions taken since the last call."""
        out = Moderation(
            np.concatenate([np.zeros(0, np.int64), *self.blocked]).astype(np.int64),
            np.concatenate([np.zeros(0, np.int64), *self.bans]).astype(np.int64),
        )
        self.blocked, self.bans = [], []
        return out


class Regulator(mesa.Agent):
    """RedNote's moderation desk. One agent; its state is the backlog, strikes, tightening and capacity."""

    OUTPUTS = (
        Output("posts_published", "US posts that became visible that day", "posts", "us", "posts published"),
        Output("posts_held", "US posts sent to manual review that day", "posts", "us", "posts held for review", "tab:blue", (
            Headline("moderation_load", "total", "US posts sent to manual review over the horizon (posts)", "moderation load"),
        )),
        Output("posts_removed", "US posts removed that day", "posts", "us", "posts removed", "tab:red", (
            Headline("posts_removed", "total", "US posts removed over the horizon (posts)", "posts removed", compare=True),
        )),
        Output("reviews", "manual reviews done that day", "reviews", "us", "reviews", "tab:purple"),
        Output("review_backlog", "US posts waiting for manual review at the end of the day", "posts", "us", "review backlog",
               "tab:gray", (
            Headline("peak_review_backlog", "peak", "largest review backlog (posts)", "peak review backlog", objective="minimize"),
        )),
        Output("review_capacity", "manual reviews the platform can do per day", "reviews", "real", "review capacity"),
        Output("accounts_banned", "US accounts banned since the start (stock)", "people", "us", "banned", "tab:brown", (
            Headline("accounts_banned", "final", "US accounts banned by the end (people)", "accounts banned"),
        )),
        Output("wrongful_bans", "banned US accounts none of whose removed posts broke the rules (stock)", "people", "us",
               "wrongful bans", "tab:pink", (
            Headline("wrongful_bans", "final", "banned US accounts with no rule-breaking post (people)", "wrongful bans",
                     compare=True, objective="minimize"),
        )),
        Output("moderation_tightening", "regulator's tightening level, 0 to 1", "index", "real", "tightening"),
    )  # fmt: skip

    def __init__(
        self,
        model: mesa.Model,
        platform: Platform,
        mechanisms: Mechanisms,
        n_us: int,
        us_weight: float,
        streams: Streams,
        topic_violation: np.ndarray,
    ) -> None:
        super().__init__(model)
        # Mesa 3.3 keeps every model that ever had an agent as a key of the class-level Agent._ids, so
        # no model could be freed: ~40 MB lost per run, which exhausted memory in long calibrations
        # (mesa issue #3179, fixed by PR #3180 in 3.4.2, which removed _ids). The id is assigned; the entry is not needed.
        getattr(mesa.Agent, "_ids", {}).pop(model, None)
        self.params, self.mech, self.us_weight, self.streams = platform.moderation, mechanisms, us_weight, streams
        self.verification_friction = platform.real_name.verification_friction
        self.topic_violation = np.asarray(topic_violation)  # the platform knows which topics break its rules
        self.capacity = platform.moderation.review_capacity  # real reviews per day
        self.tightening = 0.0
        self.pass_share = 1.0  # expected share of a day's new posts published at once (not held, not removed)
        self.backlog = Posts.empty()
        self.complained = Posts.empty()  # published posts with complaints, reviewed tomorrow
        self.complaint_counts = np.zeros(0, dtype=np.int64)
        self.today = DayCounts()
        self.banned_total = 0
        self.wrongful_banned_total = 0
        self.removed_total = 0
        self.strikes = np.zeros(n_us, dtype=np.int16)  # removed posts per US account
        self.true_strikes = np.zeros(n_us, dtype=np.int16)  # removed posts that really broke the rules
        self.banned = np.zeros(n_us, dtype=bool)

    def step(self) -> None:  # pragma: no cover - the model calls enforce/screen in its fixed order
        raise RuntimeError("MigrationModel calls Regulator.enforce and Regulator.screen explicitly")

    # ----------------------------------------------------------------------------------------------
    def enforce(self, today: Day, us: UsUsers) -> tuple[Posts, Moderation]:
        """Start of day: real-name sweep, reviews, expiry of held posts, bans. Returns the released posts
        (including any whose author is shut today: the users decide what can still be seen) and the
        decisions about accounts."""
        day, streams = today.day, self.streams
        self.today = DayCounts(moderation_events=np.zeros(us.n, dtype=np.float32))
        if today.real_name_sweep:
            self._real_name_sweep(day, us)
        if not self.mech.moderation:
            return Posts.empty(), self.today.decisions()
        p = self.params
        review = self._draws("regulator.review", day)
        budget = _stochastic_round(self.capacity / self.us_weight, streams.uniforms("regulator.budget", day, [0])[0])
        # 1. complaints of yesterday (reviewed first)
        k = min(budget, len(self.complained))
        reviewed = self.complained.take(slice(0, k))
        removed = complaint_removes(
            reviewed.violating,
            self.complaint_counts[:k],
            review(reviewed, 0),
            p.complaint_true_success,
            min(1.0, p.complaint_malicious_success * (1 + self.tightening)),
        )
        self.complained, self.complaint_counts = Posts.empty(), np.zeros(0, dtype=np.int64)
        self._remove(reviewed.take(removed), review, 3)
        budget -= k
        # 2. backlog, first in first out
        k = min(budget, len(self.backlog))
        batch, self.backlog = self.backlog.take(slice(0, k)), self.backlog.take(slice(k, None))
        removed_b = review(batch, 1) < np.where(batch.violating, p.manual_detection, p.manual_false_positive)
        self._remove(batch.take(removed_b), review, 3)
        released = batch.take(~removed_b)
        # 3. held too long: the machine decides
        expired = (day - self.backlog.created) >= p.max_hold_days
        late, self.backlog = self.backlog.take(expired), self.backlog.take(~expired)
        detection, false_positive = self._machine_rates(today)
        late_removed = machine_removes(late.violating, review(late, 2), detection, false_positive)
        self._remove(late.take(late_removed), review, 3)
        released = Posts.concat(released, late.take(~late_removed))
        self.today.reviews = int(reviewed.author.size + batch.author.size)
        return released, self.today.decisions()

    def screen(self, today: Day, posts: Posts) -> tuple[Posts, Moderation]:
        """Machine screening of today's new posts: hold, remove or publish. Returns the published posts
        and the decisions about accounts."""
        self.today.screened = len(posts)
        if not self.mech.moderation:
            return posts, self.today.decisions()
        p, day = self.params, today.day
        screen = self._draws("regulator.screen", day)
        quality = today.translation_quality
        manual = min(1.0, p.manual_share_foreign * (1.0 - p.translation_accuracy_gain * quality) * (1.0 + self.tightening))
        held = screen(posts, 0) < manual if p.max_hold_days > 0 else np.zeros(len(posts), dtype=bool)
        self.backlog = Posts.concat(self.backlog, posts.take(held))
        self.today.held = int(held.sum())
        np.add.at(self.today.moderation_events, posts.author[held], HELD_WEIGHT)
        decided = posts.take(~held)
        detection, false_positive = self._machine_rates(today)
        if len(posts):
            violating = float(np.mean(posts.violating))
            self.pass_share = (1.0 - manual) * (1.0 - violating * detection - (1.0 - violating) * false_positive)
        removed = machine_removes(decided.violating, screen(decided, 1), detection, false_positive)
        self._remove(decided.take(removed), screen, 2)
        self._update_pressure(today, posts)
        return decided.take(~removed), self.today.decisions()

    def expected_published(self, expected_new_posts: float, released: Posts) -> float:
        """Posts going out today, in expectation over which of today's new posts were made: the expected new
        posts times the share screening lets through, plus the released held posts. Each agent post stands
        for hundreds or thousands of real ones, whose real total has almost no noise; the drawn count of a
        few dozen agent posts does, and a steep response to it (the Chinese trending list) would turn that
        noise into a bias that depends on the agent count."""
        passed = self.pass_share if self.mech.moderation else 1.0
        return expected_new_posts * passed + len(released)

    def receive_complaints(self, published: Posts, complaints_per_post: np.ndarray) -> None:
        """Chinese users' complaints about today's published posts, reviewed at the start of tomorrow."""
        self.today.published = len(published)
        has = complaints_per_post > 0
        self.complained = published.take(has)
        self.complaint_counts = complaints_per_post[has].astype(np.int64)

    # ----------------------------------------------------------------------------------------------
    def _machine_rates(self, today: Day) -> tuple[float, float]:
        p, quality = self.params, today.translation_quality
        detection = p.machine_detection + (p.manual_detection - p.machine_detection) * p.translation_accuracy_gain * quality
        detection = min(1.0, detection * (1.0 + self.tightening))
        false_positive = min(1.0, p.machine_false_positive * (1.0 + 2.0 * self.tightening))
        return detection, false_positive

    def _draws(self, stream: str, day: int):
        """Today's draws of ``stream`` for posts: slot k of a post is keyed by the post, (author, creation
        day), not by its place in a queue, so a post decided on the same day in two scenarios gets the same
        draw whatever else was screened, held or complained about."""

        def post_draws(posts: Posts, slot: int) -> np.ndarray:
            return self.streams.uniforms(stream, day, posts.author, slot, posts.created)

        return post_draws

    def _remove(self, removed: Posts, draws, ban_slot: int) -> None:
        """Strikes for removed posts; bans at the strike limit or, for politics, sometimes at once (slot
        ``ban_slot`` of the stream whose ``draws`` decided the removal)."""
        if len(removed) == 0:
            return
        self.today.removed += len(removed)
        self.removed_total += len(removed)
        np.add.at(self.today.moderation_events, removed.author, REMOVED_WEIGHT)
        np.add.at(self.strikes, removed.author, 1)
        np.add.at(self.true_strikes, removed.author, removed.violating.astype(np.int16))
        sudden = removed.author[(removed.topic == POLITICS) & (draws(removed, ban_slot) < self.params.political_ban_prob)]
        candidates = np.union1d(removed.author[self.strikes[removed.author] >= self.params.strike_limit], sudden)
        candidates = candidates[~self.banned[candidates]]
        self.banned[candidates] = True
        self.today.bans.append(candidates)
        wrongful = int((self.true_strikes[candidates] == 0).sum())
        self.today.banned += candidates.size
        self.today.wrongful_banned += wrongful
        self.banned_total += candidates.size
        self.wrongful_banned_total += wrongful

    def _update_pressure(self, today: Day, posts: Posts) -> None:
        """Tightening follows the share of today's foreign posts that break the rules, as the platform
        estimates it from their topics (the expected share, not the day's draws: at a coarse resolution
        the realised share of a few dozen agent posts is noisy, and the response to it is convex, which
        made the regulator stricter the fewer agents there were)."""
        p = self.params
        violating_share = float(self.topic_violation[posts.topic].mean()) if len(posts) else 0.0
        pressure = p.tightening_gain * max(0.0, violating_share - p.violation_tolerance)
        if today.directive:
            pressure += p.directive_tightening
        self.tightening = float(np.clip(self.tightening * (1.0 - p.tightening_decay) + pressure, 0.0, 1.0))
        if today.after_directive:
            self.capacity = min(p.capacity_max, self.capacity * (1.0 + p.capacity_growth_per_day))

    def _real_name_sweep(self, day: int, us: UsUsers) -> None:
        """Every foreign account holder must verify with mainland credentials: those who cannot are blocked."""
        holders = np.flatnonzero(np.isin(us.state, (ACTIVE, DORMANT)))
        friction = self.verification_friction
        passes = us.has_credentials[holders] & (self.streams.uniforms("regulator.sweep", day, holders) >= friction)
        blocked = holders[~passes]
        self.today.blocked.append(blocked)
        self.today.blocked_by_sweep = int(blocked.size)

    def measure(self, today: Day) -> dict[str, float]:
        """Today's agent-level values of `OUTPUTS` (review capacity is already in real reviews)."""
        t = self.today
        return {
            "posts_published": t.published,
            "posts_held": t.held,
            "posts_removed": t.removed,
            "reviews": t.reviews,
            "review_backlog": len(self.backlog),
            "review_capacity": self.capacity,
            "accounts_banned": self.banned_total,
            "wrongful_bans": self.wrongful_banned_total,
            "moderation_tightening": self.tightening,
        }


def _stochastic_round(x: float, u: float) -> int:
    """x rounded down or up, up with probability its fractional part (``u``: a uniform draw)."""
    base = int(np.floor(x))
    return base + int(u < x - base)
