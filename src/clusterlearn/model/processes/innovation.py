"""Innovation: the cluster's own creation of knowledge, and the diffusion of each innovation.

Firm ``i`` innovates with probability
``nu x rnd_i x (1 + appropriability) x (1 + chi x diversity_i)``, where appropriability rises
with IP protection (``ip_protection``) and ``diversity_i`` counts the distinct channels the firm
has learned from in the last ``innovation.window`` steps. An innovation raises ``T[i, d]`` in a
domain drawn from the stage's relevance ``w[stage]`` by
``step x Exp(1) x min(max(T[i, d], best of cluster x 0.5), G[d])``, so it can pass the
cluster's best (and the frontier), but a leader's steps do not compound beyond the frontier's.

Diffusion time: the steps until half the firms of the innovator's stage hold at least half of
the innovation's step, i.e. the stage's median of ``T[:, d]`` reaches ``level_before + step / 2``.
Innovations not diffused after ``max_age`` steps are censored (NaN). An innovation the stage's
median already holds at the end of the step it was made is not new to the stage
(``new_to_stage`` false, diffusion time 0) and is left out of the mean diffusion time.
"""

from __future__ import annotations

import numpy as np

from clusterlearn.model.context import StepContext
from clusterlearn.model.kernel import column_max, compiled, count_recent, group_medians, kernels
from clusterlearn.model.state import State

FIELDS = ("id", "firm_id", "stage", "domain", "t0", "size", "threshold")


def empty() -> dict[str, np.ndarray]:
    return {
        "id": np.zeros(0, dtype=np.int64),
        "firm_id": np.zeros(0, dtype=np.int64),
        "stage": np.zeros(0, dtype=np.int64),
        "domain": np.zeros(0, dtype=np.int64),
        "t0": np.zeros(0, dtype=np.int64),
        "size": np.zeros(0),
        "threshold": np.zeros(0),
    }


def diversity(state: State, window: int) -> np.ndarray:
    """Distinct channels a firm learned from in the last ``window`` steps."""
    return count_recent(state.last_inflow, state.t, window)


def innovate(state: State, ctx: StepContext, rng: np.random.Generator) -> int:
    """Draw this step's innovations, apply them, and register them for diffusion tracking."""
    inn = ctx.scenario.innovation
    n = state.n
    if not inn.enabled or n == 0:  # switched off, it draws nothing (as a channel)
        return 0
    u = rng.random(n)
    approp = 0.5 * ctx.env.mult("ip_protection", "appropriability")  # equals the IP lever
    p = inn.nu * state.rnd * (1.0 + approp) * (1.0 + inn.chi * diversity(state, inn.window))
    who = np.flatnonzero(u < np.clip(p, 0.0, 1.0))
    k = who.size
    if k == 0:
        return 0
    cw = np.cumsum(state.w[state.stage[who]], axis=1)
    d = np.minimum((cw < rng.random(k)[:, None]).sum(axis=1), state.D - 1)
    best = column_max(state.T)[d]
    # The step scales with the firm's own level (at least half the cluster's best) but never
    # with more than the frontier: otherwise a leader's innovations compound without bound.
    base = np.minimum(np.maximum(state.T[who, d], 0.5 * best), state.G[d])
    size = inn.step * rng.exponential(1.0, k) * base
    before = state.T[who, d].copy()
    np.add.at(state.T, (who, d), size)
    state.innovations += np.bincount(who, minlength=n)
    start = int(state.counters.get("innovation_id", 0))
    state.counters["innovation_id"] = start + k
    new = {
        "id": np.arange(start, start + k, dtype=np.int64),
        "firm_id": state.firm_id[who],
        "stage": state.stage[who],
        "domain": d,
        "t0": np.full(k, state.t, dtype=np.int64),
        "size": size,
        "threshold": before + 0.5 * size,
    }
    if not state.innov:
        state.innov = empty()
    state.innov = {f: np.concatenate([state.innov[f], new[f]]) for f in FIELDS}
    return k


def stage_medians(
    values: np.ndarray, stage: np.ndarray, S: int, hint: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """Median of each column of ``values`` within each stage (-inf for an empty stage).

    ``hint`` (a dict kept by the caller between steps) lets the compiled backend start from
    the previous medians: medians move little in a step, so one pass that keeps only the values
    near them finds the exact medians. The result never depends on the hint.
    """
    cols = values.reshape(values.shape[0], -1)
    if hint is not None and kernels() == "numba" and "center" in hint and cols.shape[0]:
        counts = np.bincount(stage, minlength=S)
        med, missed, _held = compiled().window_medians(
            np.ascontiguousarray(cols), stage, counts, hint["center"], hint["width"]
        )
        if missed.any():  # the median left the window: those groups in full
            full = _full_stage_medians(cols, stage, S)
            med[missed] = full[missed]
        # The next window: three times this step's move of the median (it drifts smoothly),
        # shrinking at most by half a step, and four times wider after a miss.
        finite = np.isfinite(med)
        move = np.where(finite, np.abs(med - hint["center"]), 0.0)
        width = np.maximum(0.5 * hint["width"], 3.0 * move)
        hint["width"] = np.where(missed, 4.0 * np.maximum(hint["width"], move), width) + 1e-12
        hint["center"] = np.where(finite, med, hint["center"])
        return med.reshape((S, *values.shape[1:]))
    med = _full_stage_medians(cols, stage, S)
    if hint is not None:
        finite = np.isfinite(med)
        hint["center"] = np.where(finite, med, 0.0)
        hint["width"] = np.where(finite, 0.02 * np.abs(med), 0.0) + 1e-9
    return med.reshape((S, *values.shape[1:]))


def _full_stage_medians(cols: np.ndarray, stage: np.ndarray, S: int) -> np.ndarray:
    """Stage medians of each column of ``cols`` (``n x k``) from a full sort by stage."""
    # Stages are small integers: a stable sort of 8-bit keys is a radix sort.
    order = np.argsort(stage.astype(np.uint8) if S <= 256 else stage, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(stage, minlength=S))])
    # Each column's values contiguous and grouped by stage, so every median is a plain slice.
    return group_medians(np.ascontiguousarray(cols[order].T), bounds)


def track_diffusion(state: State, ctx: StepContext) -> list[float]:
    """Close innovations that have diffused (or aged out); return the diffusion times closed."""
    if not state.innov or state.innov["id"].size == 0:
        return []
    inn = state.innov
    med = stage_medians(state.T, state.stage, state.S, state.median_hints.setdefault("T", {}))
    done = med[inn["stage"], inn["domain"]] >= inn["threshold"]
    aged = (state.t - inn["t0"]) >= ctx.scenario.innovation.max_age
    close = done | aged
    if not close.any():
        return []
    rec = {f: inn[f][close] for f in FIELDS}
    age = state.t - inn["t0"][close]
    # Held by half the stage within the step it was made: not new to the stage, so it has
    # no diffusion to measure (a laggard's improvement below its stage's median).
    rec["new_to_stage"] = ~(done[close] & (age <= 1))
    rec["diffusion_time"] = np.where(done[close], age, np.nan).astype(float)
    rec["diffusion_time"][~rec["new_to_stage"]] = 0.0
    state.innov_done.append(rec)
    state.innov = {f: inn[f][~close] for f in FIELDS}
    times = rec["diffusion_time"][rec["new_to_stage"] & done[close]]
    return [float(x) for x in times]
