"""The exogenous schedule and the follow graph."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim import network
from sim.events import build_platform_schedule, build_us_schedule
from tests.conftest import small


def day(s, iso: str) -> int:
    return s.day_of(dt.date.fromisoformat(iso))


def test_historical_outage_and_app_stores_follow_the_timeline():
    s = small()
    sched = build_us_schedule(s)
    assert sched.tiktok_up[day(s, "2025-01-17")] == 1.0
    assert sched.tiktok_up[day(s, "2025-01-18")] == pytest.approx(1 - 1.5 / 24)  # dark from 22:30
    assert sched.tiktok_up[day(s, "2025-01-19")] == pytest.approx(1 - 12 / 24)  # back at noon
    assert sched.tiktok_up[day(s, "2025-01-20")] == 1.0
    assert sched.in_store[day(s, "2025-01-17")] and not sched.in_store[day(s, "2025-01-18")]
    assert not sched.in_store[day(s, "2025-02-12")] and sched.in_store[day(s, "2025-02-13")]
    assert "supreme_court_upholds_law" in sched.headlines[day(s, "2025-01-17")]


def test_permanent_ban_stays_dark_and_out_of_stores():
    s = small("permanent_ban")
    sched = build_us_schedule(s)
    after = slice(day(s, "2025-01-19"), None)
    assert (sched.tiktok_up[after] == 0).all() and not sched.in_store[after].any()


def test_salience_decays_with_its_half_life_and_pauses_bring_relief():
    s = small(
        "no_ban", timeline={"news": [{"date": "2025-01-05", "event": "x", "salience": 2.0}], "salience_half_life_days": 4.0}
    )
    sal = build_us_schedule(s).salience
    d = day(s, "2025-01-05")
    assert sal[d - 1] == 0 and sal[d] == pytest.approx(2.0)
    assert sal[d + 4] == pytest.approx(1.0) and sal[d + 8] == pytest.approx(0.5)
    paused = small(
        "no_ban",
        timeline={
            "news": [{"date": "2025-01-05", "event": "x", "salience": 2.0}],
            "salience_half_life_days": 4.0,
            "enforcement_pauses": [{"start": "2025-01-09", "until": "2025-04-01"}],
            "pause_relief": 0.5,
        },
    )
    assert build_us_schedule(paused).salience[d + 4] == pytest.approx(0.5)


def test_news_before_the_start_counts_decayed():
    s = small(
        "no_ban", timeline={"news": [{"date": "2024-12-28", "event": "x", "salience": 2.0}], "salience_half_life_days": 4.0}
    )
    assert build_us_schedule(s).salience[0] == pytest.approx(1.0)  # 4 days before 1 Jan


def test_creator_only_news_reaches_only_creators():
    s = small()
    sched = build_us_schedule(s)
    d = day(s, "2025-01-12")
    assert sched.creator_salience[d] - sched.salience[d] == pytest.approx(40.0)
    assert sched.creator_salience[d - 1] == pytest.approx(sched.salience[d - 1])


def test_platform_levers_switch_on_their_dates():
    s = small()
    ps = build_platform_schedule(s)
    quality = s.platform.translation.quality  # the fit's (translation quality has a prior)
    assert ps.translation_quality[day(s, "2025-01-18")] == 0 and ps.translation_quality[day(s, "2025-01-19")] == pytest.approx(
        quality
    )
    assert ps.grey_translation_quality[day(s, "2025-01-17")] == pytest.approx(quality)
    strict = build_platform_schedule(small("strict_real_name"))
    assert strict.real_name_sweep_day == day(s, "2025-01-20") and strict.verify_new_accounts[day(s, "2025-01-20")]
    assert not strict.verify_new_accounts[day(s, "2025-01-19")]
    assert (build_platform_schedule(small("walled_garden")).visibility == 0.05).all()


@pytest.mark.parametrize("kind", ["communities", "random"])
def test_follow_graph_has_no_self_loops_or_duplicates_and_about_the_right_degree(kind):
    n, k = 20_000, 20
    g = network.follow_graph(n, k, np.random.default_rng(1), kind=kind)
    rows, cols = g.nonzero()
    assert not (rows == cols).any()
    assert g.nnz == len(set(zip(rows.tolist(), cols.tolist())))
    assert 0.6 * k < g.nnz / n <= 1.05 * k  # duplicates removed: a little under the nominal mean


def test_rows_are_the_sorted_unique_targets_without_the_user_on_short_and_long_rows():
    """`_csr_from_rows` keeps, per row, exactly ``np.unique`` of the drawn targets minus the user itself,
    whether the row is sorted by insertion (short) or by numba's sort (longer than `SHORT_ROW`)."""
    rng = np.random.default_rng(5)
    n = 400
    degree = rng.choice([0, 1, 3, 16, network.SHORT_ROW, network.SHORT_ROW + 1, 300], n)
    drawn = [rng.integers(0, 40 if i % 3 else n, d).astype(np.int32) for i, d in enumerate(degree)]  # many repeats

    def fill(offsets, dst):
        for i in range(n):
            dst[offsets[i] : offsets[i + 1]] = drawn[i]

    g = network._csr_from_rows(degree, fill)
    for i in range(n):
        expected = np.unique(drawn[i])
        assert np.array_equal(g.indices[g.indptr[i] : g.indptr[i + 1]], expected[expected != i])


def test_communities_graph_is_clustered_with_a_heavy_tail_of_followers():
    import networkx as nx

    n = 20_000
    rng = np.random.default_rng(3)
    g = network.follow_graph(n, 20, rng, kind="communities", community_size=150, within_share=0.7, popularity_exponent=2.1)
    r = network.follow_graph(n, 20, np.random.default_rng(3), kind="random")
    indeg = network.in_degree(g)
    assert indeg.max() > 20 * indeg.mean()  # creators: heavy tail
    assert network.in_degree(r).max() < 4 * network.in_degree(r).mean()
    sample = np.random.default_rng(0).choice(n, 300, replace=False)
    cg = nx.average_clustering(nx.from_scipy_sparse_array(g, create_using=nx.DiGraph).to_undirected(), nodes=sample.tolist())
    cr = nx.average_clustering(nx.from_scipy_sparse_array(r, create_using=nx.DiGraph).to_undirected(), nodes=sample.tolist())
    assert cg > 5 * cr


def test_a_users_follows_do_not_depend_on_anyone_elses():
    """Follow f of user i is drawn from its own key (i, f): giving other users more or fewer follows leaves
    user i's targets unchanged (so rows can be built in any order, in parallel or in pieces)."""
    n = 5_000
    cum = np.cumsum(np.random.default_rng(0).pareto(1.1, n) + 1.0)
    bounds = (np.arange(n // 150 + 1, dtype=np.int64) * n + n // 150 - 1) // (n // 150)
    alias = network.alias_table(np.diff(cum, prepend=0.0))
    key = (np.uint32(7), np.uint32(11), np.uint32(0))

    def targets(out_degree):
        offsets = np.concatenate(([0], np.cumsum(out_degree)))
        dst = np.empty(offsets[-1], np.int32)
        network._draw_follows(*key, offsets, network.COMMUNITIES, 0.7, cum, bounds, alias, dst)
        return [dst[offsets[i] : offsets[i + 1]] for i in range(n)]

    degree = np.random.default_rng(1).poisson(20, n)
    other = degree.copy()
    other[::2] += 5  # every other user follows more accounts
    a, b = targets(degree), targets(other)
    for i in range(n):
        assert np.array_equal(a[i], b[i][: degree[i]])  # the same follows; users given more have them first


def test_alias_table_draws_in_proportion_to_weight():
    weights = np.array([1.0, 0.0, 3.0, 6.0, 0.5])
    table = network.alias_table(weights)
    prob, alias = table[:, 0], table[:, 1].astype(np.int64)
    # each slot j is chosen with probability 1/n, then j itself with prob[j], else alias[j]
    share = np.zeros(weights.size)
    for j in range(weights.size):
        share[j] += prob[j] / weights.size
        share[alias[j]] += (1.0 - prob[j]) / weights.size
    np.testing.assert_allclose(share, weights / weights.sum(), atol=1e-12)


def test_communities_are_contiguous_blocks_holding_the_within_share_of_follows():
    n, size = 30_000, 150
    g = network.follow_graph(n, 20, np.random.default_rng(2), community_size=size, within_share=0.7).tocoo()
    n_comm = n // size
    same = (g.row * n_comm // n) == (g.col * n_comm // n)
    # 70 % of draws stay inside; repeated draws of a community's popular members are merged, so
    # slightly fewer distinct follows do, and 0.5 % of outside draws land inside by chance.
    assert 0.55 < same.mean() < 0.72
    none = network.follow_graph(n, 20, np.random.default_rng(2), community_size=size, within_share=0.0).tocoo()
    assert ((none.row * n_comm // n) == (none.col * n_comm // n)).mean() < 0.02


def test_graph_and_exposure_are_the_same_to_the_bit_on_one_and_on_several_threads():
    """The graph build and the exposure's loop over rows run in parallel: the same graph and float32 sums,
    equal to scipy's product, on one thread and on several."""
    import numba

    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    if threads < 2:
        pytest.skip("numba has a single thread here")
    before = numba.get_num_threads()
    signal = np.random.default_rng(5).random(20_000).astype(np.float32)
    results = []
    try:
        for t in (1, threads):
            numba.set_num_threads(t)
            g = network.follow_graph(20_000, 20, np.random.default_rng(4))
            results.append((g, network.exposure(g, signal)))
    finally:
        numba.set_num_threads(before)
    (g1, e1), (g2, e2) = results
    assert np.array_equal(g1.indptr, g2.indptr) and np.array_equal(g1.indices, g2.indices)
    assert e1.dtype == e2.dtype == np.float32 and np.array_equal(e1, e2)
    degree = network.out_degree(g1)
    assert np.array_equal(e1, np.divide(g1 @ signal, degree, out=np.zeros_like(e1), where=degree > 0))


@pytest.mark.parametrize("n", [1, 2, 101])
def test_exposure_equals_scipys_float32_mean_with_empty_first_middle_and_last_rows_and_a_long_row(n: int):
    """The compiled loop gives exactly scipy's ``graph @ signal / out_degree`` in float32 on one and on two
    threads, with rows that follow nobody (first, in the middle, last) and a row that follows everyone."""
    import numba
    import scipy.sparse as sp

    rng = np.random.default_rng(n)
    dense = (rng.random((n, n)) < 0.3).astype(np.float32)
    dense[[i for i in (0, 3, 4, n - 1) if i < n]] = 0
    if n > 10:
        dense[7, :] = 1.0
    graph = sp.csr_matrix(dense)
    signal = rng.random(n).astype(np.float32)
    degree = network.out_degree(graph)
    expected = np.divide(graph @ signal, degree, out=np.zeros(n, np.float32), where=degree > 0)
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            assert np.array_equal(network.exposure(graph, signal), expected)
    finally:
        numba.set_num_threads(before)


def test_complete_graph_and_its_size_limit():
    g = network.follow_graph(50, 0, np.random.default_rng(0), kind="complete")
    assert g.nnz == 50 * 49
    with pytest.raises(ValueError, match="complete"):
        network.follow_graph(network.MAX_COMPLETE_NODES + 1, 0, np.random.default_rng(0), kind="complete")
