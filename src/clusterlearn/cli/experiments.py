"""``clusterlearn sweep``, ``clusterlearn sensitivity`` and ``clusterlearn results``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clusterlearn.cli import app
from clusterlearn.errors import ClusterlearnError

_out = Console()

Backend = Annotated[
    str,
    typer.Option(
        "--backend", help="local (processes, default), dask (needs --address) or dask-local"
    ),
]
Workers = Annotated[
    int | None,
    typer.Option("--workers", "-w", help="worker processes (default: the number of cores)"),
]
Address = Annotated[str | None, typer.Option("--address", help="Dask scheduler, tcp://HOST:PORT")]
Retry = Annotated[bool, typer.Option("--retry-failed", help="run again the runs that failed")]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="no progress bar")]


def _default_out(exp_name: str, suffix: str = "") -> Path:
    return Path("results") / f"{exp_name}{suffix}"


def _load(path: Path):  # type: ignore[no-untyped-def]
    from clusterlearn.experiments import Experiment

    return Experiment.from_toml(path)


def _summary_table(res, outcomes: list[str] | None = None, rows: int = 20) -> Table:  # type: ignore[no-untyped-def]
    from clusterlearn.experiments.analyse import headline

    outs = outcomes or headline(res)[:2]
    summ = res.summary(outs)
    t = Table(title=f"means over replications ({int(100 * 0.95)}% CI)", title_justify="left")
    # many factors do not fit a terminal: then the design is left to `--sql`
    shown = res.factors if len(res.factors) <= 3 else []
    for c in ["point", *shown]:
        t.add_column(c, justify="right")
    for o in outs:
        t.add_column(o, justify="right")
    wide = summ.pivot(index="point", columns="outcome", values=["mean", "ci_low", "ci_high"])
    design = res.design.set_index("point")
    for point in list(wide.index)[:rows]:
        cells = [str(point)]
        for f in shown:
            v = design.loc[point, f]
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        for o in outs:
            m, lo, hi = (wide.loc[point, (k, o)] for k in ("mean", "ci_low", "ci_high"))
            cells.append(f"{m:.3g}" + ("" if lo != lo else f" [{lo:.3g}, {hi:.3g}]"))
        t.add_row(*cells)
    notes = []
    if len(wide) > rows:
        notes.append(f"first {rows} of {len(wide)} design points")
    if not shown:
        notes.append("factor values: --sql 'SELECT * FROM design'")
    t.caption = "; ".join(notes) or None
    return t


def _counts_line(res) -> str:  # type: ignore[no-untyped-def]
    c = res.counts
    return (
        f"{res.name}: {c['done']} done, {c['failed']} failed, {c['pending']} pending "
        f"of {c['total']} runs ({len(res.design)} points x {res.replications} replications, "
        f"{res.method} design) in {res.path}"
    )


def _run(exp, folder, backend, workers, address, retry_failed, no_progress):  # type: ignore[no-untyped-def]
    from clusterlearn.experiments import run_experiment

    try:
        return run_experiment(
            exp, folder, backend=backend, workers=workers, address=address,
            retry_failed=retry_failed, progress=not no_progress,
        )  # fmt: skip
    except KeyboardInterrupt:
        Console(stderr=True).print(
            f"interrupted: the finished runs are stored in {folder}; run the same command "
            f"again to resume"
        )
        raise


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="experiment TOML file")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="experiment folder (default results/NAME)")
    ] = None,
    backend: Backend = "local",
    workers: Workers = None,
    address: Address = None,
    retry_failed: Retry = False,
    no_progress: NoProgress = False,
) -> None:
    """Run every run of an experiment not stored yet in its folder (resumable)."""
    exp = _load(experiment)
    folder = out or _default_out(exp.name)
    res = _run(exp, folder, backend, workers, address, retry_failed, no_progress)
    _out.print(_counts_line(res))
    if res.ran == 0:
        _out.print("nothing to run: every run is stored" + (
            " (failed runs are kept; use --retry-failed to run them again)"
            if res.counts["failed"] else ""))  # fmt: skip
    if res.counts["failed"]:
        f = res.failures.iloc[0]
        _out.print(
            f"[red]{res.counts['failed']} runs failed[/red], e.g. point {f['point']} "
            f"replication {f['replication']}: {f['error']}"
        )
    if res.counts["done"]:
        _out.print(_summary_table(res, rows=10))
    _out.print(f"see `clusterlearn results {folder}` for the report")


@app.command()
def sensitivity(
    experiment: Annotated[Path, typer.Argument(help="experiment TOML file with factor ranges")],
    method: Annotated[str, typer.Option("--method", "-m", help="sobol or morris")] = "sobol",
    samples: Annotated[
        int | None,
        typer.Option("--samples", help="base samples N (sobol) or trajectories (morris)"),
    ] = None,
    outcome: Annotated[
        list[str] | None, typer.Option("--outcome", help="outcome(s) to analyse")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="experiment folder (default results/NAME-METHOD)"),
    ] = None,
    backend: Backend = "local",
    workers: Workers = None,
    address: Address = None,
    retry_failed: Retry = False,
    no_progress: NoProgress = False,
) -> None:
    """Sobol or Morris sensitivity indices of an experiment's factors (runs what is missing)."""
    from clusterlearn.experiments.analyse import headline
    from clusterlearn.experiments.plots import plot_sensitivity

    if method not in ("sobol", "morris"):
        raise ClusterlearnError(f"--method: expected sobol or morris, got {method!r}")
    exp = _load(experiment)
    if exp.design.method != method or samples is not None:
        extra = {"samples": samples} if samples is not None else {}
        if exp.design.method != method and samples is None and exp.design.samples is None:
            raise ClusterlearnError(f"{experiment}: give --samples for a {method} design")
        exp = exp.with_design(method, **extra)
    folder = out or _default_out(exp.name, f"-{method}")
    res = _run(exp, folder, backend, workers, address, retry_failed, no_progress)
    _out.print(_counts_line(res))
    figures = folder / "report"
    figures.mkdir(parents=True, exist_ok=True)
    for o in outcome or headline(res)[:2]:
        idx = res.sobol(o) if method == "sobol" else res.morris(o)
        table = idx.table() if method == "sobol" else idx
        t = Table(title=f"{method} indices of {o}", title_justify="left")
        for c in table.columns:
            t.add_column(str(c), justify="right")
        for row in table.itertuples(index=False):
            t.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
        _out.print(t)
        if method == "sobol" and idx.second is not None:
            s2 = idx.second.reindex(idx.second["S2"].abs().sort_values(ascending=False).index)
            t2 = Table(title=f"second-order indices of {o} (largest 10)", title_justify="left")
            for c in s2.columns:
                t2.add_column(str(c), justify="right")
            for row in s2.head(10).itertuples(index=False):
                t2.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
            _out.print(t2)
        fig = plot_sensitivity(idx)
        fig.savefig(figures / f"sensitivity_{o}.png", dpi=110)
    _out.print(f"figures in {figures}")


@app.command()
def results(
    folder: Annotated[Path, typer.Argument(help="experiment folder written by sweep")],
    outcome: Annotated[
        list[str] | None, typer.Option("--outcome", help="outcome(s) to show")
    ] = None,
    sql: Annotated[
        str | None,
        typer.Option("--sql", help="a DuckDB query over runs, design, final, series, firms"),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="write FOLDER/report/report.md")
    ] = True,
) -> None:
    """Summary of a stored experiment, its report, or a SQL query over its tables."""
    from clusterlearn.experiments import open_results

    res = open_results(folder)
    if sql:
        df = res.sql(sql)
        _out.print(df.to_string(index=False, max_rows=200))
        return
    _out.print(_counts_line(res))
    if res.counts["done"]:
        _out.print(_summary_table(res, outcome))
    if res.counts["failed"]:
        _out.print(res.failures.head(10).to_string(index=False))
    if report:
        path = res.report(outcomes=outcome)
        _out.print(f"report: {path}")
