"""``metrics_every``: outcomes recorded every k steps (and at the last) from the same run."""

from __future__ import annotations

import pandas as pd
import pytest

from clusterlearn import Scenario, simulate


def test_sparse_rows_equal_the_full_record() -> None:
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 150})
    full = simulate(sc, steps=23, rng=8)
    sparse = simulate(sc, steps=23, rng=8, metrics_every=5)
    assert list(sparse.metrics["step"]) == [0, 5, 10, 15, 20, 23]
    want = full.metrics.set_index("step").loc[[0, 5, 10, 15, 20, 23]].reset_index()
    pd.testing.assert_frame_equal(sparse.metrics, want)
    pd.testing.assert_frame_equal(sparse.flows, full.flows)  # flows stay per step
    pd.testing.assert_frame_equal(sparse.firms, full.firms)


def test_bad_metrics_every() -> None:
    with pytest.raises(ValueError, match="metrics_every: expected a whole number >= 1, got 0"):
        simulate(
            Scenario.preset("baseline").with_overrides({"firms.n": 50}), steps=2, metrics_every=0
        )
