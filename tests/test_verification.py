"""Verification against known limits, conservation and determinism."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sim.cli import main
from sim.cn_users import CHUNK
from sim.model import THREADS_MIN_AGENTS, MigrationModel
from sim.us_users import STATE_NAMES
from tests.conftest import SCENARIOS, small

SOCIAL_ONLY = {
    "spontaneous_joining": False,
    "news_salience": False,
    "lapse": False,
    "dormant_return": False,
    "moderation": False,
    "chinese_reactions": False,
    "outside_option": False,
    "social_contagion": True,
}


def test_social_contagion_on_a_complete_graph_follows_the_bass_curve():
    """Only the social term, complete graph, exposure that never fades: the adopter share F follows the
    discrete Bass recursion F' = F + (1 - F)(1 - exp(-q F)) from the initial adopters."""
    q, n_us, days = 0.5, 2000, 40
    s = small(
        "no_ban",
        agents=4000,
        days=days,
        population={"us_agent_share": 0.5, "us_rednote_accounts": 0.02 * 170e6, "us_rednote_dau": 0.02 * 170e6},
        network={"kind": "complete"},
        mechanisms=SOCIAL_ONLY,
        us_users={"peer_influence": q, "exposure_memory_days": None},
    )
    curves = []
    for run in range(8):
        m = MigrationModel(s, run=run)
        # the initial account holders count as adopters who already "joined" (signal 1)
        m.us.join_signal[:] = (m.us.state != 0).astype(np.float32)
        shares = []
        for _ in range(days):
            m.step()
            shares.append(np.mean(m.us.state != 0))
        curves.append(shares)
    model = np.mean(curves, axis=0)
    f, bass = 0.02, []
    for _ in range(days):
        f = f + (1 - f) * (1 - math.exp(-q * f * n_us / (n_us - 1)))
        bass.append(f)
    assert np.max(np.abs(model - np.array(bass))) < 0.03
    assert model[-1] > 0.95 and model[5] < 0.2  # the S-shape, not a straight line


@pytest.mark.parametrize("name", ["historical_2025", "strict_real_name", "permanent_ban"])
def test_agents_are_conserved_across_states_every_day(name):
    s = small(name, agents=8000, days=60)
    m = MigrationModel(s)
    banned_before = 0
    for _ in range(s.days):
        m.step()
        counts = m.us.counts()
        assert counts.sum() == m.n_us and len(counts) == len(STATE_NAMES)
        assert counts[3] >= banned_before  # banned is absorbing
        banned_before = counts[3]
        mix = m.metrics["us_mix_tiktok_only"] + m.metrics["us_mix_both"] + m.metrics["us_mix_rednote_only"]
        assert mix <= m.n_us * m.us_weight + 1e-6
        assert m.metrics["us_rednote_dau"] == pytest.approx(m.metrics["us_mix_both"] + m.metrics["us_mix_rednote_only"])


def test_counts_are_in_people_and_do_not_depend_on_agent_numbers():
    """The same scenario at 20k and 40k agents gives the same population-scale DAU (within noise)."""
    a = MigrationModel(small(agents=20_000, days=16))  # before TikTok's outage and the rush back to it
    b = MigrationModel(small(agents=40_000, days=16))
    a.run(), b.run()
    assert a.metrics["us_tiktok_dau"] == pytest.approx(b.metrics["us_tiktok_dau"], rel=0.03)
    assert a.metrics["us_tiktok_dau"] == pytest.approx(0.49 * 170e6, rel=0.05)
    assert a.datacollector.model_vars["us_rednote_dau"][0] == pytest.approx(a.config.population.us_rednote_dau, rel=0.25)


def read(path):
    return path.read_text()


def test_same_seed_gives_identical_timeseries_and_other_seed_differs(tmp_path, capsys):
    args = [str(SCENARIOS / "historical_2025.yaml"), "--agents", "6000", "--days", "30", "--runs", "1", "--quiet"]
    for out in ("a", "b"):
        assert main([*args, "--out", str(tmp_path / out)]) == 0
    assert main([*args, "--seed", "99", "--out", str(tmp_path / "c")]) == 0
    a, b, c = (read(tmp_path / x / "timeseries.csv") for x in "abc")
    assert a == b and a != c


def test_a_run_is_the_same_to_the_bit_on_one_and_on_two_kernel_threads():
    """Every compiled daily pass splits users across threads; large enough for two chunks of Chinese users."""
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here")
    before, runs = numba.get_num_threads(), []
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            model = MigrationModel(small(agents=340_000, days=15))
            model.run()
            runs.append(model)
    finally:
        numba.set_num_threads(before)
    one, two = runs
    assert (one.threads, two.threads) == (1, 2) and one.cn.n > 2 * CHUNK  # three chunks of rows
    assert one.datacollector.get_model_vars_dataframe().equals(two.datacollector.get_model_vars_dataframe())
    assert json.dumps(one.run_metrics()) == json.dumps(two.run_metrics())
    for a, b in ((one.us.state, two.us.state), (one.cn.attitude, two.cn.attitude), (one.us.join_signal, two.us.join_signal)):
        assert np.array_equal(a, b)


def test_small_runs_keep_their_kernels_on_one_thread_and_leave_the_callers_setting_alone():
    import numba

    before = numba.get_num_threads()
    small_model = MigrationModel(small(agents=5000, days=3))
    small_model.run()
    assert small_model.threads == 1 and numba.get_num_threads() == before
    assert MigrationModel(small(agents=THREADS_MIN_AGENTS, days=3)).threads == before


def kernel_threads_of_a_job(job: int) -> int:
    import numba

    return numba.get_num_threads()


def test_worker_processes_run_kernels_on_one_thread_and_a_serial_run_on_the_callers():
    import numba

    from sim.executor import Executor

    with Executor(processes=2) as ex:
        assert ex.map(kernel_threads_of_a_job, range(4)) == [1, 1, 1, 1]
    with Executor(processes=1) as ex:
        assert ex.map(kernel_threads_of_a_job, range(2)) == [numba.get_num_threads()] * 2


def test_serial_processes_and_dask_give_identical_runs():
    from sim.ensemble import run_ensemble
    from sim.executor import Executor

    s = small(agents=5000, days=25)
    outputs = []
    for ex in (Executor(processes=1), Executor(processes=2), Executor(dask_workers=2)):
        with ex:
            outputs.append(run_ensemble(s, 3, ex))
    for runs in outputs[1:]:
        for a, b in zip(outputs[0], runs):
            assert a.run == b.run and json.dumps(a.metrics) == json.dumps(b.metrics)  # NaN-safe
            assert all((a.series[k] == b.series[k]).all() for k in a.series)


def test_parallel_command_equals_serial_files(tmp_path):
    args = [str(SCENARIOS / "historical_2025.yaml"), "--agents", "5000", "--days", "25", "--runs", "3", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "processes")]) == 0  # default: local processes
    assert main([*args, "--workers", "2", "--out", str(tmp_path / "dask")]) == 0  # a local Dask cluster
    assert read(tmp_path / "processes" / "timeseries.csv") == read(tmp_path / "dask" / "timeseries.csv")
    assert read(tmp_path / "processes" / "summary.json") == read(tmp_path / "dask" / "summary.json")


def test_run_zero_of_an_ensemble_equals_the_single_run(tmp_path):
    args = [str(SCENARIOS / "no_ban.yaml"), "--agents", "3000", "--days", "15", "--quiet"]
    assert main([*args, "--runs", "1", "--out", str(tmp_path / "one")]) == 0
    assert main([*args, "--runs", "2", "--out", str(tmp_path / "two")]) == 0
    one = read(tmp_path / "one" / "timeseries.csv").splitlines()
    two = read(tmp_path / "two" / "timeseries.csv").splitlines()
    assert two[: len(one)] == one and len(two) == 2 * len(one) - 1


THRESHOLD_ONLY = {**SOCIAL_ONLY}


def cascade_size(mean_degree: float, run: int) -> float:
    """Final adopter share under pure fractional-threshold contagion (Watts 2002) on a random graph,
    from 0.2 % seed adopters."""
    s = small(
        "no_ban", agents=20_000, days=60,
        population={"us_agent_share": 0.5, "us_rednote_accounts": 0.002 * 170e6, "us_rednote_dau": 0.002 * 170e6},
        network={"kind": "random", "us_mean_following": mean_degree}, mechanisms=THRESHOLD_ONLY,
        us_users={"contagion": "threshold", "threshold_mean": 0.18, "threshold_sd": 0.0, "exposure_memory_days": None},
    )  # fmt: skip
    m = MigrationModel(s, run=run)
    m.us.join_signal[:] = (m.us.state != 0).astype(np.float32)
    m.run()
    return float(np.mean(m.us.state != 0))


def test_threshold_contagion_shows_a_cascade_window():
    """Global cascades happen only for intermediate mean degree: too sparse and the graph does not
    percolate; too dense and one adopting followee is below everyone's threshold."""
    sparse = [cascade_size(0.7, r) for r in range(3)]
    middle = [cascade_size(3.0, r) for r in range(3)]
    dense = [cascade_size(20.0, r) for r in range(3)]
    assert max(sparse) < 0.1
    assert min(middle) > 0.5
    assert max(dense) < 0.1


def relabel(model: MigrationModel, rng: np.random.Generator) -> None:
    """Give every user a new row number (a random permutation), graphs included."""
    perms = {"us": rng.permutation(model.n_us), "cn": rng.permutation(model.n_cn)}
    for name, perm in perms.items():
        pop = getattr(model, name)
        for attr, value in list(vars(pop).items()):
            if isinstance(value, np.ndarray) and value.shape[:1] == (pop.n,):
                setattr(pop, attr, value[perm])
        pop.follows = pop.follows[perm][:, perm].tocsr()
    for attr, value in list(vars(model.regulator).items()):  # the regulator's per-account records
        if isinstance(value, np.ndarray) and value.shape[:1] == (model.n_us,):
            setattr(model.regulator, attr, value[perms["us"]])


def test_relabelling_agents_does_not_change_outcome_distributions():
    from scipy.stats import ks_2samp

    s = small(agents=10_000, days=50)
    plain, relabelled = [], []
    for run in range(12):
        m = MigrationModel(s, run=run)
        m.run()
        plain.append(m.us.cumulative_signups)
        r = MigrationModel(s, run=run)
        relabel(r, np.random.default_rng(run))
        r.run()
        relabelled.append(r.us.cumulative_signups)
    assert plain != relabelled  # the relabelling really changed which draws each user gets
    se = np.sqrt(np.var(plain, ddof=1) / 12 + np.var(relabelled, ddof=1) / 12)
    assert abs(np.mean(plain) - np.mean(relabelled)) < 4 * se
    assert ks_2samp(plain, relabelled).pvalue > 0.01


def test_stage_timings_cover_every_stage_and_add_up_to_the_run():
    import time

    m = MigrationModel(small(agents=5000, days=20))
    started = time.perf_counter()
    m.run()
    wall = time.perf_counter() - started
    stages = {"build", "events", "regulator", "exposure", "us_decisions", "screening", "cn_decisions", "graph", "recording"}
    assert set(m.stage_seconds) == stages and all(v >= 0 for v in m.stage_seconds.values())
    stepped = sum(v for k, v in m.stage_seconds.items() if k != "build")
    assert 0.8 * wall <= stepped <= wall  # the stages account for (nearly) all of the stepping time


def test_a_finished_model_is_freed():
    """Ensembles and calibrations build hundreds of models in one worker; none may stay reachable
    (Mesa 3.3's Agent._ids held every model with an agent: ~40 MB per run until memory ran out)."""
    import gc
    import weakref

    m = MigrationModel(small(agents=2000, days=5))
    m.run()
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None


def test_blas_runs_on_one_thread_inside_a_model_and_as_before_outside(monkeypatch):
    """OpenBLAS's threads spin after a call and take a core from the compiled kernels' threads, and its
    threaded dot product adds in another order: while a model builds and steps, BLAS has one thread;
    after, the caller's setting is back."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from sim.us_users import UsUsers

    def blas_threads() -> set[int]:
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    if not blas_threads():
        pytest.skip("numpy uses no BLAS library threadpoolctl knows")
    seen, post = [], UsUsers._post
    monkeypatch.setattr(UsUsers, "_post", lambda self, day: seen.append(blas_threads()) or post(self, day))
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        MigrationModel(small(agents=5000, days=3)).run()
        assert blas_threads() == before
    assert len(seen) == 3 and all(threads == {1} for threads in seen)
