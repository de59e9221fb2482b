"""Benchmarks of clusterlearn: speed against the Mesa reference, scaling, memory, a profile,
and the full docking run. ``make bench`` runs this script and writes ``benchmarks/results.md``.

Usage::

    .venv/bin/python benchmarks/run.py            # the full run (tens of minutes)
    .venv/bin/python benchmarks/run.py --quick    # a short version (a few minutes)
    .venv/bin/python benchmarks/run.py --out other.md

Every number in one results file is measured in one run on one machine. Each full-model size
runs in a fresh subprocess so that its peak memory (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import importlib.util
import itertools
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so that `benchmarks.*` imports work when run as a script

from clusterlearn import Scenario  # noqa: E402
from clusterlearn.model.engine import Simulation  # noqa: E402
from clusterlearn.model.kernel import kernels, use_kernels  # noqa: E402
from clusterlearn.model.metrics import METRICS  # noqa: E402

# The Mesa reference (mesa, networkx) is imported where it is used, so that the full-model
# workers' peak memory holds only what clusterlearn needs.

SEED = 20240601


@dataclass(frozen=True)
class Plan:
    """How much to measure: the full run or ``--quick``."""

    reduced_sizes: tuple[int, ...]
    reduced_steps: dict[int, int]
    reference_steps: dict[int, int]
    full_steps: dict[int, int]
    tie_firms: int
    tie_degrees: tuple[float, ...]
    tie_steps: int
    profile_firms: int
    profile_steps: int
    docking_seeds: int


FULL = Plan(
    reduced_sizes=(1_000, 10_000),
    reduced_steps={1_000: 100, 10_000: 80},
    reference_steps={1_000: 10, 10_000: 8},
    full_steps={1_000: 100, 10_000: 100, 100_000: 50, 1_000_000: 100},
    tie_firms=100_000,
    tie_degrees=(3.0, 6.0, 12.0, 24.0, 48.0),
    tie_steps=20,
    profile_firms=100_000,
    profile_steps=8,
    docking_seeds=100,
)
QUICK = Plan(
    reduced_sizes=(1_000, 10_000),
    reduced_steps={1_000: 20, 10_000: 10},
    reference_steps={1_000: 2, 10_000: 1},
    full_steps={1_000: 20, 10_000: 12, 100_000: 8, 1_000_000: 4},
    tie_firms=30_000,
    tie_degrees=(3.0, 6.0, 12.0, 24.0),
    tie_steps=8,
    profile_firms=100_000,
    profile_steps=2,
    docking_seeds=30,
)


# --- workers (run in a fresh subprocess) ----------------------------------------------------
def full_scenario(n: int, social_degree: float | None = None) -> Scenario:
    """The baseline preset, every channel on, with ``n`` firms."""
    over: dict[str, Any] = {"firms.n": n}
    if social_degree is not None:
        over["networks.social.mean_degree"] = social_degree
    return Scenario.preset("baseline").with_overrides(over)


def current_rss_mb() -> float:
    """Resident memory now (Linux /proc), or the peak so far where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_full(n: int, steps: int, social_degree: float | None) -> dict[str, Any]:
    """Build and run the full model; time each step and report peak memory."""
    sc = full_scenario(n, social_degree)
    # Load (or, on a cold cache, compile) the compiled kernels on a small cluster first, so
    # that the timed steps measure the model, not the JIT.
    t0 = time.perf_counter()
    warm = Simulation(full_scenario(500, social_degree), rng=SEED)
    warm.run(sc.networks.update_every + 1)
    del warm
    t_jit = time.perf_counter() - t0
    base = current_rss_mb()  # the interpreter, its imports and the kernels, before the cluster
    t0 = time.perf_counter()
    sim = Simulation(sc, rng=SEED)
    t_init = time.perf_counter() - t0
    ties = sim.state.social.m + sim.state.value_chain.m
    firm_steps = 0
    times: list[float] = []
    failure = None
    for _ in range(steps):
        n_now = sim.state.n
        t0 = time.perf_counter()
        try:
            sim.step()
        except Exception as exc:  # report how far the run got, and why it stopped
            failure = f"step {len(times)}: {type(exc).__name__}: {exc}"
            break
        times.append(time.perf_counter() - t0)
        firm_steps += n_now
    steps = len(times)
    t_run = float(sum(times))
    # Networks update every few steps, so single steps differ by design; the median over
    # blocks of whole update cycles is robust to load spikes on a shared machine.
    every = sim.scenario.networks.update_every
    blocks = [float(np.mean(times[k : k + every])) for k in range(0, len(times) - every + 1, every)]
    return {
        "first_s": times[0] if times else float("nan"),
        "robust_s": float(np.median(blocks)) if blocks else t_run / max(steps, 1),
        "base_mb": base,
        "n": n,
        "steps": steps,
        "failure": failure,
        "max_social_degree": int(sim.state.social.degree(sim.state.n).max(initial=0)),
        "social_degree": social_degree,
        "init_s": t_init,
        "jit_s": t_jit,
        "kernels": kernels(),
        "run_s": t_run,
        "firm_steps": firm_steps,
        "ties": ties,
        "final_n": sim.state.n,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def in_subprocess(
    n: int, steps: int, social_degree: float | None = None, backend: str | None = None
) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(n), str(steps)]
    if social_degree is not None:
        cmd += ["--degree", str(social_degree)]
    env = dict(os.environ)
    if backend is not None:
        env["CLUSTERLEARN_KERNELS"] = backend
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        return {"n": n, "steps": steps, "error": out.stderr.strip().splitlines()[-1:] or ["?"]}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# --- measurements -----------------------------------------------------------------------
def reduced_speed(plan: Plan) -> list[dict[str, Any]]:
    """Firm-steps per second on the reduced model: clusterlearn and the Mesa reference.

    Interleaved, so that both see the same machine: a round is one reference step, then a
    block of steps of each clusterlearn variant (outcomes every step, outcomes at the end,
    pure-numpy kernels). Each side's speed is ``firms / median time of a step``, which a
    load spike of a shared machine does not move (nor the first step, which builds caches).
    """
    from benchmarks.mesa_reference.bridge import (
        initial_cluster,
        params_from_scenario,
        reduced_scenario,
    )
    from benchmarks.mesa_reference.model import ClusterModel

    rows = []
    for n in plan.reduced_sizes:
        steps = plan.reduced_steps[n]
        rounds = plan.reference_steps[n]
        block = max(1, steps // rounds)
        sc = reduced_scenario(n, steps)
        variants = {  # name: (kernels, metrics_every)
            "numba": ("numba", 1),
            "end_only": ("numba", steps),  # outcomes only at the end, as the reference
            "numpy": ("numpy", 1),
        }
        sims = {}
        for name, (backend, every) in variants.items():
            with use_kernels(backend):
                Simulation(reduced_scenario(200, 5), rng=SEED).run(5)  # load the kernels
                sims[name] = Simulation(sc, rng=SEED, metrics_every=every)
        model = ClusterModel(initial_cluster(sc, SEED), params_from_scenario(sc), seed=SEED)
        times: dict[str, list[float]] = {name: [] for name in [*variants, "reference"]}
        for _ in range(rounds):
            t0 = time.perf_counter()
            model.step()
            times["reference"].append(time.perf_counter() - t0)
            for name, sim in sims.items():
                with use_kernels(variants[name][0]):
                    for _ in range(block):
                        t0 = time.perf_counter()
                        sim.step()
                        times[name].append(time.perf_counter() - t0)
        out: dict[str, Any] = {"n": n, "rounds": rounds, "block": block}
        for name, ts in times.items():
            out[name] = n / float(np.median(ts))
            out[f"{name}_steps"] = len(ts)
        out["clusterlearn"] = out["numba"]
        out["ratio"] = out["numba"] / out["reference"]
        rows.append(out)
        print(
            f"  reduced n={n}: clusterlearn {out['numba']:,.0f} fs/s (outcomes at the end "
            f"{out['end_only']:,.0f}, numpy kernels {out['numpy']:,.0f}), "
            f"reference {out['reference']:,.0f} fs/s",
            flush=True,
        )
    return rows


def loglog_slope(x: list[float], y: list[float]) -> float:
    """Exponent b of y ~ x^b by least squares on logs."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


COMPONENTS = {
    "informal": "C1 informal",
    "cooperation": "C2 cooperation",
    "mobility": "C3 mobility",
    "spinoff": "C4 spin-offs",
    "imitation": "C5 imitation",
    "training": "A1 training",
    "personnel": "A2 personnel",
    "infrastructure": "A3 infrastructure",
    "events": "A4 events",
    "services": "A5 services",
    "outward": "X1 outward",
}


def _label(key: tuple[str, int, str]) -> str:
    path, _, func = key
    p = Path(path)
    if p.parent.name == "channels" and p.stem in COMPONENTS:
        return f"{COMPONENTS[p.stem]} ({func})"
    if p.parent.name in ("processes", "model"):
        return f"{p.stem}.{func}"
    if path == "~":
        return func
    return f"{p.stem}.{func}"


def profile_step(plan: Plan) -> dict[str, Any]:
    """cProfile of ``Simulation.step`` on the full model."""
    warm = Simulation(full_scenario(500), rng=SEED)
    warm.run(5)  # load the compiled kernels outside the profile
    sim = Simulation(full_scenario(plan.profile_firms), rng=SEED)
    sim.step()  # warm caches (CSR views, proximity) outside the profile
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(plan.profile_steps):
        sim.step()
    prof.disable()
    wall = (time.perf_counter() - t0) / plan.profile_steps
    st = pstats.Stats(prof)
    raw: dict[Any, Any] = st.stats  # type: ignore[attr-defined]
    per = float(plan.profile_steps)
    step_key = next(k for k in raw if k[2] == "step" and k[0].endswith("engine.py"))
    total = raw[step_key][3] / per
    # Simulation.step sets the threads and calls the body, Simulation._step: the body's
    # direct callees are one row per channel and per process.
    body_key = next((k for k in raw if k[2] == "_step" and k[0].endswith("engine.py")), step_key)
    parts = []
    for key, (*_, callers) in raw.items():
        if body_key in callers:
            parts.append((_label(key), callers[body_key][3] / per))
    parts.sort(key=lambda r: -r[1])
    by_cum = sorted(raw.items(), key=lambda kv: -kv[1][3])
    by_tot = sorted(raw.items(), key=lambda kv: -kv[1][2])
    return {
        "firms": plan.profile_firms,
        "steps": plan.profile_steps,
        "wall_per_step": wall,
        "profiled_per_step": total,
        "parts": parts,
        "top_cum": [(_label(k), v[3] / per, v[1]) for k, v in by_cum[:20]],
        "top_tot": [(_label(k), v[2] / per, v[1]) for k, v in by_tot[:20]],
    }


def docking_run(plan: Plan) -> dict[str, Any]:
    """The full docking run: clusterlearn and the reference, many seeds each."""
    from benchmarks.mesa_reference import docking
    from benchmarks.mesa_reference.bridge import reduced_scenario

    seeds = range(plan.docking_seeds)
    n, steps = 60, 20
    eng = docking.collect("clusterlearn", seeds, n, steps)
    seq = docking.collect("reference", seeds, n, steps, kind="reference")
    sim = docking.collect(
        "reference (simultaneous)", seeds, n, steps, kind="reference", update="simultaneous"
    )
    rate = reduced_scenario(n, steps).channels.informal.rate * 1.25
    ctrl = docking.collect(
        "reference, C1 rate x1.25",
        seeds,
        n,
        steps,
        kind="reference",
        param_changes={"informal_rate": rate},
    )
    lww = docking.collect(
        "reference (simultaneous, once per tie)",
        seeds,
        n,
        steps,
        kind="reference",
        update="simultaneous",
        param_changes={"once_per_tie": True},
    )
    level = 0.05 / len(docking.OUTCOMES)
    return {
        "seeds": plan.docking_seeds,
        "n": n,
        "steps": steps,
        "level": level,
        "shift80": docking.detectable_shift(plan.docking_seeds, level),
        "tables": [
            ("clusterlearn vs reference (sequential, Mesa shuffle_do)", eng, seq),
            ("clusterlearn vs reference (simultaneous updates)", eng, sim),
            ("reference: sequential vs simultaneous updates (by design)", seq, sim),
            ("negative control: clusterlearn vs reference with C1 rate x1.25", eng, ctrl),
            (
                "sensitivity: clusterlearn vs reference with the earlier engine's trust rule "
                "(at most one rise and one fall per tie and step; see docs/benchmarks.md)",
                eng,
                lww,
            ),
        ],
    }


# --- report -------------------------------------------------------------------------------
def _git_commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"


def render(plan: Plan, quick: bool, res: dict[str, Any]) -> str:
    from benchmarks.mesa_reference import docking

    L: list[str] = []
    L.append("# clusterlearn benchmarks\n")
    L.append(
        f"Measured {res['date']} on {res['machine']} ({os.cpu_count()} logical CPUs), "
        f"Python {platform.python_version()}, numpy {np.__version__}, commit {_git_commit()}; "
        f"{'quick run (`--quick`)' if quick else 'full run'}. Load average at start "
        f"{res['load_start']}, at end {res['load_end']} (the machine may be shared: numbers are "
        "noisy). Firm-steps/s = firms x steps / wall time of the steps (initialisation "
        "excluded); for the reduced model, firms / the median time of a step. Regenerate with "
        "`make bench`; see docs/benchmarks.md.\n"
    )
    L.append("## Reduced model: clusterlearn vs the Mesa reference\n")
    L.append(
        "C1 informal exchange + C2 cooperation + SECI + trust dynamics; everything else off "
        "(see `benchmarks/mesa_reference/bridge.py`). Same initial cluster for both.\n"
    )
    L.append(
        "The reference keeps its state and its flows per step; clusterlearn records its "
        f"{len(METRICS)} outcomes and 15 flows every step (the third column), or its outcomes "
        "only at the end like the reference (`metrics_every`, the fifth: the like-for-like "
        "comparison). The compiled kernels were loaded before timing. The two are measured "
        "in turns, so that both see the same machine: a round is one reference step, then a "
        "block of steps of each clusterlearn variant; each speed is firms / the median time "
        "of a step (see docs/benchmarks.md).\n"
    )
    L.append(
        "| firms | reference firm-steps/s | clusterlearn firm-steps/s | ratio "
        "| clusterlearn, outcomes at the end | ratio | clusterlearn, pure-numpy kernels "
        "| ratio |"
    )
    L.append("|---|---|---|---|---|---|---|---|")
    for r in res["reduced"]:
        ref = r["reference"]
        L.append(
            f"| {r['n']:,} | {ref:,.0f} | {r['clusterlearn']:,.0f} | {r['ratio']:,.0f}x "
            f"| {r['end_only']:,.0f} | {r['end_only'] / ref:,.0f}x "
            f"| {r['numpy']:,.0f} | {r['numpy'] / ref:,.0f}x |"
        )
    L.append("\n## Full model (baseline preset, every channel on)\n")
    L.append(
        "Compiled kernels (numba, both cores) unless the row says pure-numpy; each worker "
        "loads them on a 500-firm cluster before the timed run. Peak memory is the worker "
        "process's peak resident set (`ru_maxrss`); the model's share is that minus the "
        "resident memory of the interpreter, its imports and the kernels before the cluster "
        "is built.\n"
    )
    L.append(
        "| firms | ties (social + value chain) | steps | init s | first step s | mean s/step "
        "| median s/step | firm-steps/s | peak memory MB | of which the model MB |"
    )
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in res["full"]:
        if "error" in r or r["steps"] == 0:
            why = " ".join(r.get("error", [])) or str(r.get("failure"))
            L.append(f"| {r['n']:,} | failed: {why} | | | | | | | | |")
            continue
        L.append(
            f"| {r['n']:,} | {r['ties']:,} | {r['steps']} | {r['init_s']:.2f} | "
            f"{r['first_s']:.4f} | {r['run_s'] / r['steps']:.4f} | {r['robust_s']:.4f} | "
            f"{r['firm_steps'] / r['run_s']:,.0f} | {r['maxrss_mb']:,.0f} | "
            f"{r['maxrss_mb'] - r['base_mb']:,.0f} |"
        )
    r = res.get("full_numpy")
    if r and "error" not in r and r["steps"]:
        L.append(
            f"| {r['n']:,}, pure-numpy kernels | {r['ties']:,} | {r['steps']} | "
            f"{r['init_s']:.2f} | {r['first_s']:.4f} | {r['run_s'] / r['steps']:.4f} | "
            f"{r['robust_s']:.4f} | {r['firm_steps'] / r['run_s']:,.0f} | "
            f"{r['maxrss_mb']:,.0f} | {r['maxrss_mb'] - r['base_mb']:,.0f} |"
        )
    notes = [
        f"- {r['n']:,} firms stopped after {r['steps']} steps: {r['failure']}"
        for r in res["full"]
        if r.get("failure")
    ]
    notes += [
        f"- {r['n']:,} firms: the largest social degree at the end was {r['max_social_degree']:,}"
        for r in res["full"]
        if "max_social_degree" in r
    ]
    if notes:
        L.append("")
        L.extend(notes)
    L.append("\n## Scaling\n")
    ok = sorted(
        (r for r in res["full"] if "error" not in r and r["steps"] > 0), key=lambda r: r["n"]
    )
    local = ", ".join(
        f"{a['n']:,} to {b['n']:,} firms "
        f"{loglog_slope([a['n'], b['n']], [a['robust_s'], b['robust_s']]):.2f}"
        for a, b in itertools.pairwise(ok)
    )
    per_firm = ", ".join(f"{r['n']:,}: {r['robust_s'] / r['n'] * 1e6:.2f}" for r in ok)
    L.append(
        f"Time per step ~ firms^{res['exp_firms']:.2f} (log-log fit of the median s/step over "
        "the sizes above). The exponent between consecutive sizes "
        f"(1 is linear; below 1, fixed costs per step still count): {local}. "
        f"Microseconds per firm-step (median s/step / firms): {per_firm}.\n\n"
        f"At {plan.tie_firms:,} firms, varying the social layer's mean degree:\n"
    )
    L.append("| social mean degree | ties | mean s/step | median s/step | peak memory MB |")
    L.append("|---|---|---|---|---|")
    for r in res["ties"]:
        if "error" in r or r["steps"] == 0:
            L.append(f"| {r.get('social_degree')} | failed | | | |")
            continue
        L.append(
            f"| {r['social_degree']:g} | {r['ties']:,} | {r['run_s'] / r['steps']:.4f} | "
            f"{r['robust_s']:.4f} | {r['maxrss_mb']:,.0f} |"
        )
    L.append(
        f"\nTime per step ~ ties^{res['exp_ties']:.2f} at fixed firms; part of a step is per firm, "
        f"so a linear fit s/step = a + b x ties is more telling: b = {res['per_mtie']:.3f} s per "
        "million ties per step.\n"
    )
    p = res["profile"]
    L.append(f"## Where a full step's time goes ({p['firms']:,} firms)\n")
    L.append(
        f"cProfile of `Simulation.step`, {p['steps']} steps after one warm-up step: "
        f"{p['wall_per_step']:.3f} s per step under the profiler "
        f"({p['profiled_per_step']:.3f} s attributed to `step`). Per channel and process "
        "(the direct callees of the step body `_step`, cumulative time per step):\n"
    )
    L.append("| part | s/step | share |")
    L.append("|---|---|---|")
    for name, t in p["parts"]:
        if t >= 0.0005:
            L.append(f"| {name} | {t:.4f} | {t / p['profiled_per_step']:.1%} |")
    L.append("\nTop functions by cumulative time (per step):\n")
    L.append("| function | cumulative s/step | calls |")
    L.append("|---|---|---|")
    for name, t, calls in p["top_cum"]:
        L.append(f"| {name} | {t:.4f} | {calls} |")
    L.append("\nTop functions by own time (where the time is actually spent):\n")
    L.append("| function | own s/step | calls |")
    L.append("|---|---|---|")
    for name, t, calls in p["top_tot"]:
        L.append(f"| {name} | {t:.4f} | {calls} |")
    d = res["docking"]
    if d is None:
        L.append("\n## Docking with the Mesa reference\n\nLeft out (`--skip-docking`).\n")
        d = {"tables": []}
    else:
        L.append("\n## Docking with the Mesa reference\n")
        L.append(
            f"{d['seeds']} seeds per side, {d['n']} firms, {d['steps']} steps, identical initial "
            f"clusters. Two-sample Kolmogorov-Smirnov per outcome at level {d['level']:.3f} "
            f"(0.05 over {len(docking.OUTCOMES)} outcomes, Bonferroni); with {d['seeds']} seeds "
            f"the test has 80% power against a location shift of {d['shift80']:.2f} standard "
            "deviations of an outcome. Relative difference = (mean B - mean A) / mean A.\n"
        )
    for title, a, b in d["tables"]:
        rows = docking.compare(a, b)
        verdict = ", ".join(
            f"{r.outcome} {'differs' if r.ks_p <= d['level'] else 'ok'}" for r in rows
        )
        L.append(f"### {title}\n")
        L.append(docking.table(a, b, rows))
        L.append(f"\nKS verdict: {verdict}.\n")
    if res.get("sweep"):
        L.append(res["sweep"].strip() + "\n")
    return "\n".join(L) + "\n"


def sweep_section(quick: bool) -> str | None:
    """The sweep benchmark's markdown section, when ``benchmarks/sweep_bench.py`` exists."""
    if importlib.util.find_spec("benchmarks.sweep_bench") is None:
        return None
    try:
        mod = importlib.import_module("benchmarks.sweep_bench")
        return str(mod.run(quick))
    except Exception as exc:  # report, do not lose the other numbers
        return f"## Sweeps\n\nThe sweep benchmark failed: {type(exc).__name__}: {exc}\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Benchmarks of clusterlearn (speed against the Mesa reference, scaling, "
        "memory, a profile, docking); writes benchmarks/results.md."
    )
    ap.add_argument("--quick", action="store_true", help="a short version (a few minutes)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results.md"), help="output file")
    ap.add_argument(
        "--worker", nargs=2, type=int, metavar=("FIRMS", "STEPS"), help=argparse.SUPPRESS
    )
    ap.add_argument("--degree", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--skip-docking", action="store_true", help="leave out the docking run")
    ap.add_argument(
        "--million-steps", type=int, default=None, help="steps at 1,000,000 firms (time is short)"
    )
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker_full(args.worker[0], args.worker[1], args.degree)))
        return 0
    plan = QUICK if args.quick else FULL
    if args.million_steps is not None:
        plan = replace(plan, full_steps={**plan.full_steps, 1_000_000: args.million_steps})
    res: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.system()} {platform.machine()} {platform.processor() or ''}".strip(),
        "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    print("reduced model: clusterlearn vs Mesa reference", flush=True)
    res["reduced"] = reduced_speed(plan)
    print("full model, one subprocess per size", flush=True)
    res["full"] = []
    for n, steps in plan.full_steps.items():
        r = in_subprocess(n, steps)
        res["full"].append(r)
        print(f"  n={n}: {r}", flush=True)
    ok = [r for r in res["full"] if "error" not in r and r["steps"] > 0]
    numpy_n = 100_000 if not args.quick else 10_000
    print(f"full model, {numpy_n} firms, pure-numpy kernels", flush=True)
    res["full_numpy"] = in_subprocess(numpy_n, plan.full_steps[numpy_n], backend="numpy")
    res["exp_firms"] = loglog_slope([r["n"] for r in ok], [r["robust_s"] for r in ok])
    print("ties scaling", flush=True)
    res["ties"] = [in_subprocess(plan.tie_firms, plan.tie_steps, k) for k in plan.tie_degrees]
    ok = [r for r in res["ties"] if "error" not in r and r["steps"] > 0]
    res["exp_ties"] = loglog_slope([r["ties"] for r in ok], [r["robust_s"] for r in ok])
    res["per_mtie"] = float(
        np.polyfit([r["ties"] / 1e6 for r in ok], [r["robust_s"] for r in ok], 1)[0]
    )
    print("profile", flush=True)
    res["profile"] = profile_step(plan)
    if args.skip_docking:
        res["docking"] = None
    else:
        print("docking", flush=True)
        res["docking"] = docking_run(plan)
    print("sweeps", flush=True)
    res["sweep"] = sweep_section(args.quick)
    res["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = render(plan, args.quick, res)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
