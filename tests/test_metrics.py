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


@pytest.mark.parametrize("seed", range(4))
def test_inside_by_quintile_matches_the_quintile_masks(seed: int) -> None:
    sim = Simulation(Scenario.preset("baseline").with_overrides({"firms.n": 97}), rng=seed)
    st = sim.state
    rng = np.random.default_rng(seed)
    # Ties in capability (rounded) put firms on quintile floors.
    st.T = np.round(st.T * rng.integers(1, 4), 1)
    st.inside = rng.random(st.n)
    c = st.capability()
    snap = metrics.Snapshot(state=st, c=c, sc=st.social_capital())
    got = snap.inside_by_quintile()
    s = np.sort(c)
    lo = [s[int(np.ceil(k * (c.size - 1) / 5))] for k in range(5)]
    for k in range(5):
        # quintile k by position (rank / (n - 1)): from its floor up to the next one's
        sel = (c >= lo[k]) & (c < lo[k + 1]) if k < 4 else c >= lo[4]
        want = st.inside[sel].mean() if sel.any() else np.nan
        np.testing.assert_allclose(got[k], want, rtol=1e-12, equal_nan=True)


def test_percentile_of_counts_equals_numpy() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 5, 8, 17, 100, 1001):
        for _ in range(20):
            k = rng.poisson(rng.uniform(0.5, 30), n).astype(np.int64)
            for q in (0.25, 0.5, 0.75, 0.9):
                assert metrics._percentile_of_counts(k, q) == np.percentile(k, 100 * q)


def test_gatekeepers_follow_the_network_as_it_changes() -> None:
    # Counted once per structure: every recorded value equals a fresh count of that step.
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 300})
    sim = Simulation(sc, rng=5)
    seen = set()
    for _ in range(12):  # three network updates, with ties made and lost, firms born and gone
        sim.step()
        st = sim.state
        want = float(metrics.gatekeepers(st).sum())
        snap = metrics.Snapshot(state=st, c=st.capability(), sc=st.social_capital())
        assert snap.gatekeepers() == want
        assert sim.metric_rows[-1]["gatekeepers"] == want
        seen.add(want)
    assert len(seen) > 1


def test_quintile_sums_backends() -> None:
    from clusterlearn.model import kernel
    from clusterlearn.model.kernel import use_kernels

    rng = np.random.default_rng(3)
    c, x = rng.random(500), rng.random(500)
    c[7] = np.nan
    floors = np.quantile(c[~np.isnan(c)], [0.2, 0.4, 0.6, 0.8])
    out = []
    for name in ("numpy", "numba"):
        with use_kernels(name):
            out.append(kernel.quintile_sums(c, floors, x))
    for a, b in zip(*out, strict=True):
        assert np.array_equal(a, b)
    assert out[0][1].sum() == 500
