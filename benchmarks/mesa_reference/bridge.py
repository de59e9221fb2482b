"""Glue between clusterlearn and the Mesa reference: the reduced scenario, its parameters, and
the shared initial cluster.

Only the *starting point* comes from clusterlearn (``Simulation(scenario, rng=seed).state``),
so both implementations start from the identical cluster; the dynamics are the reference's own.
"""

from __future__ import annotations

from typing import Any

from benchmarks.mesa_reference.model import InitialCluster, ReferenceParams

from clusterlearn import Scenario
from clusterlearn.model.engine import Simulation

# Every channel except C1 and C2 off, no innovation, no firm dynamics, a frozen network
# (no closure, decay or new value-chain ties), no institutions and no outward option
# (so inside = 1 for every firm).
OFF_CHANNELS = (
    "mobility",
    "spinoff",
    "imitation",
    "training",
    "personnel",
    "infrastructure",
    "events",
    "services",
    "outward",
)


def reduced_scenario(n: int = 60, steps: int = 20, **overrides: Any) -> Scenario:
    """The baseline preset reduced to C1 + C2 + SECI + trust dynamics.

    ``overrides`` are dotted scenario keys with ``__`` for ``.`` (e.g. ``trust__trust0=0.8``).
    """
    o: dict[str, Any] = {"firms.n": n, "steps": steps}
    o.update({f"channels.{c}.enabled": False for c in OFF_CHANNELS})
    o.update(
        {
            "channels.informal.enabled": True,
            "channels.cooperation.enabled": True,
            "innovation.enabled": False,
            "dynamics.enabled": False,
            "networks.closure": 0.0,
            "networks.decay": 0.0,
            "networks.value_chain.form": 0.0,
            "institutions.universities": 0,
            "institutions.training_centres": 0,
            "institutions.service_centres": 0,
            "institutions.cluster_agents": 0,
        }
    )
    o.update({k.replace("__", "."): v for k, v in overrides.items()})
    return Scenario.preset("baseline").with_overrides(o)


def _up(x: float, k: float) -> float:
    # MODEL.md section 6: a lever in [0, 1] is neutral at 0.5; its effect is 1 + k (2x - 1).
    return max(0.0, 1.0 + k * (2.0 * x - 1.0))


def params_from_scenario(sc: Scenario) -> ReferenceParams:
    """The reference's parameters for a (reduced) clusterlearn scenario."""
    env = sc.environment
    trust0_shift = sum(
        _up(getattr(env, lever), 0.15) - 1.0
        for lever in ("cluster_agents", "contract_enforcement", "culture")
    )
    ch = sc.channels
    return ReferenceParams(
        informal_rate=ch.informal.rate,
        culture=_up(env.culture, 0.5),
        coop_rate=ch.cooperation.rate,
        meet=ch.cooperation.meet,
        margin=ch.cooperation.margin,
        it_explicit=_up(env.it_infrastructure, 0.5),
        betrayal=sc.trust.betrayal,
        enforcement=_up(1.0 - env.contract_enforcement, 1.0),
        eta_up=sc.trust.eta_up,
        eta_down=sc.trust.eta_down,
        drift=sc.trust.drift,
        trust0=min(1.0, max(0.0, sc.trust.trust0 + trust0_shift)),
        alpha0=sc.learning.alpha0,
        alpha_k=sc.learning.alpha_k,
        alpha_r=sc.learning.alpha_r,
        eps=sc.learning.eps,
        iota=sc.learning.iota,
        codify=sc.learning.codify * _up(env.it_infrastructure, 0.5),
        ell=sc.geography.ell,
        informal=ch.informal.enabled,
        cooperation=ch.cooperation.enabled,
    )


def initial_cluster(sc: Scenario, seed: int) -> InitialCluster:
    """The cluster clusterlearn builds at step 0 for ``sc`` and ``seed``, as plain arrays."""
    st = Simulation(sc, rng=seed).state
    return InitialCluster(
        T=st.T.copy(),
        E=st.E.copy(),
        stage=st.stage.copy(),
        x=st.x.copy(),
        y=st.y.copy(),
        w=st.w.copy(),
        rnd=st.rnd.copy(),
        effort=st.effort.copy(),
        opp=st.opp.copy(),
        social=(st.social.i.copy(), st.social.j.copy(), st.social.trust.copy()),
        value_chain=(st.value_chain.i.copy(), st.value_chain.j.copy(), st.value_chain.trust.copy()),
    )
