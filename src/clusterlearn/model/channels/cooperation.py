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
from clusterlearn.model.kernel import cooperate, meet_and_barter
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
        active, a, b = meet_and_barter(
            rng, params.meet, lay.trust, lay.i, lay.j, state.T, params.margin
        )
        sc = ctx.scenario
        out.rows = np.concatenate([a, b])
        out.row_meetings = True  # an exchange is a meeting of each side
        # a learns from b unless b cheats, and the other way round (draws: a's, then b's)
        out.dT, out.dE, out.row_gain, _, kept, broken = cooperate(
            state.T,
            state.E,
            a,
            b,
            active,
            ctx.alpha,
            rng,  # a's draws, then b's
            state.opp,
            state.inside,
            lay.trust,
            params.rate,
            sc.trust.betrayal,
            ctx.env.mult("contract_enforcement", "betrayal"),
            ctx.env.mult("it_infrastructure", "explicit"),
        )
        out.trust_layer = "value_chain"
        out.success_edge = kept  # neither side cheated
        out.betrayal_edge = broken
        out.used_edge = active
        return out
