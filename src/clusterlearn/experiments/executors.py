"""Where runs execute: local processes (default) or a Dask distributed cluster.

An executor takes a function and a list of payloads and yields ``(index, value, error)`` as
payloads finish, in any order. Exceptions raised by the function itself are the caller's
business (the run function catches its own errors); an executor only reports infrastructure
failures -- a worker process that died too often -- as ``error``. A worker that dies has its
unfinished payloads rescheduled on the others.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from clusterlearn.errors import ClusterlearnError

BACKENDS = ("local", "dask", "dask-local")

# A payload that killed its worker process this many times (running alone) is given up.
MAX_DEATHS = 2


class Executor(ABC):
    """Runs payloads through a function, yielding results as they finish."""

    workers: int

    @abstractmethod
    def map_unordered(
        self, fn: Callable[[Any], Any], payloads: Sequence[Any]
    ) -> Iterator[tuple[int, Any, str | None]]:
        """Yield ``(index, fn(payloads[index]), None)`` or ``(index, None, error)``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release workers and connections."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalExecutor(Executor):
    """Worker processes on this machine (``concurrent.futures``).

    Parameters
    ----------
    workers : int, optional
        Processes; defaults to the number of cores. Workers start from a fork server, so a
        threaded parent (progress bar, Dask client) is safe to fork from.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = int(workers or os.cpu_count() or 1)
        if self.workers < 1:
            raise ClusterlearnError(f"--workers: expected a whole number >= 1, got {workers}")
        self._ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has already imported the model: no import per worker.
        self._ctx.set_forkserver_preload(["clusterlearn.experiments.runner"])
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._ctx)
        return self._pool

    def map_unordered(
        self, fn: Callable[[Any], Any], payloads: Sequence[Any]
    ) -> Iterator[tuple[int, Any, str | None]]:
        todo = list(range(len(payloads)))[::-1]  # a stack: pop() takes the lowest index
        # Payloads in flight when a worker died are suspects: they run again one at a time,
        # so a payload that kills its worker on its own is known, and the others are cleared.
        suspects: list[int] = []
        deaths = dict.fromkeys(todo, 0)
        window = 4 * self.workers  # bounded in-flight work keeps memory flat
        pool = self._pool or self._new_pool()
        running: dict[Future[Any], int] = {}
        while todo or suspects or running:
            if suspects:
                if not running:
                    i = suspects.pop(0)
                    running[pool.submit(fn, payloads[i])] = i
            else:
                while todo and len(running) < window:
                    i = todo.pop()
                    running[pool.submit(fn, payloads[i])] = i
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                try:
                    value = fut.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                yield running.pop(fut), value, None
            if not broken:
                continue
            # A dead worker breaks the whole pool: requeue what was in flight on a new one.
            alone = len(running) == 1
            for i in running.values():
                if alone:
                    deaths[i] += 1
                if deaths[i] >= MAX_DEATHS:
                    yield i, None, f"worker process died {deaths[i]} times running this"
                else:
                    suspects.append(i)
            running.clear()
            pool = self._new_pool()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """A Dask distributed cluster: an existing scheduler, or a ``LocalCluster`` started here.

    Parameters
    ----------
    address : str, optional
        ``tcp://HOST:PORT`` of a running scheduler; without it a ``distributed.LocalCluster``
        with ``workers`` single-threaded worker processes is started (``dask-local``).
    workers : int, optional
        Workers of the local cluster (defaults to the number of cores).
    """

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        from distributed import Client, LocalCluster

        self._cluster = None
        try:
            if address is None:
                self._cluster = LocalCluster(
                    n_workers=int(workers or os.cpu_count() or 1),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                self._client = Client(self._cluster)
            else:
                self._client = Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise ClusterlearnError(
                f"--address: cannot reach a Dask scheduler at {address} ({exc}); start one with "
                f"`dask scheduler` and give its tcp://HOST:PORT"
            ) from None
        info = self._client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))

    def map_unordered(
        self, fn: Callable[[Any], Any], payloads: Sequence[Any]
    ) -> Iterator[tuple[int, Any, str | None]]:
        from distributed import as_completed

        todo = list(range(len(payloads)))[::-1]
        window = 4 * max(self.workers, 1)
        index: dict[Any, int] = {}
        ac = as_completed()

        def submit() -> None:
            i = todo.pop()
            # pure=False: a run has no shared cache; the scheduler reschedules it when its
            # worker dies (up to distributed.scheduler.allowed-failures times).
            fut = self._client.submit(fn, payloads[i], pure=False)
            index[fut.key] = i
            ac.add(fut)

        while todo and ac.count() < window:
            submit()
        for fut in ac:
            i = index.pop(fut.key)
            try:
                value = fut.result()
            except Exception as exc:  # KilledWorker, lost scheduler ...
                yield i, None, f"{type(exc).__name__}: {exc}"
            else:
                yield i, value, None
            finally:
                fut.release()
            while todo and ac.count() < window:
                submit()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(
    backend: str = "local", workers: int | None = None, address: str | None = None
) -> Executor:
    """The executor of a backend name: ``local``, ``dask`` (needs ``address``) or ``dask-local``."""
    if backend not in BACKENDS:
        raise ClusterlearnError(
            f"--backend: expected one of {', '.join(BACKENDS)}, got {backend!r}"
        )
    if workers is not None and workers < 1:
        raise ClusterlearnError(f"--workers: expected a whole number >= 1, got {workers}")
    if backend == "local":
        if address:
            raise ClusterlearnError("--address goes with --backend dask, not with local")
        return LocalExecutor(workers)
    if backend == "dask":
        if not address:
            raise ClusterlearnError("--backend dask needs --address tcp://HOST:PORT")
        return DaskExecutor(address=address)
    return DaskExecutor(address=None, workers=workers)
