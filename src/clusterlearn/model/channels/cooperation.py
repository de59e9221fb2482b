"""C2 cooperation (core network, socialisation and combination).

Pairs on value-chain and alliance ties interact with probability ``meet x trust``. It is a
barter (Cowan and Jonard 2004): it happens only when each side is ahead of the other in some
domain by more than ``margin``, so both gain. Each side learns tacit knowledge
``rate x inside x trust x absorb(T_other - T_own, alpha)`` and explicit knowledge at the same
rate times the IT multiplier. A partner who turns opportunistic (draw on ``opp``, less under
contract enforcement) gives nothing and trust falls; a successful exchange raises trust.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from clusterlearn.model.channels import register
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams
from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import cooperation_exchanges
from clusterlearn.model.state import State


class CooperationParams(ChannelParams):
    rate: float = Field(0.08, ge=0.0, le=1.0, description="beta of cooperation")
    meet: float = Field(0.5, ge=0.0, le=1.0, description="meeting probability at full trust")
    margin: float = Field(0.0, ge=0.0, description="lead needed in a domain to count as ahead")


@register
class Cooperation(Channel):
    name = "cooperation"
    code = "C2"
    network = "core"
    seci = "S+C"
    motive = "coordination"
    Params = CooperationParams

    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        assert isinstance(params, CooperationParams)
        out = ChannelOutput()
        lay = state.value_chain
        if not params.enabled or params.rate == 0.0 or lay.m == 0:
            return out
        sc = ctx.scenario
        # Draws, in order: whether each tie meets, then a's cheats and b's.
        active, a, b, out.dT, out.dE, out.row_gain, kept, broken = cooperation_exchanges(
            state.T,
            state.E,
            ctx.alpha,
            lay.i,
            lay.j,
            lay.trust,
            params.meet,
            params.margin,
            state.opp,
            state.inside,
            params.rate,
            sc.trust.betrayal,
            ctx.env.mult("contract_enforcement", "betrayal"),
            ctx.env.mult("it_infrastructure", "explicit"),
            rng,
        )
        out.rows = np.concatenate([a, b])  # a learns from b unless b cheats, and back
        out.row_meetings = True  # an exchange is a meeting of each side
        out.trust_layer = "value_chain"
        out.success_edge = kept  # neither side cheated
        out.betrayal_edge = broken
        out.used_edge = active
        return out
