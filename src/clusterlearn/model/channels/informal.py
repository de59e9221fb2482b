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
from clusterlearn.model.channels._common import betrays, pick_partner
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams
from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import gather_mul, pair_absorb, row_sums
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
        prox = lay.proximity(state.n, state.x, state.y, ctx.scenario.geography.ell)
        weight = gather_mul(lay.trust, csr.edge, prox)
        i, j, e = pick_partner(state, lay, weight, rng)
        talk = rng.random(i.size) < lay.trust[e]
        keep = np.flatnonzero(talk)
        i, j, e = i[keep], j[keep], e[keep]
        sc = ctx.scenario
        cheat = betrays(
            rng, state.opp[j], sc.trust.betrayal, ctx.env.mult("contract_enforcement", "betrayal")
        )
        scale = (
            params.rate
            * ctx.env.mult("culture", "informal")
            * state.inside[i]
            * lay.trust[e]
            * ~cheat
        )
        gain = pair_absorb(state.T, state.T, ctx.alpha, scale, rows=i, src_rows=j)
        out.rows, out.dT, out.rows_unique = i, gain, True
        out.meetings = np.bincount(i, minlength=state.n)
        out.trust_layer = "social"
        out.success_edge = e[row_sums(gain) > 0]
        out.betrayal_edge = e[cheat]
        out.used_edge = e
        return out
