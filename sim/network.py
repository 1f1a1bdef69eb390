"""Follow graphs as scipy.sparse CSR matrices, built by a compiled kernel in O(edges).

Row i lists the accounts user i follows (A[i, j] = 1: i sees j's posts). The 'communities' graph has
clustered follows (co-migration: He et al. 2023) and a heavy tail of followers (creators): each follow
picks its target with probability proportional to a Pareto "popularity", inside the follower's community
with probability `within_share`, else anywhere.

Follow f of user i is decided by one counter-based draw keyed by (i, f) (`sim.rng`), so each row is built
on its own, in parallel, and the graph is the same for any number of threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import scipy.sparse as sp

from sim import rng as keyed
from sim.results import Headline, Output

MAX_COMPLETE_NODES = 20_000
RANDOM, COMMUNITIES = 0, 1


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
    popularity = pareto_popularity(n, rng, popularity_exponent, popularity_cap_quantile)
    key = int(rng.integers(0, 2**63))  # the counter-based key of this graph's follows
    n_comm = max(1, n // max(1, community_size))
    bounds = (np.arange(n_comm + 1, dtype=np.int64) * n + n_comm - 1) // n_comm
    mode = COMMUNITIES if kind == "communities" else RANDOM
    # 'random': every follow picks its target uniformly (a flat alias table), none inside communities
    alias = alias_table(popularity if mode == COMMUNITIES else np.ones(n))
    within = float(within_share) if mode == COMMUNITIES else 0.0
    return _csr_from_rows(out_degree, lambda offsets, dst: _draw_follows(
        *keyed.kernel_key(key, -1), offsets, mode, within, np.cumsum(popularity), bounds, alias, dst
    ))  # fmt: skip


def pareto_popularity(n: int, rng: np.random.Generator, exponent: float, cap_quantile: float) -> np.ndarray:
    """Popularity of each user: Pareto, P(X > x) = x^-(a-1), drawn by stratified quantiles (one user per 1/n
    slice of the tail probability, in random order) so the top of the distribution is the same at every size.

    Capped at the value one user in 1/cap_quantile exceeds, whatever the number of agents: without a fixed
    cap the largest draws, and the top creators' share of all follows, grow with the agent count (heavy
    tails), and so did every result that depends on creators. Communities are contiguous blocks of row
    numbers (community c = rows bounds[c]..bounds[c+1]-1); popularity and traits are drawn independently
    of the row number, so this labelling is as random as any other (see tests/test_verification.py), and
    it keeps most follows close to their follower in memory, which makes every matrix-vector product
    several times faster at millions of users."""
    tail = (rng.permutation(n) + 1.0 - rng.random(n)) / n
    return np.maximum(tail, cap_quantile) ** (-1.0 / (exponent - 1.0))


def alias_table(weights: np.ndarray) -> np.ndarray:
    """Walker's alias table: item j with probability weights[j] / sum from one uniform and two lookups
    (a cumulative search needs ~log2(n) cache misses per draw across millions of users). Row j holds
    (the chance slot j keeps item j, the alias it gives otherwise, as a float: exact below 2**53), so a
    draw's two lookups share a cache line: 1.7x faster than two arrays for 6 000 000 users."""
    n = weights.size
    scaled = weights * (n / weights.sum())
    prob, alias = np.ones(n), np.arange(n, dtype=np.int64)
    _build_alias(scaled, prob, alias)
    return np.column_stack((prob, alias.astype(np.float64)))


@nb.njit(cache=True)
def _build_alias(scaled, prob, alias):  # pragma: no cover - compiled
    n = scaled.size
    small, large = np.empty(n, np.int64), np.empty(n, np.int64)
    ns = nl = 0
    for j in range(n):
        if scaled[j] < 1.0:
            small[ns] = j
            ns += 1
        else:
            large[nl] = j
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        prob[s], alias[s] = scaled[s], g
        scaled[g] = scaled[g] + scaled[s] - 1.0
        if scaled[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    # what is left has probability 1 up to rounding (prob already 1, alias itself)


@nb.njit(cache=True, parallel=True)
def _draw_follows(k0, k1, day1, offsets, mode, within, cum, bounds, alias, dst):  # pragma: no cover - compiled
    """Targets of every follow: follow f of user i from its own draw (i, f), two follows from each Philox
    block (`rng.draw_pair`). Inside the community (draw below ``within``): the draw, rescaled, is a
    position in the community's cumulative popularity; anywhere: the `alias_table` of all users' popularity
    (uniform for 'random' graphs, whose table is flat)."""
    n = offsets.size - 1
    n_comm = bounds.size - 1
    for i in nb.prange(n):
        c = i * n_comm // n
        lo, hi = bounds[c], bounds[c + 1]
        base = cum[lo - 1] if lo > 0 else 0.0
        width = cum[hi - 1] - base
        row, degree = offsets[i], offsets[i + 1] - offsets[i]
        for f in range(0, degree, 2):
            u, u_next = keyed.draw_pair(k0, k1, day1, i, f >> 1, 0)
            dst[row + f] = _target(u, mode, within, cum, lo, hi, base, width, alias, n)
            if f + 1 < degree:
                dst[row + f + 1] = _target(u_next, mode, within, cum, lo, hi, base, width, alias, n)


@nb.njit(cache=True, inline="always")
def _target(u, mode, within, cum, lo, hi, base, width, alias, n):  # pragma: no cover - compiled
    """The account a follow with draw ``u`` picks (see `_draw_follows`)."""
    if mode == COMMUNITIES and u < within:
        target = base + u / within * width
        a, b = lo, hi - 1
        while a < b:  # first member whose cumulative popularity exceeds the target
            mid = (a + b) >> 1
            if cum[mid] <= target:
                a = mid + 1
            else:
                b = mid
        return a
    v = (u - within) / (1.0 - within) * n
    j = min(int(v), n - 1)
    return j if v - j < alias[j, 0] else np.int64(alias[j, 1])


SHORT_ROW = 48  # rows up to this long are sorted by insertion


@nb.njit(cache=True, parallel=True)
def _unique_rows(offsets, dst, kept):  # pragma: no cover - compiled
    """Sort each row's targets, drop repeats and self-follows in place; ``kept[i]``: what is left of row i.
    Rows are short (~16 follows): an insertion sort in place, without the copy of ``np.sort``, is ~1.4x
    faster; the few long rows use numba's in-place sort."""
    for i in nb.prange(offsets.size - 1):
        a, b = offsets[i], offsets[i + 1]
        if b - a > SHORT_ROW:
            dst[a:b].sort()
        else:
            for j in range(a + 1, b):
                t, k = dst[j], j - 1
                while k >= a and dst[k] > t:
                    dst[k + 1] = dst[k]
                    k -= 1
                dst[k + 1] = t
        m = 0
        for j in range(a, b):
            t = dst[j]
            if t != i and (m == 0 or dst[a + m - 1] != t):
                dst[a + m] = t
                m += 1
        kept[i] = m


@nb.njit(cache=True)
def _compact(offsets, dst, indptr):  # pragma: no cover - compiled
    """Move each row's kept targets left, to its place in the CSR, in place: row by row in order, a row's
    new start is never after its old one, so nothing not yet read is overwritten. (A copy into a new
    array in parallel is faster warm, but its first touch of fresh memory cost more in a model's build.)"""
    for i in range(offsets.size - 1):
        a, to = offsets[i], indptr[i]
        for j in range(indptr[i + 1] - to):
            dst[to + j] = dst[a + j]


def _csr_from_rows(out_degree: np.ndarray, draw_targets) -> sp.csr_matrix:
    """CSR of unique follows without self-loops: ``draw_targets(offsets, dst)`` fills row i's
    ``out_degree[i]`` targets into dst[offsets[i]:offsets[i+1]]; rows are then sorted and deduplicated,
    in place. The matrix's values are booleans (a follow exists): the model reads only the structure."""
    n = out_degree.size
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(out_degree, out=offsets[1:])
    dst = np.empty(int(offsets[-1]), dtype=np.int32)
    draw_targets(offsets, dst)
    kept = np.zeros(n, dtype=np.int64)
    _unique_rows(offsets, dst, kept)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(kept, out=indptr[1:])
    _compact(offsets, dst, indptr)
    # the repeats' tail handed back, not copied; no reference check: dst is this function's own array (the
    # callback only fills it), and a debugger's view of the frame would otherwise count as one
    dst.resize(int(indptr[-1]), refcheck=False)
    graph = sp.csr_matrix((np.ones(dst.size, dtype=bool), dst, indptr), shape=(n, n))
    graph.has_sorted_indices = True
    return graph


def share_in_state(graph: sp.csr_matrix, state: np.ndarray, code: int, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows``: the share of the accounts it follows whose ``state`` is ``code`` (0 if none)."""
    return _share_in_state(graph.indptr, unsigned_columns(graph), state, code, rows)


def unsigned_columns(graph: sp.csr_matrix) -> np.ndarray:
    """The graph's column indices viewed as unsigned integers (they are never negative), for compiled loops:
    numba checks every signed index for a negative value (Python's wraparound), which in a loop of gathers
    costs more than the work itself (1.3-2x on this project's machine)."""
    return graph.indices.view(np.uint32 if graph.indices.dtype == np.int32 else np.uint64)


@nb.njit(cache=True, parallel=True)
def _share_in_state(indptr, indices, state, code, rows):  # pragma: no cover - compiled
    out = np.zeros(rows.size, dtype=np.float32)
    for r in nb.prange(rows.size):
        row = np.uint64(rows[r])
        a, b = np.uint64(indptr[row]), np.uint64(indptr[row + np.uint64(1)])
        hits, j = 0, a
        while j < b:
            hits += state[np.uint64(indices[j])] == code
            j += np.uint64(1)
        if b > a:
            out[r] = hits / (b - a)
    return out


def out_degree(graph: sp.csr_matrix) -> np.ndarray:
    return np.diff(graph.indptr).astype(np.float32)


def in_degree(graph: sp.csr_matrix) -> np.ndarray:
    return np.bincount(graph.indices, minlength=graph.shape[1]).astype(np.float32)


def exposure(graph: sp.csr_matrix, signal: np.ndarray) -> np.ndarray:
    """Share-weighted exposure: for each user, the mean of ``signal`` over the accounts they follow.

    A compiled loop over rows, in parallel: it adds each row's float32 terms one by one in the row's order
    and divides by the row's length, as scipy's product ``graph @ signal / out_degree(graph)`` does, so the
    numbers are the same to the bit, on any number of threads (`tests/test_events_network.py`)."""
    signal = signal.astype(np.float32, copy=False)
    if not graph.nnz:
        return np.zeros(graph.shape[0], np.float32)
    out = np.empty(graph.shape[0], np.float32)
    _mean_over_followees(graph.indptr, unsigned_columns(graph), signal, out)
    return out


@nb.njit(cache=True, parallel=True)
def _mean_over_followees(indptr, indices, x, out):  # pragma: no cover - compiled
    """Row i: the float32 sum of x over row i's columns, in order, over the row's length (0 if empty).

    Indexed with unsigned integers (`unsigned_columns`): 1.3x faster than scipy's product on one thread and
    than signed indices on two, measured on this project's machine."""
    for i in nb.prange(indptr.size - 1):
        a, b = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
        total = np.float32(0.0)
        j = a
        while j < b:
            total += x[np.uint64(indices[j])]
            j += np.uint64(1)
        out[i] = total / np.float32(b - a) if b > a else np.float32(0.0)


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
