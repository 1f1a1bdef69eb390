"""Follow graphs as scipy.sparse CSR matrices, built with numpy in O(edges).

Row i lists the accounts user i follows (A[i, j] = 1: i sees j's posts). The 'communities' graph has
clustered follows (co-migration: He et al. 2023) and a heavy tail of followers (creators): each follow
picks its target with probability proportional to a Pareto "popularity", inside the follower's community
with probability `within_share`, else anywhere.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

MAX_COMPLETE_NODES = 20_000


def follow_graph(
    n: int,
    mean_following: float,
    rng: np.random.Generator,
    *,
    kind: str = "communities",
    community_size: int = 150,
    within_share: float = 0.7,
    popularity_exponent: float = 2.1,
) -> sp.csr_matrix:
    """A directed follow graph on ``n`` nodes with mean out-degree ~``mean_following``."""
    if kind == "complete":
        if n > MAX_COMPLETE_NODES:
            raise ValueError(f"network.kind: 'complete' allows at most {MAX_COMPLETE_NODES} users per population (got {n})")
        dense = np.ones((n, n), dtype=np.float32)
        np.fill_diagonal(dense, 0.0)
        return sp.csr_matrix(dense)
    # Out-degrees: negative binomial (gamma-Poisson, dispersion 2) so some users follow many accounts.
    out_degree = rng.poisson(rng.gamma(2.0, mean_following / 2.0, n))
    src = np.repeat(np.arange(n, dtype=np.int64), out_degree)
    if kind == "random":
        dst = rng.integers(0, n, src.size)
    else:
        dst = _popularity_targets(src, n, rng, community_size, within_share, popularity_exponent)
    return _csr_from_edges(src, dst, n)


def _popularity_targets(
    src: np.ndarray, n: int, rng: np.random.Generator, community_size: int, within_share: float, exponent: float
) -> np.ndarray:
    popularity = (1.0 - rng.random(n)) ** (-1.0 / (exponent - 1.0))  # Pareto tail P(X > x) ~ x^-(a-1)
    popularity = np.minimum(popularity, n / 10.0)
    n_comm = max(1, n // max(1, community_size))
    community = rng.permutation(n) % n_comm
    order = np.argsort(community, kind="stable")
    cum = np.cumsum(popularity[order])
    bounds = np.searchsorted(community[order], np.arange(n_comm + 1))  # first position of each community
    lo = np.where(bounds[:-1] > 0, cum[np.maximum(bounds[:-1] - 1, 0)], 0.0)
    hi = cum[bounds[1:] - 1]
    inside = rng.random(src.size) < within_share
    c = community[src]
    draw = rng.random(src.size)
    target_cum = np.where(inside, lo[c] + draw * (hi[c] - lo[c]), draw * cum[-1])
    pos = np.minimum(np.searchsorted(cum, target_cum, side="right"), n - 1)
    return order[pos]


def _csr_from_edges(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR of unique (src, dst) pairs without self-loops (sort + adjacent mask: faster than np.unique)."""
    keep = src != dst
    keys = np.sort(src[keep] * n + dst[keep])
    if keys.size:
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    rows = keys // n
    indices = (keys % n).astype(np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    data = np.ones(indices.size, dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


def out_degree(graph: sp.csr_matrix) -> np.ndarray:
    return np.diff(graph.indptr).astype(np.float32)


def in_degree(graph: sp.csr_matrix) -> np.ndarray:
    return np.bincount(graph.indices, minlength=graph.shape[1]).astype(np.float32)


def exposure(graph: sp.csr_matrix, signal: np.ndarray, n_following: np.ndarray) -> np.ndarray:
    """Share-weighted exposure: for each user, the mean of ``signal`` over the accounts they follow."""
    total = graph @ signal.astype(np.float32, copy=False)
    return np.divide(total, n_following, out=np.zeros_like(total), where=n_following > 0)


class TieSet:
    """A growing set of directed ties (source, target) kept as sorted int64 keys; duplicates ignored."""

    def __init__(self, n_targets: int) -> None:
        self.n_targets = int(n_targets)
        self.keys = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.keys.size)

    def add(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Add ties; returns a mask of those that were new (first occurrence within the batch too)."""
        new_keys = source.astype(np.int64) * self.n_targets + target.astype(np.int64)
        if new_keys.size == 0:
            return np.zeros(0, dtype=bool)
        pos = np.searchsorted(self.keys, new_keys)
        known = (
            (pos < self.keys.size) & (self.keys[np.minimum(pos, max(self.keys.size - 1, 0))] == new_keys)
            if self.keys.size
            else np.zeros(new_keys.size, dtype=bool)
        )
        _, first = np.unique(new_keys, return_index=True)
        fresh = np.zeros(new_keys.size, dtype=bool)
        fresh[first] = True
        fresh &= ~known
        add = np.sort(new_keys[fresh])
        self.keys = np.insert(self.keys, np.searchsorted(self.keys, add), add)
        return fresh

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.keys // self.n_targets, self.keys % self.n_targets
