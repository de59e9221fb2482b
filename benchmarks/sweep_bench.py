"""Sweep throughput: runs per second of a sweep of the default scenario on 1 and 2 local
worker processes and on ``dask-local``, and the results store's overhead per run.

Called by ``benchmarks/run.py`` (``make bench``) through :func:`run`; also runnable alone::

    .venv/bin/python benchmarks/sweep_bench.py [--quick]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from clusterlearn import Scenario
from clusterlearn.experiments import Experiment, run_experiment

FULL_RUNS = 200
QUICK_RUNS = 24

CONFIGS = [("local", 1), ("local", 2), ("dask-local", 2)]


def _experiment(runs: int) -> Experiment:
    # The default scenario, `runs` times with distinct streams: one design point (the
    # default trust level) and `runs` replications.
    default = Scenario()
    return Experiment(
        name="bench-sweep",
        scenario=default,
        factors={"trust.initial": [default.trust.initial]},
        replications=runs,
        seed=12345,
    )


def measure(runs: int, backend: str, workers: int) -> dict[str, float]:
    """One sweep into a fresh folder; wall time, runs/s and store overhead per run."""
    exp = _experiment(runs)
    with tempfile.TemporaryDirectory(prefix="clusterlearn-sweep-bench-") as tmp:
        t0 = time.perf_counter()
        res = run_experiment(exp, Path(tmp) / "out", backend=backend, workers=workers,
                             progress=False)  # fmt: skip
        wall = time.perf_counter() - t0
        done = res.counts["done"]
        run_seconds = float(res.runs["seconds"].mean())
        store = res.write_seconds
    return {
        "runs": float(done),
        "wall": wall,
        "runs_per_s": done / wall,
        "run_seconds": run_seconds,
        "store_ms_per_run": 1000.0 * store / max(done, 1),
    }


def run(quick: bool) -> str:
    """The markdown section of the sweep benchmark (``quick``: fewer runs)."""
    runs = QUICK_RUNS if quick else FULL_RUNS
    d = Scenario()
    rows = []
    for backend, workers in CONFIGS:
        m = measure(runs, backend, workers)
        rows.append((backend, workers, m))
    base = rows[0][2]["runs_per_s"]
    lines = [
        "## Sweeps",
        "",
        f"A sweep of {runs} runs of the default scenario ({d.firms.n} firms, {d.steps} steps; "
        f"one design point, {runs} replications) into a fresh results folder, "
        f"{os.cpu_count()} cores (load average at start "
        f"{os.getloadavg()[0]:.1f}). Wall time includes starting the workers.",
        "",
        "| backend | workers | runs | wall (s) | runs/s | speed-up | s per run (in worker) "
        "| store overhead per run (ms) | store share of a run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, workers, m in rows:
        # A configuration that stored no run has no rate: show n/a, do not divide by zero.
        share = m["store_ms_per_run"] / 1000.0 / m["run_seconds"] if m["run_seconds"] else 0.0
        speed = f"{m['runs_per_s'] / base:.2f}" if base else "n/a"
        lines.append(
            f"| {backend} | {workers} | {m['runs']:.0f} | {m['wall']:.1f} | "
            f"{m['runs_per_s']:.2f} | {speed} | {m['run_seconds']:.3f} | "
            f"{m['store_ms_per_run']:.2f} | {100 * share:.2f}% |"
        )
    lines += [
        "",
        "The store's overhead is the time the sweep driver spends writing Parquet parts "
        "(temporary file, fsync, rename) and committing catalogue rows, per stored run.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run("--quick" in sys.argv[1:]))
