"""Named random streams: one master seed, an independent stream per mechanism and day.

A stream is keyed by (seed, run, mechanism name, day). Because a mechanism's draws never depend on how
many numbers another mechanism drew, two scenarios run with the same seed share common random numbers
(user i's "join" uniform on day t is the same in both), and adding a mechanism reshuffles nothing else.
"""

from __future__ import annotations

import hashlib

import numpy as np


def name_key(name: str) -> int:
    """A stable 64-bit integer for a stream name (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class Streams:
    """Factory of generators for one run of one seed."""

    def __init__(self, seed: int, run: int = 0) -> None:
        self.seed = int(seed)
        self.run = int(run)

    def get(self, name: str, day: int = -1) -> np.random.Generator:
        """The generator of mechanism ``name`` on ``day`` (day -1: set-up)."""
        key = (self.run, name_key(name), day + 1)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))

    def uniform(self, name: str, day: int, n: int) -> np.ndarray:
        """``n`` uniforms in [0, 1): one per agent, so agent i's draw is the same in every scenario."""
        return self.get(name, day).random(n, dtype=np.float32)
