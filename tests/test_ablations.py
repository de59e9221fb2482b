"""Ablations move outcomes in the expected direction: means over seeds, never one run."""

from __future__ import annotations

import numpy as np
import pytest

from clusterlearn import Scenario, simulate

SEEDS = range(4)


def mean_final(s: Scenario, metric: str) -> float:
    return float(np.mean([simulate(s, rng=k).metrics[metric].iloc[-1] for k in SEEDS]))


def mean_flow(s: Scenario, cols: list[str]) -> float:
    return float(np.mean([simulate(s, rng=k).flows[cols].to_numpy().sum() for k in SEEDS]))


@pytest.fixture(scope="module")
def base() -> Scenario:
    return Scenario.preset("baseline").with_overrides({"firms.n": 100, "steps": 60})


def test_no_exterior_network_lowers_the_best_firm(base: Scenario) -> None:
    iso = base.with_overrides({"channels.outward.enabled": False, "networks.exterior.initial": 0.0})
    assert mean_final(iso, "max_capability") < 0.95 * mean_final(base, "max_capability")
    assert mean_final(iso, "catch_up") < mean_final(base, "catch_up")


def test_low_trust_gives_less_in_cluster_flow(base: Scenario) -> None:
    low = base.with_overrides({"trust.trust0": 0.05, "trust.initial": 0.05})
    core = ["C1", "C2"]
    assert mean_flow(low, core) < 0.7 * mean_flow(base, core)


def test_no_auxiliary_network_hurts_laggards(base: Scenario) -> None:
    off = base.with_overrides(
        {
            f"channels.{c}.enabled": False
            for c in ("training", "personnel", "infrastructure", "events", "services")
        }
    )
    assert mean_final(off, "p10_capability") < mean_final(base, "p10_capability")


def test_channels_off_mean_no_learning_between_firms(base: Scenario) -> None:
    from clusterlearn.model.channels import REGISTRY

    off = base.with_overrides({f"channels.{c}.enabled": False for c in REGISTRY})
    r = simulate(off, rng=0)
    codes = [c.code for c in REGISTRY.values()]
    assert r.flows[codes].to_numpy().sum() == 0.0
