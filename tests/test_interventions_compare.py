"""Interventions change a run only from their step on; compare() with common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlearn import Scenario, compare, simulate
from clusterlearn.model.engine import apply_interventions


def with_policy(s: Scenario, at: int, ramp: int = 0) -> Scenario:
    return Scenario.from_dict(
        {
            **s.to_dict(),
            "interventions": [
                {
                    "at": at,
                    "ramp": ramp,
                    "set": {"environment.public_services": 1.0, "channels.cooperation.rate": 0.3},
                }
            ],
        }
    )


def test_intervention_changes_run_only_from_its_step(small: Scenario) -> None:
    base = simulate(small, rng=5)
    pol = simulate(with_policy(small, at=10), rng=5)
    # Row k holds the state after k steps; steps 0..9 run before the intervention.
    pd.testing.assert_frame_equal(base.metrics.iloc[:11], pol.metrics.iloc[:11], check_exact=True)
    pd.testing.assert_frame_equal(base.flows.iloc[:11], pol.flows.iloc[:11], check_exact=True)
    assert not base.flows.iloc[11:]["A1"].equals(pol.flows.iloc[11:]["A1"])


def test_ramp_phases_in(small: Scenario) -> None:
    s = with_policy(small, at=4, ramp=3)
    values = [apply_interventions(s, t).environment.public_services for t in range(10)]
    assert values[:4] == [0.5] * 4
    np.testing.assert_allclose(values[4:8], [0.625, 0.75, 0.875, 1.0])
    assert values[8:] == [1.0, 1.0]


def test_compare_with_itself_gives_zero(small: Scenario) -> None:
    cmp = compare(small, small, replications=2, rng=1, steps=5)
    assert (cmp.differences.to_numpy() == 0).all()
    assert (cmp.summary["difference"] == 0).all()


def test_compare_detects_a_policy(small: Scenario) -> None:
    better = small.with_overrides({"environment.public_services": 1.0, "environment.openness": 1.0})
    cmp = compare(small, better, replications=3, rng=2)
    row = cmp.summary.loc["flow_A1"]
    assert row["difference"] > 0 and row["ci_low"] > 0
    assert list(cmp.differences.index) == [0, 1, 2]


def test_compare_needs_replications(small: Scenario) -> None:
    with pytest.raises(ValueError, match="replications"):
        compare(small, small, replications=1)
