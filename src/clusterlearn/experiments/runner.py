"""Running an experiment: the sweep driver and the function every worker runs.

:func:`run_experiment` builds the design, records it in the folder's store, works out which
runs are not stored yet, sends them to an executor and commits finished runs as they arrive.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from clusterlearn.experiments.design import build_design, point_params, run_seed
from clusterlearn.experiments.executors import make_executor
from clusterlearn.experiments.results import ExperimentResults, open_results
from clusterlearn.experiments.spec import Experiment
from clusterlearn.experiments.store import RunRecord, Store

# Finished runs are committed when this many are waiting or when FLUSH_SECONDS have passed
# since the last commit -- or COMMIT_SHARE times the last commit's duration if longer (a slow
# disk), which keeps the store's overhead to about 2% of the sweep's time.
FLUSH_RUNS = 256
FLUSH_SECONDS = 1.0
COMMIT_SHARE = 50


def run_chunk(payload: dict[str, Any]) -> list[RunRecord]:
    """Run a chunk of runs in a worker; a run that raises becomes a failed record."""
    from clusterlearn import __version__
    from clusterlearn.model.kernel import set_threads

    set_threads(1)  # in a sweep the run is the unit of parallelism: one core per worker
    worker = f"{socket.gethostname()}:{os.getpid()}"
    model = payload.get("model")
    base = None
    out = []
    for point, rep, params in payload["runs"]:
        started = time.time()
        t0 = time.perf_counter()
        rng = run_seed(payload["seed"], point, rep)
        try:
            if model is not None:
                tables = {"final": pd.DataFrame([model(params, rng)])}
            else:
                if base is None:
                    from clusterlearn.scenario import Scenario

                    base = Scenario.from_dict(payload["scenario"])
                tables = _simulate(base, params, payload["steps"], rng, payload["outcomes"])
            rec = RunRecord(point, rep, True, tables=tables)
        except Exception as exc:  # recorded, never raised: one bad run must not stop a sweep
            rec = RunRecord(
                point,
                rep,
                False,
                error=f"{type(exc).__name__}: {exc}",
                traceback=traceback.format_exc(limit=20),
            )
        rec.worker, rec.started, rec.version = worker, started, __version__
        rec.seconds = time.perf_counter() - t0
        out.append(rec)
    return out


def _simulate(
    base: Any, params: dict[str, Any], steps: int, rng: Any, keep: dict[str, bool]
) -> dict[str, pd.DataFrame]:
    from clusterlearn.compare import final_outcomes
    from clusterlearn.simulate import simulate

    scenario = base.with_overrides(params)
    result = simulate(scenario, steps=steps, rng=rng)
    tables = {}
    if keep.get("final", True):
        tables["final"] = pd.DataFrame([final_outcomes(result)])
    if keep.get("series"):
        flows = result.flows.rename(columns=lambda c: c if c == "step" else f"flow_{c}")
        tables["series"] = result.metrics.merge(flows, on="step", how="left")
    if keep.get("firms"):
        tables["firms"] = result.firms
    return tables


def run_experiment(
    experiment: Experiment | str | Path,
    out_dir: str | Path,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    chunk_size: int | None = None,
    on_commit: Callable[[int, int], None] | None = None,
) -> ExperimentResults:
    """Run every run of ``experiment`` not yet stored in ``out_dir``; return its results.

    Rerunning with the same folder resumes: stored runs are kept and not recomputed, failed
    runs are left alone unless ``retry_failed``. A run that raises is stored as failed with
    its error; the others go on.

    Parameters
    ----------
    experiment : Experiment or path
        The experiment, or the path of its TOML file.
    out_dir : path
        The experiment folder (catalogue and outcome files; created when missing).
    backend : {"local", "dask", "dask-local"}
        Local processes, a Dask scheduler at ``address``, or a ``distributed.LocalCluster``.
    workers : int, optional
        Worker processes (local and dask-local; default: the number of cores).
    address : str, optional
        ``tcp://HOST:PORT`` of the Dask scheduler (``backend="dask"``).
    retry_failed : bool
        Run again the runs stored as failed.
    progress : bool
        Show a progress bar (runs done, failed, time left) on stderr.
    chunk_size : int, optional
        Runs per task sent to a worker; default 1 for simulations and larger for function
        models (whose runs take microseconds).
    on_commit : callable, optional
        Called with ``(done, failed)`` counts after each commit to the store.

    Returns
    -------
    ExperimentResults
        The stored results (:func:`clusterlearn.experiments.open` of ``out_dir``).

    Examples
    --------
    >>> from clusterlearn.experiments import Experiment, run_experiment
    >>> exp = Experiment(factors={"trust.initial": [0.3, 0.7]}, steps=3, seed=1,
    ...                  scenario=Scenario().with_overrides({"firms.n": 40}))  # doctest: +SKIP
    >>> res = run_experiment(exp, "results/trust", workers=2)  # doctest: +SKIP
    >>> res.final[["point", "trust.initial", "mean_capability"]]  # doctest: +SKIP
    """
    if not isinstance(experiment, Experiment):
        experiment = Experiment.from_toml(experiment)
    exp = experiment
    design = build_design(exp)
    params = point_params(exp, design)
    store = Store(out_dir)
    try:
        store.prepare(exp, design, params)
        status = store.status()
        todo = [
            (p, r, params[p])
            for p in range(exp.n_points)
            for r in range(exp.replications)
            if status.get((p, r)) != "done" and (retry_failed or status.get((p, r)) != "failed")
        ]
        done0 = sum(1 for s in status.values() if s == "done")
        failed0 = sum(1 for s in status.values() if s == "failed") if not retry_failed else 0
        if todo:
            _sweep(exp, store, todo, backend, workers, address, progress, chunk_size,
                   done0, failed0, on_commit)  # fmt: skip
        store.finish()
    finally:
        store.close()
    res = open_results(out_dir)
    res.write_seconds = store.write_seconds
    res.ran = len(todo)
    return res


def _sweep(
    exp: Experiment,
    store: Store,
    todo: list[tuple[int, int, dict[str, Any]]],
    backend: str,
    workers: int | None,
    address: str | None,
    progress: bool,
    chunk_size: int | None,
    done0: int,
    failed0: int,
    on_commit: Callable[[int, int], None] | None,
) -> None:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    size = chunk_size or (1 if exp.model is None else 64)
    base = {
        "seed": exp.seed,
        "steps": exp.run_steps,
        "outcomes": exp.outcomes.model_dump(),
        "model": exp.model,
        "scenario": exp.scenario.to_dict() if exp.model is None else None,
    }
    payloads = [base | {"runs": todo[k : k + size]} for k in range(0, len(todo), size)]
    done, failed = done0, failed0
    buffer: list[RunRecord] = []
    last = time.monotonic()

    def flush() -> None:
        nonlocal last
        store.commit(buffer, exp.seed)
        buffer.clear()
        last = time.monotonic()
        if on_commit is not None:
            on_commit(done, failed)

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs  [red]{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not progress,
        transient=False,
    )
    with bar, make_executor(backend, workers, address) as ex:
        task = bar.add_task(exp.name, total=exp.n_runs, completed=done0 + failed0, failed=failed0)
        try:
            while payloads:
                lost = []
                for i, value, error in ex.map_unordered(run_chunk, payloads):
                    if error is not None and len(payloads[i]["runs"]) > 1:
                        # split a lost chunk: only the run that kills its worker should fail
                        lost += [payloads[i] | {"runs": [run]} for run in payloads[i]["runs"]]
                        continue
                    if error is not None:
                        value = [
                            RunRecord(p, r, False, error=f"lost: {error}")
                            for p, r, _ in payloads[i]["runs"]
                        ]
                    for rec in value:
                        buffer.append(rec)
                        done += rec.ok
                        failed += not rec.ok
                    bar.update(task, completed=done + failed, failed=failed)
                    every = max(FLUSH_SECONDS, COMMIT_SHARE * store.last_commit_seconds)
                    if len(buffer) >= FLUSH_RUNS or time.monotonic() - last >= every:
                        flush()
                payloads = lost
        finally:
            # Keep what finished, also on Ctrl-C: a rerun resumes from here.
            flush()
