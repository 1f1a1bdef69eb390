"""Common random numbers, stream by stream: a policy that changes one mechanism leaves every other draw alone.

Every daily draw is keyed by (stream, day, agent or post, slot) (`sim.streams`, `sim.rng`). These tests
record, for each stream, every draw the model makes through `Streams` in a baseline run and in a run with
one policy changed, and check that wherever both runs drew at the same key the numbers are the same. A
draw taken from a sequential generator (one per stream and day, as the regulator and the Chinese
reactions had before) fails this as soon as the policy changes how many numbers an earlier decision drew.
The draws made inside compiled kernels (`us.verify`, `us.apps`, `cn.day` slot 1, `cn.reactions`) use the same
function (`sim.rng.draw`); tests/test_rng.py checks that it gives the numbers `Streams.uniforms` gives and
that views keyed by (viewer, view number) are common across scenarios, and tests/test_rules.py that the
Chinese users' reactions pass picks and reacts exactly as `choose` and `uniforms` at those keys would.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from conftest import small

from sim.model import MigrationModel
from sim.streams import Streams

DAYS = 45  # through the surge, the store return and the real-name sweep of the strict scenario

# (what changes, the scenario, the streams whose draws must be keyed: each must be drawn in both runs)
POLICIES = {
    "review capacity a quarter (regulator only)": (
        {"platform": {"moderation": {"review_capacity": 100_000.0}}},
        ("regulator.screen", "regulator.review", "regulator.budget", "us.join", "us.stay", "us.post", "cn.day"),
    ),
    "no translation": (
        {"platform": {"translation": {"quality": 0.0}}},
        ("regulator.screen", "us.join", "us.stay", "us.post", "cn.day"),
    ),
}


class DrawLog:
    """Every number drawn through `Streams.uniforms` / `uniforms_all`: stream -> {(day, agent, k, sub): u}."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.draws: dict[str, dict[tuple[int, int, int, int], float]] = defaultdict(dict)
        uniforms, uniforms_all = Streams.uniforms, Streams.uniforms_all
        log = self

        def logged(self, name, day, idx, k=0, sub=0):
            u = uniforms(self, name, day, idx, k, sub)
            idx, k, sub = (np.broadcast_to(np.asarray(a), u.shape) for a in (idx, k, sub))
            log.draws[name].update(zip(zip([day] * u.size, idx.tolist(), k.tolist(), sub.tolist()), u.tolist()))
            return u

        def logged_all(self, name, day, n, k=0, out=None):
            u = uniforms_all(self, name, day, n, k, out)
            log.draws[name].update(((day, i, k, 0), x) for i, x in enumerate(u.tolist()))
            return u

        monkeypatch.setattr(Streams, "uniforms", logged)
        monkeypatch.setattr(Streams, "uniforms_all", logged_all)

    def run(self, scenario) -> dict[str, dict]:
        self.draws.clear()
        MigrationModel(scenario).run()
        return {name: dict(d) for name, d in self.draws.items()}


@pytest.mark.parametrize("policy", list(POLICIES))
def test_a_policy_change_leaves_every_other_draw_of_every_agent_identical(monkeypatch, policy):
    changes, streams = POLICIES[policy]
    log = DrawLog(monkeypatch)
    base = log.run(small(agents=8_000, days=DAYS))
    changed = log.run(small(agents=8_000, days=DAYS, **changes))
    for name in streams:
        common = base.get(name, {}).keys() & changed.get(name, {}).keys()
        assert common, f"{name}: no draw at a common key (the test would pass vacuously)"
        different = [key for key in common if base[name][key] != changed[name][key]]
        assert not different, f"{name}: {len(different)} of {len(common)} draws differ, e.g. at {different[:3]}"


def test_a_post_gets_the_same_screening_draw_whatever_else_was_screened():
    """The regulator's draws belong to the post (author, creation day), not to its place in a queue."""
    streams = Streams(2025, 0)
    authors, created = np.array([5, 9, 12, 40]), np.array([3, 3, 2, 3])
    alone = streams.uniforms("regulator.screen", 3, authors[1:2], 1, created[1:2])
    in_a_batch = streams.uniforms("regulator.screen", 3, authors, 1, created)
    assert alone[0] == in_a_batch[1]
    assert len(set(in_a_batch.tolist())) == 4  # and distinct posts draw distinct numbers
