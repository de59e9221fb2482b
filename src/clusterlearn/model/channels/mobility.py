"""C3 labour mobility (core network, socialisation).

Each skilled worker leaves with probability ``mobility x labour flexibility`` (a firm keeps at
least one worker). The new employer is drawn by attractiveness (``size x capability``) and
accepted with probability ``prox`` (up to ``tries`` draws; a mover who finds no nearby
employer stays). The mover carries tacit knowledge: the employer gains
``rate x culture x absorb(T_src - T_dst, alpha_dst)``, the source loses ``loss / workers_src``
of its tacit knowledge per leaver, and with probability ``tie`` the move leaves a social tie
between the two firms (former colleagues who keep in touch), at the baseline trust.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from clusterlearn.model.channels import register
from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams, TieChange
from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import draw_by_cumweight, pair_absorb, pair_proximity
from clusterlearn.model.state import State


class MobilityParams(ChannelParams):
    rate: float = Field(0.15, ge=0.0, le=1.0, description="beta: knowledge a mover brings")
    mobility: float = Field(
        0.02, ge=0.0, le=1.0, description="per-worker leaving probability per step"
    )
    loss: float = Field(
        0.2, ge=0.0, le=1.0, description="share of tacit knowledge a worker embodies"
    )
    tries: int = Field(3, ge=1, le=20, description="employer draws before a mover gives up")
    tie: float = Field(
        0.25, ge=0.0, le=1.0, description="probability a move leaves a social tie between the firms"
    )


@register
class Mobility(Channel):
    name = "mobility"
    code = "C3"
    network = "core"
    seci = "S"
    in_cluster = True
    source_loses = True
    motive = "spillover"
    Params = MobilityParams

    def apply(
        self, state: State, params: ChannelParams, ctx: StepContext, rng: np.random.Generator
    ) -> ChannelOutput:
        assert isinstance(params, MobilityParams)
        out = ChannelOutput()
        n = state.n
        if not params.enabled or n < 2:
            return out
        p = min(1.0, params.mobility * ctx.env.mult("labour_flexibility", "mobility"))
        # Every worker but one per firm leaves with probability p. Drawn as the number of
        # leavers in the whole cluster, then which worker slots they are: the same law as one
        # binomial per firm, at a quarter of the cost. src is sorted by firm.
        slots = np.cumsum(np.maximum(state.workers - 1, 0))
        total = int(slots[-1])
        k = int(rng.binomial(total, p)) if total else 0
        pick = np.sort(rng.choice(total, size=k, replace=False, shuffle=False)) if k else slots[:0]
        src = np.searchsorted(slots, pick, side="right").astype(np.int64, copy=False)
        dst = np.full(src.size, -1, dtype=np.int64)
        attract = state.size * np.maximum(ctx.c, 1e-12)
        cw = np.cumsum(attract)
        ell = ctx.scenario.geography.ell
        todo = np.arange(src.size)
        for _ in range(params.tries):  # a few rejection rounds over movers, vectorised
            if todo.size == 0:
                break
            cand = draw_by_cumweight(cw, rng.random(todo.size))
            s = src[todo]
            prox = pair_proximity(state.x, state.y, s, cand, ell)
            ok = (cand != s) & (rng.random(todo.size) < prox)
            dst[todo[ok]] = cand[ok]
            todo = todo[~ok]
        moved = dst >= 0
        src, dst = src[moved], dst[moved]
        workers = np.bincount(dst, minlength=n) - np.bincount(src, minlength=n)
        out.workers = workers.astype(np.int64, copy=False)
        if src.size == 0:
            return out
        scale = params.rate * ctx.env.mult("culture", "mobility_absorb")
        gain = pair_absorb(state.T, state.T, ctx.alpha, scale, rows=dst, src_rows=src)
        out.rows, out.dT = dst, gain
        if params.rate > 0:
            left = np.bincount(src, minlength=n)
            who = np.flatnonzero(left)
            share = np.minimum(params.loss * left[who] / np.maximum(state.workers[who], 1), 0.5)
            out.loss_rows, out.lossT = who, share[:, None] * state.T[who]
        keep = rng.random(src.size) < params.tie
        out.new_ties.append(
            TieChange("social", src[keep], dst[keep], np.full(int(keep.sum()), ctx.trust0))
        )
        return out
