"""SECI conversions inside each firm (Nonaka and Takeuchi 1995).

Externalisation (tacit to explicit): ``E += eps x codify x IT x max(0, T - E)``.
Internalisation (explicit to tacit, learning by doing):
``T += iota x effort x absorb(E - T, alpha)``. Socialisation and combination happen between
actors in the channels, each tagged S or C.
"""

from __future__ import annotations

from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import seci
from clusterlearn.model.state import State


def convert(state: State, ctx: StepContext) -> tuple[float, float]:
    """Apply externalisation then internalisation; return their volumes."""
    ln = ctx.scenario.learning
    codify = ln.codify * ctx.env.mult("it_infrastructure", "codify")
    ext, internal = seci(state.T, state.E, ctx.alpha, ln.eps * codify, ln.iota * state.effort)
    return float(ext.sum()), float(internal.sum())
