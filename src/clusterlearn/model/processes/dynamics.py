"""Firm dynamics: entry by spin-offs, size growth, upgrading and exit.

* Entry: spin-offs drawn by C4 are appended, each with a trusted social tie to its parent.
* Size: ``size *= 1 + g_i``, ``g_i = size_growth x (r_i - 1)``, damped by
  ``(1 - size / (size_cap x workers_mean))`` when positive (logistic growth to a ceiling), with
  ``r_i`` the firm's revenue per unit of
  size (``v[stage] x c``) relative to the cluster mean (``revenue = size x v[stage] x c``).
* Upgrading: a firm whose capability in the next stage's domains ``w[s+1] . T`` reaches
  ``upgrade_ratio`` times the median capability of that stage's firms moves up with
  probability ``upgrade_rate`` per step.
* Exit: a firm older than ``exit_grace`` whose capability stays below ``exit_share`` of the
  cluster median for ``exit_patience`` steps leaves at the next network update; its workers
  join the labour pool.
* Hiring: a share ``hire_rate`` of the pool is hired each step, by firms in proportion to size.
"""

from __future__ import annotations

import numpy as np

from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import draw_by_cumweight, grow_sizes
from clusterlearn.model.layers import TieChange
from clusterlearn.model.processes.innovation import stage_medians
from clusterlearn.model.state import State


def enter(
    state: State, ctx: StepContext, births: list[dict[str, np.ndarray]], pending: list[TieChange]
) -> int:
    """Append spin-offs; returns the number of entries."""
    if not births:
        return 0
    merged = {k: np.concatenate([b[k] for b in births]) for k in births[0]}
    births.clear()
    parent_index = merged.pop("parent_index")
    new = state.append_firms(merged)
    pending.append(
        TieChange("social", parent_index, new, np.full(new.size, ctx.scenario.trust.spinoff))
    )
    return int(new.size)


def evolve(state: State, ctx: StepContext, rng: np.random.Generator) -> dict[str, int]:
    """Size growth, upgrading, the exit counter and hiring; returns the count of upgrades.

    Exits happen at network updates, in :func:`leave`.
    """
    dyn = ctx.scenario.dynamics
    n = state.n
    if not dyn.enabled or n == 0:  # switched off, it draws nothing (as a channel)
        return {"upgrades": 0}
    u_up = rng.random(n)
    c = state.capability()
    prod = state.v[state.stage] * c
    # Logistic: growth slows as a firm nears the size ceiling. Without it size compounds
    # without bound for the leaders, and mobility (drawn by size) builds hubs with a fifth of
    # a million-firm cluster as ties.
    ceiling = dyn.size_cap * ctx.scenario.firms.workers_mean
    grow_sizes(state.size, prod, max(float(prod.mean()), 1e-12), dyn.size_growth, ceiling)

    upgrades = 0
    if state.S > 1:
        med = stage_medians(c, state.stage, state.S, state.median_hints.setdefault("c", {}))
        med[np.isneginf(med)] = np.inf  # no firm in a stage: nobody can upgrade into it
        nxt = np.minimum(state.stage + 1, state.S - 1)
        can = (state.stage < state.S - 1) & (
            state.capability_at(nxt) >= dyn.upgrade_ratio * med[nxt]
        )
        go = can & (u_up < dyn.upgrade_rate)
        state.stage = np.where(go, nxt, state.stage)
        upgrades = int(go.sum())

    one_group = np.zeros(n, dtype=np.int64)
    median = float(stage_medians(c, one_group, 1, state.median_hints.setdefault("all", {}))[0])
    behind = c < dyn.exit_share * median
    state.behind = np.where(behind, state.behind + 1, 0)

    if state.labour_pool > 0 and state.n > 0:
        hired = int(np.floor(dyn.hire_rate * state.labour_pool + rng.random()))
        hired = min(hired, state.labour_pool)
        if hired:
            cw = np.cumsum(state.size)
            who = draw_by_cumweight(cw, rng.random(hired))
            state.workers += np.bincount(who, minlength=state.n)
            state.labour_pool -= hired
    return {"upgrades": upgrades}


def leave(state: State, ctx: StepContext) -> int:
    """Remove firms that stayed behind too long; their workers join the labour pool."""
    dyn = ctx.scenario.dynamics
    if not dyn.enabled or state.n == 0:
        return 0
    gone = (state.behind >= dyn.exit_patience) & (state.t - state.born >= dyn.exit_grace)
    exits = int(gone.sum())
    if exits == 0 or exits >= state.n:
        return 0
    state.labour_pool += int(state.workers[gone].sum())
    state.remove_firms(gone)
    return exits
