"""X1 outward learning (exterior network, socialisation and combination).

A firm spends ``1 - inside`` of its learning effort on the global frontier ``G`` through its
exterior ties. Access rises with the number of ties, ``1 - exp(-ties / half)``, and openness
raises efficiency: ``dT = rate x (1 - inside) x access x openness x absorb(G - T_i, alpha_i)``,
and the same for explicit knowledge at half the rate. What a firm brings in then spreads
through C1-C5: it acts as gatekeeper (Giuliani and Bell 2005; Bathelt et al. 2004's
"global pipelines"). Switching this channel off removes the outward option: ``inside = 1``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from clusterlearn.model.channels import register
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams
from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import pair_absorb
from clusterlearn.model.state import State


class OutwardParams(ChannelParams):
    rate: float = Field(0.06, ge=0.0, le=1.0, description="beta of outward learning")
    explicit: float = Field(0.5, ge=0.0, le=1.0, description="explicit share relative to tacit")


@register
class Outward(Channel):
    name = "outward"
    code = "X1"
    network = "exterior"
    seci = "S+C"
    in_cluster = False
    Params = OutwardParams

    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        assert isinstance(params, OutwardParams)
        out = ChannelOutput()
        if not params.enabled or params.rate == 0.0 or state.n == 0:
            return out
        ties = state.exterior.count(state.n)
        # Tie counts are small integers: the exponential once per count, not once per firm.
        counts = np.arange(int(ties.max()) + 1 if ties.size else 1)
        access = (1.0 - np.exp(-counts / ctx.scenario.networks.exterior.half))[ties]
        scale = params.rate * (1.0 - state.inside) * access * ctx.env.mult("openness", "outward")
        who = np.flatnonzero(scale > 0)  # only firms with exterior ties and outward effort
        scale = scale[who]
        out.rows, out.rows_unique = who, True
        out.dT = pair_absorb(state.G, state.T, ctx.alpha, scale, rows=who)
        out.dE = pair_absorb(state.G, state.E, ctx.alpha, params.explicit * scale, rows=who)
        return out
