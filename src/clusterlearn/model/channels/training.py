"""A1 training and education (auxiliary network, socialisation).

Each firm-institution tie to a training centre or a university holds a session with
probability ``sessions x public services``. A session raises the firm's tacit knowledge toward
the institution's level, ``rate x absorb(K - T_i, alpha_i)``, and its absorptive capacity by
``alpha_gain`` (Cohen and Levinthal: capacity grows with learning investment), up to ``alpha_cap``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from clusterlearn.model.channels import register
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams
from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import pair_absorb
from clusterlearn.model.state import TRAINING, UNIVERSITY, State


class TrainingParams(ChannelParams):
    rate: float = Field(0.05, ge=0.0, le=1.0, description="beta of training")
    sessions: float = Field(
        0.25, ge=0.0, le=1.0, description="session probability per tie per step"
    )
    alpha_gain: float = Field(0.01, ge=0.0, le=1.0, description="capacity gained per session")
    alpha_cap: float = Field(1.0, ge=0.0, le=100.0, description="most capacity training can add")


@register
class Training(Channel):
    name = "training"
    code = "A1"
    network = "auxiliary"
    seci = "S"
    motive = "resource"
    Params = TrainingParams

    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        assert isinstance(params, TrainingParams)
        out = ChannelOutput()
        aux = state.auxiliary
        if not params.enabled or aux.m == 0:
            return out
        p = min(1.0, params.sessions * ctx.env.mult("public_services", "training"))
        hit = aux.other_in(state.inst_type, (TRAINING, UNIVERSITY)) & (rng.random(aux.m) < p)
        f, k = aux.firm[hit], aux.other[hit]
        if params.rate > 0:
            gain = pair_absorb(state.inst_K, state.T, ctx.alpha, params.rate, rows=f, src_rows=k)
            out.rows, out.dT = f, gain
        sessions = np.bincount(f, minlength=state.n)
        room = np.maximum(params.alpha_cap - state.alpha_bonus, 0.0)
        out.alpha_bonus = np.minimum(params.alpha_gain * sessions, room)
        return out
