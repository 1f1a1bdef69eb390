"""Where independent jobs (runs, design points, trials) are computed.

Three back ends with one interface, ``Executor.map(fn, jobs)`` (results in job order, with an optional
callback as each finishes):
  - serial: in this process (one worker);
  - local processes (default): a ``ProcessPoolExecutor`` with the "spawn" start method;
  - Dask distributed: a ``LocalCluster`` of N worker processes (``--workers N``), or an existing
    cluster (``--scheduler tcp://HOST:PORT``); the ``sim`` package must be importable on the workers.
A job's result depends only on the job (seeds are part of it), so every back end gives identical numbers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any


class Executor:
    def __init__(self, processes: int = 1, dask_workers: int | None = None, scheduler: str | None = None) -> None:
        self.processes = max(1, processes)
        self.dask_workers, self.scheduler = dask_workers, scheduler
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None
        self._cluster: Any = None

    @property
    def kind(self) -> str:
        if self.scheduler:
            return f"dask cluster at {self.scheduler}"
        if self.dask_workers:
            return f"local dask cluster of {self.dask_workers} workers"
        return "serial" if self.processes == 1 else f"{self.processes} local processes"

    @property
    def parallelism(self) -> int:
        """How many jobs can run at once (batch size for sequential searches such as optuna's)."""
        if self.scheduler:
            workers = self._dask().scheduler_info().get("workers", {}).values()
            return max(1, sum(w.get("nthreads", 1) for w in workers))
        return self.dask_workers or self.processes

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(
        self, fn: Callable[[Any], Any], jobs: Iterable[Any], on_result: Callable[[int, Any], None] | None = None
    ) -> list[Any]:
        """Results of ``fn(job)`` in job order; ``on_result(index, result)`` as each finishes."""
        jobs = list(jobs)
        results: list[Any] = [None] * len(jobs)
        if not jobs:
            return results
        if self.scheduler or self.dask_workers:
            from distributed import as_completed as dask_completed

            client = self._dask()
            futures = client.map(fn, jobs, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            for future in dask_completed(futures):
                i = index[future.key]
                results[i] = future.result()
                if on_result:
                    on_result(i, results[i])
            return results
        if self.processes == 1 or len(jobs) == 1:
            for i, job in enumerate(jobs):
                results[i] = fn(job)
                if on_result:
                    on_result(i, results[i])
            return results
        pool = self._processes()
        futures = {pool.submit(fn, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if on_result:
                on_result(i, results[i])
        return results

    def _processes(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def _dask(self):
        if self._client is None:
            from distributed import Client, LocalCluster

            if self.scheduler:
                self._client = Client(self.scheduler, timeout="20s")
            else:
                self._cluster = LocalCluster(n_workers=self.dask_workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, host="127.0.0.1")  # fmt: skip
                self._client = Client(self._cluster)
        return self._client

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def cpu_count() -> int:
    return os.cpu_count() or 1


def executor_for(jobs: int, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor the command line asks for: ``--scheduler`` > ``--workers`` (local Dask cluster) >
    local processes (one per CPU, at most one per job)."""
    if scheduler:
        return Executor(scheduler=scheduler)
    if workers:
        return Executor(dask_workers=workers)
    return Executor(processes=max(1, min(jobs, cpu_count())))
