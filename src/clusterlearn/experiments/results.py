"""Reading an experiment folder: tidy pandas tables, SQL through DuckDB, analysis, report."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from clusterlearn.errors import ClusterlearnError
from clusterlearn.experiments.store import CATALOGUE, DESIGN, KINDS


class ExperimentResults:
    """The stored results of an experiment (see :func:`open`).

    Attributes
    ----------
    path : Path
        The experiment folder.
    spec : dict
        The experiment as stored (scenario, factors, design, replications, steps, seed ...).
    design : pandas.DataFrame
        One row per design point: ``point`` and the factor values as sampled.
    runs : pandas.DataFrame
        The catalogue: one row per run tried, with ``status`` (``done`` or ``failed``), seed,
        spawn key, worker, start time, seconds, attempts, error and the files holding its
        outcomes. Runs not tried yet have no row (see :attr:`counts`).
    final : pandas.DataFrame
        One row per stored run: ``point``, ``replication``, the factor values and every
        final outcome.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        cat = self.path / CATALOGUE
        if not cat.exists():
            raise ClusterlearnError(
                f"{self.path}: not an experiment folder (no {CATALOGUE}); run "
                f"`clusterlearn sweep EXPERIMENT.toml --out {self.path}` first"
            )
        try:
            con = duckdb.connect(str(cat), read_only=True)
        except duckdb.Error as exc:
            raise ClusterlearnError(
                f"{cat}: cannot be read ({exc}); a sweep may be writing to it -- wait for it "
                f"to finish"
            ) from None
        try:
            exp = con.execute("SELECT * FROM experiment").df()
            self.runs = con.execute("SELECT * FROM runs ORDER BY point, replication").df()
            points = con.execute("SELECT * FROM points ORDER BY point").df()
        finally:
            con.close()
        if exp.empty:
            raise ClusterlearnError(f"{cat}: the catalogue holds no experiment")
        self.info = exp.iloc[0].to_dict()
        self.spec: dict[str, Any] = json.loads(self.info["spec"])
        # Replications beyond the experiment's current count (it was lowered) stay stored but
        # out of view, so that counts and tables describe the experiment as it now stands.
        self.runs = self.runs[self.runs["replication"] < int(self.spec["replications"])]
        self.runs = self.runs.reset_index(drop=True)
        self.versions: dict[str, str] = json.loads(self.info["versions"])
        self.params = [json.loads(p) for p in points["params"]]
        self.design = pd.read_parquet(self.path / DESIGN)
        self.write_seconds = 0.0  # set by run_experiment: time spent storing runs
        self.ran = 0  # set by run_experiment: runs executed by that call

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"<ExperimentResults {self.name!r} at {self.path}: {c['done']} done, "
            f"{c['failed']} failed, {c['pending']} pending of {c['total']} runs>"
        )

    # --- description -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def factors(self) -> list[str]:
        """Factor names, in design order."""
        return list(self.spec["factors"])

    @property
    def method(self) -> str:
        return str(self.spec["design"]["method"])

    @property
    def replications(self) -> int:
        return int(self.spec["replications"])

    def problem(self) -> dict[str, Any]:
        """The SALib problem of a sampled design."""
        facs = self.spec["factors"]
        return {
            "num_vars": len(facs),
            "names": list(facs),
            "bounds": [list(f["range"]) for f in facs.values()],
        }

    @property
    def counts(self) -> dict[str, int]:
        """Runs ``done``, ``failed``, ``pending`` (not stored yet) and ``total``."""
        total = len(self.design) * self.replications
        st = self.runs["status"].value_counts()
        done, failed = int(st.get("done", 0)), int(st.get("failed", 0))
        return {"done": done, "failed": failed, "pending": total - done - failed, "total": total}

    @property
    def failures(self) -> pd.DataFrame:
        """Failed runs with their error message."""
        cols = ["point", "replication", "error", "worker", "attempts"]
        return self.runs.loc[self.runs["status"] == "failed", cols].reset_index(drop=True)

    # --- tables ----------------------------------------------------------------------------
    @cached_property
    def _con(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        runs = self.runs.copy()
        for kind in KINDS:
            runs[f"file_{kind}"] = [
                str(self.path / p) if isinstance(p, str) else None for p in runs[f"part_{kind}"]
            ]
        con.register("runs", runs)
        con.register("design", self.design)
        con.register("experiment", pd.DataFrame([self.info]))
        for kind in KINDS:
            files = sorted({f for f in runs[f"file_{kind}"].dropna()})
            if not files:
                continue
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            # Only rows whose run's catalogue row points at this very file count: a part
            # written just before a crash (its rows never committed) is ignored.
            con.execute(
                f"""CREATE VIEW {kind} AS SELECT t.* EXCLUDE (filename)
                FROM read_parquet([{listing}], union_by_name = true, filename = true) t
                JOIN runs r ON r.point = t.point AND r.replication = t.replication
                 AND r.status = 'done' AND r.file_{kind} = t.filename"""
            )
        return con

    def sql(self, query: str) -> pd.DataFrame:
        """Run a DuckDB SQL query over the tables ``runs``, ``design``, ``experiment``,
        ``final`` and, when kept, ``series`` and ``firms``.

        Examples
        --------
        >>> q = "SELECT point, avg(mean_capability) AS m FROM final GROUP BY point"
        >>> res.sql(q)  # doctest: +SKIP
        """
        try:
            return self._con.execute(query).df()
        except duckdb.Error as exc:
            raise ClusterlearnError(f"SQL: {exc}") from None

    def _kind(self, kind: str) -> pd.DataFrame:
        if not self.spec.get("outcomes", {}).get(kind, kind == "final") and kind != "final":
            raise ClusterlearnError(
                f"{self.path}: {kind} outcomes were not kept (set outcomes.{kind} = true in the "
                f"experiment)"
            )
        if (self.runs["status"] == "done").sum() == 0:
            return pd.DataFrame({"point": pd.Series(dtype="int64"),
                                 "replication": pd.Series(dtype="int64")})  # fmt: skip
        df = self._con.execute(f"SELECT * FROM {kind}").df()
        order = ["point", "replication"] + (["step"] if "step" in df.columns else [])
        df = df.sort_values(order, kind="stable").reset_index(drop=True)
        return df

    @cached_property
    def final(self) -> pd.DataFrame:
        df = self._kind("final")
        facs = self.design.set_index("point")[self.factors]
        df = df.join(facs, on="point")
        lead = ["point", "replication", *self.factors]
        return df[lead + [c for c in df.columns if c not in lead]]

    @property
    def outcomes(self) -> list[str]:
        """Names of the final outcomes."""
        skip = {"point", "replication", *self.factors}
        return [c for c in self.final.columns if c not in skip]

    def series(self) -> pd.DataFrame:
        """Per step outcomes of every stored run: ``point``, ``replication``, ``step``, ...."""
        return self._kind("series")

    def firms(self) -> pd.DataFrame:
        """The final firm table of every stored run."""
        return self._kind("firms")

    # --- analysis --------------------------------------------------------------------------
    def summary(self, outcomes: list[str] | None = None, level: float = 0.95) -> pd.DataFrame:
        """Per design point and outcome: mean, sd and a ``level`` CI over replications."""
        from clusterlearn.experiments.analyse import summarise

        return summarise(self.final, self.factors, outcomes or self.outcomes, level)

    def sobol(self, outcome: str, level: float = 0.95, num_resamples: int = 1000) -> Any:
        """Sobol indices of ``outcome`` (a Saltelli design), see :func:`.analyse.sobol`."""
        from clusterlearn.experiments.analyse import sobol

        return sobol(self, outcome, level=level, num_resamples=num_resamples)

    def morris(self, outcome: str, level: float = 0.95, num_resamples: int = 1000) -> pd.DataFrame:
        """Morris indices of ``outcome`` (a Morris design), see :func:`.analyse.morris`."""
        from clusterlearn.experiments.analyse import morris

        return morris(self, outcome, level=level, num_resamples=num_resamples)

    def main_effects(self, outcome: str, bins: int = 5, level: float = 0.95) -> pd.DataFrame:
        """Mean of ``outcome`` per level (or bin) of each factor, with CIs."""
        from clusterlearn.experiments.analyse import main_effects

        return main_effects(self.final, self.factors, outcome, bins=bins, level=level)

    def report(self, out: str | Path | None = None, outcomes: list[str] | None = None) -> Path:
        """Write a Markdown report with tables and figures; returns its path."""
        from clusterlearn.experiments.plots import write_report

        return write_report(self, Path(out) if out else self.path / "report", outcomes)


def open_results(path: str | Path) -> ExperimentResults:
    """Open an experiment folder written by :func:`run_experiment` or ``clusterlearn sweep``.

    Examples
    --------
    >>> import clusterlearn.experiments as cx
    >>> res = cx.open("results/trust")  # doctest: +SKIP
    >>> res.final.groupby("trust.initial")["mean_capability"].mean()  # doctest: +SKIP
    """
    return ExperimentResults(path)
