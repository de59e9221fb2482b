"""Docking (Axtell et al. 1996): run clusterlearn and the Mesa reference on the same reduced
model, many seeds each, and compare the distributions of the final outcomes.

Both start from the identical cluster for a given seed (the reference takes clusterlearn's
initial state); the dynamics and the random draws are each implementation's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from benchmarks.mesa_reference.bridge import initial_cluster, params_from_scenario, reduced_scenario
from benchmarks.mesa_reference.model import ClusterModel, ReferenceParams, Update
from numpy.typing import NDArray
from scipy import stats

from clusterlearn import Scenario, simulate

FloatArray = NDArray[np.float64]

OUTCOMES = ("mean_capability", "gini_capability", "flow_C1", "flow_C2", "mean_trust")


def gini(x: FloatArray) -> float:
    """Gini coefficient: mean absolute difference over twice the mean (0 = equal)."""
    s = np.sort(np.asarray(x, dtype=np.float64))
    n = s.size
    if n == 0 or s.sum() <= 0:
        return 0.0
    return float(np.sum((2.0 * np.arange(1, n + 1) - n - 1) * s) / (n * s.sum()))


def clusterlearn_outcomes(sc: Scenario, seed: int) -> dict[str, float]:
    """Final outcomes of one clusterlearn run (its own reporters)."""
    r = simulate(sc, rng=seed)
    last = r.metrics.iloc[-1]
    return {
        "mean_capability": float(last["mean_capability"]),
        "gini_capability": float(last["gini_capability"]),
        "flow_C1": float(r.flows["C1"].sum()),
        "flow_C2": float(r.flows["C2"].sum()),
        "mean_trust": float(last["mean_trust"]),
    }


def reference_outcomes(
    sc: Scenario,
    seed: int,
    update: Update = "sequential",
    params: ReferenceParams | None = None,
) -> dict[str, float]:
    """Final outcomes of one Mesa reference run from clusterlearn's initial cluster."""
    model = ClusterModel(
        initial_cluster(sc, seed), params or params_from_scenario(sc), seed=seed, update=update
    )
    for _ in range(sc.steps):
        model.step()
    c = model.capabilities()
    return {
        "mean_capability": float(c.mean()),
        "gini_capability": gini(c),
        "flow_C1": model.total_flow("C1"),
        "flow_C2": model.total_flow("C2"),
        "mean_trust": float(model.trust_values().mean()),
    }


@dataclass
class Samples:
    """Outcomes per seed (rows) of one implementation."""

    label: str
    values: dict[str, FloatArray]


def collect(
    label: str,
    seeds: Sequence[int],
    n: int,
    steps: int,
    kind: str = "clusterlearn",
    update: Update = "sequential",
    param_changes: dict[str, Any] | None = None,
) -> Samples:
    """Run ``kind`` ("clusterlearn" or "reference") on the reduced model for every seed."""
    sc = reduced_scenario(n, steps)
    params = params_from_scenario(sc)
    if param_changes:
        params = replace(params, **param_changes)
    rows = []
    for seed in seeds:
        if kind == "clusterlearn":
            rows.append(clusterlearn_outcomes(sc, seed))
        else:
            rows.append(reference_outcomes(sc, seed, update, params))
    return Samples(label, {k: np.array([r[k] for r in rows]) for k in OUTCOMES})


@dataclass
class Comparison:
    """Two-sample comparison of one outcome."""

    outcome: str
    mean_a: float
    mean_b: float
    rel_diff: float  # (mean_b - mean_a) / |mean_a|
    ks_stat: float
    ks_p: float

    def row(self) -> str:
        return (
            f"| {self.outcome} | {self.mean_a:.4g} | {self.mean_b:.4g} | {self.rel_diff:+.2%} "
            f"| {self.ks_stat:.3f} | {self.ks_p:.3f} |"
        )


def compare(a: Samples, b: Samples) -> list[Comparison]:
    """Kolmogorov-Smirnov two-sample test and relative difference of means, per outcome."""
    out = []
    for k in OUTCOMES:
        x, y = a.values[k], b.values[k]
        ks = stats.ks_2samp(x, y)
        ma, mb = float(x.mean()), float(y.mean())
        out.append(
            Comparison(
                k, ma, mb, (mb - ma) / max(abs(ma), 1e-300), float(ks.statistic), float(ks.pvalue)
            )
        )
    return out


def ks_power(n: int, level: float, shift: float, reps: int = 2000, seed: int = 0) -> float:
    """Monte Carlo power of the two-sample KS test (``n`` per sample, level ``level``)
    against a normal location shift of ``shift`` standard deviations."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(reps, n))
    b = rng.normal(shift, 1.0, size=(reps, n))
    p = stats.ks_2samp(a, b, axis=1).pvalue
    return float(np.mean(p < level))


def detectable_shift(n: int, level: float, power: float = 0.8) -> float:
    """Smallest location shift (in standard deviations) the KS test detects with ``power``."""
    lo, hi = 0.0, 4.0
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        if ks_power(n, level, mid, reps=1000) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def table(a: Samples, b: Samples, rows: list[Comparison]) -> str:
    """The comparison as a markdown table."""
    head = (
        f"| outcome | {a.label} mean | {b.label} mean | relative difference | KS D | KS p |\n"
        "|---|---|---|---|---|---|"
    )
    return "\n".join([head, *(r.row() for r in rows)])
