"""Where independent jobs (runs, design points, trials) are computed.

Three back ends with one interface, ``Executor.map(fn, jobs)`` (results in job order, with an optional
callback as each finishes):
  - serial: in this process (one worker);
  - local processes (default): a ``ProcessPoolExecutor`` with the "spawn" start method;
  - Dask distributed: a ``LocalCluster`` of N worker processes (``--workers N``), or an existing
    cluster (``--scheduler tcp://HOST:PORT``); the ``sim`` package must be importable on the workers.
A job's result depends only on the job (seeds are part of it), so every back end gives identical numbers.
Jobs in worker processes run their compiled kernels on one thread (the workers already share the cores);
a serial run uses every core in its kernels. Kernels give the same numbers on any number of threads.

Local worker processes watch their parent and exit within a second of its death (even by SIGKILL), so
neither they nor multiprocessing's resource tracker (which exits when they do) outlive it.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

SCHEDULER_TIMEOUT = 5
"""Seconds to wait for a Dask scheduler to answer before giving up (`Executor.connect`)."""


class SchedulerUnreachable(Exception):
    """The Dask scheduler did not answer within `SCHEDULER_TIMEOUT` seconds."""


def _watch_parent(parent: int) -> None:
    """Initializer of local worker processes: exit as soon as the parent process is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _on_one_thread(fn: Callable[[Any], Any], job: Any) -> Any:
    """``fn(job)`` in a worker, its compiled kernels on one thread: as many workers as cores already share them
    (numba's setting is per calling thread, so this also holds for a Dask worker's task threads)."""
    import numba

    numba.set_num_threads(1)
    return fn(job)


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
            futures = client.map(functools.partial(_on_one_thread, fn), jobs, pure=False)
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
        futures = {pool.submit(_on_one_thread, fn, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if on_result:
                on_result(i, results[i])
        return results

    def _processes(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_watch_parent,
                initargs=(os.getpid(),),
            )
        return self._pool

    def connect(self) -> None:
        """Reach the Dask scheduler now (`SchedulerUnreachable` after `SCHEDULER_TIMEOUT` s), so a
        cluster that does not answer is reported before any work."""
        if self.scheduler:
            try:
                self._dask()
            except Exception as exc:  # noqa: BLE001 - timeouts, refusals and whatever a non-Dask server answers
                self._client = None
                raise SchedulerUnreachable(
                    f"no Dask scheduler answered at {self.scheduler} within {SCHEDULER_TIMEOUT} s ({type(exc).__name__})"
                ) from None

    def _dask(self):
        if self._client is None:
            from distributed import Client, LocalCluster

            if self.scheduler:
                self._client = Client(self.scheduler, timeout=f"{SCHEDULER_TIMEOUT}s")
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


def executor_for(jobs: int, workers: int | None = None, scheduler: str | None = None, serial: bool = False) -> Executor:
    """The executor the command line asks for: ``--serial`` (this process) > ``--scheduler`` >
    ``--workers`` (local Dask cluster) > local processes (one per CPU, at most one per job)."""
    if serial:
        return Executor(processes=1)
    if scheduler:
        return Executor(scheduler=scheduler)
    if workers:
        return Executor(dask_workers=workers)
    return Executor(processes=max(1, min(jobs, cpu_count())))


def job_key(fn: Callable[[Any], Any], job: Any) -> str:
    """A stable name for ``fn(job)``: the function, the job's content (scenarios by every parameter) and
    the package version; equal across processes and machines."""
    import hashlib
    import json

    from sim import __version__

    def canonical(x: Any) -> Any:
        if hasattr(x, "model_dump"):
            return {"__model__": type(x).__name__, **x.model_dump(mode="json")}
        if isinstance(x, dict):
            return [[canonical(k), canonical(v)] for k, v in sorted(x.items(), key=lambda kv: repr(kv[0]))]
        if isinstance(x, (list, tuple)):
            return [canonical(v) for v in x]
        if isinstance(x, float):
            return repr(x)
        return x

    text = json.dumps([fn.__module__, fn.__qualname__, __version__, canonical(job)], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class CachedExecutor:
    """An executor that saves each job's result in ``folder`` as it finishes and reuses saved results:
    a killed search (calibration) resumes by replaying the same jobs. Unreadable files are recomputed."""

    def __init__(self, inner: Executor, folder: Any) -> None:
        from pathlib import Path

        self.inner, self.folder = inner, Path(folder)
        self.reused = 0

    @property
    def kind(self) -> str:
        return self.inner.kind

    @property
    def parallelism(self) -> int:
        return self.inner.parallelism

    def __enter__(self) -> CachedExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()

    def close(self) -> None:
        self.inner.close()

    def map(
        self, fn: Callable[[Any], Any], jobs: Iterable[Any], on_result: Callable[[int, Any], None] | None = None
    ) -> list[Any]:
        import pickle

        from sim.staging import write_file

        jobs = list(jobs)
        keys = [job_key(fn, job) for job in jobs]
        results: list[Any] = [None] * len(jobs)
        todo = []
        for i, key in enumerate(keys):
            path = self.folder / f"{key}.pkl"
            try:
                results[i] = pickle.loads(path.read_bytes())  # noqa: S301 - files this command wrote
                self.reused += 1
                if on_result:
                    on_result(i, results[i])
            except FileNotFoundError:
                todo.append(i)
            except Exception:  # noqa: BLE001 - a truncated or corrupt file is recomputed
                path.unlink(missing_ok=True)
                todo.append(i)

        def finished(j: int, result: Any) -> None:
            i = todo[j]
            results[i] = result
            self.folder.mkdir(parents=True, exist_ok=True)
            write_file(self.folder / f"{keys[i]}.pkl", pickle.dumps(result))
            if on_result:
                on_result(i, result)

        if todo:
            self.inner.map(fn, [jobs[i] for i in todo], on_result=finished)
        return results
