"""Named random streams: one master seed, an independent stream per mechanism.

Daily decisions draw counter-based numbers (`sim.rng`): draw ``k`` of agent ``i`` on ``day`` in stream
``name`` is a pure function of (seed, run, name, day, i, k[, sub]). Nothing is drawn for agents who
decide nothing, and no draw depends on how many numbers anyone else drew, in this stream or another:
two scenarios run with the same seed share common random numbers in every mechanism (user i's join draw
on day t is the same in both; a post's screening verdict draw is the same whatever the backlog), and a
policy that changes one mechanism reshuffles nothing else. Set-up (traits, graphs) uses numpy generators
keyed by (seed, run, name), drawn once per run.

Streams and their slots ``k`` (each rule's module names the draws it makes):

  us.join        0 sign-up or return of users without an active account
  us.verify      0 real-name verification of today's sign-ups
  us.stay        0 lapse, 1 open RedNote today (members)
  us.apps        0 TikTok lost or reinstalled, 1 TikTok opened, 2 other app joined or left, 3 other app opened
  us.post        0 posts today, 1 topic, 2 breaks the rules
  cn.day         0 opens RedNote, 1 number of foreign posts viewed
  cn.reactions   view v of a viewer: 5v pick of the post, 5v+1 welcome or hostile, 5v+2 reply or
                 complaint, 5v+3 follow, 5v+4 follow-back
  regulator.screen  post (author, sub = creation day): 0 held, 1 machine verdict, 2 political ban
  regulator.review  post (author, sub = creation day): 0 complaint review, 1 manual review, 2 machine
                 verdict at expiry, 3 political ban; agent 0 of `regulator.budget`: capacity rounding
  regulator.sweep   0 real-name sweep of account holders
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sim import rng


class Streams:
    """The random streams of one run of one seed."""

    def __init__(self, seed: int, run: int = 0) -> None:
        self.seed = int(seed)
        self.run = int(run)
        self._keys: dict[str, int] = {}

    def get(self, name: str, day: int = -1) -> np.random.Generator:
        """A numpy generator for set-up draws of ``name`` (traits, graphs, the view's sample)."""
        key = (self.run, rng.name_key(name), day + 1)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))

    def key(self, name: str) -> int:
        """The 64-bit counter-based key of stream ``name`` (`sim.rng.stream_key`)."""
        if name not in self._keys:
            self._keys[name] = rng.stream_key(self.seed, self.run, name)
        return self._keys[name]

    def kernel(self, name: str, day: int) -> tuple[np.uint32, np.uint32, np.uint32]:
        """What a compiled kernel needs to draw from stream ``name`` on ``day`` (`sim.rng.draw`)."""
        return rng.kernel_key(self.key(name), day)

    def uniforms_all(self, name: str, day: int, n: int, k: int = 0, out: np.ndarray | None = None) -> np.ndarray:
        """Draw ``k`` of agents 0..n-1 on ``day``, vectorised (``out``: a float64 buffer to fill)."""
        return rng.uniforms_all(self.key(name), day, n, k, out=out)

    def uniforms(self, name: str, day: int, idx: npt.ArrayLike, k: npt.ArrayLike = 0, sub: npt.ArrayLike = 0) -> np.ndarray:
        """Draw ``k`` of each agent in ``idx`` on ``day``: the same number whichever other agents draw."""
        return rng.uniforms(self.key(name), day, idx, k, sub)
