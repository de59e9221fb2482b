"""``clusterlearn propositions``: test the thesis's propositions P1-P12 in the model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clusterlearn.cli import app, set_output_dir

_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)

_COLOURS = {"supported": "green", "not supported": "red", "inconclusive": "yellow"}


@app.command()
def propositions(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="report folder (experiment stores go to OUT/experiments)"),
    ],
    quick: Annotated[
        bool, typer.Option("--quick", help="reduced variant: 80 firms, 40 steps, 5-6 replications")
    ] = False,
    only: Annotated[
        str | None,
        typer.Option("--only", help="comma-separated ids, e.g. P1,P3 (default: all twelve)"),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            "--backend", help="local (processes, default), dask (needs --address) or dask-local"
        ),
    ] = "local",
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", help="worker processes (default: the number of cores)"),
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Dask scheduler, tcp://HOST:PORT")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="root seed of every experiment")] = 20070601,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="show each experiment's progress bar")
    ] = False,
) -> None:
    """Run one replicated experiment per proposition of the thesis and compute its verdict.

    Writes OUT/propositions.md, OUT/propositions.html (a figure per proposition) and
    OUT/propositions.json. Rerunning with the same OUT resumes: stored runs are not recomputed.
    """
    from clusterlearn.propositions import run_propositions, select

    select(only)  # reject bad ids before touching the disk
    if workers is not None and workers < 1:
        from clusterlearn.propositions import PropositionsError

        raise PropositionsError(f"--workers: expected a whole number >= 1, got {workers}")
    set_output_dir(out)
    entries = run_propositions(
        out,
        quick=quick,
        only=only,
        backend=backend,
        workers=workers,
        address=address,
        seed=seed,
        progress=progress,
        log=lambda msg: _err.print(msg),
    )
    t = Table(title="propositions (headline effect, 95% CI)", title_justify="left")
    for c in ("id", "proposition", "effect", "95% CI", "p", "verdict"):
        t.add_column(c)
    for e in entries:

        def f(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.3g}"

        v = e["verdict"]
        t.add_row(
            e["id"],
            e["title"],
            f(e["effect"]),
            f"[{f(e['ci_low'])}, {f(e['ci_high'])}]",
            f(e["p_value"]),
            f"[{_COLOURS[v]}]{v}[/]",
        )
    _out.print(t)
    _out.print(f"report: {out / 'propositions.html'} (also .md, .json)")
