"""Every shipped scenario loads, round-trips through TOML exactly and runs a few seeded steps."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from clusterlearn import Scenario, simulate
from clusterlearn.scenario import PRESET_DIR, presets

EXPECTED = {"baseline", "low-trust", "knowledge-intensive", "isolated", "policy-upgrade"}


def test_library_is_complete() -> None:
    assert EXPECTED <= set(presets())


@pytest.mark.parametrize("name", presets())
def test_preset_loads_with_name_and_description(name: str) -> None:
    s = Scenario.preset(name)
    assert s.name == name
    assert s.description.strip(), f"{name}.toml needs a description"
    # Every shipped file is commented, so a user copying it knows what each choice means.
    text = (PRESET_DIR / f"{name}.toml").read_text(encoding="utf-8")
    assert text.lstrip().startswith("#")


@pytest.mark.parametrize("name", presets())
def test_preset_round_trips_exactly(name: str, tmp_path: Path) -> None:
    s = Scenario.preset(name)
    path = tmp_path / f"{name}.toml"
    text = s.to_toml(path)
    back = Scenario.from_toml(path)
    assert back == s
    assert back.to_toml() == text
    assert Scenario.from_dict(tomllib.loads(text)) == s


@pytest.mark.parametrize("name", presets())
def test_preset_runs_a_few_seeded_steps(name: str) -> None:
    s = Scenario.preset(name).with_overrides({"firms.n": 60})
    r = simulate(s, steps=6, rng=7)
    assert len(r.metrics) == 7  # step 0 is the initial state
    assert r.metrics["step"].tolist() == list(range(7))
    know = r.firms.filter(regex=r"^[TE]\d+$").to_numpy()
    assert know.size and np.isfinite(know).all() and (know >= 0).all()
    flows = r.flows.drop(columns="step").to_numpy()
    assert np.isfinite(flows).all() and (flows >= 0).all()
    assert np.isfinite(r.metrics["mean_capability"]).all()
    again = simulate(s, steps=6, rng=7)
    assert again.metrics.equals(r.metrics)


def test_isolated_has_no_outward_learning() -> None:
    s = Scenario.preset("isolated").with_overrides({"firms.n": 60})
    r = simulate(s, steps=5, rng=3)
    assert r.flows["X1"].sum() == 0.0
    assert (r.firms["inside"] == 1.0).all()
    assert r.metrics["exterior_ties"].max() == 0.0


def test_policy_upgrade_matches_baseline_before_the_package() -> None:
    policy = Scenario.preset("policy-upgrade")
    at = min(iv.at for iv in policy.interventions)
    small = {"firms.n": 60}
    base = simulate(Scenario.preset("baseline").with_overrides(small), steps=at, rng=5)
    pol = simulate(policy.with_overrides(small), steps=at, rng=5)
    cols = [c for c in base.metrics.columns]
    assert np.allclose(base.metrics[cols].to_numpy(), pol.metrics[cols].to_numpy(), equal_nan=True)
