"""`clusterlearn propositions` end to end: real runs through the experiments machinery
(worker processes, DuckDB catalogue, Parquet outcomes), the report files and their schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from clusterlearn.propositions.schema import validate

EXE = Path(sys.executable).parent / "clusterlearn"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run(
        [str(EXE), "propositions", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def _stored_runs(folder: Path) -> int:
    total = 0
    for cat in folder.glob("experiments/*/*/catalogue.duckdb"):
        con = duckdb.connect(str(cat), read_only=True)
        try:
            total += con.execute("SELECT count(*) FROM runs WHERE status = 'done'").fetchone()[0]
        finally:
            con.close()
    return total


def test_quick_p1_report_schema_and_resume(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    proc = _run("--quick", "--only", "P1", "--out", str(out), "--workers", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "budget about" in proc.stderr  # the budget is stated before running
    doc = json.loads((out / "propositions.json").read_text())
    report = validate(doc)
    assert [e.id for e in report.propositions] == ["P1"]
    e = report.propositions[0]
    assert e.verdict in ("supported", "not supported", "inconclusive")
    assert e.experiment.replications == 6 and e.experiment.runs == 6
    assert e.ci_low is not None and e.ci_low <= e.effect <= e.ci_high
    assert (out / e.figure).stat().st_size > 1000
    assert _stored_runs(out) == 6
    # Rerun: everything is read back from the store, nothing is run twice, same numbers.
    proc2 = _run("--quick", "--only", "P1", "--out", str(out), "--workers", "2", cwd=tmp_path)
    assert proc2.returncode == 0, proc2.stderr
    doc2 = json.loads((out / "propositions.json").read_text())
    assert doc["ran"] == 6 and doc2["ran"] == 0
    assert _stored_runs(out) == 6
    assert doc2["propositions"][0]["effect"] == doc["propositions"][0]["effect"]
    assert doc2["propositions"][0]["ci_low"] == doc["propositions"][0]["ci_low"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--only", "P13"], "--only: unknown proposition P13"),
        (["--only", "P1", "--backend", "cloud"], "--backend: expected one of"),
        (["--only", "P1", "--backend", "dask"], "--address"),
        (["--only", "P1", "--workers", "0"], "--workers"),
    ],
)
def test_bad_options_exit_2_with_a_message(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = _run("--quick", *args, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_quick_p1_p3_p9_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    proc = _run("--quick", "--only", "P1,P3,P9", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = validate(json.loads((out / "propositions.json").read_text()))
    ids = [e.id for e in report.propositions]
    assert ids == ["P1", "P3", "P9"]
    by = {e.id: e for e in report.propositions}
    # P3 locates a threshold inside the trust0 range, with a bootstrap interval.
    thr = by["P3"].parts[0].extra
    assert 0.0 < thr["threshold"] < 1.0
    assert 0.0 <= thr["threshold_ci_low"] <= thr["threshold_ci_high"] <= 1.0
    assert by["P3"].parts[0].sign == 0  # a threshold bends either way; collapse is part 2
    assert by["P3"].parts[1].name.startswith("collapse")
    assert by["P3"].experiment.factors["trust0"] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    # P9: one paired ablation per network, all arms run with the same seeds.
    assert [a.name for a in by["P9"].experiment.arms] == [
        "baseline", "no_auxiliary", "no_exterior", "no_core"
    ]  # fmt: skip
    assert len(by["P9"].parts) == 4
    html = (out / "propositions.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    md = (out / "propositions.md").read_text()
    for e in report.propositions:
        assert f"## {e.id}:" in md and e.verdict in md
        assert (out / e.figure).exists()
    assert _stored_runs(out) == 6 + 6 * 5 + 4 * 6
