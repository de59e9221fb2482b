"""The results store of an experiment folder: a DuckDB catalogue and Parquet outcome files.

Layout of ``DIR``::

    catalogue.duckdb        experiment (spec, fingerprint, versions), points, runs
    design.parquet          the design points (one row per point, one column per factor)
    outcomes/final/*.parquet    one row per run: point, replication, final outcomes
    outcomes/series/*.parquet   per step (if kept)
    outcomes/firms/*.parquet    final firm table (if kept)

Finished runs are written in parts: each Parquet part is written to a temporary file and
renamed into place, and only then are the catalogue rows of its runs committed (one
transaction). A run is stored when its catalogue row says ``done``; a part that lost its
catalogue rows to a crash is never read, and its runs are simply run again. Every run has one
row (primary key ``point, replication``), so nothing is stored twice.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clusterlearn.errors import ClusterlearnError
from clusterlearn.experiments.spec import Experiment
from clusterlearn.result import versions

CATALOGUE = "catalogue.duckdb"
DESIGN = "design.parquet"
KINDS = ("final", "series", "firms")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiment (
    name VARCHAR, fingerprint VARCHAR, spec JSON, created DOUBLE, updated DOUBLE,
    seed UBIGINT, replications INTEGER, n_points INTEGER, versions JSON
);
CREATE TABLE IF NOT EXISTS points (point INTEGER PRIMARY KEY, params JSON);
CREATE TABLE IF NOT EXISTS runs (
    point INTEGER, replication INTEGER, status VARCHAR, seed UBIGINT, spawn_key VARCHAR,
    session VARCHAR, worker VARCHAR, started DOUBLE, seconds DOUBLE, attempts INTEGER,
    error VARCHAR, traceback VARCHAR, part_final VARCHAR, part_series VARCHAR,
    part_firms VARCHAR, clusterlearn VARCHAR, PRIMARY KEY (point, replication)
);
"""

RUN_COLUMNS = [
    "point", "replication", "status", "seed", "spawn_key", "session", "worker", "started",
    "seconds", "attempts", "error", "traceback", "part_final", "part_series", "part_firms",
    "clusterlearn",
]  # fmt: skip


@dataclass
class RunRecord:
    """What a worker sends back for one run."""

    point: int
    replication: int
    ok: bool
    worker: str = ""
    started: float = 0.0
    seconds: float = 0.0
    error: str | None = None
    traceback: str | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    version: str = ""


class Store:
    """Read-write access to an experiment folder (one writer: the sweep driver).

    Parameters
    ----------
    path : path
        The experiment folder; created when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ClusterlearnError(f"{self.path}: exists and is not a folder")
        self.path.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            (self.path / "outcomes" / kind).mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path / CATALOGUE))
        except duckdb.IOException as exc:
            raise ClusterlearnError(
                f"{self.path / CATALOGUE}: cannot open the catalogue ({exc}); is another "
                f"sweep writing to this folder?"
            ) from None
        self.con.execute(_SCHEMA)
        self.session = uuid.uuid4().hex[:12]
        self._part = 0
        self.write_seconds = 0.0
        self.last_commit_seconds = 0.0

    def close(self) -> None:
        self.con.close()

    # --- setup -----------------------------------------------------------------------------
    def prepare(self, exp: Experiment, design: pd.DataFrame, params: list[dict[str, Any]]) -> None:
        """Record the experiment and its design, or check they match what is stored."""
        fp = exp.fingerprint()
        row = self.con.execute("SELECT fingerprint, spec FROM experiment").fetchone()
        now = time.time()
        spec = json.dumps(exp.to_dict())  # keeps factor order
        if row is not None and row[0] != fp:
            old = json.loads(row[1])
            new = json.loads(spec)
            diff = sorted(
                k for k in set(old) | set(new)
                if k not in ("name", "description", "replications", "budget")
                and old.get(k) != new.get(k)
            )  # fmt: skip
            raise ClusterlearnError(
                f"{self.path}: holds results of a different experiment (it differs in: "
                f"{', '.join(diff) or 'the scenario'}); use another --out folder or remove this one"
            )
        self.con.execute("BEGIN")
        if row is None:
            self.con.execute(
                "INSERT INTO experiment VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [exp.name, fp, spec, now, now, exp.seed, exp.replications, exp.n_points,
                 json.dumps(versions())],
            )  # fmt: skip
            self.con.executemany(
                "INSERT INTO points VALUES (?, ?)",
                [[k, json.dumps(p)] for k, p in enumerate(params)],
            )
        else:
            self.con.execute(
                "UPDATE experiment SET name = ?, spec = ?, updated = ?, replications = ?",
                [exp.name, spec, now, exp.replications],
            )
        self.con.execute("COMMIT")
        if not (self.path / DESIGN).exists():
            _write_atomic(_stringify(design), self.path / DESIGN)

    def finish(self) -> None:
        """Record the end of a sweep."""
        self.con.execute("UPDATE experiment SET updated = ?", [time.time()])

    def status(self) -> dict[tuple[int, int], str]:
        """Status of every recorded run."""
        rows = self.con.execute("SELECT point, replication, status FROM runs").fetchall()
        return {(p, r): s for p, r, s in rows}

    # --- writing ---------------------------------------------------------------------------
    def commit(self, records: list[RunRecord], seed: int) -> None:
        """Store finished runs: Parquet parts first (atomic renames), then catalogue rows."""
        if not records:
            return
        t0 = time.perf_counter()
        self._part += 1
        parts: dict[str, str] = {}
        for kind in KINDS:
            have = [r for r in records if r.ok and kind in r.tables]
            if not have:
                continue
            df = pd.concat([r.tables[kind] for r in have], ignore_index=True)
            sizes = [len(r.tables[kind]) for r in have]
            df.insert(0, "replication", np.repeat([r.replication for r in have], sizes))
            df.insert(0, "point", np.repeat([r.point for r in have], sizes))
            rel = f"outcomes/{kind}/part-{self.session}-{self._part:06d}.parquet"
            _write_atomic(df, self.path / rel)
            parts[kind] = rel
        rows = pd.DataFrame(
            {
                "point": [r.point for r in records],
                "replication": [r.replication for r in records],
                "status": ["done" if r.ok else "failed" for r in records],
                "seed": int(seed),
                "spawn_key": [f"{r.point},{r.replication}" for r in records],
                "session": self.session,
                "worker": [r.worker for r in records],
                "started": [r.started for r in records],
                "seconds": [r.seconds for r in records],
                "attempts": 1,
                "error": [r.error for r in records],
                "traceback": [r.traceback for r in records],
                **{
                    f"part_{kind}": [parts.get(kind) if r.ok else None for r in records]
                    for kind in KINDS
                },
                "clusterlearn": [r.version for r in records],
            }
        )
        self.con.register("_new", rows)
        self.con.execute("BEGIN")
        # attempts counts every try of a run (a retried failure has 2)
        self.con.execute(
            "INSERT OR REPLACE INTO runs SELECT n.* REPLACE (coalesce(o.attempts, 0) + 1 "
            "AS attempts) FROM _new n LEFT JOIN runs o USING (point, replication)"
        )
        self.con.execute("COMMIT")
        self.con.unregister("_new")
        self.last_commit_seconds = time.perf_counter() - t0
        self.write_seconds += self.last_commit_seconds


def _stringify(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns (paths, booleans mixed with None) as text, so Parquet can hold them."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: None if v is None else str(v))
    return out


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    table = pa.Table.from_pandas(_stringify(df), preserve_index=False)
    pq.write_table(table, tmp)
    with open(tmp, "rb") as fh:  # the data must be on disk before the rename is
        os.fsync(fh.fileno())
    os.replace(tmp, path)
