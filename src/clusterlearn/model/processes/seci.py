"""SECI conversions inside each firm (Nonaka and Takeuchi 1995).

Externalisation (tacit to explicit): ``E += eps x codify x IT x max(0, T - E)``.
Internalisation (explicit to tacit, learning by doing):
``T += iota x effort x absorb(E - T, alpha)``. Socialisation and combination happen between
actors in the channels, each tagged S or C.
"""

from __future__ import annotations

import numpy as np

from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import pair_absorb
from clusterlearn.model.state import State


def convert(state: State, ctx: StepContext) -> tuple[float, float]:
    """Apply externalisation then internalisation; return their volumes."""
    ln = ctx.scenario.learning
    codify = ln.codify * ctx.env.mult("it_infrastructure", "codify")
    ext = ln.eps * codify * np.maximum(state.T - state.E, 0.0)
    state.E += ext
    internal = pair_absorb(
        state.E, state.T, ctx.alpha, ln.iota * state.effort, src_rows=np.arange(state.n)
    )
    state.T += internal
    return float(ext.sum()), float(internal.sum())
