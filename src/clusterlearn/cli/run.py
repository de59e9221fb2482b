"""Commands to run a scenario and describe the model: ``run``, ``validate``, ``presets``,
``report`` and ``odd``."""

from __future__ import annotations

import shutil
import signal
import sys
import time
import tomllib
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from clusterlearn.cli import app, set_output_dir
from clusterlearn.errors import ClusterlearnError, ScenarioError
from clusterlearn.result import MANIFEST, Result
from clusterlearn.scenario import Scenario, preset_descriptions

# Exit code of a run stopped by Ctrl-C (128 + SIGINT, the shell convention).
EXIT_INTERRUPTED = 130
SCENARIO_FILE = "scenario.toml"
ERROR_LOG = "clusterlearn-error.log"

out_console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


# --- shared option types -------------------------------------------------------------------
ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="SCENARIO.toml",
        help="Scenario file to run (TOML). Omit it and give --preset to run a shipped one.",
        show_default=False,
    ),
]
PresetOpt = Annotated[
    str | None,
    typer.Option(
        "--preset",
        "-p",
        help="Name of a shipped scenario (see `clusterlearn presets`).",
        show_default=False,
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        metavar="KEY=VALUE",
        help="Change one parameter by its dotted key; repeatable. The value is read as TOML "
        '(numbers, true/false, "strings", \\[lists]); anything else counts as a string.',
        show_default=False,
    ),
]


# --- helpers -------------------------------------------------------------------------------
def parse_set(items: list[str] | None) -> dict[str, Any]:
    """``["firms.n=50", "innovation.enabled=false"]`` -> ``{"firms.n": 50, ...}``.

    Values are parsed as TOML values, so ``50`` is an int, ``0.5`` a float, ``true`` a bool and
    ``[1, 2]`` a list; a value that is not valid TOML is kept as a plain string.
    """
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ClusterlearnError(
                f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. --set firms.n=200"
            )
        raw = raw.strip()
        try:
            value: Any = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key] = value
    return out


def load_scenario(
    scenario: Path | None,
    preset: str | None,
    sets: list[str] | None = None,
    steps: int | None = None,
) -> Scenario:
    """The scenario named on the command line, with ``--set`` and ``--steps`` applied."""
    if scenario is not None and preset is not None:
        raise ClusterlearnError(
            f"give either a scenario file ({scenario}) or --preset {preset}, not both"
        )
    if scenario is None and preset is None:
        raise ClusterlearnError(
            "no scenario: give a scenario file (SCENARIO.toml) or --preset NAME "
            "(`clusterlearn presets` lists them)"
        )
    base = Scenario.preset(preset) if preset is not None else Scenario.from_toml(scenario)  # type: ignore[arg-type]
    overrides = parse_set(sets)
    if steps is not None:
        overrides["steps"] = steps
    if not overrides:
        return base
    try:
        return base.with_overrides(overrides)
    except ScenarioError as exc:
        # Name the options the problems came from, not an internal source.
        where = "--set" if steps is None else ("--steps" if not sets else "--set/--steps")
        raise ScenarioError(exc.problems, where) from None


def _remove_old_result(out: Path) -> None:
    """Delete what a previous ``clusterlearn run`` wrote to ``out`` (asked for by --force)."""
    import json

    mf = out / MANIFEST
    try:
        tables = json.loads(mf.read_text(encoding="utf-8")).get("tables", [])
    except (OSError, ValueError):
        tables = []
    # The manifest goes first: a folder without it is never mistaken for a complete result.
    mf.unlink(missing_ok=True)
    for name in tables:
        if isinstance(name, str) and "/" not in name and "\\" not in name:
            (out / f"{name}.parquet").unlink(missing_ok=True)
    for name in ("report.html", SCENARIO_FILE, ERROR_LOG):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "figures", ignore_errors=True)


def prepare_output(out: Path, force: bool) -> None:
    """Check that ``out`` may receive a result, and create it.

    An existing folder must be empty or hold a clusterlearn result; an existing result is
    replaced only with ``force``.
    """
    if out.exists() and not out.is_dir():
        raise ClusterlearnError(f"--out {out}: is a file, expected a folder for the result")
    if out.is_dir():
        if (out / MANIFEST).exists():
            if not force:
                raise ClusterlearnError(
                    f"--out {out}: already holds a clusterlearn result; "
                    "add --force to replace it, or choose another folder"
                )
        elif any(out.iterdir()):
            raise ClusterlearnError(
                f"--out {out}: the folder exists and is not a clusterlearn result "
                f"(no {MANIFEST}); choose a new or empty folder"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".clusterlearn-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ClusterlearnError(
            f"--out {out}: cannot write there ({exc.strerror or exc}); "
            "choose a folder you can write to"
        ) from None
    if force and (out / MANIFEST).exists():
        _remove_old_result(out)


def _flow_table(result: Result) -> Table:
    from clusterlearn.report import summary

    table = Table(title="Knowledge absorbed by channel", title_justify="left")
    table.add_column("channel")
    table.add_column("name")
    table.add_column("network")
    table.add_column("absorbed", justify="right")
    table.add_column("share", justify="right")
    for r in summary.flows(result):
        table.add_row(r.code, r.name, r.network, summary.fmt_flow(r.total), f"{100 * r.share:.1f}%")
    return table


def _summary_table(result: Result) -> Table:
    from clusterlearn.report import summary

    keep = {
        "mean capability",
        "best firm's capability",
        "catch-up index",
        "Gini of capability",
        "mean trust",
        "mean in-cluster share of learning",
        "industrial level",
        "firms",
    }
    table = Table(title=f"Run summary: {result.scenario.name}", title_justify="left")
    table.add_column("outcome")
    table.add_column("start", justify="right")
    table.add_column("end", justify="right")
    for h in summary.headline(result):
        if h.label in keep:
            table.add_row(h.label, summary.fmt(h.start, h.count), summary.fmt(h.end, h.count))
    for label, value in summary.totals(result):
        if label in ("innovations", "upgrades"):
            table.add_row(f"{label} (total)", "", summary.fmt(value, count=True))
    return table


def print_summary(result: Result, out: Path, report: Path | None) -> None:
    """The summary table, flows by channel, and where the result and report are."""
    steps = int(result.metrics["step"].iloc[-1])
    out_console.print(_summary_table(result))
    out_console.print(_flow_table(result))
    for line in (
        f"steps run: {steps} of {result.scenario.steps}; seed: {result.seed}",
        f"result: {out}  (load with clusterlearn.Result.load)",
        f"report: {report}" if report is not None else "",
    ):
        if line:
            out_console.print(line, soft_wrap=True)


class _Interrupt:
    """SIGINT/SIGTERM handler: the first signal asks the run to stop after the current step
    (so the state stays consistent and can be saved); a second one aborts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _Interrupt:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        err_console.print(
            "\n[yellow]interrupt: stopping after this step and saving the partial result "
            "(press Ctrl-C again to abort without saving)[/yellow]"
        )


def _step_loop(sim: Any, steps: int, quiet: bool, stop: _Interrupt) -> None:
    """Step ``sim`` ``steps`` times with a progress display, until done or interrupted."""

    def mean_c() -> float:
        return float(sim.metric_rows[-1]["mean_capability"])

    if quiet:
        for _ in range(steps):
            if stop.requested:
                return
            sim.step()
        return
    if err_console.is_terminal:
        columns = (
            TextColumn("[bold blue]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps  mean capability [bold]{task.fields[cap]:.3f}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err_console) as bar:
            task = bar.add_task(sim.scenario.name, total=steps, cap=mean_c())
            for _ in range(steps):
                if stop.requested:
                    return
                sim.step()
                bar.update(task, advance=1, cap=mean_c())
        return
    # Not a terminal (a log file or a pipe): plain progress lines instead of a live bar.
    every = max(1, steps // 10)
    last = time.monotonic()
    for k in range(steps):
        if stop.requested:
            return
        sim.step()
        now = time.monotonic()
        if k == 0 or (k + 1) % every == 0 or k + 1 == steps or now - last > 10.0:
            last = now
            print(
                f"step {sim.state.t}/{steps}  mean capability {mean_c():.3f}",
                file=sys.stderr,
                flush=True,
            )


# --- commands ------------------------------------------------------------------------------
@app.command(
    help="Run a scenario, save its result and write its HTML report.\n\n"
    "Shows a progress bar with the current mean capability. Ctrl-C stops after the current "
    "step and saves the partial result (marked partial); the exit code is then 130. Prints "
    "a summary table and where the report is.",
    epilog="Examples:\n\n"
    "  clusterlearn run --preset baseline --out results/baseline\n\n"
    "  clusterlearn run my-cluster.toml --steps 40 --seed 7 --set firms.n=500 "
    "--set environment.openness=0.8 --out results/open\n\n"
    "  clusterlearn run --preset baseline --out results/demo --force   # replace a result",
)
def run(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Folder for the result and its report.", show_default=False
        ),
    ],
    scenario: ScenarioArg = None,
    preset: PresetOpt = None,
    steps: Annotated[
        int | None,
        typer.Option(
            "--steps",
            "-n",
            min=0,
            help="Steps to run (default: the scenario's `steps`).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            min=0,
            help="Seed of the run; the same seed replays it bit for bit. Without it, fresh "
            "entropy is drawn and printed.",
            show_default=False,
        ),
    ] = None,
    sets: SetOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a result already in --out.")
    ] = False,
    record_every: Annotated[
        int | None,
        typer.Option(
            "--record-every",
            min=1,
            help="Keep the firm table every N steps (panel).",
            show_default=False,
        ),
    ] = None,
    metrics_every: Annotated[
        int,
        typer.Option(
            "--metrics-every",
            min=1,
            help="Record the outcomes every N steps and at the last (flows every step).",
        ),
    ] = 1,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip the HTML report.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Run a scenario, save its result and write its HTML report."""
    from clusterlearn.model.engine import Simulation

    sc = load_scenario(scenario, preset, sets, steps)
    prepare_output(out, force)
    set_output_dir(out)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
        seed_note = f"seed {seed} (fresh; replay with --seed {seed})"
    else:
        seed_note = f"seed {seed}"
    out_console.print(
        f"running [bold]{sc.name}[/bold]: {sc.firms.n} firms, {sc.steps} steps, {seed_note}",
        soft_wrap=True,
    )
    with _Interrupt() as stop:
        try:
            sim = Simulation(sc, rng=seed, record_every=record_every, metrics_every=metrics_every)
            _step_loop(sim, sc.steps, quiet, stop)
        except KeyboardInterrupt:
            err_console.print("aborted: nothing saved")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        done = sim.state.t
        partial = done < sc.steps
        if not quiet:
            what = "the result" if no_report else "the result and writing the report"
            err_console.print(f"saving {what} ...")
        result = sim.result(partial=partial)
        result.save(out)
        sc.to_toml(out / SCENARIO_FILE)
        report = None
        if not no_report:
            from clusterlearn.report import build_report

            report = build_report(result, out)
    print_summary(result, out, report)
    if partial:
        err_console.print(
            f"[yellow]interrupted after step {done} of {sc.steps}: the partial result is saved "
            f"in {out} (marked partial)[/yellow]"
        )
        raise typer.Exit(EXIT_INTERRUPTED)


@app.command(
    epilog="Examples:\n\n"
    "  clusterlearn validate scenarios/baseline.toml\n\n"
    "  clusterlearn validate my-cluster.toml --set firms.n=5000",
)
def validate(
    scenario: Annotated[
        Path,
        typer.Argument(metavar="SCENARIO.toml", help="Scenario file to check.", show_default=False),
    ],
    sets: SetOpt = None,
) -> None:
    """Check a scenario file and print every problem at once (exit code 2 if there are any)."""
    sc = load_scenario(scenario, None, sets)
    given = sc.firms.attributes is not None or any(
        getattr(sc.networks, layer).edges is not None
        for layer in ("social", "value_chain", "competitor")
    )
    if given:
        # Input files named in the scenario are read only when the cluster is built.
        from clusterlearn.model.engine import Simulation

        Simulation(sc, rng=0)
    out_console.print(
        f"{scenario}: ok ([bold]{sc.name}[/bold]: {sc.firms.n} firms, {sc.steps} steps, "
        f"{len(sc.interventions)} interventions)"
    )


@app.command(epilog="Example:\n\n  clusterlearn presets")
def presets() -> None:
    """List the shipped scenarios, one line each (run one with `run --preset NAME`)."""
    table = Table(show_header=True, box=None, pad_edge=False)
    table.add_column("preset", style="bold")
    table.add_column("description")
    for name, text in preset_descriptions().items():
        table.add_row(name, text)
    out_console.print(table)


@app.command(
    epilog="Examples:\n\n  clusterlearn report results/baseline\n\n"
    "  clusterlearn report results/baseline --out /tmp/baseline-report",
)
def report(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="Folder of a saved result.", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the report (default: DIR itself).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """(Re)build the HTML report and figures of a saved result."""
    from clusterlearn.report import build_report

    if not folder.is_dir():
        raise ClusterlearnError(
            f"{folder}: no such folder (expected the folder of a saved clusterlearn result)"
        )
    target = out if out is not None else folder
    set_output_dir(target)
    try:
        result = Result.load(folder)
    except ClusterlearnError:
        raise
    except Exception as exc:  # damaged tables are bad input, not a bug
        raise ClusterlearnError(
            f"{folder}: cannot read the saved result ({type(exc).__name__}: {exc})"
        ) from None
    path = build_report(result, target)
    out_console.print(f"report: {path}")


@app.command(
    help="Write the model's ODD description (Grimm et al. 2020), generated from the code.\n\n"
    "It lists every registered channel with its docstring and parameters, every scenario "
    "parameter with its type, range, default and meaning, the schedule of a step, the "
    "environment levers and the recorded outcomes.",
    epilog="Examples:\n\n  clusterlearn odd --out ODD.md\n\n"
    "  clusterlearn odd --check docs/ODD.md\n\n"
    "  clusterlearn odd --preset baseline --out baseline-ODD.md\n\n"
    "  clusterlearn odd --scenario my-cluster.toml | less",
)
def odd(
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario", help="Also show this scenario file's values.", show_default=False
        ),
    ] = None,
    preset: PresetOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Markdown file to write (default: print it).", show_default=False
        ),
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option(
            "--check",
            help="Instead, check that a hand-written ODD (e.g. docs/ODD.md) mentions every "
            "channel, parameter, outcome and lever of the code; exit code 2 if not.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the model's ODD description (Grimm et al. 2020), generated from the code."""
    from clusterlearn.report import coverage_gaps, odd_markdown

    if check is not None:
        if not check.is_file():
            raise ClusterlearnError(f"--check {check}: no such file (expected a Markdown file)")
        gaps = coverage_gaps(check.read_text(encoding="utf-8", errors="replace"))
        if gaps:
            raise ClusterlearnError(
                f"{check} does not mention {len(gaps)} model element(s) the code defines:\n"
                + "\n".join(f"  - {g}" for g in gaps)
            )
        out_console.print(f"{check}: mentions every channel, parameter, outcome and lever")
        return
    sc = load_scenario(scenario, preset) if (scenario or preset) else None
    text = odd_markdown(sc)
    if out is None:
        sys.stdout.write(text)
        return
    if out.is_dir():
        raise ClusterlearnError(f"--out {out}: is a folder, expected a Markdown file name")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ClusterlearnError(
            f"--out {out}: cannot write there ({exc.strerror or exc})"
        ) from None
    err_console.print(f"wrote {out}")
