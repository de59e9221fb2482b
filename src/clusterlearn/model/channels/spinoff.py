"""C4 spin-offs, firm fission (core network, socialisation).

A firm spawns a new firm with probability ``spawn x c_i / (c_i + mean c)``, damped as the
population nears ``capacity`` times its initial size. The child inherits ``rate`` of the
parent's tacit and explicit knowledge, sits near the parent, in the same stage or (with
probability ``next_stage``) the next, takes ``workers_share`` of the parent's workers, and has
a trusted social tie to its parent. Births are appended at the end of the step.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from clusterlearn.model.channels import register
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams
from clusterlearn.model.context import StepContext
from clusterlearn.model.state import State


class SpinoffParams(ChannelParams):
    rate: float = Field(
        0.6, ge=0.0, le=1.0, description="share of the parent's knowledge inherited"
    )
    spawn: float = Field(0.004, ge=0.0, le=1.0, description="base spin-off probability per step")
    capacity: float = Field(
        2.0, ge=1.0, le=100.0, description="population cap as a multiple of firms.n"
    )
    next_stage: float = Field(
        0.3, ge=0.0, le=1.0, description="probability the child moves up a stage"
    )
    workers_share: float = Field(
        0.2, ge=0.0, le=1.0, description="share of parent's workers who leave with it"
    )
    distance: float = Field(
        0.02, ge=0.0, le=1.0, description="spread of the child's location around the parent"
    )


@register
class Spinoff(Channel):
    name = "spinoff"
    code = "C4"
    network = "core"
    seci = "S"
    motive = "spillover"
    Params = SpinoffParams

    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        assert isinstance(params, SpinoffParams)
        out = ChannelOutput()
        n = state.n
        if not params.enabled or n == 0:
            return out
        room = max(0.0, 1.0 - n / (params.capacity * ctx.scenario.firms.n))
        c = ctx.c
        p = params.spawn * room * c / (c + max(float(c.mean()), 1e-12))
        parents = np.flatnonzero(rng.random(n) < p)
        k = parents.size
        if k == 0:
            return out
        up = rng.random(k) < params.next_stage
        stage = np.minimum(state.stage[parents] + up, state.S - 1)
        take = np.maximum(1, np.floor(params.workers_share * state.workers[parents])).astype(
            np.int64
        )
        take = np.minimum(take, np.maximum(state.workers[parents] - 1, 0))
        workers = np.bincount(parents, weights=take, minlength=n).astype(np.int64)
        out.workers = -workers
        births = {
            "T": params.rate * state.T[parents],
            "E": params.rate * state.E[parents],
            "stage": stage,
            "x": np.clip(state.x[parents] + rng.normal(0, params.distance, k), 0, 1),
            "y": np.clip(state.y[parents] + rng.normal(0, params.distance, k), 0, 1),
            "rnd": np.clip(state.rnd[parents] + rng.normal(0, 0.05, k), 0, 1),
            "effort": np.clip(state.effort[parents] + rng.normal(0, 0.05, k), 0, 1),
            "opp": rng.uniform(0, 1, k),
            "workers": np.maximum(take, 1),
            "size": np.maximum(take, 1).astype(np.float64),
            "inside": state.inside[parents],
            "parent": state.firm_id[parents],
            "parent_index": parents,
        }
        out.births = births
        return out
