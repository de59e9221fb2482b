"""Firm numbering: a generated cluster numbers its firms along a Z-order curve of their
location, so that tied firms sit close together in memory (a relabelling, not a change in
the model)."""

from __future__ import annotations

import numpy as np

from clusterlearn import Scenario
from clusterlearn.model.engine import Simulation
from clusterlearn.model.init import z_order


def test_z_order_of_the_four_quadrants() -> None:
    x = np.array([0.9, 0.1, 0.9, 0.1])
    y = np.array([0.9, 0.9, 0.1, 0.1])
    # bottom-left, bottom-right, top-left, top-right
    assert z_order(x, y).tolist() == [3, 2, 1, 0]


def test_z_order_is_a_permutation_that_keeps_near_points_near() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.random(20_000), rng.random(20_000)
    order = z_order(x, y)
    np.testing.assert_array_equal(np.sort(order), np.arange(x.size))
    step = np.hypot(np.diff(x[order]), np.diff(y[order]))
    shuffled = np.hypot(np.diff(x), np.diff(y))
    # Consecutive points on the curve are typically ~1/sqrt(n) apart; random pairs ~0.5.
    assert np.median(step) < 0.02 < 0.3 < np.median(shuffled)


def test_generated_clusters_number_tied_firms_close_together() -> None:
    n = 5_000
    st = Simulation(Scenario.preset("baseline").with_overrides({"firms.n": n}), rng=1).state
    np.testing.assert_array_equal(z_order(st.x, st.y), np.arange(n))
    for layer in (st.social, st.value_chain):
        gap = np.abs(layer.i - layer.j)
        assert np.median(gap) < 0.05 * n  # about n / 3 for a random numbering


def test_a_given_attribute_table_keeps_its_row_order() -> None:
    # Rows may be sorted by anything (size, age): numbering generated locations along the
    # curve would then tie location to that attribute, so the table's order is kept.
    n = 400
    sc = Scenario.preset("baseline").with_overrides(
        {"firms.n": n, "firms.attributes": {"rnd": list(np.linspace(0.0, 1.0, n))}}
    )
    st = Simulation(sc, rng=1).state
    np.testing.assert_array_equal(st.rnd, np.linspace(0.0, 1.0, n))
    assert not np.array_equal(z_order(st.x, st.y), np.arange(n))
