"""Toy clusters with hand-set state, for known-answer and conformance tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from clusterlearn import Scenario
from clusterlearn.model.context import StepContext
from clusterlearn.model.engine import Simulation
from clusterlearn.model.layers import BipartiteLayer, TieLayer
from clusterlearn.model.state import State

QUIET: dict[str, Any] = {
    "institutions.universities": 0,
    "institutions.training_centres": 0,
    "institutions.service_centres": 0,
    "institutions.cluster_agents": 0,
    "networks.exterior.initial": 0.0,
    "networks.social.mean_degree": 0.0,
    "networks.value_chain.mean_degree": 0.0,
    "networks.competitor.visible": 0,
    "trust.betrayal": 0.0,
    "firms.stages": 1,
    "innovation.enabled": False,
    "dynamics.enabled": False,
}


def toy(
    T: list[list[float]],
    E: list[list[float]] | None = None,
    overrides: dict[str, Any] | None = None,
    social: list[tuple[int, int, float]] = (),  # type: ignore[assignment]
    value_chain: list[tuple[int, int, float]] = (),  # type: ignore[assignment]
    competitor: list[tuple[int, int]] = (),  # type: ignore[assignment]
    linear: bool = True,
    inside: float = 1.0,
    seed: int = 0,
) -> tuple[Simulation, State, StepContext]:
    """A cluster of ``len(T)`` firms at one point, with the given knowledge and ties.

    With ``linear`` the absorptive capacity is infinite, so ``absorb(x, a) = x``.
    """
    n = len(T)
    D = len(T[0])
    attrs: dict[str, list[float]] = {"x": [0.5] * n, "y": [0.5] * n, "stage": [0.0] * n}
    for d in range(D):
        attrs[f"T{d}"] = [float(r[d]) for r in T]
        attrs[f"E{d}"] = [float(r[d]) for r in (E if E is not None else T)]
    sc = Scenario().with_overrides(
        {**QUIET, "firms.n": n, "firms.domains": D, "firms.attributes": attrs, **(overrides or {})}
    )
    sim = Simulation(sc, rng=seed)
    st = sim.state
    st.social = _layer(social)
    st.value_chain = _layer(value_chain)
    st.competitor = _layer([(a, b, 0.0) for a, b in competitor])
    st.inside = np.full(n, inside)
    sim._derived = None  # layers changed: recompute capability and social capital
    ctx = sim._context()
    if linear:
        ctx.alpha = np.full(n, np.inf)
    return sim, st, ctx


def _layer(ties: Any) -> TieLayer:
    ties = list(ties)
    if not ties:
        return TieLayer.empty()
    a = np.array([t[0] for t in ties], dtype=np.int64)
    b = np.array([t[1] for t in ties], dtype=np.int64)
    tr = np.array([t[2] for t in ties], dtype=np.float64)
    return TieLayer.from_pairs(a, b, tr)


def institutions(
    st: State, types: list[int], K: list[list[float]], ties: list[tuple[int, int]]
) -> None:
    """Give the toy state institutions of ``types`` with knowledge ``K`` and firm ties."""
    st.inst_type = np.array(types, dtype=np.int64)
    st.inst_K = np.array(K, dtype=np.float64)
    st.inst_x = np.full(len(types), 0.5)
    st.inst_y = np.full(len(types), 0.5)
    st.auxiliary = BipartiteLayer(
        np.array([f for f, _ in ties], dtype=np.int64),
        np.array([k for _, k in ties], dtype=np.int64),
    )
