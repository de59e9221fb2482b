"""A3 knowledge infrastructure (auxiliary network, combination).

A cluster pool of codified knowledge (databases, standards, shared documentation). Firms
contribute what they have codified with probability ``share x (0.5 + sc_i)`` (social capital
raises sharing); the pool moves by ``renew`` toward the mean explicit knowledge of the
contributors. Every firm draws from the pool: ``dE = rate x IT x absorb(P - E_i, alpha_i)``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from clusterlearn.model.channels import register
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams
from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import masked_mean_rows, pair_absorb
from clusterlearn.model.state import State


class InfrastructureParams(ChannelParams):
    rate: float = Field(0.03, ge=0.0, le=1.0, description="beta of drawing from the pool")
    share: float = Field(
        0.3, ge=0.0, le=1.0, description="contribution probability at average social capital"
    )
    renew: float = Field(
        0.2, ge=0.0, le=1.0, description="speed at which the pool follows contributions"
    )


@register
class Infrastructure(Channel):
    name = "infrastructure"
    code = "A3"
    network = "auxiliary"
    seci = "C"
    motive = "resource"
    Params = InfrastructureParams

    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        assert isinstance(params, InfrastructureParams)
        out = ChannelOutput()
        if not params.enabled or state.n == 0:
            return out
        contrib = rng.random(state.n) < np.clip(params.share * (0.5 + ctx.sc), 0, 1)
        pool = state.pool
        if contrib.any():
            pool = pool + params.renew * (masked_mean_rows(state.E, contrib) - pool)
        out.pool = pool
        scale = params.rate * ctx.env.mult("it_infrastructure", "pool")
        out.dE = pair_absorb(pool, state.E, ctx.alpha, scale)
        return out
