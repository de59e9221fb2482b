"""The baseline behaves as calibrated (docs/ODD.md, Calibration): capability grows, the cluster
stays behind the global frontier but catches up slowly, every channel and every SECI conversion
carries flow, trust stays well inside (0, 1), and high-position firms turn outward (P1)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from clusterlearn import Result, Scenario, simulate
from clusterlearn.model.channels import REGISTRY
from clusterlearn.model.engine import SECI


@pytest.fixture(scope="module")
def runs() -> list[Result]:
    return [simulate(Scenario.preset("baseline"), rng=seed) for seed in (0, 1)]


def test_capability_grows_and_catches_up_slowly(runs: list[Result]) -> None:
    for r in runs:
        m = r.metrics
        assert m["mean_capability"].iloc[-1] > 1.5 * m["mean_capability"].iloc[0]
        c0, c1 = m["catch_up"].iloc[0], m["catch_up"].iloc[-1]
        assert c0 < c1 < 0.9  # closer to the frontier, still behind it


def test_every_channel_and_conversion_carries_flow(runs: list[Result]) -> None:
    for r in runs:
        totals = r.flows.drop(columns="step").sum()
        for code in [c.code for c in REGISTRY.values()] + list(SECI):
            assert totals[code] > 0, code


def test_trust_well_inside_unit_interval(runs: list[Result]) -> None:
    for r in runs:
        trust = r.metrics["mean_trust"]
        assert trust.between(0.2, 0.9).all()


def test_high_position_firms_turn_outward(runs: list[Result]) -> None:
    rho = [spearmanr(r.firms["position"], 1 - r.firms["inside"]).statistic for r in runs]
    assert np.mean(rho) > 0.4
    for r in runs:
        last = r.metrics.iloc[-1]
        assert last["inside_q1"] > last["inside_q5"]


def test_population_moves_both_ways(runs: list[Result]) -> None:
    m = runs[0].metrics
    assert m["entries"].sum() > 0 and m["exits"].sum() > 0
    assert (
        m["population"] == m["population"].iloc[0] + m["entries"].cumsum() - m["exits"].cumsum()
    ).all()
    assert m["upgrades"].sum() > 0 and m["innovations"].sum() > 0
    assert runs[0].innovations["diffusion_time"].notna().any()
