"""Sweeps on a real Dask cluster: a ``dask scheduler`` and ``dask worker`` processes started
here on 127.0.0.1, and ``dask-local``. Same stored outcomes as local processes; a worker killed
mid-sweep does not lose or duplicate runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

import clusterlearn.experiments as cx
from clusterlearn import Scenario

BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("experiment-processes")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def dask_cluster(tmp: Path, workers: int = 2) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A scheduler and ``workers`` single-threaded workers (no nanny: a killed worker stays
    dead), all torn down afterwards."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp / "dask-logs"
    logs.mkdir(exist_ok=True)
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> subprocess.Popen:
        log = (logs / f"{name}.log").open("w")
        p = subprocess.Popen([str(BIN / "dask"), *args], stdout=log, stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port),
              "--no-dashboard")  # fmt: skip
        ws = [
            start(
                f"worker{k}",
                "worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--name",
                f"w{k}",
            )
            for k in range(workers)
        ]
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
            pids = set(client.run(os.getpid).values())
        assert pids == {w.pid for w in ws}  # the workers are these very processes
        yield address, ws
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def tiny() -> cx.Experiment:
    return cx.Experiment(
        name="tiny",
        scenario=Scenario.preset("baseline").with_overrides({"firms.n": 40}),
        factors={"trust.initial": [0.2, 0.8], "learning.alpha0": [0.4, 1.0]},
        replications=2,
        steps=6,
        seed=2024,
        outcomes={"final": True, "series": True},
    )


def test_dask_cluster_and_dask_local_match_local_processes(tmp_path: Path) -> None:
    exp = tiny()
    ref = cx.run_experiment(exp, tmp_path / "local", workers=1, progress=False)
    with dask_cluster(tmp_path) as (address, _):
        dk = cx.run_experiment(
            exp, tmp_path / "dask", backend="dask", address=address, progress=False
        )
    dl = cx.run_experiment(exp, tmp_path / "dask-local", backend="dask-local", workers=2,
                           progress=False)  # fmt: skip
    for other in (dk, dl):
        assert other.counts == ref.counts == {"done": 8, "failed": 0, "pending": 0, "total": 8}
        pd.testing.assert_frame_equal(other.final, ref.final, check_exact=True)
        pd.testing.assert_frame_equal(other.series(), ref.series(), check_exact=True)
    # the cluster's runs really ran on its two worker processes, not here
    assert dk.runs["worker"].str.split(":").str[1].astype(int).isin([os.getpid()]).sum() == 0


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    toml = tmp_path / "exp.toml"
    toml.write_text(
        'name = "killed-worker"\nsteps = 12\nseed = 5\nreplications = 8\n'
        '[overrides]\n"firms.n" = 60\n'
        '[factors."trust.initial"]\nlevels = [0.2, 0.5, 0.8]\n'
        '[factors."learning.alpha0"]\nlevels = [0.4, 1.0]\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    with dask_cluster(tmp_path) as (address, workers):
        sweep = subprocess.Popen(
            [str(BIN / "clusterlearn"), "sweep", str(toml), "--out", str(out),
             "--backend", "dask", "--address", address, "--no-progress"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        parts = out / "outcomes" / "final"
        deadline = time.monotonic() + 300
        while sweep.poll() is None and time.monotonic() < deadline:
            if parts.exists() and any(parts.glob("part-*.parquet")):
                break
            time.sleep(0.05)
        assert sweep.poll() is None, "the sweep ended before a worker could be killed"
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        output, _ = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, output
    res = cx.open(out)
    assert res.counts == {"done": 48, "failed": 0, "pending": 0, "total": 48}
    keys = res.final[["point", "replication"]]
    assert len(keys) == 48 and not keys.duplicated().any()
    assert not res.runs[["point", "replication"]].duplicated().any()
    # The survivors' results are the ones an undisturbed sweep stores.
    ref = cx.run_experiment(cx.Experiment.from_toml(toml), tmp_path / "ref", workers=2,
                            progress=False)  # fmt: skip
    pd.testing.assert_frame_equal(res.final, ref.final, check_exact=True)
