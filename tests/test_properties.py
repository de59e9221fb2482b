"""Property-based tests over random valid scenarios: invariants of every run."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterlearn import Scenario
from clusterlearn.model.engine import Simulation
from clusterlearn.model.environment import LEVER_EFFECTS

unit = st.floats(0.0, 1.0)
LEVERS = sorted(LEVER_EFFECTS)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    o = {
        "firms.n": draw(st.integers(3, 60)),
        "firms.domains": draw(st.integers(1, 4)),
        "firms.stages": draw(st.integers(1, 4)),
        "trust.trust0": draw(unit),
        "trust.initial": draw(unit),
        "trust.betrayal": draw(st.floats(0.0, 0.5)),
        "networks.social.mean_degree": draw(st.floats(0.0, 10.0)),
        "networks.value_chain.mean_degree": draw(st.floats(0.0, 5.0)),
        "networks.update_every": draw(st.integers(1, 5)),
        "networks.closure": draw(st.floats(0.0, 0.5)),
        "networks.exterior.initial": draw(st.floats(0.0, 3.0)),
        "decision.decide_every": draw(st.integers(1, 5)),
        "channels.spinoff.spawn": draw(st.floats(0.0, 0.3)),
        "channels.mobility.mobility": draw(st.floats(0.0, 0.5)),
        "dynamics.exit_patience": draw(st.integers(1, 4)),
        "dynamics.exit_grace": draw(st.integers(0, 3)),
        "dynamics.exit_share": draw(st.floats(0.0, 0.9)),
        **{f"environment.{lv}": draw(unit) for lv in LEVERS},
    }
    for name in ("informal", "cooperation", "imitation", "training", "events", "outward"):
        o[f"channels.{name}.rate"] = draw(unit)
        o[f"channels.{name}.enabled"] = draw(st.booleans())
    return Scenario.preset("baseline").with_overrides(o)


def check_invariants(sim: Simulation) -> None:
    s = sim.state
    n = s.n
    for arr in (s.T, s.E):
        assert np.all(np.isfinite(arr)) and np.all(arr >= 0)
    assert s.T.shape == (n, s.D) == s.E.shape
    for name in ("firm_id", "stage", "workers", "inside", "size", "x", "y"):
        assert getattr(s, name).shape[0] == n, name
    for name in ("gain", "last_inflow"):  # channel-major
        assert getattr(s, name).shape == (len(sim.channels), n), name
    assert np.unique(s.firm_id).size == n
    assert np.all((s.inside >= 0) & (s.inside <= 1))
    assert np.all((s.stage >= 0) & (s.stage < s.S))
    assert np.all(s.workers >= 1)
    for lay in (s.social, s.value_chain, s.competitor):
        assert np.all((lay.trust >= 0) & (lay.trust <= 1))
        if lay.m:
            assert lay.i.max() < n and lay.j.max() < n
            assert np.all(lay.i < lay.j)  # no self-loops, each tie once
            assert np.unique(lay.keys(n)).size == lay.m
    for lay in (s.auxiliary, s.exterior):
        assert lay.m == 0 or lay.firm.max() < n
    row = sim.metric_rows[-1]
    assert row["population"] == n
    assert row["social_ties"] == s.social.m


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold(sc: Scenario, seed: int) -> None:
    sim = Simulation(sc, rng=seed)
    check_invariants(sim)
    for _ in range(9):
        sim.step()
        check_invariants(sim)
    r = sim.result()
    assert len(r.firms) == sim.state.n
    assert np.all(np.isfinite(r.flows.drop(columns="step").to_numpy()))
    assert (r.flows.drop(columns="step").to_numpy() >= 0).all()
