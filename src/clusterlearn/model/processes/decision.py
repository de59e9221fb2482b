"""Motives: the cost-benefit choice of learning mode (MODEL.md section 5).

Every ``decide_every`` steps each firm compares the return per unit cost of in-cluster
follow-up learning and of outward learning::

    gain_in  = sum_j weight_j absorb(c_j - c_i, alpha_i) / sum_j weight_j
    cost_in  = cost_in0 (1 - sc_discount sc_i)    # transaction cost, lowered by social capital
    gain_out = absorb(w . G - c_i, alpha_i)
    cost_out = cost_out0 x openness multiplier
    inside_i = logistic((gain_in / cost_in - gain_out / cost_out) / temperature)

``gain_in`` is the expected gain of a meeting with an in-cluster source: the firm's social and
value-chain neighbours, weighted by the trust on the tie (as C1 and C2 draw partners), and the
institutions it is tied to, weighted by the baseline trust ``trust0`` (what a firm expects of a
public body). With the outward channel off there is no outward option
and ``inside = 1``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import absorb, gathered_dot, tie_gain
from clusterlearn.model.kernel import saving as saving_kernel
from clusterlearn.model.state import State

FloatArray = NDArray[np.float64]


def gain_inside(state: State, ctx: StepContext) -> FloatArray:
    """Expected gain per meeting from in-cluster sources: the trust-weighted mean, over a firm's
    social and value-chain ties and its institution ties, of ``absorb(c_j - c_i, alpha_i)``."""
    n = state.n
    num = np.zeros(n)
    den = np.zeros(n)
    c, alpha = ctx.c, ctx.alpha
    for lay in (state.social, state.value_chain):
        if lay.m:
            v = lay.csr(n)
            part_num, part_den = tie_gain(v.indptr, v.src, v.nbr, v.edge, lay.trust, c, alpha)
            num += part_num
            den += part_den
    aux = state.auxiliary
    if aux.m:
        f = aux.firm
        inst_c = gathered_dot(state.w, state.stage[f], state.inst_K, aux.other)
        w = np.full(f.size, ctx.trust0)
        num += np.bincount(f, weights=w * absorb(inst_c - c[f], alpha[f]), minlength=n)
        den += np.bincount(f, weights=w, minlength=n)
    return np.divide(num, den, out=np.zeros(n), where=den > 0)


def costs(state: State, ctx: StepContext) -> tuple[FloatArray, float]:
    d = ctx.scenario.decision
    cost_in = d.cost_in0 * (1.0 - d.sc_discount * ctx.sc)
    return cost_in, cost_outward(ctx)


def cost_outward(ctx: StepContext) -> float:
    """The unit cost of outward learning, ``cost_out0 x openness multiplier``."""
    return ctx.scenario.decision.cost_out0 * ctx.env.mult("openness", "cost_out")


def saving(state: State, ctx: StepContext) -> FloatArray:
    """What learning inside saves a firm, ``max(cost_out - cost_in, 0)`` (see :func:`costs`):
    the transaction-cost motive booked on what in-cluster channels bring."""
    d = ctx.scenario.decision
    return saving_kernel(ctx.sc, d.cost_in0, d.sc_discount, cost_outward(ctx))


def decide(state: State, ctx: StepContext) -> None:
    """Set ``state.inside`` from the cost-benefit comparison."""
    if not ctx.enabled("outward"):
        state.inside = np.ones(state.n)
        return
    d = ctx.scenario.decision
    cost_in, cost_out = costs(state, ctx)
    gain_in = gain_inside(state, ctx)
    gain_out = absorb(state.frontier_relevant() - ctx.c, ctx.alpha)
    z = (gain_in / cost_in - gain_out / cost_out) / d.temperature
    state.inside = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic, without overflow
