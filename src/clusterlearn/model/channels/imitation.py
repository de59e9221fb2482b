"""C5 observation and imitation (core network, combination).

Each firm watches one visible same-stage competitor per step (the competitor layer), chosen
with weight ``capability`` (firms watch the leaders), and reverse-engineers its explicit
knowledge: ``dE = rate x inside x ip x absorb(E_j - E_i, alpha_i)``, where ``ip`` falls with IP
protection. No trust is needed and the observed firm loses nothing.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from clusterlearn.model.channels import register
from clusterlearn.model.channels._common import pick_partner
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams
from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import gather_floor, pair_absorb
from clusterlearn.model.state import State


class ImitationParams(ChannelParams):
    rate: float = Field(0.05, ge=0.0, le=1.0, description="beta of imitation")


@register
class Imitation(Channel):
    name = "imitation"
    code = "C5"
    network = "core"
    seci = "C"
    motive = "spillover"
    Params = ImitationParams

    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        out = ChannelOutput()
        lay = state.competitor
        if not params.enabled or params.rate == 0.0 or lay.m == 0:
            return out
        csr = lay.csr(state.n)
        i, j, _ = pick_partner(state, lay, gather_floor(ctx.c, csr.nbr, 1e-12), rng)
        scale = params.rate * ctx.env.mult("ip_protection", "imitation") * state.inside[i]
        gain = pair_absorb(state.E, state.E, ctx.alpha, scale, rows=i, src_rows=j)
        out.rows, out.dE, out.rows_unique = i, gain, True
        return out
