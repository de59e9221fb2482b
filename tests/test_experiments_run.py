"""Sweeps on local worker processes: identical stored outcomes whatever the worker count,
failures stored with their message, resume and retry, the tables, SQL and the report."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import clusterlearn.experiments as cx
from clusterlearn import Scenario, simulate
from clusterlearn.compare import final_outcomes
from clusterlearn.errors import ClusterlearnError
from clusterlearn.experiments.models import ISHIGAMI_S1, ISHIGAMI_S2, ISHIGAMI_ST, ishigami

BIN = Path(sys.executable).parent


def tiny(**kw: object) -> cx.Experiment:
    data: dict[str, object] = {
        "name": "tiny",
        "scenario": Scenario.preset("baseline").with_overrides({"firms.n": 40}),
        "factors": {"trust.initial": [0.2, 0.8], "learning.alpha0": [0.4, 1.0]},
        "replications": 2,
        "steps": 6,
        "seed": 2024,
        "outcomes": {"final": True, "series": True},
    }
    data.update(kw)
    return cx.Experiment(**data)


def stored(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    res = cx.open(path)
    return res.final, res.series()


def test_one_and_two_local_workers_store_identical_outcomes(tmp_path: Path) -> None:
    exp = tiny()
    one = cx.run_experiment(exp, tmp_path / "w1", workers=1, progress=False)
    two = cx.run_experiment(exp, tmp_path / "w2", workers=2, progress=False)
    assert one.counts["done"] == two.counts["done"] == 8
    f1, s1 = stored(tmp_path / "w1")
    f2, s2 = stored(tmp_path / "w2")
    pd.testing.assert_frame_equal(f1, f2, check_exact=True)
    pd.testing.assert_frame_equal(s1, s2, check_exact=True)
    assert len(s1) == 8 * 7  # steps 0..6 of every run
    # Run (point 3, replication 1) is simulate() with its spawned stream, nothing else.
    params = cx.build_design(exp).set_index("point").loc[3, exp.factor_names].to_dict()
    direct = simulate(exp.scenario.with_overrides(params), steps=6, rng=cx.run_seed(2024, 3, 1))
    row = f1[(f1["point"] == 3) & (f1["replication"] == 1)].iloc[0]
    for k, v in final_outcomes(direct).items():
        assert row[k] == v, k
    # replications differ (own streams), the workers used are recorded
    assert (f1.groupby("point")["mean_capability"].nunique() == 2).all()
    assert two.runs["worker"].nunique() >= 1 and (two.runs["seconds"] > 0).all()


def test_failing_run_is_stored_with_its_message_and_the_rest_complete(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-edges.csv")
    # The path passes scenario validation (it is a string) and fails when the run starts.
    exp = tiny(factors={"networks.social.edges": [None, missing], "trust.initial": [0.3, 0.6]})
    res = cx.run_experiment(exp, tmp_path / "out", workers=2, progress=False)
    assert res.counts == {"done": 4, "failed": 4, "pending": 0, "total": 8}
    fails = res.failures
    assert (fails["point"] >= 2).all()  # the points with the missing file
    assert fails["error"].str.contains("no-such-edges.csv").all()
    assert fails["error"].str.contains("not found").all()
    tb = res.runs.loc[res.runs["status"] == "failed", "traceback"]
    assert tb.str.contains("Traceback").all()
    assert sorted(res.final["point"].unique()) == [0, 1]
    # A rerun leaves failures alone; --retry-failed runs them again (and they fail again).
    again = cx.run_experiment(exp, tmp_path / "out", workers=2, progress=False)
    assert again.ran == 0
    retried = cx.run_experiment(exp, tmp_path / "out", workers=1, retry_failed=True, progress=False)
    assert retried.ran == 4 and retried.counts["failed"] == 4
    assert retried.runs.set_index(["point", "replication"])["attempts"].to_dict() == {
        (p, r): (2 if p >= 2 else 1) for p in range(4) for r in range(2)
    }
    # done runs were not rerun: the whole final table is the same as before
    pd.testing.assert_frame_equal(retried.final, res.final, check_exact=True)


def test_store_layout_sql_and_orphan_parts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = cx.run_experiment(tiny(replications=1), out, workers=2, progress=False)
    assert (out / "catalogue.duckdb").exists() and (out / "design.parquet").exists()
    parts = sorted((out / "outcomes" / "final").glob("part-*.parquet"))
    assert parts and not list(out.rglob(".*.tmp"))
    con = duckdb.connect(str(out / "catalogue.duckdb"), read_only=True)
    rows = con.execute("SELECT count(*), count(DISTINCT (point, replication)) FROM runs").fetchone()
    exp_row = con.execute("SELECT name, seed, versions FROM experiment").fetchone()
    con.close()
    assert rows == (4, 4)
    assert exp_row[0] == "tiny" and exp_row[1] == 2024 and "numpy" in exp_row[2]
    q = res.sql(
        'SELECT d."trust.initial" AS trust, avg(f.mean_capability) AS cap, count(*) AS n '
        "FROM final f JOIN design d USING (point) GROUP BY 1 ORDER BY 1"
    )
    assert q["trust"].tolist() == [0.2, 0.8] and q["n"].tolist() == [2, 2]
    # A part whose catalogue rows were never committed (a crash between the rename and the
    # commit) is ignored by readers.
    orphan = pd.read_parquet(parts[0])
    orphan.to_parquet(out / "outcomes" / "final" / "part-crashed-000001.parquet")
    again = cx.open(out)
    assert len(again.final) == 4
    pd.testing.assert_frame_equal(again.final, res.final, check_exact=True)


def test_summary_analysis_and_report(tmp_path: Path) -> None:
    res = cx.run_experiment(tiny(), tmp_path / "out", workers=2, progress=False)
    summ = res.summary(["mean_capability"])
    assert len(summ) == 4 and (summ["n"] == 2).all()
    assert (summ["ci_low"] <= summ["mean"]).all() and (summ["mean"] <= summ["ci_high"]).all()
    g = res.final.groupby("point")["mean_capability"]
    assert summ["mean"].tolist() == pytest.approx(g.mean().tolist())
    eff = res.main_effects("mean_capability")
    assert set(eff["factor"]) == {"trust.initial", "learning.alpha0"} and (eff["n"] == 4).all()
    with pytest.raises(ClusterlearnError, match="did you mean 'mean_capability'"):
        res.summary(["mean_capabilty"])
    report = res.report()
    text = report.read_text()
    assert "8 done, 0 failed" in text and "## mean_capability" in text
    for png in ("main_effects_mean_capability.png", "interaction_mean_capability.png"):
        assert (report.parent / png).stat().st_size > 1000


def test_ishigami_sobol_known_answer(tmp_path: Path) -> None:
    pi = math.pi
    exp = cx.Experiment(
        name="ishigami",
        model=ishigami,
        factors={"x1": (-pi, pi), "x2": (-pi, pi), "x3": (-pi, pi)},
        design={"method": "sobol", "samples": 256, "second_order": True},
        seed=1,
    )
    res = cx.run_experiment(exp, tmp_path / "ish", workers=2, progress=False)
    assert res.counts["done"] == 256 * 8
    si = res.sobol("y")
    t = si.table().set_index("factor")
    for f in ("x1", "x2", "x3"):
        assert abs(t.loc[f, "S1"] - ISHIGAMI_S1[f]) <= t.loc[f, "S1_conf"], f
        assert abs(t.loc[f, "ST"] - ISHIGAMI_ST[f]) <= t.loc[f, "ST_conf"], f
        # informative intervals, not trivially wide ones
        assert t.loc[f, "S1_conf"] < 0.15 and t.loc[f, "ST_conf"] < 0.2
    for row in si.second.itertuples():
        assert abs(row.S2 - ISHIGAMI_S2[(row.factor_a, row.factor_b)]) <= row.S2_conf
    # The interaction x1 x3 is found, x2 acts alone.
    assert t.loc["x3", "ST"] - t.loc["x3", "S1"] > 0.1
    assert abs(t.loc["x2", "ST"] - t.loc["x2", "S1"]) < 0.05


def test_morris_ranks_a_function_model(tmp_path: Path) -> None:
    from clusterlearn.experiments.models import noisy_linear

    exp = cx.Experiment(
        name="linear",
        model=noisy_linear,
        factors={"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)},
        design={"method": "morris", "samples": 12, "levels": 4},
        replications=3,
        seed=8,
    )
    res = cx.run_experiment(exp, tmp_path / "m", workers=1, progress=False)
    m = res.morris("y").set_index("factor")
    # y = a + 2b + 3c + noise: mu* ranks c > b > a
    assert m["mu_star"].idxmax() == "c" and m["mu_star"].idxmin() == "a"
    assert m.loc["c", "mu_star"] == pytest.approx(3.0, abs=1.0)


def test_cli_sweep_results_and_sensitivity(tmp_path: Path) -> None:
    toml = tmp_path / "e.toml"
    toml.write_text(
        'name = "cli"\nsteps = 4\nseed = 3\nreplications = 1\n[overrides]\n"firms.n" = 30\n'
        '[factors."environment.openness"]\nrange = [0.0, 1.0]\n'
        '[factors."environment.culture"]\nrange = [0.0, 1.0]\n'
        '[design]\nmethod = "lhs"\nsamples = 3\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "clusterlearn"), *args], capture_output=True, text=True, env=env,
            cwd=tmp_path, timeout=300,
        )  # fmt: skip

    p = cli("sweep", str(toml), "--out", "o", "--workers", "2", "--no-progress")
    assert p.returncode == 0, p.stderr + p.stdout
    assert "3 done, 0 failed, 0 pending of 3 runs" in p.stdout
    p = cli("results", "o", "--sql", "SELECT count(*) AS n FROM final")
    assert p.returncode == 0 and p.stdout.split()[-1] == "3", p.stderr + p.stdout
    # sensitivity: --method morris on the same factor ranges, run into its own folder
    p = cli("sensitivity", str(toml), "--method", "morris", "--samples", "2",
            "--outcome", "mean_capability", "--workers", "2", "--no-progress")  # fmt: skip
    assert p.returncode == 0, p.stderr + p.stdout
    assert "morris indices of mean_capability" in p.stdout
    assert (
        tmp_path / "results" / "cli-morris" / "report" / "sensitivity_mean_capability.png"
    ).exists()
    # user errors: exit code 2 and a message, no traceback
    p = cli("results", "nowhere")
    assert p.returncode == 2 and "not an experiment folder" in p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr


def die_in_run(params: dict, rng: object) -> dict[str, float]:
    """A function model whose run at x = 3 kills its own worker process (once, or always)."""
    marker = Path(params["marker"])
    if params["x"] == 3 and (params["always"] or not marker.exists()):
        marker.touch()
        os.kill(os.getpid(), 9)
    return {"y": float(params["x"]) ** 2}


@pytest.mark.parametrize("always", [False, True])
def test_a_dead_local_worker_has_its_runs_rescheduled(tmp_path: Path, always: bool) -> None:
    marker = tmp_path / "died"
    exp = cx.Experiment(
        model=die_in_run,
        factors={"x": list(range(6)), "marker": [str(marker)], "always": [always]},
        seed=1,
    )
    res = cx.run_experiment(exp, tmp_path / "out", workers=2, progress=False)
    assert marker.exists()  # a worker really died
    if not always:
        assert res.counts == {"done": 6, "failed": 0, "pending": 0, "total": 6}
        assert res.final.sort_values("point")["y"].tolist() == [x * x for x in range(6)]
    else:
        # a run that kills every worker it lands on is given up after a few tries
        assert res.counts == {"done": 5, "failed": 1, "pending": 0, "total": 6}
        assert res.failures["point"].tolist() == [3]
        assert "worker process died" in res.failures["error"].iloc[0]
