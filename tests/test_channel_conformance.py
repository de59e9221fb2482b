"""One conformance suite that every registered learning channel passes (like scikit-learn's
``check_estimator``): shapes kept, no negative or non-finite knowledge, zero rate gives zero
flow, disabled gives zero flow, the same generator gives the same result, the state is not
mutated by ``apply``, and the source loses nothing unless the channel says it does."""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest

from clusterlearn import Scenario
from clusterlearn.model.channels import REGISTRY, ChannelOutput
from clusterlearn.model.engine import Simulation

NAMES = sorted(REGISTRY)


@pytest.fixture(scope="module")
def sim() -> Simulation:
    """A small cluster run for a while, so that state, ties and trust are varied."""
    sc = Scenario.preset("baseline").with_overrides(
        {
            "firms.n": 120,
            # Frequent activity everywhere, so that every channel has work to do.
            "institutions.universities": 2,
            "institutions.cluster_agents": 2,
            "networks.auxiliary.reach": 1.0,
            "networks.exterior.initial": 2.0,
            "channels.events.frequency": 1.0,
            "channels.personnel.hire": 0.5,
            "channels.services.buy": 0.5,
            "channels.spinoff.spawn": 0.2,
            "channels.mobility.mobility": 0.2,
        }
    )
    s = Simulation(sc, rng=11)
    s.run(8)
    return s


def apply(
    sim: Simulation, name: str, overrides: dict | None = None, seed: int = 5
) -> ChannelOutput:
    sc = sim.scenario.with_overrides(
        {f"channels.{name}.{k}": v for k, v in (overrides or {}).items()}
    )
    sim.current = sc
    sim._derived = None
    ctx = sim._context()
    return REGISTRY[name]().apply(
        sim.state, sc.channel_params(name), ctx, np.random.default_rng(seed)
    )


def flow(out: ChannelOutput) -> float:
    inherited = 0.0
    if out.births is not None:
        inherited = float(out.births["T"].sum() + out.births["E"].sum())
    return out.tacit_flow + out.explicit_flow + inherited


@pytest.mark.parametrize("name", NAMES)
def test_declares_interface(name: str) -> None:
    cls = REGISTRY[name]
    assert cls.name == name
    assert cls.code[0] in "CAX" and cls.network in ("core", "auxiliary", "exterior")
    assert cls.seci in ("S", "C", "S+C")
    assert sys.modules[cls.__module__].__doc__, "each channel module documents its rule"
    assert {"enabled", "rate"} <= set(cls.Params.model_fields)


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_values(sim: Simulation, name: str) -> None:
    st = sim.state
    out = apply(sim, name)
    dT, dE = out.dense(st.n, st.D)
    assert dT.shape == (st.n, st.D) and dE.shape == (st.n, st.D)
    for part in (dT, dE):
        assert np.all(np.isfinite(part)) and np.all(part >= 0)
    if out.rows is not None:
        assert out.rows.min(initial=0) >= 0 and out.rows.max(initial=0) < st.n
        for part in (out.dT, out.dE):
            assert part is None or part.shape == (out.rows.size, st.D)
    if out.workers is not None:
        assert out.workers.shape == (st.n,)
    if out.births is not None:
        k = out.births["T"].shape[0]
        assert out.births["T"].shape == (k, st.D) and np.all(out.births["T"] >= 0)
    assert flow(out) > 0, f"{name} carried no flow in an active cluster"


@pytest.mark.parametrize("name", NAMES)
def test_zero_rate_gives_zero_flow(sim: Simulation, name: str) -> None:
    assert flow(apply(sim, name, {"rate": 0.0})) == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_disabled_gives_zero_flow(sim: Simulation, name: str) -> None:
    out = apply(sim, name, {"enabled": False})
    assert flow(out) == 0.0
    assert out.births is None and not out.new_ties
    assert out.lossT is None


@pytest.mark.parametrize("name", NAMES)
def test_same_generator_same_result(sim: Simulation, name: str) -> None:
    a, b = apply(sim, name, seed=3), apply(sim, name, seed=3)
    for x, y in zip(
        a.dense(sim.state.n, sim.state.D), b.dense(sim.state.n, sim.state.D), strict=True
    ):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", NAMES)
def test_apply_does_not_mutate_state(sim: Simulation, name: str) -> None:
    st = sim.state
    before = {
        k: copy.deepcopy(getattr(st, k))
        for k in ("T", "E", "workers", "inside", "pool", "alpha_bonus")
    }
    trust = st.social.trust.copy(), st.value_chain.trust.copy()
    apply(sim, name)
    for k, v in before.items():
        np.testing.assert_array_equal(getattr(st, k), v, err_msg=f"{name} changed state.{k}")
    np.testing.assert_array_equal(st.social.trust, trust[0])
    np.testing.assert_array_equal(st.value_chain.trust, trust[1])


@pytest.mark.parametrize("name", NAMES)
def test_source_loses_only_if_declared(sim: Simulation, name: str) -> None:
    out = apply(sim, name)
    if REGISTRY[name].source_loses:
        assert out.lossT is not None and np.all(out.lossT >= 0)
        source = sim.state.T if out.loss_rows is None else sim.state.T[out.loss_rows]
        assert out.lossT.shape == source.shape and np.all(out.lossT <= source)
    else:
        assert out.lossT is None


def test_an_output_is_empty_only_with_every_field_at_its_default() -> None:
    from clusterlearn.model.layers import TieChange

    assert ChannelOutput().is_empty()
    changed = [
        {"dT": np.zeros((0, 2))},
        {"rows_unique": True},
        {"trust_layer": "social"},
        {
            "new_ties": [
                TieChange("social", np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
            ]
        },
        {"meetings": np.zeros(3, np.int64)},
    ]
    for fields in changed:
        assert not ChannelOutput(**fields).is_empty(), fields
