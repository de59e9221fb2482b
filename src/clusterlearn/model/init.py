"""Initialisation: firms, geography and the generated (or given) tie layers."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from clusterlearn.errors import ScenarioError
from clusterlearn.model.kernel import nearest
from clusterlearn.model.layers import BipartiteLayer, TieLayer
from clusterlearn.model.state import AGENT, NEVER, SERVICE, TRAINING, UNIVERSITY, State

if TYPE_CHECKING:
    from clusterlearn.scenario import Scenario

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

ALLIANCE = np.int8(1)


def stage_structure(
    S: int, D: int, concentration: float, va_step: float
) -> tuple[FloatArray, FloatArray]:
    """Relevance ``w`` (S x D, rows sum to 1) and value added ``v`` (S) of the stages.

    Stage ``s`` peaks on domain ``s (D-1)/(S-1)``, so stages need different, overlapping
    domains (complementary knowledge); ``v[s] = 1 + va_step * s`` rises along the chain.
    """
    d = np.arange(D, dtype=np.float64)
    centre = np.linspace(0.0, D - 1.0, S) if S > 1 else np.full(1, (D - 1) / 2.0)
    w = np.exp(-concentration * (d[None, :] - centre[:, None]) ** 2 / max(D, 1))
    w /= w.sum(axis=1, keepdims=True)
    v = 1.0 + va_step * np.arange(S, dtype=np.float64)
    return w, v


def proximity(
    ax: FloatArray, ay: FloatArray, bx: FloatArray, by: FloatArray, ell: float
) -> FloatArray:
    """``exp(-dist / ell)`` between paired points."""
    return np.exp(-np.hypot(ax - bx, ay - by) / ell)


def z_order(x: FloatArray, y: FloatArray, bits: int = 16) -> IntArray:
    """The permutation that sorts points of the unit square along a Z-order (Morton) curve.

    Each coordinate is cut into ``2**bits`` cells and the cell numbers' bits are interleaved,
    so points close on the curve are close in the square.

    Examples
    --------
    >>> z_order(np.array([0.9, 0.1, 0.9, 0.1]), np.array([0.9, 0.9, 0.1, 0.1])).tolist()
    [3, 2, 1, 0]
    """
    cells = (1 << bits) - 1
    key = np.zeros(np.size(x), dtype=np.uint64)
    for shift, coord in enumerate((x, y)):
        v = (np.clip(np.asarray(coord, dtype=np.float64), 0.0, 1.0) * cells).astype(np.uint64)
        # Spread the bits apart (abcd -> 0a0b0c0d), one halving of the gap at a time.
        for gap, mask in (
            (16, 0x0000FFFF0000FFFF),
            (8, 0x00FF00FF00FF00FF),
            (4, 0x0F0F0F0F0F0F0F0F),
            (2, 0x3333333333333333),
            (1, 0x5555555555555555),
        ):
            v = (v | (v << np.uint64(gap))) & np.uint64(mask)
        key |= v << np.uint64(shift)
    return np.argsort(key, kind="stable").astype(np.int64)


def _beta_around(rng: np.random.Generator, mean: float, size: int, k: float = 12.0) -> FloatArray:
    if mean <= 0.0 or mean >= 1.0:
        return np.full(size, float(mean))
    return rng.beta(mean * k, (1.0 - mean) * k, size)


def _read_table(spec: dict[str, list[float]] | str, n: int) -> dict[str, FloatArray]:
    if isinstance(spec, str):
        path = Path(spec)
        if not path.exists():
            raise ScenarioError([f"firms.attributes: file not found: {path}"])
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not rows:
            raise ScenarioError([f"firms.attributes: {path} has no rows"])
        table: dict[str, FloatArray] = {}
        for col in rows[0]:
            try:
                table[col.strip()] = np.array([float(r[col]) for r in rows])
            except ValueError as exc:
                raise ScenarioError([f"firms.attributes: {path}, column {col!r}: {exc}"]) from None
    else:
        table = {k: np.asarray(v, dtype=np.float64) for k, v in spec.items()}
    for col, arr in table.items():
        if arr.shape != (n,):
            raise ScenarioError(
                [f"firms.attributes.{col}: expected {n} values (firms.n), got {arr.shape[0]}"]
            )
        if not np.all(np.isfinite(arr)):
            raise ScenarioError([f"firms.attributes.{col}: values must be finite numbers"])
    return table


def _read_edges(
    spec: list[list[float]] | str, n: int, key: str
) -> tuple[IntArray, IntArray, FloatArray | None]:
    if isinstance(spec, str):
        path = Path(spec)
        if not path.exists():
            raise ScenarioError([f"{key}: file not found: {path}"])
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not {"i", "j"} <= set(reader.fieldnames):
                raise ScenarioError(
                    [f"{key}: {path} needs a header with columns i, j (and optional trust)"]
                )
            rows = [(r["i"], r["j"], r.get("trust")) for r in reader]
        try:
            a = np.array([int(r[0]) for r in rows], dtype=np.int64)
            b = np.array([int(r[1]) for r in rows], dtype=np.int64)
            tr = (
                np.array([float(r[2] or "nan") for r in rows])
                if rows and rows[0][2] not in (None, "")
                else None
            )
        except ValueError as exc:
            raise ScenarioError([f"{key}: {path}: {exc}"]) from None
    else:
        if any(len(e) not in (2, 3) for e in spec):
            raise ScenarioError([f"{key}: each edge must be [i, j] or [i, j, trust]"])
        a = np.array([int(e[0]) for e in spec], dtype=np.int64)
        b = np.array([int(e[1]) for e in spec], dtype=np.int64)
        tr = (
            np.array([float(e[2]) for e in spec])
            if spec and all(len(e) == 3 for e in spec)
            else None
        )
    if a.size and (a.min() < 0 or b.min() < 0 or a.max() >= n or b.max() >= n):
        raise ScenarioError([f"{key}: firm indices must lie in [0, {n - 1}] (firms.n = {n})"])
    if tr is not None and (tr.min() < 0 or tr.max() > 1):
        raise ScenarioError([f"{key}: trust values must lie in [0, 1]"])
    return a, b, tr


def _knn_pairs(
    x: FloatArray, y: FloatArray, k: int, rng: np.random.Generator, pick: float
) -> tuple[IntArray, IntArray]:
    """Each point links to about ``pick`` random points among its ``k`` nearest neighbours
    (``floor(pick)`` or one more, per point, so the mean is ``pick``)."""
    from scipy.spatial import cKDTree  # imported here: costs 0.6 s at import

    n = x.size
    if n < 2 or pick <= 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy()
    k = min(k, n - 1)
    tree = cKDTree(np.column_stack([x, y]))
    _, idx = tree.query(np.column_stack([x, y]), k=k + 1)
    idx = np.asarray(idx, dtype=np.int64)[:, 1:]
    counts = _stochastic_round(rng, pick, n)
    cols = np.argsort(rng.random((n, k)), axis=1)[:, : min(int(np.ceil(pick)), k)]
    take = np.arange(cols.shape[1])[None, :] < counts[:, None]
    b = np.take_along_axis(idx, cols, axis=1)[take]
    a = np.broadcast_to(np.arange(n, dtype=np.int64)[:, None], cols.shape)[take]
    return a, b


def _stochastic_round(rng: np.random.Generator, value: float, size: int) -> IntArray:
    base = int(np.floor(value))
    return (base + (rng.random(size) < value - base)).astype(np.int64)


def social_layer(
    rng: np.random.Generator,
    x: FloatArray,
    y: FloatArray,
    stage: IntArray,
    sc: Any,
    trust_mean: float,
) -> TieLayer:
    """Small-world social layer shaped by proximity and competitor visibility within a stage.

    Each firm creates about ``mean_degree / 2`` ties: a share ``local`` to spatial
    neighbours (of which a share ``same_stage`` among nearby same-stage firms) and the rest as
    random long-range shortcuts (Watts-Strogatz style).
    """
    n = x.size
    half = sc.mean_degree / 2.0
    k_local = half * sc.local
    k_same = k_local * sc.same_stage
    k_any = k_local - k_same
    k_long = half - k_local
    parts_a, parts_b = [], []
    a, b = _knn_pairs(x, y, max(2 * int(np.ceil(k_any)) + 2, 4), rng, k_any)
    parts_a.append(a)
    parts_b.append(b)
    for s in np.unique(stage):
        members = np.flatnonzero(stage == s)
        a, b = _knn_pairs(x[members], y[members], max(2 * int(np.ceil(k_same)) + 2, 4), rng, k_same)
        parts_a.append(members[a])
        parts_b.append(members[b])
    m_long = round(k_long * n)
    if m_long > 0 and n > 1:
        parts_a.append(rng.integers(0, n, m_long))
        parts_b.append(rng.integers(0, n, m_long))
    a = np.concatenate(parts_a)
    b = np.concatenate(parts_b)
    return TieLayer.from_pairs(a, b, _beta_around(rng, trust_mean, a.size))


def value_chain_layer(
    rng: np.random.Generator,
    x: FloatArray,
    y: FloatArray,
    stage: IntArray,
    S: int,
    vc: Any,
    ell: float,
    trust_mean: float,
) -> TieLayer:
    """Supplier-customer ties between adjacent stages, chosen by proximity; some alliances.

    A firm of stage ``s`` ties to firms of stage ``s + 1`` drawn among the nearest ones with
    weight ``prox``; a share ``alliance_share`` of the ties are same-stage alliances.
    """
    from scipy.spatial import cKDTree  # imported here: costs 0.6 s at import

    n = x.size
    total = round(vc.mean_degree * n / 2.0)
    if total == 0 or n < 2:
        return TieLayer.empty()
    n_all = round(total * vc.alliance_share) if S > 1 else total
    n_chain = total - n_all
    parts: list[tuple[IntArray, IntArray, np.int8]] = []
    by_stage = {int(s): np.flatnonzero(stage == s) for s in range(S)}
    trees = {s: cKDTree(np.column_stack([x[m], y[m]])) for s, m in by_stage.items() if m.size}
    pts = np.column_stack([x, y])

    def link(src: IntArray, target_stage: IntArray, kind: np.int8) -> None:
        for s in np.unique(target_stage):
            members = by_stage.get(int(s), np.zeros(0, dtype=np.int64))
            sel = src[target_stage == s]
            if members.size < 2 or sel.size == 0:
                continue
            k = min(6, members.size)
            dist, idx = trees[int(s)].query(pts[sel], k=k)
            dist = np.asarray(dist).reshape(sel.size, k)
            idx = np.asarray(idx, dtype=np.int64).reshape(sel.size, k)
            wgt = np.exp(-dist / ell) + 1e-12
            wgt /= wgt.sum(axis=1, keepdims=True)
            u = rng.random(sel.size)
            col = np.minimum((wgt.cumsum(axis=1) < u[:, None]).sum(axis=1), k - 1)
            parts.append((sel, members[idx[np.arange(sel.size), col]], kind))

    if n_chain > 0:
        upstream = np.flatnonzero(stage < S - 1)
        if upstream.size:
            src = rng.choice(upstream, n_chain)
            link(src, stage[src] + 1, np.int8(0))
    if n_all > 0:
        src = rng.integers(0, n, n_all)
        link(src, stage[src], ALLIANCE)
    if not parts:
        return TieLayer.empty()
    a = np.concatenate([p[0] for p in parts])
    b = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([np.full(p[0].size, p[2], dtype=np.int8) for p in parts])
    return TieLayer.from_pairs(a, b, _beta_around(rng, trust_mean, a.size), kind=kind)


def competitor_layer(x: FloatArray, y: FloatArray, stage: IntArray, visible: int) -> TieLayer:
    """Competitor visibility: each firm sees its ``visible`` nearest same-stage firms (equally
    distant firms in order of their index)."""
    parts_a, parts_b = [], []
    for s in np.unique(stage):
        members = np.flatnonzero(stage == s)
        if members.size < 2 or visible == 0:
            continue
        k = min(visible, members.size - 1)
        idx = nearest(x[members], y[members], k)
        parts_a.append(np.repeat(members, k))
        parts_b.append(members[idx.ravel()])
    if not parts_a:
        return TieLayer.empty()
    a = np.concatenate(parts_a)
    b = np.concatenate(parts_b)
    return TieLayer.from_pairs(a, b, 0.0)


def auxiliary_layer(
    rng: np.random.Generator, state: State, reach: float, ell: float
) -> BipartiteLayer:
    """Firm-institution ties: each pair ties with probability ``reach x exp(-dist / 3 ell)``."""
    firms, others = [], []
    for k in range(state.inst_type.size):  # a loop over institutions (few), not firms
        p = reach * np.exp(
            -np.hypot(state.x - state.inst_x[k], state.y - state.inst_y[k]) / (3 * ell)
        )
        hit = np.flatnonzero(rng.random(state.n) < p)
        firms.append(hit)
        others.append(np.full(hit.size, k, dtype=np.int64))
    lay = BipartiteLayer.empty()
    if firms:
        lay.add(np.concatenate(firms), np.concatenate(others), state.inst_type.size)
    return lay


def exterior_ties(
    rng: np.random.Generator, c: FloatArray, mean: float, partners: int
) -> BipartiteLayer:
    """Initial exterior ties, more of them for more capable firms (Giuliani and Bell 2005)."""
    lam = mean * c / max(float(c.mean()), 1e-12)
    k = rng.poisson(lam)
    firm = np.repeat(np.arange(c.size, dtype=np.int64), k)
    lay = BipartiteLayer.empty()
    lay.add(firm, rng.integers(0, partners, firm.size), partners)
    return lay


def institution_knowledge(state: State, sc: Scenario) -> None:
    """Institutions hold a type-specific share of the frontier as it was ``lag`` steps ago."""
    ins = sc.institutions
    lagged = state.G_history[max(0, len(state.G_history) - 1 - ins.lag)]
    if state.inst_type.size == 0 and state.inst_K.shape == (0, lagged.size):
        return  # no institutions: nothing to hold
    level = np.array([ins.university_level, ins.training_level, ins.service_level, ins.agent_level])
    state.inst_K = level[state.inst_type][:, None] * lagged[None, :]


def initial_state(sc: Scenario, rng: np.random.Generator, n_channels: int) -> State:
    """Build the state at step 0 from a scenario (generated or given inputs)."""
    f = sc.firms
    n, D, S = f.n, f.domains, f.stages
    table = _read_table(f.attributes, n) if f.attributes is not None else {}
    w, v = stage_structure(S, D, f.relevance_concentration, f.value_added_step)

    # Geography: firms around agglomeration centres in the unit square.
    centres = rng.uniform(0.2, 0.8, size=(sc.geography.centres, 2))
    home = rng.integers(0, sc.geography.centres, n)
    xy = np.clip(centres[home] + rng.normal(0.0, sc.geography.spread, (n, 2)), 0.0, 1.0)
    if not table:
        # Firms are exchangeable, so numbering them along a space-filling curve changes no
        # law; it puts neighbours near each other in memory, which makes the per-tie gathers
        # of a million-firm cluster 13% faster (docs/benchmarks.md).
        xy = xy[z_order(xy[:, 0], xy[:, 1])]
    x = table.get("x", xy[:, 0])
    y = table.get("y", xy[:, 1])

    # Stages: a pyramid, more firms upstream (weak, parts-making clusters).
    p_stage = np.arange(S, 0, -1, dtype=np.float64)
    stage = rng.choice(S, n, p=p_stage / p_stage.sum()).astype(np.int64)
    if "stage" in table:
        st = table["stage"]
        if np.any(st != np.round(st)) or st.min() < 0 or st.max() >= S:
            raise ScenarioError([f"firms.attributes.stage: expected whole numbers in [0, {S - 1}]"])
        stage = st.astype(np.int64)

    factor = rng.uniform(f.factor_low, f.factor_high, n)
    T = rng.uniform(f.tacit_low, f.tacit_high, (n, D)) * factor[:, None]
    for d in range(D):
        if f"T{d}" in table:
            T[:, d] = table[f"T{d}"]
    E = f.explicit_share * T
    for d in range(D):
        if f"E{d}" in table:
            E[:, d] = table[f"E{d}"]
    if (T < 0).any() or (E < 0).any():
        raise ScenarioError(["firms.attributes: knowledge levels T*/E* must be non-negative"])

    workers = 1 + rng.poisson(f.workers_mean - 1.0, n).astype(np.int64)
    if "workers" in table:
        workers = np.maximum(table["workers"].round().astype(np.int64), 1)
    rnd = table.get("rnd", rng.uniform(f.rnd_low, f.rnd_high, n))
    effort = table.get("effort", rng.uniform(f.effort_low, f.effort_high, n))
    opp = table.get("opp", rng.uniform(0.0, 1.0, n))
    size = table.get("size", workers.astype(np.float64))
    for name, arr, lo, hi in (("rnd", rnd, 0, 1), ("effort", effort, 0, 1), ("opp", opp, 0, 1)):
        if arr.min() < lo or arr.max() > hi:
            raise ScenarioError([f"firms.attributes.{name}: values must lie in [{lo}, {hi}]"])

    G = np.full(D, sc.frontier.G0)
    ins = sc.institutions
    counts = [ins.universities, ins.training_centres, ins.service_centres, ins.cluster_agents]
    inst_type = np.repeat(np.array([UNIVERSITY, TRAINING, SERVICE, AGENT], dtype=np.int64), counts)
    at = rng.integers(0, sc.geography.centres, inst_type.size)
    inst_xy = np.clip(
        centres[at] + rng.normal(0.0, sc.geography.spread / 2, (inst_type.size, 2)), 0, 1
    )

    z = np.zeros(n)
    state = State(
        t=0,
        D=D,
        S=S,
        firm_id=np.arange(n, dtype=np.int64),
        stage=stage,
        T=T,
        E=E,
        rnd=np.asarray(rnd, dtype=np.float64),
        effort=np.asarray(effort, dtype=np.float64),
        inside=np.full(n, sc.decision.initial_inside),
        opp=np.asarray(opp, dtype=np.float64),
        size=np.asarray(size, dtype=np.float64),
        workers=workers,
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        alpha_bonus=z.copy(),
        born=np.zeros(n, dtype=np.int64),
        parent=np.full(n, -1, dtype=np.int64),
        behind=np.zeros(n, dtype=np.int64),
        motive_tc=z.copy(),
        innovations=np.zeros(n, dtype=np.int64),
        meetings=np.zeros(n, dtype=np.int64),
        spend=z.copy(),
        gain=np.zeros((n_channels, n)),
        last_inflow=np.full((n_channels, n), NEVER, dtype=np.int64),
        w=w,
        v=v,
        social=TieLayer.empty(),
        value_chain=TieLayer.empty(),
        competitor=TieLayer.empty(),
        auxiliary=BipartiteLayer.empty(),
        exterior=BipartiteLayer.empty(),
        G=G,
        G_history=[G.copy()],
        inst_type=inst_type,
        inst_x=inst_xy[:, 0].copy(),
        inst_y=inst_xy[:, 1].copy(),
        inst_K=np.zeros((inst_type.size, D)),
        pool=(E.mean(axis=0) if n else np.zeros(D)),
        n_partners=sc.networks.exterior.partners,
        next_id=n,
    )
    institution_knowledge(state, sc)

    nets = sc.networks
    tr = sc.trust.initial
    if nets.social.edges is not None:
        a, b, t_ = _read_edges(nets.social.edges, n, "networks.social.edges")
        state.social = TieLayer.from_pairs(
            a, b, t_ if t_ is not None else _beta_around(rng, tr, a.size)
        )
    else:
        state.social = social_layer(rng, state.x, state.y, stage, nets.social, tr)
    if nets.value_chain.edges is not None:
        a, b, t_ = _read_edges(nets.value_chain.edges, n, "networks.value_chain.edges")
        state.value_chain = TieLayer.from_pairs(
            a, b, t_ if t_ is not None else _beta_around(rng, tr, a.size)
        )
    else:
        state.value_chain = value_chain_layer(
            rng, state.x, state.y, stage, S, nets.value_chain, sc.geography.ell, tr
        )
    if nets.competitor.edges is not None:
        a, b, _ = _read_edges(nets.competitor.edges, n, "networks.competitor.edges")
        state.competitor = TieLayer.from_pairs(a, b, np.zeros(a.size))
    else:
        state.competitor = competitor_layer(state.x, state.y, stage, nets.competitor.visible)
    from clusterlearn.model.environment import Environment

    env = Environment(levers=sc.environment.model_dump())
    state.auxiliary = auxiliary_layer(
        rng,
        state,
        min(1.0, nets.auxiliary.reach * env.mult("public_services", "reach")),
        sc.geography.ell,
    )
    if sc.channel_params("outward").enabled:
        state.exterior = exterior_ties(
            rng, state.capability(), nets.exterior.initial, state.n_partners
        )
    return state
