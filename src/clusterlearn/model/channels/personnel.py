"""A2 personnel flow to firms (auxiliary network, socialisation).

Firms tied to a university or research institute hire a graduate or researcher with
probability ``hire`` per tie per step. The hire brings tacit knowledge at the institution's
level, ``rate x absorb(K - T_i, alpha_i)``, and adds a skilled worker to the firm.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from clusterlearn.model.channels import register
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams
from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import pair_absorb
from clusterlearn.model.state import UNIVERSITY, State


class PersonnelParams(ChannelParams):
    rate: float = Field(0.1, ge=0.0, le=1.0, description="beta: knowledge a hire brings")
    hire: float = Field(
        0.03, ge=0.0, le=1.0, description="hiring probability per university tie per step"
    )


@register
class Personnel(Channel):
    name = "personnel"
    code = "A2"
    network = "auxiliary"
    seci = "S"
    motive = "resource"
    Params = PersonnelParams

    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        assert isinstance(params, PersonnelParams)
        out = ChannelOutput()
        aux = state.auxiliary
        if not params.enabled or aux.m == 0:
            return out
        hit = aux.other_in(state.inst_type, (UNIVERSITY,)) & (rng.random(aux.m) < params.hire)
        f, k = aux.firm[hit], aux.other[hit]
        out.workers = np.bincount(f, minlength=state.n).astype(np.int64, copy=False)
        if params.rate > 0:
            gain = pair_absorb(state.inst_K, state.T, ctx.alpha, params.rate, rows=f, src_rows=k)
            out.rows, out.dT = f, gain
        return out
