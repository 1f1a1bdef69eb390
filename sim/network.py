"""Follow graphs as scipy.sparse CSR matrices, built with numpy in O(edges).

Row i lists the accounts user i follows (A[i, j] = 1: i sees j's posts). The 'communities' graph has
clustered follows (co-migration: He et al. 2023) and a heavy tail of followers (creators): each follow
picks its target with probability proportional to a Pareto "popularity", inside the follower's community
with probability `within_share`, else anywhere.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from sim.results import Headline, Output

MAX_COMPLETE_NODES = 20_000


EDGES_PER_CHUNK = 1 << 21  # targets are drawn in blocks of ~2 M edges so temporaries stay in cache
MATVEC_THREADS = min(4, os.cpu_count() or 1)  # threads for matrix-vector products on large graphs
PARALLEL_MIN_EDGES = 2_000_000  # below this, one thread is faster than handing out blocks
_POOL: ThreadPoolExecutor | None = None


def follow_graph(
    n: int,
    mean_following: float,
    rng: np.random.Generator,
    *,
    kind: str = "communities",
    community_size: int = 150,
    within_share: float = 0.7,
    popularity_exponent: float = 2.1,
    popularity_cap_quantile: float = 1e-3,
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
    if kind == "random":
        targets = _RandomTargets(n, rng)
    else:
        targets = _PopularityTargets(n, rng, community_size, within_share, popularity_exponent, popularity_cap_quantile)
    return _csr_from_targets(out_degree, targets)


class _RandomTargets:
    """Each follow picks its target uniformly at random."""

    def __init__(self, n: int, rng: np.random.Generator) -> None:
        self.n, self.rng = n, rng

    def __call__(self, src: np.ndarray) -> np.ndarray:
        return self.rng.integers(0, self.n, src.size)


class _PopularityTargets:
    """Each follow picks its target with probability proportional to popularity: inside the follower's
    community with probability ``within_share``, else anywhere.

    Communities are contiguous blocks of row numbers (community c = rows bounds[c]..bounds[c+1]-1).
    Traits are drawn independently of row number, so this labelling is as random as any other (see
    tests/test_verification.py); it keeps most follows close to their follower in memory, which makes
    building the graph and every matrix-vector product several times faster at millions of users.
    """

    def __init__(
        self, n: int, rng: np.random.Generator, community_size: int, within_share: float, exponent: float, cap_quantile: float
    ) -> None:
        # Popularity is Pareto, P(X > x) = x^-(a-1), drawn by stratified quantiles (one user per 1/n slice of
        # the tail probability, in random order) so the top of the distribution is the same at every size.
        tail = (rng.permutation(n) + 1.0 - rng.random(n)) / n
        # Capped at the value one user in 1/cap_quantile exceeds, whatever the number of agents: without a
        # fixed cap the largest draws, and the top creators' share of all follows, grow with the agent count
        # (heavy tails), and so did every result that depends on creators.
        popularity = np.maximum(tail, cap_quantile) ** (-1.0 / (exponent - 1.0))
        self.cum = np.cumsum(popularity)
        self.n_comm = max(1, n // max(1, community_size))
        bounds = (np.arange(self.n_comm + 1, dtype=np.int64) * n + self.n_comm - 1) // self.n_comm
        start = np.concatenate(([0.0], self.cum))[bounds]  # popularity before each community
        self.lo, self.width = start[:-1], np.diff(start)
        self.n, self.rng, self.within = n, rng, float(within_share)

    def __call__(self, src: np.ndarray) -> np.ndarray:
        # One uniform per follow decides inside/outside and, rescaled, where in the cumulative popularity.
        u = self.rng.random(src.size)
        inside = np.flatnonzero(u < self.within)
        outside = np.flatnonzero(u >= self.within)
        c = src[inside] * self.n_comm // self.n
        pos = np.empty(src.size, dtype=np.int64)
        pos[inside] = np.searchsorted(self.cum, self.lo[c] + u[inside] / self.within * self.width[c], side="right")
        anywhere = (u[outside] - self.within) / (1.0 - self.within) * self.cum[-1]
        order = np.argsort(anywhere)  # sorted queries walk the table in order: far fewer cache misses
        pos[outside[order]] = np.searchsorted(self.cum, anywhere[order], side="right")
        return np.minimum(pos, self.n - 1)


def matvec(graph: sp.csr_matrix, x: np.ndarray) -> np.ndarray:
    """``graph @ x``, split into row blocks of equal edge counts computed on threads for large graphs.

    scipy's sparse kernels release the GIL, so the blocks run in parallel; each row's sum is computed
    exactly as in ``graph @ x``, so the result is bit-identical whatever the number of threads.
    """
    if MATVEC_THREADS < 2 or graph.nnz < PARALLEL_MIN_EDGES:
        return graph @ x
    cuts = np.searchsorted(graph.indptr, np.linspace(0, graph.nnz, MATVEC_THREADS + 1)[1:-1])
    edges = [0, *cuts.tolist(), graph.shape[0]]
    blocks = [_row_block(graph, r0, r1) for r0, r1 in zip(edges[:-1], edges[1:])]
    return np.concatenate(list(_thread_pool().map(lambda block: block @ x, blocks)))


def _row_block(graph: sp.csr_matrix, r0: int, r1: int) -> sp.csr_matrix:
    """Rows r0..r1-1 of ``graph`` sharing its arrays (the constructor would copy views to free memory)."""
    a, b = graph.indptr[r0], graph.indptr[r1]
    block = sp.csr_matrix((r1 - r0, graph.shape[1]), dtype=graph.dtype)
    block.data, block.indices, block.indptr = graph.data[a:b], graph.indices[a:b], graph.indptr[r0 : r1 + 1] - a
    return block


def _thread_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(MATVEC_THREADS, thread_name_prefix="matvec")
    return _POOL


def _csr_from_targets(out_degree: np.ndarray, targets) -> sp.csr_matrix:
    """CSR of unique follows without self-loops; rows are filled in blocks of ~EDGES_PER_CHUNK edges."""
    n = out_degree.size
    dst = np.empty(int(out_degree.sum()), dtype=np.int32)
    kept = np.zeros(n, dtype=np.int64)  # follows per row after dropping self-loops
    filled = 0
    rows_per_chunk = max(1, EDGES_PER_CHUNK * n // max(1, dst.size))
    for r0 in range(0, n, rows_per_chunk):
        r1 = min(n, r0 + rows_per_chunk)
        src = np.repeat(np.arange(r0, r1, dtype=np.int64), out_degree[r0:r1])
        chunk = targets(src)
        keep = chunk != src
        kept_targets = chunk[keep]
        dst[filled : filled + kept_targets.size] = kept_targets
        filled += kept_targets.size
        kept[r0:r1] = np.bincount(src[keep] - r0, minlength=r1 - r0)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(kept, out=indptr[1:])
    graph = sp.csr_matrix((np.ones(filled, dtype=np.float32), dst[:filled], indptr), shape=(n, n))
    graph.sum_duplicates()  # sorts each row and merges repeated follows
    graph.data[:] = 1.0
    return graph


def out_degree(graph: sp.csr_matrix) -> np.ndarray:
    return np.diff(graph.indptr).astype(np.float32)


def in_degree(graph: sp.csr_matrix) -> np.ndarray:
    return np.bincount(graph.indices, minlength=graph.shape[1]).astype(np.float32)


def exposure(graph: sp.csr_matrix, signal: np.ndarray, n_following: np.ndarray) -> np.ndarray:
    """Share-weighted exposure: for each user, the mean of ``signal`` over the accounts they follow."""
    total = matvec(graph, signal.astype(np.float32, copy=False))
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


class CrossTies:
    """The cross-cultural follow ties created during the run: Chinese users following US authors after a
    welcoming exchange, and the US authors who follow back."""

    OUTPUTS = (
        Output("cn_follows_of_us_users", "Chinese users' follows of US users (stock)", "ties", "cn", "Chinese -> US follows"),
        Output("us_follows_of_cn_users", "US users' follow-backs of Chinese users (stock)", "ties", "us", "US -> Chinese follows"),
        Output("cross_cultural_ties", "follow ties between Chinese and US users (stock)", "ties", "real", "cross-cultural ties",
               "tab:green", (Headline("cross_cultural_ties", "final", "Chinese-US follow ties at the end (ties)",
                                      "cross-cultural ties", summary=True, compare=True, objective="maximize"),),
               sum_of=("cn_follows_of_us_users", "us_follows_of_cn_users")),
    )  # fmt: skip

    def __init__(self, n_us: int, n_cn: int) -> None:
        self.n_us = n_us
        self.ties = TieSet(n_us)  # Chinese user -> US user follows
        self.back_ties = TieSet(n_cn)  # US user -> Chinese user follows

    def add(self, viewer: np.ndarray, author: np.ndarray, follow_back: np.ndarray) -> np.ndarray:
        """Record today's follows (viewer -> author) and follow-backs; returns new Chinese followers per US user."""
        new = self.ties.add(viewer, author)
        back = follow_back & new
        self.back_ties.add(author[back], viewer[back])
        return np.bincount(author[new], minlength=self.n_us)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(Chinese follower, US user) of every tie."""
        return self.ties.pairs()

    def measure(self, today: object) -> dict[str, float]:
        return {"cn_follows_of_us_users": len(self.ties), "us_follows_of_cn_users": len(self.back_ties)}
