"""Motives: the cost-benefit choice of learning mode (MODEL.md section 5).

Every ``decide_every`` steps each firm compares the return per unit cost of in-cluster
follow-up learning and of outward learning::

    gain_in  = absorb(best_in - c_i, alpha_i)     # best trust-weighted neighbour or institution
    cost_in  = cost_in0 (1 - sc_discount sc_i)    # transaction cost, lowered by social capital
    gain_out = absorb(w . G - c_i, alpha_i)
    cost_out = cost_out0 x openness multiplier
    inside_i = logistic((gain_in / cost_in - gain_out / cost_out) / temperature)

``best_in`` is the largest ``trust x c_j`` over social and value-chain neighbours and the
capability ``w . K`` of institutions the firm is tied to. With the outward channel off there is
no outward option and ``inside = 1``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import absorb
from clusterlearn.model.state import State

FloatArray = NDArray[np.float64]


def best_reachable(state: State, ctx: StepContext) -> FloatArray:
    """Best trust-weighted capability a firm can reach inside the cluster."""
    n = state.n
    best = np.zeros(n)
    c = ctx.c
    for lay in (state.social, state.value_chain):
        if lay.m:
            np.maximum.at(best, lay.i, lay.trust * c[lay.j])
            np.maximum.at(best, lay.j, lay.trust * c[lay.i])
    aux = state.auxiliary
    if aux.m:
        inst_c = np.einsum("ij,ij->i", state.w[state.stage[aux.firm]], state.inst_K[aux.other])
        np.maximum.at(best, aux.firm, inst_c)
    return best


def costs(state: State, ctx: StepContext) -> tuple[FloatArray, float]:
    d = ctx.scenario.decision
    cost_in = d.cost_in0 * (1.0 - d.sc_discount * ctx.sc)
    cost_out = d.cost_out0 * ctx.env.mult("openness", "cost_out")
    return cost_in, cost_out


def decide(state: State, ctx: StepContext) -> None:
    """Set ``state.inside`` from the cost-benefit comparison."""
    if not ctx.enabled("outward"):
        state.inside = np.ones(state.n)
        return
    d = ctx.scenario.decision
    cost_in, cost_out = costs(state, ctx)
    gain_in = absorb(best_reachable(state, ctx) - ctx.c, ctx.alpha)
    gain_out = absorb(state.frontier_relevant() - ctx.c, ctx.alpha)
    z = (gain_in / cost_in - gain_out / cost_out) / d.temperature
    state.inside = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic, without overflow
