"""Counter-based random numbers: any agent's k-th draw of any stream on any day, without drawing anyone else's.

Why (issue #13): until parameter set 2025.3 the model made draws common across scenarios (common random
numbers, CRN) only by drawing a full-length array per stream and day, also for agents who decided nothing,
and its variable-length draws (the regulator's reviews, Chinese users' views and reactions) came from one
sequential generator per day, so one extra view shifted every later number. Here every draw is a pure
function of where it is used (`sim.streams` lists the model's streams and slots)::

    bits(key, day, i, k, sub) = 64 bits of Philox4x32-10(counter=(i, k // 2, day + 1, sub), key)
    uniform = (bits >> 11) * 2**-53                                  # in [0, 1 - 2**-53]

- ``key``: 64 bits per (seed, run, stream name) (`stream_key`); Philox4x32's key is exactly 64 bits.
- ``i``: agent index (< 2**32); ``k``: the agent's draw number in that stream on that day (< 2**33):
  draws 2j and 2j + 1 are the two 64-bit halves of the block at counter word j, so drawing k = 0 and 1
  costs one block; ``day``: -1 (set-up) .. 2**32 - 2, as in `sim.streams`; ``sub``: an optional second
  index (< 2**32) for things named by two numbers, e.g. a post by (author, creation day).
So agent i's draw exists without generating a full array, only agents that decide draw, every stream
is CRN by construction, and no result can depend on thread count, chunking or process layout.

Generator: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3",
SC 2011). It passes TestU01's BigCrush with as few as 7 rounds (10 is the recommended margin), is a
bijection of the counter for each key (distinct counters never collide), and has published known answers
(Random123's kat_vectors) and independent implementations (cuRAND, TensorFlow's stateless ops,
randomgen), so tests/test_rng.py checks it bit for bit. 4x32 rather than numpy's Philox4x64: its
32x32 -> 64-bit multiplies vectorise in numba/LLVM (SIMD), 2-3 ns a block on this machine against ~12 ns
for 4x64, whose 64x64 -> 128-bit multiply does not. Hash-style mixers (a SplitMix64 finalizer, Squares)
are faster, but have no key schedule separating streams (Squares wants specially built keys) and no
record as comparable on structured, low-entropy counters like (agent, day).

53-bit doubles, not float32: the model compares draws with daily probabilities of 1e-6 and below; a
24-bit uniform resolves only 2**-24 ~ 6e-8 and turns P(u < p) into ceil(p * 2**24) / 2**24 (+19 % at
p = 1e-7). ``dtype=np.float32`` gives the top 24 of the same bits: the float64 draw truncated, so both
decide alike except within 2**-24 of a threshold.
"""

from __future__ import annotations

import hashlib
import math

import numba as nb
import numpy as np
import numpy.typing as npt

# Philox4x32 constants (Random123): round multipliers and Weyl key increments.
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
_MASK32, _S32, _S1, _ONE = np.uint64(0xFFFFFFFF), np.uint64(32), np.uint64(1), np.uint64(1)
ROUNDS = 10
LIMIT = 1 << 32  # every counter word is 32 bits
PARALLEL_MIN = 1 << 16
"""``parallel=None`` draws on threads from this many draws on (as many as the calling thread's numba
setting allows: one in ensemble workers). In isolation 600 000 uniforms take 1.2 ms on one thread and 0.6
ms on two on this project's 2-core machines; inside a model day, 1 000 000 agents x 180 days 8.21 -> 8.03
s (median of 3, alternating). (Measured before BLAS was kept to one thread, see `sim.model.kernel_threads`,
threads gained nothing here: 9.9 against 10.1 s for 90 days.) Results are the same either way."""
POISSON_TAIL_SDS = 9.0
"""Inverse-transform Poisson starts summing at lam - 9 sd: the mass below, < exp(-81/2) ~ 2.6e-18 by the
Chernoff bound, is under the resolution of a 53-bit uniform (1.1e-16)."""

FloatArray = npt.NDArray[np.floating]


# --------------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------------
def stream_key(seed: int, run: int, name: str) -> int:
    """The 64-bit Philox key of stream ``name`` in run ``run`` of ``seed`` (a hash: distinct streams'
    keys collide with probability 2**-64 per pair)."""
    if seed < 0 or run < 0:
        raise ValueError(f"seed and run must be non-negative (got {seed}, {run})")
    data = f"{int(seed)}:{int(run)}:{name_key(name)}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8, person=b"sim.rng").digest(), "little")


def name_key(name: str) -> int:
    """A stable 64-bit integer for a stream name (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def kernel_key(key: int, day: int) -> tuple[np.uint32, np.uint32, np.uint32]:
    """(key low word, key high word, day + 1): what a compiled kernel needs to draw with `draw` / `draw32`."""
    return (*_split(key), _day(day))


# --------------------------------------------------------------------------------------------------
# Kernels (numba; compiled on first use, cached next to this file or in NUMBA_CACHE_DIR). Each 32-bit word
# is held in a uint64, masked, so nothing wraps or is promoted and LLVM sees 32x32 -> 64-bit products it
# can vectorise (SIMD); the fill loops keep a path with shared counter words for the same reason (a
# per-draw stride defeats vectorisation). Measured: ~2x faster than uint32 words, which numba promotes
# and truncates at every step.
# --------------------------------------------------------------------------------------------------
@nb.njit(cache=True, inline="always")
def _philox(c0, c1, c2, c3, k0, k1):  # pragma: no cover - compiled
    """Philox4x32-10 of counter (c0..c3) under key (k0, k1): four 32-bit words, held in uint64."""
    c0, c1, c2, c3, k0, k1 = np.uint64(c0), np.uint64(c1), np.uint64(c2), np.uint64(c3), np.uint64(k0), np.uint64(k1)
    for r in range(ROUNDS):
        if r > 0:
            k0 = (k0 + _W0) & _MASK32
            k1 = (k1 + _W1) & _MASK32
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (p1 >> _S32) ^ c1 ^ k0, p1 & _MASK32, (p0 >> _S32) ^ c3 ^ k1, p0 & _MASK32
    return c0, c1, c2, c3


@nb.njit(cache=True, inline="always")
def _bits(k0, k1, day1, i, k, sub):  # pragma: no cover - compiled
    """Draw k of agent i: the even or odd 64-bit half of the block at counter (i, k // 2, day + 1, sub)."""
    uk = np.uint64(k)
    x0, x1, x2, x3 = _philox(np.uint32(i), np.uint32(uk >> _S1), day1, np.uint32(sub), k0, k1)
    if uk & _ONE:
        return (x2 << _S32) | x3
    return (x0 << _S32) | x1


@nb.njit(cache=True, inline="always")
def _unit(bits):  # pragma: no cover - compiled
    """The top 53 of 64 random bits as a uniform in [0, 1)."""
    return (bits >> np.uint64(11)) * 2.0**-53


@nb.njit(cache=True, inline="always")
def draw(k0, k1, day1, i, k, sub=0):  # pragma: no cover - compiled
    """Inside a compiled kernel: the uniform in [0, 1) of draw ``k`` of agent ``i`` (53 bits), the same
    number `uniforms` gives for it (``k0, k1, day1`` from `kernel_key`)."""
    return _unit(_bits(k0, k1, day1, i, k, sub))


@nb.njit(cache=True, inline="always")
def draw_pair(k0, k1, day1, i, j, sub=0):  # pragma: no cover - compiled
    """Inside a compiled kernel: draws 2j and 2j + 1 of agent ``i``, the two halves of one Philox block, as
    two `draw` calls give them at the cost of one (a loop over an agent's draws computes each block once)."""
    x0, x1, x2, x3 = _philox(np.uint32(i), np.uint32(j), day1, np.uint32(sub), k0, k1)
    return _unit((x0 << _S32) | x1), _unit((x2 << _S32) | x3)


@nb.njit(cache=True, inline="always")
def poisson_draw(k0, k1, day1, i, k, lam):  # pragma: no cover - compiled
    """Inside a compiled kernel: Poisson(lam) by inverse transform of draw ``k`` of agent ``i``, as `poisson`."""
    return _poisson_inverse(draw(k0, k1, day1, i, k, 0), lam)


@nb.njit(cache=True, inline="always")
def pick(k0, k1, day1, i, k, cum, guide):  # pragma: no cover - compiled
    """Inside a compiled kernel: the item draw ``k`` of agent ``i`` picks with probability proportional to
    its weight, as `choose` (``cum``: cumulative weights, ``guide``: their `guide_table`)."""
    return _search_right(cum, draw(k0, k1, day1, i, k, 0) * cum[cum.size - 1], guide)


@nb.njit(cache=True)
def _raw(ctr, k0, k1, out):  # pragma: no cover - compiled
    for j in range(ctr.shape[0]):
        c = _philox(ctr[j, 0], ctr[j, 1], ctr[j, 2], ctr[j, 3], k0, k1)
        for w in range(4):
            out[j, w] = c[w]


@nb.njit(cache=True)
def _fill_bits(k0, k1, day1, idx, kk, ss, out):  # pragma: no cover - compiled
    step = 1 if kk.size > 1 else 0
    for j in range(out.size):
        out[j] = _bits(k0, k1, day1, idx[j], kk[j * step], ss[j * step])


# uniforms of chosen agents: kk and ss (counter words k and sub) both have one entry (shared) or one per draw
@nb.njit(cache=True)
def _fill(k0, k1, day1, idx, kk, ss, shift, scale, out):  # pragma: no cover - compiled
    if kk.size == 1:
        k, sub = kk[0], ss[0]
        for j in range(out.size):
            out[j] = (_bits(k0, k1, day1, idx[j], k, sub) >> shift) * scale
    else:
        for j in range(out.size):
            out[j] = (_bits(k0, k1, day1, idx[j], kk[j], ss[j]) >> shift) * scale


@nb.njit(cache=True, parallel=True)
def _fill_par(k0, k1, day1, idx, kk, ss, shift, scale, out):  # pragma: no cover - compiled
    if kk.size == 1:
        k, sub = kk[0], ss[0]
        for j in nb.prange(out.size):
            out[j] = (_bits(k0, k1, day1, idx[j], k, sub) >> shift) * scale
    else:
        for j in nb.prange(out.size):
            out[j] = (_bits(k0, k1, day1, idx[j], kk[j], ss[j]) >> shift) * scale


# uniforms of agents 0..n-1 (no index array)
@nb.njit(cache=True)
def _fill_all(k0, k1, day1, k, sub, shift, scale, out):  # pragma: no cover - compiled
    for j in range(out.size):
        out[j] = (_bits(k0, k1, day1, j, k, sub) >> shift) * scale


@nb.njit(cache=True, parallel=True)
def _fill_all_par(k0, k1, day1, k, sub, shift, scale, out):  # pragma: no cover - compiled
    for j in nb.prange(out.size):
        out[j] = (_bits(k0, k1, day1, j, k, sub) >> shift) * scale


@nb.njit(cache=True)
def _poisson_inverse(u, lam):  # pragma: no cover - compiled
    """Smallest x with P(X <= x) > u for X ~ Poisson(lam): one uniform per variate, monotone in u and lam.

    Sums the pmf upward from max(0, lam - 9 sd) (see `POISSON_TAIL_SDS`): O(lam) steps below lam = 81,
    O(sqrt(lam)) above. Stops once the sum no longer grows past the mode (u fell in the last rounding gap).
    """
    if lam <= 0.0:
        return 0
    if lam <= POISSON_TAIL_SDS**2:  # lam - 9 sd <= 0: start at 0 (and skip the square root)
        x, p = 0, math.exp(-lam)
    else:
        x = math.floor(lam - POISSON_TAIL_SDS * math.sqrt(lam))
        p = math.exp(x * math.log(lam) - lam - math.lgamma(x + 1.0))
    cum = p
    while cum <= u:
        x += 1
        p *= lam / x
        if x > lam and cum + p == cum:
            break
        cum += p
    return x


@nb.njit(cache=True)
def _poisson(k0, k1, day1, idx, rates, kk, ss, out):  # pragma: no cover - compiled
    step = 1 if kk.size > 1 else 0
    for j in range(out.size):
        u = draw(k0, k1, day1, idx[j], kk[j * step], ss[j * step])
        out[j] = _poisson_inverse(u, rates[j])


@nb.njit(cache=True, parallel=True)
def _poisson_par(k0, k1, day1, idx, rates, kk, ss, out):  # pragma: no cover - compiled
    step = 1 if kk.size > 1 else 0
    for j in nb.prange(out.size):
        u = draw(k0, k1, day1, idx[j], kk[j * step], ss[j * step])
        out[j] = _poisson_inverse(u, rates[j])


@nb.njit(cache=True, inline="always")
def _search_right(cum, target, guide):  # pragma: no cover - compiled
    """np.searchsorted(cum, target, side="right"), clipped to the last index. ``guide`` (`guide_table`) narrows
    the search to the items of the target's bucket and its neighbours, which hold the answer (the bucket of
    a target computed in floating point can be off by one, never by two); the same answer, in ~2 steps
    instead of ~log2(n) dependent loads."""
    buckets = guide.size - 1
    b = min(int(target / cum[cum.size - 1] * buckets), buckets - 1)
    lo, hi = guide[max(b - 1, 0)], guide[min(b + 2, buckets)]
    while lo < hi:
        mid = (lo + hi) >> 1
        if cum[mid] <= target:
            lo = mid + 1
        else:
            hi = mid
    return min(lo, cum.size - 1)


def guide_table(cum: np.ndarray) -> np.ndarray:
    """Chen and Asau's guide table of the cumulative weights ``cum`` (non-decreasing, last > 0), for `pick`:
    entry b is where the search of b/B of the total lands, for B = len(cum) equal buckets."""
    buckets = cum.size
    return np.searchsorted(cum, np.arange(buckets + 1) * (cum[-1] / buckets), side="right").astype(np.int64, copy=False)


@nb.njit(cache=True)
def _choose(k0, k1, day1, idx, cum, guide, kk, ss, out):  # pragma: no cover - compiled
    step, total = 1 if kk.size > 1 else 0, cum[cum.size - 1]
    for j in range(out.size):
        u = draw(k0, k1, day1, idx[j], kk[j * step], ss[j * step])
        out[j] = _search_right(cum, u * total, guide)


@nb.njit(cache=True, parallel=True)
def _choose_par(k0, k1, day1, idx, cum, guide, kk, ss, out):  # pragma: no cover - compiled
    step, total = 1 if kk.size > 1 else 0, cum[cum.size - 1]
    for j in nb.prange(out.size):
        u = draw(k0, k1, day1, idx[j], kk[j * step], ss[j * step])
        out[j] = _search_right(cum, u * total, guide)


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------
_FORMATS: dict[type, tuple[np.uint64, float]] = {
    np.float64: (np.uint64(11), 2.0**-53),  # top 53 bits
    np.float32: (np.uint64(40), 2.0**-24),  # top 24 bits: the float64 draw truncated
}


def philox4x32(counters: npt.ArrayLike, key: int) -> npt.NDArray[np.uint32]:
    """Raw Philox4x32-10 blocks of ``counters`` (m x 4 words) under the 64-bit ``key`` (low word first),
    as in Random123 and randomgen: for tests and for anyone checking the generator."""
    ctr = np.ascontiguousarray(counters, dtype=np.uint32).reshape(-1, 4)
    out = np.empty(ctr.shape, dtype=np.uint32)
    _raw(ctr, *_split(key), out)
    return out


def random_bits(key: int, day: int, idx: npt.ArrayLike, k: npt.ArrayLike = 0, sub: npt.ArrayLike = 0) -> npt.NDArray[np.uint64]:
    """The 64 random bits of draw ``k`` of each agent in ``idx`` on ``day`` (``k``, ``sub``: scalars or per agent)."""
    index, kk, ss = _counters(idx, k, sub)
    out = np.empty(index.size, dtype=np.uint64)
    _fill_bits(*_split(key), _day(day), index, kk, ss, out)
    return out


def uniforms(
    key: int,
    day: int,
    idx: npt.ArrayLike,
    k: npt.ArrayLike = 0,
    sub: npt.ArrayLike = 0,
    *,
    dtype: type = np.float64,
    out: FloatArray | None = None,
    parallel: bool | None = None,
) -> FloatArray:
    """Uniforms in [0, 1) of the agents ``idx`` only: entry j is draw ``k[j]`` of agent ``idx[j]``, the
    same number it has in `uniforms_all` or in any other subset (the CRN property).

    ``out``: an array to fill (of ``dtype``; saves allocating and page-faulting a fresh one each day);
    ``parallel``: None picks by size; any choice gives the same numbers.
    """
    index, kk, ss = _counters(idx, k, sub)
    shift, scale = _format(dtype)
    out = _output(out, index.size, dtype)
    kernel = _fill_par if _parallel(parallel, index.size) else _fill
    kernel(*_split(key), _day(day), index, kk, ss, shift, scale, out)
    return out


def uniforms_all(
    key: int,
    day: int,
    n: int,
    k: int = 0,
    sub: int = 0,
    *,
    dtype: type = np.float64,
    out: FloatArray | None = None,
    parallel: bool | None = None,
) -> FloatArray:
    """Draw ``k`` of every agent 0..n-1: ``uniforms(key, day, np.arange(n), k)`` without the index array."""
    _check(n, "n", LIMIT + 1)
    _check(k, "k", 2 * LIMIT)
    _check(sub, "sub", LIMIT)
    shift, scale = _format(dtype)
    out = _output(out, int(n), dtype)
    kernel = _fill_all_par if _parallel(parallel, out.size) else _fill_all
    kernel(*_split(key), _day(day), np.int64(k), np.int64(sub), shift, scale, out)
    return out


def poisson(
    key: int, day: int, idx: npt.ArrayLike, rates: npt.ArrayLike, k: npt.ArrayLike = 0, sub: npt.ArrayLike = 0, *,
    parallel: bool | None = None,
) -> npt.NDArray[np.int64]:  # fmt: skip
    """Poisson(rates[j]) counts of the agents ``idx`` by inverse transform of their draw ``k``.

    One uniform per variate, so a count uses exactly one counter and is common across scenarios; and it
    is monotone in the rate: an agent whose rate rises in another scenario gets at least as many events
    (the strongest coupling two scenarios can have). Exact up to float64 rounding of the summed pmf.
    """
    index, kk, ss = _counters(idx, k, sub)
    lam = np.ascontiguousarray(rates, dtype=np.float64).ravel()
    if lam.size != index.size:
        raise ValueError(f"rates has {lam.size} entries for {index.size} agents")
    if lam.size and not (np.isfinite(lam).all() and lam.min() >= 0.0):
        raise ValueError("rates must be finite and non-negative")
    out = np.empty(index.size, dtype=np.int64)
    kernel = _poisson_par if _parallel(parallel, index.size) else _poisson
    kernel(*_split(key), _day(day), index, lam, kk, ss, out)
    return out


def choose(
    key: int, day: int, idx: npt.ArrayLike, cum_weights: npt.ArrayLike, k: npt.ArrayLike = 0, sub: npt.ArrayLike = 0, *,
    parallel: bool | None = None,
) -> npt.NDArray[np.int64]:  # fmt: skip
    """An item for each draw, with probability proportional to its weight (``cum_weights``: cumulative,
    non-decreasing, last > 0): ``searchsorted(cum, u * cum[-1], "right")`` of draw ``k[j]`` of agent
    ``idx[j]``, as `sim.cn_users` picks posts. Key a viewer's v-th view by ``k = v`` (or ``slots * v +
    slot`` when each view takes several draws): `ranks` gives v."""
    index, kk, ss = _counters(idx, k, sub)
    cum = np.ascontiguousarray(cum_weights, dtype=np.float64).ravel()
    if cum.size == 0 or not cum[-1] > 0.0:
        raise ValueError("cum_weights must be non-empty with a positive total")
    out = np.empty(index.size, dtype=np.int64)
    kernel = _choose_par if _parallel(parallel, index.size) else _choose
    kernel(*_split(key), _day(day), index, cum, guide_table(cum), kk, ss, out)
    return out


def ranks(idx: npt.ArrayLike, counts: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Expand per-agent event counts into one row per event: (agent, its number among that agent's
    events, 0..count-1). The number is the agent's own counter, so a view's draws do not depend on how
    many views anyone else had."""
    owner_of = np.asarray(idx, dtype=np.int64).ravel()
    c = np.asarray(counts, dtype=np.int64).ravel()
    owner = np.repeat(owner_of, c)
    starts = np.cumsum(c) - c
    return owner, np.arange(owner.size, dtype=np.int64) - np.repeat(starts, c)


# --------------------------------------------------------------------------------------------------
def _format(dtype: type) -> tuple[np.uint64, float]:
    kind = np.dtype(dtype).type
    if kind not in _FORMATS:
        raise ValueError(f"dtype must be float64 or float32 (got {np.dtype(dtype)})")
    return _FORMATS[kind]


def _output(out: FloatArray | None, m: int, dtype: type) -> FloatArray:
    if out is None:
        return np.empty(m, dtype=dtype)
    if out.shape != (m,) or out.dtype != np.dtype(dtype) or not out.flags.c_contiguous:
        raise ValueError(f"out must be a contiguous {np.dtype(dtype)} array of shape ({m},)")
    return out


def _split(key: int) -> tuple[np.uint32, np.uint32]:
    """Key words (low, high), as Random123 and randomgen take a 64-bit key."""
    key = int(key)
    if not 0 <= key < 1 << 64:
        raise ValueError(f"key must be a 64-bit unsigned integer (got {key})")
    return np.uint32(key & 0xFFFFFFFF), np.uint32(key >> 32)


def _day(day: int) -> np.uint32:
    _check(int(day) + 1, "day + 1", LIMIT)
    return np.uint32(int(day) + 1)


def _check(value: int, name: str, limit: int) -> None:
    if not 0 <= int(value) < limit:
        raise ValueError(f"{name} must be in [0, {limit}) (got {value})")


def _word(values: npt.ArrayLike, name: str, m: int, limit: int) -> npt.NDArray[np.int64]:
    """A counter word as int64, one entry (shared) or m (one per draw), range-checked."""
    a = np.ascontiguousarray(values, dtype=np.int64).ravel()
    if a.size not in (1, m):
        raise ValueError(f"{name} has {a.size} entries for {m} draws")
    if a.size and (a.min() < 0 or a.max() >= limit):
        raise ValueError(f"{name} must be in [0, {limit})")
    return a


def _counters(idx: npt.ArrayLike, k: npt.ArrayLike, sub: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agent indices and the k and sub words, both shared (length 1) or both per draw (length m)."""
    raw = np.asarray(idx)
    if raw.size and not np.issubdtype(raw.dtype, np.integer):
        raise TypeError(f"idx must hold integers (got {raw.dtype})")
    index = np.ascontiguousarray(raw, dtype=np.int64).ravel()
    if index.size and (index.min() < 0 or index.max() >= LIMIT):
        raise ValueError(f"agent indices must be in [0, {LIMIT})")
    m = index.size
    kk, ss = _word(k, "k", m, 2 * LIMIT), _word(sub, "sub", m, LIMIT)
    if kk.size != ss.size:
        kk, ss = np.broadcast_to(kk, m).copy(), np.broadcast_to(ss, m).copy()
    return index, kk, ss


def _parallel(parallel: bool | None, m: int) -> bool:
    return m >= PARALLEL_MIN if parallel is None else parallel
