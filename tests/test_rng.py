"""sim/rng.py: the generator bit for bit, the counter layout, common random numbers, statistics, invariance.

The chain of evidence for the generator: a plain-Python Philox written from the Random123 paper is
checked against numpy's Philox4x64-10 (same algorithm, 64-bit words) and against Random123's published
known answers for Philox4x32-10; the numba kernel is then checked against that reference on thousands
of random counters and keys. Statistical tests use fixed keys, so they are deterministic (they pass or
fail the same way on every run); thresholds are loose enough for a good generator and tight enough to
catch a broken layout (e.g. two streams or days sharing counters).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim import rng
from sim.streams import Streams

# --------------------------------------------------------------------------------------------------
# A plain-Python reference (Salmon et al. 2011; constants from Random123's philox.h)
# --------------------------------------------------------------------------------------------------
CONSTANTS = {
    32: ((0xD2511F53, 0xCD9E8D57), (0x9E3779B9, 0xBB67AE85)),
    64: ((0xD2E7470EE14C6C93, 0xCA5A826395121157), (0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B)),
}


def philox_reference(counter: list[int], key: list[int], width: int, rounds: int = 10) -> list[int]:
    """Philox4xW-R with Python integers: round(c, k) = (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1,
    lo(M0 c0)); the key is bumped by the Weyl constants before every round but the first."""
    (m0, m1), (w0, w1) = CONSTANTS[width]
    mask = (1 << width) - 1
    c, k = list(counter), list(key)
    for r in range(rounds):
        if r:
            k = [(k[0] + w0) & mask, (k[1] + w1) & mask]
        p0, p1 = m0 * c[0], m1 * c[2]
        c = [(p1 >> width) ^ c[1] ^ k[0], p1 & mask, (p0 >> width) ^ c[3] ^ k[1], p0 & mask]
    return c


# Random123 kat_vectors: philox4x32 10 <ctr0..3> <key0 key1> -> <out0..3>
KAT_4X32 = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (
        [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
        [0xA4093822, 0x299F31D0],
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
    ),
]
# philox4x64 10, all zeros and all ones
KAT_4X64 = [
    ([0] * 4, [0, 0], [0x16554D9ECA36314C, 0xDB20FE9D672D0FDC, 0xD7E772CEE186176B, 0x7E68B68AEC7BA23B]),
    ([2**64 - 1] * 4, [2**64 - 1] * 2, [0x87B092C3013FE90B, 0x438C3C67BE8D0224, 0x9CC7D7C69CD777B6, 0xA09CAEBF594F0BA0]),
]


def key64(words: list[int]) -> int:
    return words[0] | words[1] << 32


def random_cases(n: int, width: int, seed: int) -> list[tuple[list[int], list[int]]]:
    """Random counters and keys, plus edge words (0, 1, all ones) in every position."""
    g = np.random.default_rng(seed)
    top = (1 << width) - 1

    def words(m: int) -> list[int]:
        return [int(x) & top for x in g.integers(0, 2**64, m, dtype=np.uint64, endpoint=False)]

    cases = [(words(4), words(2)) for _ in range(n)]
    for edge in (0, 1, top):
        for pos in range(6):
            c, k = words(4), words(2)
            if pos < 4:
                c[pos] = edge
            else:
                k[pos - 4] = edge
            cases.append((c, k))
    return cases


def numpy_philox4x64(counter: list[int], key: list[int]) -> list[int]:
    """numpy's Philox4x64-10 block at ``counter`` (numpy adds 1 to its counter before each block)."""
    c = (sum(w << (64 * i) for i, w in enumerate(counter)) - 1) % (1 << 256)
    words = np.array([(c >> (64 * i)) & (2**64 - 1) for i in range(4)], dtype=np.uint64)  # a list would pass through float
    bg = np.random.Philox(counter=words, key=np.array(key, dtype=np.uint64))
    return [int(x) for x in bg.random_raw(4)]


# --------------------------------------------------------------------------------------------------
# The generator, bit for bit
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("counter", "key", "expected"), KAT_4X64)
def test_reference_matches_random123_4x64(counter, key, expected):
    assert philox_reference(counter, key, 64) == expected


def test_reference_matches_numpy_philox4x64():
    """The reference's round structure, key schedule and word order are numpy's, bit for bit."""
    for counter, key in random_cases(40, 64, seed=1):
        assert philox_reference(counter, key, 64) == numpy_philox4x64(counter, key), (counter, key)


@pytest.mark.parametrize(("counter", "key", "expected"), KAT_4X32)
def test_kernel_and_reference_match_random123_4x32(counter, key, expected):
    assert philox_reference(counter, key, 32) == expected
    assert rng.philox4x32(counter, key64(key)).tolist() == [expected]


def test_kernel_matches_reference_on_random_counters_and_keys():
    cases = random_cases(300, 32, seed=2)
    for key in {tuple(k) for _, k in cases[:40]}:
        counters = [c for c, _ in cases]
        got = rng.philox4x32(counters, key64(list(key)))
        assert got.tolist() == [philox_reference(c, list(key), 32) for c in counters]


def test_kernel_matches_randomgen():
    """An independent compiled implementation (randomgen's Philox(number=4, width=32)), if installed."""
    randomgen = pytest.importorskip("randomgen")
    for counter, key in random_cases(20, 32, seed=3):
        c = (sum(w << (32 * i) for i, w in enumerate(counter)) - 1) % (1 << 128)
        bg = randomgen.Philox(key=key64(key), counter=c, number=4, width=32)
        assert [int(x) for x in bg.random_raw(4)] == rng.philox4x32(counter, key64(key))[0].tolist()


# --------------------------------------------------------------------------------------------------
# The counter layout and the conversion to floats
# --------------------------------------------------------------------------------------------------
def expected_bits(key: int, day: int, i: int, k: int, sub: int = 0) -> int:
    """The module docstring's formula: 64 bits of Philox(counter=(i, k // 2, day + 1, sub), key)."""
    x = philox_reference([i, k >> 1, day + 1, sub], [key & 0xFFFFFFFF, key >> 32], 32)
    return x[0] << 32 | x[1] if k % 2 == 0 else x[2] << 32 | x[3]


def test_layout_is_the_documented_formula():
    key = rng.stream_key(2025, 3, "cn.views")
    idx = np.array([0, 1, 7, 2**31, 2**32 - 1])
    for day in (-1, 0, 59):
        for k in (0, 1, 2, 3, 2**33 - 1):
            for sub in (0, 5, 2**32 - 1):
                bits = rng.random_bits(key, day, idx, k, sub)
                want = [expected_bits(key, day, int(i), k, sub) for i in idx]
                assert bits.tolist() == want
                assert rng.uniforms(key, day, idx, k, sub).tolist() == [(b >> 11) * 2.0**-53 for b in want]
                assert rng.uniforms(key, day, idx, k, sub, dtype=np.float32).tolist() == [(b >> 40) * 2.0**-24 for b in want]


def test_pinned_values():
    """The numbers of a given (seed, run, stream, day, agent, k) never change: results are reproducible
    across versions (change these only with a deliberate, announced break)."""
    assert rng.stream_key(2025, 0, "us.join") == 0x4B9990FB5C67B433
    got = rng.random_bits(rng.stream_key(2025, 0, "us.join"), 10, [0, 1, 123_456], k=[0, 1, 5])
    assert [hex(int(x)) for x in got] == ["0x107a80d0e1fbe967", "0xd2aa69e8e8b7ba70", "0xd16fab907b08aead"]


def test_float32_is_the_float64_draw_truncated():
    key = rng.stream_key(1, 0, "x")
    u64 = rng.uniforms_all(key, 4, 200_000)
    u32 = rng.uniforms_all(key, 4, 200_000, dtype=np.float32)
    assert u32.dtype == np.float32 and u32.max() < 1.0
    np.testing.assert_array_equal(u32.astype(np.float64), np.floor(u64 * 2**24) / 2**24)


def test_extreme_bits_stay_in_the_unit_interval():
    """All-ones bits give 1 - 2**-53 (float64) and 1 - 2**-24 (float32), never 1.0."""
    assert (((2**64 - 1) >> 11) * 2.0**-53) < 1.0  # the conversion used by the kernels
    for dtype in (np.float64, np.float32):
        shift, scale = rng._format(dtype)
        top = np.array([2**64 - 1], dtype=np.uint64)
        assert float(np.asarray((top >> shift) * scale, dtype=dtype)[0]) < 1.0


# --------------------------------------------------------------------------------------------------
# Common random numbers: a draw is a function of its counter only
# --------------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**40),
    day=st.integers(-1, 400),
    k=st.integers(0, 7),
    subset=st.lists(st.integers(0, 4_999), max_size=60),
)
def test_a_draw_is_the_same_alone_in_a_subset_or_in_the_full_array(seed, day, k, subset):
    key = rng.stream_key(seed, 0, "us.lapse")
    full = rng.uniforms_all(key, day, 5_000, k)
    idx = np.array(subset, dtype=np.int64)
    np.testing.assert_array_equal(rng.uniforms(key, day, idx, k), full[idx])
    np.testing.assert_array_equal(rng.uniforms(key, day, idx, np.full(idx.size, k)), full[idx])  # k per draw
    for i in subset[:3]:
        assert rng.uniforms(key, day, [i], k)[0] == full[i]


def test_serial_and_parallel_kernels_agree():
    key, n = rng.stream_key(9, 1, "s"), 70_007
    idx = np.arange(n)[::-1].copy()
    k = np.arange(n) % 5
    rates = np.linspace(0.0, 30.0, n)
    cum = np.cumsum(np.arange(1.0, 51.0))
    for parallel in (False, True):
        assert np.array_equal(rng.uniforms_all(key, 2, n, parallel=parallel), rng.uniforms_all(key, 2, n, parallel=not parallel))
        assert np.array_equal(
            rng.uniforms(key, 2, idx, k, parallel=parallel), rng.uniforms(key, 2, idx, k, parallel=not parallel)
        )
        assert np.array_equal(
            rng.poisson(key, 2, idx, rates, parallel=parallel), rng.poisson(key, 2, idx, rates, parallel=not parallel)
        )
        assert np.array_equal(
            rng.choose(key, 2, idx, cum, k, parallel=parallel), rng.choose(key, 2, idx, cum, k, parallel=not parallel)
        )


def all_draws(n: int) -> list[np.ndarray]:
    key = rng.stream_key(77, 2, "cn.reactions")
    idx = (np.arange(n) * 7919) % n
    rates = (np.arange(n) % 97) / 3.0
    cum = np.cumsum(np.arange(n % 1000 + 10, dtype=np.float64))
    return [
        rng.uniforms_all(key, 5, n, parallel=True),
        rng.uniforms(key, 5, idx, idx % 11, parallel=True),
        rng.poisson(key, 5, idx, rates, parallel=True),
        rng.choose(key, 5, idx, cum, 3, parallel=True),
    ]


def test_thread_count_does_not_change_any_draw():
    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    if threads < 2:
        pytest.skip("numba has a single thread here")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = all_draws(100_003)
        numba.set_num_threads(threads)
        two = all_draws(100_003)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


def test_another_process_draws_the_same_numbers():
    """As in a process pool or a Dask worker ('spawn': a fresh interpreter, its own compilation)."""
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        theirs = pool.submit(all_draws, 40_000).result(timeout=300)
    for a, b in zip(all_draws(40_000), theirs):
        assert np.array_equal(a, b)


# --------------------------------------------------------------------------------------------------
# Independence: no stream, day, agent, draw number or sub-index shares numbers with another
# --------------------------------------------------------------------------------------------------
N = 1_000_000


def neighbours() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pairs of 10^6 draws that differ in one coordinate of the counter or the key."""
    key = rng.stream_key(2025, 0, "us.join")
    base = rng.uniforms_all(key, 10, N)
    shifted = rng.uniforms(key, 10, np.arange(1, N + 1))
    return {
        "stream": (base, rng.uniforms_all(rng.stream_key(2025, 0, "us.verify"), 10, N)),
        "seed": (base, rng.uniforms_all(rng.stream_key(2026, 0, "us.join"), 10, N)),
        "run": (base, rng.uniforms_all(rng.stream_key(2025, 1, "us.join"), 10, N)),
        "day": (base, rng.uniforms_all(key, 11, N)),
        "agent": (base, shifted),
        "k (same block)": (base, rng.uniforms_all(key, 10, N, k=1)),
        "k (next block)": (base, rng.uniforms_all(key, 10, N, k=2)),
        "sub": (base, rng.uniforms_all(key, 10, N, sub=1)),
    }


@pytest.fixture(scope="module")
def pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return neighbours()


@pytest.mark.parametrize("coordinate", ["stream", "seed", "run", "day", "agent", "k (same block)", "k (next block)", "sub"])
def test_neighbouring_counters_are_uncorrelated(pairs, coordinate):
    a, b = pairs[coordinate]
    assert not np.any(a == b), "identical draws: two counters share numbers"
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) < 5 / np.sqrt(N), f"correlation {r:.2e}"
    # and the joint distribution is flat: chi-square on a 20 x 20 grid
    table = np.histogram2d(a, b, bins=20, range=[[0, 1], [0, 1]])[0]
    assert stats.chisquare(table.ravel()).pvalue > 1e-4


def test_many_streams_and_days_never_repeat_a_sequence():
    idx = np.arange(8)
    rows = {
        tuple(rng.uniforms(rng.stream_key(seed, run, name), day, idx).tolist())
        for seed in range(3)
        for run in range(3)
        for name in ("us.join", "us.lapse", "cn.views", "regulator.screen")
        for day in range(-1, 20)
    }
    assert len(rows) == 3 * 3 * 4 * 21


# --------------------------------------------------------------------------------------------------
# Uniformity
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_uniformity(dtype):
    u = rng.uniforms_all(rng.stream_key(5, 0, "uniformity"), 3, N, dtype=dtype)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    counts = np.histogram(u, bins=1000, range=(0, 1))[0]
    assert stats.chisquare(counts).pvalue > 1e-3
    # the low end matters: the model compares draws with probabilities of 1e-6 and below
    assert abs(np.count_nonzero(u < 1e-4) - 100) < 5 * 10


def test_every_output_bit_is_fair():
    bits = rng.random_bits(rng.stream_key(6, 0, "bits"), 0, np.arange(200_000), k=np.arange(200_000) % 4)
    ones = np.array([np.count_nonzero((bits >> np.uint64(b)) & np.uint64(1)) for b in range(64)])
    assert np.all(np.abs(ones - 100_000) < 5 * np.sqrt(50_000))


# --------------------------------------------------------------------------------------------------
# Poisson
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lam", [1e-3, 0.2, 1.0, 3.7, 20.0, 80.5, 81.0, 250.0, 1e4, 1e6])
def test_poisson_mean_variance_and_fit(lam):
    n = 200_000
    x = rng.poisson(rng.stream_key(11, 0, "poisson"), 7, np.arange(n), np.full(n, lam))
    assert abs(x.mean() - lam) < 5 * np.sqrt(lam / n)
    assert abs(x.var() / lam - 1) < 5 * np.sqrt(2 / n) + 5 / np.sqrt(n * lam)  # sd of the variance ratio
    # chi-square goodness of fit on bins with >= 20 expected counts (tails pooled)
    lo, hi = int(stats.poisson.ppf(1e-6, lam)), int(stats.poisson.ppf(1 - 1e-6, lam)) + 1
    support = np.arange(lo, hi + 1)
    expected = n * stats.poisson.pmf(support, lam)
    expected[0] += n * stats.poisson.cdf(lo - 1, lam)
    expected[-1] += n * stats.poisson.sf(hi, lam)
    observed = np.bincount(np.clip(x, lo, hi) - lo, minlength=support.size).astype(float)
    edges = [0]
    acc = 0.0
    for j, e in enumerate(expected):
        acc += e
        if acc >= 20:
            edges.append(j + 1)
            acc = 0.0
    edges[-1] = support.size
    obs = np.add.reduceat(observed, edges[:-1])
    exp = np.add.reduceat(expected, edges[:-1])
    if obs.size > 1:
        assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-4


def test_poisson_zero_rate_and_bad_rates():
    key = rng.stream_key(1, 0, "p")
    assert rng.poisson(key, 0, np.arange(1000), np.zeros(1000)).tolist() == [0] * 1000
    for bad in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="finite and non-negative"):
            rng.poisson(key, 0, [0, 1], [1.0, bad])
    with pytest.raises(ValueError, match="entries"):
        rng.poisson(key, 0, [0, 1], [1.0])


def test_poisson_is_the_inverse_cdf_of_the_agents_draw_and_monotone_in_the_rate():
    """One uniform per count: the count is the smallest x with F(x) > u, so a higher rate in another
    scenario never gives an agent fewer events."""
    key, n = rng.stream_key(3, 0, "cn.views"), 50_000
    idx = np.arange(n)
    u = rng.uniforms(key, 2, idx, k=4)
    lam = np.exp(np.linspace(np.log(1e-3), np.log(500.0), n))
    x = rng.poisson(key, 2, idx, lam, k=4)
    np.testing.assert_array_equal(x, stats.poisson.ppf(u, lam).astype(np.int64))
    for factor in (1.001, 1.1, 2.0):
        assert np.all(rng.poisson(key, 2, idx, lam * factor, k=4) >= x)


# --------------------------------------------------------------------------------------------------
# Weighted choice and per-event ranks
# --------------------------------------------------------------------------------------------------
def test_choose_is_searchsorted_of_the_agents_draw():
    key = rng.stream_key(4, 0, "cn.reactions")
    weights = np.array([3.0, 0.0, 1.0, 6.0, 0.0, 2.0])
    cum = np.cumsum(weights)
    idx, k = np.arange(300_000) % 1000, np.arange(300_000) // 1000
    got = rng.choose(key, 1, idx, cum, k)
    u = rng.uniforms(key, 1, idx, k)
    np.testing.assert_array_equal(got, np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), cum.size - 1))
    counts = np.bincount(got, minlength=weights.size)
    assert counts[weights == 0].sum() == 0
    assert stats.chisquare(counts[weights > 0], weights[weights > 0] / weights.sum() * got.size).pvalue > 1e-4
    with pytest.raises(ValueError, match="positive total"):
        rng.choose(key, 1, idx, np.zeros(3))


@pytest.mark.parametrize("case", ["one item", "skewed", "zeros and ties", "many"])
def test_the_guided_search_lands_where_searchsorted_does_at_every_boundary(case: str):
    """`choose` searches only the target's bucket of a guide table and its neighbours: at each item's
    cumulative weight, one float step below and above it, at 0, at the total and at random targets, it
    returns numpy's ``searchsorted(cum, target, "right")`` clipped to the last item, whatever the weights."""
    gen = np.random.default_rng(7)
    weights = {
        "one item": np.array([2.5]),
        "skewed": np.concatenate([gen.random(2000) * 1e-9, [1e6], gen.random(30)]),
        "zeros and ties": np.array([0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 3.0, 0.0]),
        "many": gen.pareto(1.1, 5000),
    }[case]
    cum = np.cumsum(weights)
    targets = np.concatenate([
        cum, np.nextafter(cum, -np.inf), np.nextafter(cum, np.inf), [0.0, cum[-1]], gen.random(5000) * cum[-1],
    ])  # fmt: skip
    targets = targets[(targets >= 0) & (targets <= cum[-1])]
    guide = rng.guide_table(cum)
    got = np.array([rng._search_right(cum, t, guide) for t in targets])
    np.testing.assert_array_equal(got, np.minimum(np.searchsorted(cum, targets, side="right"), cum.size - 1))


def test_views_keyed_by_viewer_and_view_number_are_common_across_scenarios():
    """The Chinese users' pattern: views ~ Poisson per viewer, then one post pick per (viewer, view).
    When other viewers' rates change, a viewer's own views and picks do not."""
    n, day = 20_000, 3
    views, picks = rng.stream_key(8, 0, "cn.views"), rng.stream_key(8, 0, "cn.reactions")
    cum = np.cumsum(np.linspace(1.0, 2.0, 500))
    rates = np.linspace(0.0, 4.0, n)
    other = rates.copy()
    other[::2] *= 3.0  # another scenario: the even viewers view more

    def pick_posts(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(n)
        viewer, number = rng.ranks(idx, rng.poisson(views, day, idx, r))
        return viewer, rng.choose(picks, day, viewer, cum, k=4 * number)  # 4 draws per view: pick is slot 0

    v1, p1 = pick_posts(rates)
    v2, p2 = pick_posts(other)
    odd1, odd2 = v1 % 2 == 1, v2 % 2 == 1
    np.testing.assert_array_equal(v1[odd1], v2[odd2])
    np.testing.assert_array_equal(p1[odd1], p2[odd2])


def test_ranks():
    owner, number = rng.ranks([4, 9, 2, 7], [2, 0, 3, 1])
    assert owner.tolist() == [4, 4, 2, 2, 2, 7] and number.tolist() == [0, 1, 0, 1, 2, 0]
    owner, number = rng.ranks([], [])
    assert owner.size == number.size == 0


# --------------------------------------------------------------------------------------------------
# Keys and argument checks
# --------------------------------------------------------------------------------------------------
def test_keys_are_stable_and_distinct():
    keys = {rng.stream_key(seed, run, name) for seed in range(20) for run in range(5) for name in ("a", "b", "us.join", "us.use")}
    assert len(keys) == 20 * 5 * 4 and all(0 <= key < 2**64 for key in keys)
    streams = Streams(2025, 1)
    assert streams.key("us.join") == rng.stream_key(2025, 1, "us.join") == streams.key("us.join")
    assert streams.uniforms("us.join", 3, [5])[0] == rng.uniforms(rng.stream_key(2025, 1, "us.join"), 3, [5])[0]
    with pytest.raises(ValueError):
        rng.stream_key(-1, 0, "a")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: rng.uniforms(1, 0, [-1]), ValueError),
        (lambda: rng.uniforms(1, 0, [2**32]), ValueError),
        (lambda: rng.uniforms(1, 0, np.array([True, False])), TypeError),
        (lambda: rng.uniforms(1, 0, [0.5]), TypeError),
        (lambda: rng.uniforms(1, 0, [0, 1], k=[0, 1, 2]), ValueError),
        (lambda: rng.uniforms(1, 0, [0], k=2**33), ValueError),
        (lambda: rng.uniforms(1, 0, [0], sub=-1), ValueError),
        (lambda: rng.uniforms(1, -2, [0]), ValueError),
        (lambda: rng.uniforms(2**64, 0, [0]), ValueError),
        (lambda: rng.uniforms(1, 0, [0], dtype=np.float16), ValueError),
        (lambda: rng.uniforms_all(1, 0, 3, out=np.empty(4)), ValueError),
    ],
)
def test_bad_arguments_raise(call, error):
    with pytest.raises(error):
        call()


def test_empty_inputs():
    assert rng.uniforms(1, 0, np.zeros(0, dtype=np.int64)).size == 0
    assert rng.uniforms(1, 0, [], k=[]).size == 0
    assert rng.poisson(1, 0, [], []).size == 0
    assert rng.uniforms_all(1, 0, 0).size == 0


def test_draws_inside_compiled_kernels_are_the_numbers_the_api_gives():
    """The model's kernels draw with `draw` / `draw_pair` / `poisson_draw`; they must be the same numbers as
    `uniforms` / `poisson` for the same key, or a stream drawn in a kernel would not be common with one drawn outside."""

    @numba.njit
    def in_kernel(key, idx, k, rates, u, counts, even, odd):
        k0, k1, day1 = key
        for j in range(idx.size):
            u[j] = rng.draw(k0, k1, day1, idx[j], k[j], 0)
            counts[j] = rng.poisson_draw(k0, k1, day1, idx[j], k[j], rates[j])
            even[j], odd[j] = rng.draw_pair(k0, k1, day1, idx[j], k[j], 0)  # draws 2k and 2k + 1

    key = rng.stream_key(2025, 4, "us.apps")
    idx, k = np.array([0, 7, 7, 123_456, 2**32 - 1]), np.array([0, 0, 3, 1, 2])
    rates = np.array([0.0, 0.5, 3.0, 40.0, 200.0])
    u, counts, even, odd = np.empty(5), np.empty(5, np.int64), np.empty(5), np.empty(5)
    in_kernel(rng.kernel_key(key, 17), idx, k, rates, u, counts, even, odd)
    assert np.array_equal(u, rng.uniforms(key, 17, idx, k))
    assert np.array_equal(counts, rng.poisson(key, 17, idx, rates, k))
    assert np.array_equal(even, rng.uniforms(key, 17, idx, 2 * k))
    assert np.array_equal(odd, rng.uniforms(key, 17, idx, 2 * k + 1))
