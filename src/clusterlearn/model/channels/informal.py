"""C1 informal exchange (core network, socialisation).

Each firm turns to one social neighbour per step, chosen with weight ``trust x prox`` (the
region as Nonaka's shared "ba"), and the talk happens with probability ``trust`` (people share
know-how only with those they trust). Tacit knowledge flows toward the learner:
``dT = rate x inside x culture x trust x absorb(T_j - T_i, alpha_i)``. With trust entering
both whether and how much is shared, in-cluster flow goes with trust squared: raising the
baseline trust from 0.1 to 0.9 multiplies it tens of times (MODEL.md's calibration pattern).
An opportunistic partner (probability ``betrayal x 2 opp_j``, less under contract
enforcement) shares nothing and trust falls by ``eta_down``; a useful meeting raises trust by
``eta_up (1 - trust)``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from clusterlearn.model.channels import register
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams
from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import informal_talks
from clusterlearn.model.state import State


class InformalParams(ChannelParams):
    rate: float = Field(0.10, ge=0.0, le=1.0, description="beta of informal exchange")


@register
class Informal(Channel):
    name = "informal"
    code = "C1"
    network = "core"
    seci = "S"
    motive = "spillover"
    Params = InformalParams

    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        out = ChannelOutput()
        if not params.enabled or params.rate == 0.0 or state.social.m == 0:
            return out
        lay = state.social
        csr = lay.csr(state.n)
        sc = ctx.scenario
        prox = lay.proximity(state.n, state.x, state.y, sc.geography.ell)
        # Draws, in order: a partner per firm, whether each talk happens, whether each
        # partner cheats.
        i, _, e, gain, total, success, betrayed = informal_talks(
            csr,
            lay.trust,
            prox,
            state.T,
            ctx.alpha,
            state.opp,
            state.inside,
            params.rate * ctx.env.mult("culture", "informal"),
            sc.trust.betrayal,
            ctx.env.mult("contract_enforcement", "betrayal"),
            rng,
        )
        out.rows, out.dT, out.rows_unique, out.row_gain = i, gain, True, total
        out.row_meetings = True  # each talk is a meeting of its learner
        out.trust_layer = "social"
        out.success_edge = success  # the talks that brought knowledge
        out.betrayal_edge = betrayed
        out.used_edge = e
        return out
