"""Trust dynamics on firm-firm ties.

Success and betrayal are applied by the channels where they happen (C1, C2, A4); every step
all trust drifts toward the social baseline: ``trust += drift x (trust0_eff - trust)``, where
``trust0_eff = trust0`` shifted by cluster agents, contract enforcement and culture.
"""

from __future__ import annotations

from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import drift_toward
from clusterlearn.model.state import State


def drift(state: State, ctx: StepContext) -> None:
    drift_toward(state.social.trust, state.value_chain.trust, ctx.trust0, ctx.scenario.trust.drift)
