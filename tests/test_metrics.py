"""Metric reporters: sampled clustering agrees with the exact count and survives hubs."""

from __future__ import annotations

import numpy as np
import pytest

from clusterlearn import Scenario
from clusterlearn.model import metrics
from clusterlearn.model.engine import Simulation
from clusterlearn.model.layers import TieLayer


def test_sampled_clustering_matches_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = Simulation(Scenario.preset("baseline").with_overrides({"firms.n": 3000}), rng=2)
    monkeypatch.setattr(metrics, "CLUSTERING_SAMPLE", 10**9)
    exact = metrics.average_clustering(sim.state)
    every = np.arange(sim.state.n)
    assert metrics._sampled_clustering(sim.state, every) == pytest.approx(exact)


def test_clustering_with_a_hub_stays_small() -> None:
    """A star of 120,000 ties: pairs are counted on at most 64 neighbours (no d^2 blow-up)."""
    n = 120_000
    sim = Simulation(Scenario.preset("baseline").with_overrides({"firms.n": n}), rng=1)
    sim.state.social = TieLayer.from_pairs(
        np.zeros(n - 1, dtype=np.int64), np.arange(1, n, dtype=np.int64), np.full(n - 1, 0.5)
    )
    assert metrics.average_clustering(sim.state) == 0.0  # a star has no triangles
