"""Running the propositions through the experiments machinery and writing the report.

Every arm of a proposition's design is one :class:`clusterlearn.experiments.Experiment` with a
single design point, stored in ``DIR/experiments/<id>/<arm>``. All arms of a proposition share
one root seed, so replication ``r`` of every arm draws the same stream (common random
numbers: arms differ only by their overrides). Each proposition's seed is a child of
``SeedSequence(seed).spawn(12)`` in the order P1..P12, so ``--only`` does not change it.
Rerunning with the same ``DIR`` resumes: stored runs are read back, not recomputed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clusterlearn.errors import ClusterlearnError
from clusterlearn.propositions.definitions import PROPOSITIONS, Proposition
from clusterlearn.propositions.design import Arm, Design, Tables, run_outcomes
from clusterlearn.propositions.report import (
    coefficients_records,
    write_html,
    write_json,
    write_markdown,
)
from clusterlearn.propositions.verdict import RULE_TEXT

DEFAULT_SEED = 20070601
# Seconds per firm-step of one run on one idle core (300 firms x 100 steps ~ 0.8-1.2 s on the
# development machine); used only to state the budget before a run. A loaded machine is
# slower: the full run took about 20 minutes on 2 cores shared with other work.
SECONDS_PER_FIRM_STEP = 4e-5
# Fixed cost per arm (worker pool start, store, read-back).
SECONDS_PER_ARM = 1.5


class PropositionsError(ClusterlearnError, ValueError):
    """Bad propositions request (unknown id, bad option)."""


def select(only: str | Sequence[str] | None) -> list[Proposition]:
    """The propositions named in ``only`` (e.g. ``"P1,P3"``), in P1..P12 order; all if None."""
    if only is None or only == "" or only == []:
        return list(PROPOSITIONS.values())
    names = [s.strip().upper() for s in (only.split(",") if isinstance(only, str) else only)]
    names = [n for n in names if n]
    bad = [n for n in names if n not in PROPOSITIONS]
    if bad or not names:
        raise PropositionsError(
            f"--only: unknown proposition {', '.join(bad) or '(none given)'}; expected ids "
            f"among {', '.join(PROPOSITIONS)} separated by commas, e.g. --only P1,P3"
        )
    return [p for p in PROPOSITIONS.values() if p.id in names]


def proposition_seed(seed: int, pid: str) -> int:
    """The root seed of proposition ``pid``: spawned from ``SeedSequence(seed)``."""
    k = list(PROPOSITIONS).index(pid)
    child = np.random.SeedSequence(seed).spawn(len(PROPOSITIONS))[k]
    return int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "arm"


def budget(props: Sequence[Proposition], quick: bool, workers: int) -> dict[str, Any]:
    """Runs and an estimated wall time (seconds) of the selected propositions."""
    from clusterlearn.scenario import Scenario

    runs = 0
    cost = 0.0
    for p in props:
        d = p.design(quick)
        sc = Scenario.preset(d.scenario).with_overrides(d.base) if d.base else None
        n = (sc or Scenario.preset(d.scenario)).firms.n
        for arm in d.arms:
            steps = d.steps if arm.steps is None else arm.steps
            runs += d.replications
            cost += d.replications * n * max(steps, 1) * SECONDS_PER_FIRM_STEP / max(workers, 1)
            cost += SECONDS_PER_ARM
    return {"runs": runs, "estimated_seconds": cost}


def experiment_for(design: Design, arm: Arm, pid: str, seed: int) -> Any:
    """The :class:`~clusterlearn.experiments.Experiment` of one arm."""
    from clusterlearn.experiments import Experiment, Outcomes
    from clusterlearn.scenario import Scenario

    scenario = Scenario.preset(design.scenario).with_overrides({**design.base, **arm.overrides})
    label = f"{pid}-{arm.name}"
    return Experiment(
        name=label,
        description=f"proposition {pid}, arm {arm.name}",
        scenario=scenario,
        # One design point per arm: a neutral factor (the scenario's name) labels it.
        factors={"name": [label]},
        replications=design.replications,
        steps=design.steps if arm.steps is None else arm.steps,
        seed=seed,
        outcomes=Outcomes(final=True, series=True, firms=design.firms),
    )


def run_design(
    design: Design,
    pid: str,
    out: Path,
    seed: int,
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = False,
) -> Tables:
    """Run (or resume) every arm of ``design`` through the experiments machinery and read
    the stored outcomes back as :class:`Tables`."""
    from clusterlearn.experiments import run_experiment

    runs, firms = [], []
    ran = 0
    for arm in design.arms:
        exp = experiment_for(design, arm, pid, seed)
        res = run_experiment(
            exp,
            out / "experiments" / pid / _slug(arm.name),
            backend=backend,
            workers=workers,
            address=address,
            progress=progress,
        )
        ran += res.ran
        c = res.counts
        if c["done"] < design.replications:
            errors = "; ".join(res.failures["error"].astype(str).unique()[:3])
            raise ClusterlearnError(
                f"{pid}, arm {arm.name}: {c['failed']} of {c['total']} runs failed ({errors}); "
                f"see {res.path}"
            )
        series = res.series()
        for rep, g in series.groupby("replication"):
            runs.append({"arm": arm.name, "replication": int(rep), **arm.values, **run_outcomes(g)})
        if design.firms:
            f = res.firms().drop(columns=["point"], errors="ignore")
            firms.append(f.assign(arm=arm.name, **arm.values))
    tables = Tables(
        pd.DataFrame(runs), pd.concat(firms, ignore_index=True) if firms else pd.DataFrame()
    )
    tables.ran = ran
    return tables


def run_propositions(
    out: str | Path,
    *,
    quick: bool = False,
    only: str | Sequence[str] | None = None,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the propositions' experiments and write ``propositions.{json,md,html}`` to ``out``.

    Parameters
    ----------
    out : path
        The report folder; the experiments' stores go to ``out/experiments``.
    quick : bool
        The reduced variant (80 firms, 40 steps, 5-6 replications).
    only : str or list of str, optional
        Proposition ids, e.g. ``"P1,P3"``; all twelve by default.
    backend, workers, address
        As for :func:`clusterlearn.experiments.run_experiment`. ``"dask-local"`` starts one
        ``distributed.LocalCluster`` for all the experiments.
    seed : int
        The root seed.
    progress : bool
        Show the experiments' progress bars.
    log : callable, optional
        Receives one line of text per step (e.g. ``print``).

    Returns
    -------
    list of dict
        The proposition objects written to ``propositions.json``.
    """
    import clusterlearn
    from clusterlearn.result import versions

    say = log or (lambda _msg: None)
    props = select(only)
    from clusterlearn.experiments import BACKENDS

    if backend not in BACKENDS:
        raise PropositionsError(
            f"--backend: expected one of {', '.join(BACKENDS)}, got {backend!r}"
        )
    if backend == "dask" and not address:
        raise PropositionsError("--backend dask needs --address tcp://HOST:PORT of a scheduler")
    if seed < 0:
        raise PropositionsError(f"--seed: expected a whole number >= 0, got {seed}")
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise PropositionsError(f"--out: {root} exists and is not a folder")
    (root / "figures").mkdir(parents=True, exist_ok=True)
    n_workers = workers or _cores()
    plan = budget(props, quick, n_workers)
    say(
        f"{'quick' if quick else 'full'} variant: {len(props)} propositions, {plan['runs']} runs, "
        f"budget about {plan['estimated_seconds'] / 60:.0f} min on {n_workers} workers "
        f"(~{plan['estimated_seconds']:.0f} s)"
    )
    entries: list[dict[str, Any]] = []
    ran = 0
    t_all = time.perf_counter()
    with ExitStack() as stack:
        if backend == "dask-local":
            # One local cluster for every experiment instead of one per arm.
            from distributed import LocalCluster

            cluster = stack.enter_context(
                LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True)
            )
            backend, address = "dask", cluster.scheduler_address
        for p in props:
            t0 = time.perf_counter()
            design = p.design(quick)
            pseed = proposition_seed(seed, p.id)
            tables = run_design(
                design, p.id, root, pseed, backend=backend, workers=workers,
                address=address, progress=progress,
            )  # fmt: skip
            ran += tables.ran
            rng = np.random.default_rng(np.random.SeedSequence(pseed).spawn(1)[0])
            outcome = p.analyse(tables, rng)
            fig_rel = f"figures/{p.id}.png"
            outcome.figure.suptitle(f"{p.id}: {p.title} -- {outcome.verdict}", fontsize=10)
            outcome.figure.savefig(root / fig_rel, dpi=110)
            head = outcome.parts[0]
            entry = {
                "id": p.id,
                "title": p.title,
                "claim": p.claim,
                "thesis": p.thesis,
                "measured": p.measured,
                "experiment": {**design.describe(), "seed": pseed},
                "statistic": p.statistic,
                "effect": _num(head.effect),
                "ci_low": _num(head.ci_low),
                "ci_high": _num(head.ci_high),
                "p_value": _num(head.p_value),
                "verdict": outcome.verdict,
                "rule": RULE_TEXT,
                "parts": [e.to_dict() for e in outcome.parts],
                "coefficients": coefficients_records(outcome.table),
                "figure": fig_rel,
                "notes": outcome.notes,
                "seconds": round(time.perf_counter() - t0, 2),
            }
            entries.append(entry)
            say(
                f"{p.id} {p.title}: {outcome.verdict} (effect {head.effect:.3g}, 95% CI "
                f"[{head.ci_low:.3g}, {head.ci_high:.3g}]; {design.runs()} runs, "
                f"{entry['seconds']:.0f} s)"
            )
    meta = {
        "variant": "quick" if quick else "full",
        "seed": seed,
        "runs": plan["runs"],
        "ran": ran,
        "seconds": round(time.perf_counter() - t_all, 2),
        "budget_seconds": round(plan["estimated_seconds"], 1),
        "workers": n_workers,
        "backend": backend,
        "versions": {**versions(), "clusterlearn": clusterlearn.__version__},
    }
    write_json(root / "propositions.json", meta, entries)
    write_markdown(root / "propositions.md", meta, entries)
    write_html(root / "propositions.html", meta, entries, root)
    return entries


def _num(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _cores() -> int:
    import os

    return os.cpu_count() or 1
