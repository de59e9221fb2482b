"""Network dynamics, applied every ``networks.update_every`` steps.

Ties created during the step by channels (mobility, events) and by spin-offs are buffered and
merged here, so that the neighbour view of a layer is rebuilt once per update, not per step.
Then: triadic closure through trusted ties (a firm meets a friend's friend), decay of unused
low-trust ties, new value-chain ties between adjacent stages with weight ``prox x trust0``,
exterior ties formed with outward effort and lost at a constant rate, and (every
``competitor_every`` steps) a rebuilt competitor-visibility layer.
"""

from __future__ import annotations

import numpy as np

from clusterlearn.model.context import StepContext
from clusterlearn.model.init import competitor_layer
from clusterlearn.model.kernel import gather_at_least
from clusterlearn.model.layers import TieChange, sample_by_weight
from clusterlearn.model.state import State


def merge_pending(state: State, pending: list[TieChange]) -> int:
    """Add buffered ties to their layers; returns the number of ties created."""
    made = 0
    for name in ("social", "value_chain"):
        items = [p for p in pending if p.layer == name and p.a.size]
        if items:
            made += state.layer(name).add(
                np.concatenate([p.a for p in items]),
                np.concatenate([p.b for p in items]),
                np.concatenate([p.trust for p in items]),
                state.t,
                n=state.n,
            )
    pending.clear()
    return made


def update(
    state: State, ctx: StepContext, rng: np.random.Generator, pending: list[TieChange]
) -> dict[str, int]:
    """One network update; returns counts of ties created and removed."""
    sc = ctx.scenario
    nets = sc.networks
    n = state.n
    every = nets.update_every
    stats = {"ties_created": 0, "ties_removed": 0}

    # Triadic closure through trusted ties.
    soc = state.social
    if soc.m and nets.closure > 0:
        csr = soc.csr(n)
        w1 = gather_at_least(soc.trust, csr.edge, nets.closure_trust)
        pos = sample_by_weight(csr, w1, rng.random(n))
        pos2 = sample_by_weight(csr, np.ones(csr.nbr.size), rng.random(n))
        go = (pos >= 0) & (rng.random(n) < min(1.0, nets.closure * every))
        i = np.flatnonzero(go)
        j = csr.nbr[pos[i]]
        p2 = pos2[j]
        ok = p2 >= 0
        i, k = i[ok], csr.nbr[p2[ok]]
        ok = k != i
        pending.append(TieChange("social", i[ok], k[ok], np.full(int(ok.sum()), ctx.trust0)))

    # Value-chain formation between adjacent stages.
    vc = state.value_chain
    if nets.value_chain.form > 0 and state.S > 1 and n > 1:
        deg = vc.degree(n)
        seek = np.flatnonzero(
            (deg < nets.value_chain.mean_degree) & (rng.random(n) < nets.value_chain.form)
        )
        # a stable sort of small keys as 8 bits is a radix sort: the same order, faster
        keys = state.stage.astype(np.uint8) if state.S <= 256 else state.stage
        order = np.argsort(keys, kind="stable")
        counts = np.bincount(state.stage, minlength=state.S)
        starts = np.concatenate([[0], np.cumsum(counts)])
        up = state.stage[seek] < state.S - 1
        target = np.where(up, state.stage[seek] + 1, state.stage[seek] - 1)
        has = counts[target] > 0
        seek, target = seek[has], target[has]
        cand = order[starts[target] + (rng.random(seek.size) * counts[target]).astype(np.int64)]
        prox = np.exp(
            -np.hypot(state.x[seek] - state.x[cand], state.y[seek] - state.y[cand])
            / sc.geography.ell
        )
        ok = rng.random(seek.size) < prox * ctx.trust0
        pending.append(
            TieChange("value_chain", seek[ok], cand[ok], np.full(int(ok.sum()), ctx.trust0))
        )

    stats["ties_created"] = merge_pending(state, pending)

    # Decay of unused, low-trust ties.
    removed = 0
    for lay in (state.social, state.value_chain):
        if lay.m and nets.decay > 0:  # without decay nothing is drawn
            stale = (state.t - lay.last_used > nets.decay_after) & (lay.trust < nets.decay_trust)
            drop = stale & (rng.random(lay.m) < nets.decay)
            if drop.any():
                lay.keep(~drop)
                removed += int(drop.sum())
    stats["ties_removed"] = removed

    # Exterior ties grow with outward effort and decay at a constant rate.
    ext = nets.exterior
    if ctx.enabled("outward"):
        p_form = np.clip(
            ext.form * every * (1.0 - state.inside) * ctx.env.mult("openness", "exterior_form"),
            0,
            1,
        )
        new = np.flatnonzero(rng.random(n) < p_form)
        keep = rng.random(state.exterior.m) >= min(1.0, ext.decay * every)
        state.exterior.keep(keep)
        state.exterior.add(new, rng.integers(0, state.n_partners, new.size), state.n_partners)

    # The competitor layer is what C5 watches: with C5 off there is nothing to refresh.
    if (
        state.t % nets.competitor_every == 0
        and nets.competitor.edges is None
        and ctx.enabled("imitation")
    ):
        state.competitor = competitor_layer(state.x, state.y, state.stage, nets.competitor.visible)
    return stats
