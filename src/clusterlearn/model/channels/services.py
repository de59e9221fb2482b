"""A5 technical/management services and the technology market (auxiliary, combination).

Services: firms tied to a service centre ask for help with probability
``request x public services``; the centre passes codified knowledge,
``rate x absorb(K - E_i, alpha_i)``. Market: any firm may buy codified knowledge with
probability ``buy x tech market / (1 + price)``, where the price ``price0 x gap x (price
multiplier)`` grows with the firm's gap to the market's level. No trust is needed, and what
the market sells is packaged to the buyer's level: the gap bought is at most ``alpha_i``, so the
cognitive-distance penalty of the kernel does not bite. That is how a neutral market lowers
entry barriers for laggards and entrants.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from clusterlearn.model.channels import register
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams
from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import absorb, pair_absorb, shortfall_sums
from clusterlearn.model.state import SERVICE, State


class ServicesParams(ChannelParams):
    rate: float = Field(0.05, ge=0.0, le=1.0, description="beta of services and market purchases")
    request: float = Field(0.15, ge=0.0, le=1.0, description="service request probability per tie")
    buy: float = Field(0.05, ge=0.0, le=1.0, description="purchase probability at zero price")
    price0: float = Field(0.2, ge=0.0, le=100.0, description="price per unit of mean gap")


@register
class Services(Channel):
    name = "services"
    code = "A5"
    network = "auxiliary"
    seci = "C"
    motive = "resource"
    Params = ServicesParams

    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        assert isinstance(params, ServicesParams)
        out = ChannelOutput()
        if not params.enabled:
            return out
        n = state.n
        aux = state.auxiliary
        p_req = min(1.0, params.request * ctx.env.mult("public_services", "services"))
        hit = aux.other_in(state.inst_type, (SERVICE,)) & (rng.random(aux.m) < p_req)
        f, k = aux.firm[hit], aux.other[hit]
        gain = pair_absorb(state.inst_K, state.E, ctx.alpha, params.rate, rows=f, src_rows=k)
        ins = ctx.scenario.institutions
        lag = state.G_history[max(0, len(state.G_history) - 1 - ins.lag)]
        market = ins.market_level * lag
        short = shortfall_sums(market, state.E)  # the firm's gap to the market, summed
        price = params.price0 * ctx.env.mult("tech_market", "price") * (short / state.D)
        p_buy = params.buy * ctx.env.mult("tech_market", "market") / (1.0 + price)
        buyers = np.flatnonzero(rng.random(n) < np.clip(p_buy, 0.0, 1.0))
        al = ctx.alpha[buyers][:, None]
        gap = np.maximum(market[None, :] - state.E[buyers], 0.0)
        bought = params.rate * absorb(np.minimum(gap, al), al)
        out.rows = np.concatenate([f, buyers])
        out.dE = np.concatenate([gain, bought])
        spend = np.zeros(n)
        spend[buyers] = price[buyers]
        out.spend = spend
        return out
