"""A sweep process killed with SIGKILL mid-sweep, then rerun: every run stored exactly once,
the runs finished before the kill not recomputed, the outcomes those of an undisturbed sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import clusterlearn.experiments as cx

BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("experiment-processes")]

EXPERIMENT = """
name = "killed"
steps = 12
seed = 77
replications = 16
[overrides]
"firms.n" = 60
[factors."trust.initial"]
levels = [0.2, 0.5, 0.8]
[factors."environment.openness"]
levels = [0.2, 0.8]
[outcomes]
series = true
"""


def _catalogue(out: Path) -> pd.DataFrame:
    con = duckdb.connect(str(out / "catalogue.duckdb"), read_only=True)
    try:
        return con.execute("SELECT * FROM runs ORDER BY point, replication").df()
    finally:
        con.close()


def test_sigkill_mid_sweep_then_rerun(tmp_path: Path) -> None:
    toml = tmp_path / "exp.toml"
    toml.write_text(EXPERIMENT, encoding="utf-8")
    out = tmp_path / "out"
    total = 3 * 2 * 16
    sweep = subprocess.Popen(
        [str(BIN / "clusterlearn"), "sweep", str(toml), "--out", str(out), "--workers", "2",
         "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # its worker processes share its process group
    )  # fmt: skip
    parts = out / "outcomes" / "final"
    try:
        deadline = time.monotonic() + 300
        while sweep.poll() is None and time.monotonic() < deadline:
            # a second part means the first one's catalogue rows are committed
            if parts.exists() and len(list(parts.glob("part-*.parquet"))) >= 2:
                break
            time.sleep(0.02)
        assert sweep.poll() is None, "the sweep ended before it could be killed"
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.wait()
    finally:
        # the sweep's orphaned workers (same process group) go too
        try:
            os.killpg(sweep.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    before = _catalogue(out)
    done_before = before[before["status"] == "done"]
    assert 0 < len(done_before) < total, "the kill did not land mid-sweep"

    res = cx.run_experiment(toml, out, workers=2, progress=False)
    assert res.ran == total - len(done_before)
    assert res.counts == {"done": total, "failed": 0, "pending": 0, "total": total}
    after = _catalogue(out)
    assert len(after) == total and not after[["point", "replication"]].duplicated().any()
    # Runs stored before the kill were not recomputed: their catalogue rows are untouched.
    kept = after.merge(done_before, on=["point", "replication"], suffixes=("", "_before"))
    assert len(kept) == len(done_before)
    for col in ("session", "started", "worker", "part_final", "attempts"):
        assert (kept[col] == kept[f"{col}_before"]).all(), col
    assert after["session"].nunique() == 2
    # Every run once in the outcomes, and they equal an undisturbed sweep's.
    final, series = res.final, res.series()
    assert not final[["point", "replication"]].duplicated().any() and len(final) == total
    assert len(series) == total * 13
    ref = cx.run_experiment(toml, tmp_path / "ref", workers=2, progress=False)
    pd.testing.assert_frame_equal(final, ref.final, check_exact=True)
    pd.testing.assert_frame_equal(series, ref.series(), check_exact=True)
