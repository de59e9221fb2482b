"""Outcomes recorded every step (MODEL.md section 7), as a registry of named reporters.

Each reporter is a vectorised function of a :class:`Snapshot` (the state after the step and
the step's counters) returning one number. ``METRICS`` is ordered: it is the column order of
``Result.metrics``. Add an outcome by adding one reporter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from clusterlearn.model.kernel import compiled, kernels, quintile_sums
from clusterlearn.model.state import State

FloatArray = NDArray[np.float64]


@dataclass
class Snapshot:
    state: State
    c: FloatArray
    sc: FloatArray
    counters: dict[str, float] = field(default_factory=dict)
    _cache: dict[str, object] = field(default_factory=dict)

    def frontier_rel(self) -> FloatArray:
        if "grel" not in self._cache:
            self._cache["grel"] = self.state.frontier_relevant()
        out = self._cache["grel"]
        assert isinstance(out, np.ndarray)
        return out

    def knowledge_degree(self) -> NDArray[np.int64]:
        if "kdeg" not in self._cache:
            n = self.state.n
            self._cache["kdeg"] = self.state.social.degree(n) + self.state.value_chain.degree(n)
        out = self._cache["kdeg"]
        assert isinstance(out, np.ndarray)
        return out

    def value_weights(self) -> FloatArray:
        """``size x v[stage]`` per firm: the weights of the industrial level and of output."""
        if "vs" not in self._cache:
            self._cache["vs"] = self.state.size * self.state.v[self.state.stage]
        out = self._cache["vs"]
        assert isinstance(out, np.ndarray)
        return out

    def gatekeepers(self) -> float:
        """:func:`gatekeepers` counted once per network structure (the social, value-chain and
        exterior ties and the population it depends on)."""
        st = self.state
        key = (st.social.i, st.social.j, st.value_chain.i, st.value_chain.j, st.exterior.firm)
        hit = st.structure_memo.get("gatekeepers")
        if hit is not None and len(hit[0]) == len(key) + 1 and hit[0][-1] == st.n:
            if all(a is b for a, b in zip(hit[0][:-1], key, strict=True)):
                assert isinstance(hit[1], float)
                return hit[1]
        value = float(gatekeepers(st, self.knowledge_degree()).sum())
        st.structure_memo["gatekeepers"] = ((*key, st.n), value)
        return value

    def sorted_c(self) -> FloatArray:
        """Capabilities in ascending order (one sort per step: quantiles, Gini, quintiles)."""
        if "sorted" not in self._cache:
            self._cache["sorted"] = np.sort(self.c)
        out = self._cache["sorted"]
        assert isinstance(out, np.ndarray)
        return out

    def inside_by_quintile(self) -> FloatArray:
        """Mean inside share in each position quintile (NaN for an empty one), in one pass:
        a firm's quintile is the number of quintile floors its capability reaches."""
        if "inside_q" not in self._cache:
            s = self.sorted_c()
            n = s.size
            floors = np.array([s[int(np.ceil(k * (n - 1) / 5))] for k in range(1, 5)])
            total, count = quintile_sums(self.c, floors, self.state.inside)
            with np.errstate(invalid="ignore", divide="ignore"):
                self._cache["inside_q"] = np.where(count > 0, total / count, np.nan)
        out = self._cache["inside_q"]
        assert isinstance(out, np.ndarray)
        return out

    def quantile(self, q: float) -> float:
        """Linear-interpolation quantile of capability from the sorted values."""
        s = self.sorted_c()
        h = (s.size - 1) * q
        lo = int(np.floor(h))
        hi = min(lo + 1, s.size - 1)
        return float(s[lo] + (h - lo) * (s[hi] - s[lo]))


def gini(x: FloatArray, presorted: bool = False) -> float:
    """Gini coefficient of non-negative values (0 = equal)."""
    if x.size == 0 or x.sum() <= 0:
        return 0.0
    s = x if presorted else np.sort(x)
    n = s.size
    # einsum, not @: a BLAS dot of this length wakes OpenBLAS's threads, which then spin and
    # take the second core from the next step's kernels.
    return float(np.einsum("i,i->", _gini_ranks(n), s) / (n * s.sum()))


_RANKS: dict[int, FloatArray] = {}


def _gini_ranks(n: int) -> FloatArray:
    """``2 i - n - 1`` for ``i = 1..n``, kept for the last few sizes (a run's population
    changes slowly)."""
    if n not in _RANKS:
        if len(_RANKS) > 8:
            _RANKS.clear()
        _RANKS[n] = np.asarray(2.0 * np.arange(1, n + 1) - n - 1, dtype=np.float64)
    return _RANKS[n]


def gatekeepers(state: State, kdeg: NDArray[np.int64] | None = None) -> NDArray[np.bool_]:
    """Firms with many in-cluster knowledge ties (degree at or above the 75th percentile,
    and at least 2) and at least one exterior tie (Giuliani and Bell 2005)."""
    n = state.n
    if n == 0:
        return np.zeros(0, dtype=bool)
    kdeg = state.social.degree(n) + state.value_chain.degree(n) if kdeg is None else kdeg
    thr = max(2.0, _percentile_of_counts(kdeg, 0.75))
    return (kdeg >= thr) & (state.exterior.count(n) > 0)


def _percentile_of_counts(k: NDArray[np.int64], q: float) -> float:
    """``np.percentile(k, 100 q)`` (linear interpolation) of non-negative integers, from their
    histogram instead of a sort; the same order statistics and interpolation as numpy."""
    n = k.size
    h = q * (n - 1)
    lo = int(np.floor(h))
    cum = np.cumsum(np.bincount(k))
    a, b = (float(x) for x in np.searchsorted(cum, [lo, min(lo + 1, n - 1)], side="right"))
    t = h - lo
    # numpy's interpolation, in its form (from the nearer end)
    return b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t


def _q(p: float) -> Callable[[Snapshot], float]:
    return lambda s: s.quantile(p / 100.0) if s.c.size else float("nan")


def _inside_quintile(k: int) -> Callable[[Snapshot], float]:
    def f(s: Snapshot) -> float:
        if s.c.size < 2:
            return float("nan")
        return float(s.inside_by_quintile()[k])

    return f


def _mean_or_nan(x: FloatArray) -> float:
    return float(x.mean()) if x.size else float("nan")


METRICS: dict[str, Callable[[Snapshot], float]] = {
    "population": lambda s: float(s.state.n),
    "entries": lambda s: s.counters.get("entries", 0.0),
    "exits": lambda s: s.counters.get("exits", 0.0),
    "mean_capability": lambda s: _mean_or_nan(s.c),
    "median_capability": _q(50),
    "p10_capability": _q(10),
    "p90_capability": _q(90),
    "max_capability": lambda s: float(s.c.max()) if s.c.size else float("nan"),
    "var_capability": lambda s: float(s.c.var()) if s.c.size else float("nan"),
    "gini_capability": lambda s: gini(s.sorted_c(), presorted=True),
    "frontier": lambda s: _mean_or_nan(s.frontier_rel()),
    "catch_up": lambda s: float(s.c.mean() / s.frontier_rel().mean()) if s.c.size else float("nan"),
    "mean_inside": lambda s: _mean_or_nan(s.state.inside),
    **{f"inside_q{k + 1}": _inside_quintile(k) for k in range(5)},
    "mean_trust": lambda s: _mean_or_nan(
        np.concatenate([s.state.social.trust, s.state.value_chain.trust])
    ),
    "mean_trust_social": lambda s: _mean_or_nan(s.state.social.trust),
    "mean_trust_value_chain": lambda s: _mean_or_nan(s.state.value_chain.trust),
    "mean_social_capital": lambda s: _mean_or_nan(s.sc),
    "social_ties": lambda s: float(s.state.social.m),
    "value_chain_ties": lambda s: float(s.state.value_chain.m),
    "density": lambda s: 2.0 * s.state.social.m / max(s.state.n * (s.state.n - 1), 1),
    "clustering": lambda s: s.counters.get("clustering", float("nan")),
    "exterior_ties": lambda s: float(s.state.exterior.m),
    "gatekeepers": lambda s: s.gatekeepers(),
    "industrial_level": lambda s: (
        float(np.average(s.state.stage, weights=s.value_weights())) if s.state.n else float("nan")
    ),
    "upgrades": lambda s: s.counters.get("upgrades", 0.0),
    "output": lambda s: float((s.value_weights() * s.c).sum()),
    "innovations": lambda s: s.counters.get("innovations", 0.0),
    "diffusion_time": lambda s: s.counters.get("diffusion_time", float("nan")),
    "innovations_diffused": lambda s: s.counters.get("diffused", 0.0),
    "labour_pool": lambda s: float(s.state.labour_pool),
}

DESCRIPTIONS: dict[str, str] = {
    "population": "number of firms",
    "entries": "spin-offs entering this step",
    "exits": "firms exiting this step",
    "mean_capability": "mean capability c = w[stage] . T",
    "median_capability": "median capability",
    "p10_capability": "10th percentile of capability",
    "p90_capability": "90th percentile of capability",
    "max_capability": "the cluster's best capability",
    "var_capability": "variance of capability",
    "gini_capability": "Gini coefficient of capability",
    "frontier": "mean stage-relevant global frontier w[stage] . G",
    "catch_up": "catch-up index: mean c / mean w[stage] . G",
    "mean_inside": "mean in-cluster share of learning effort",
    "inside_q1": "mean inside share, lowest position quintile",
    "inside_q2": "mean inside share, 2nd position quintile",
    "inside_q3": "mean inside share, 3rd position quintile",
    "inside_q4": "mean inside share, 4th position quintile",
    "inside_q5": "mean inside share, highest position quintile",
    "mean_trust": "mean trust over social and value-chain ties",
    "mean_trust_social": "mean trust on social ties",
    "mean_trust_value_chain": "mean trust on value-chain ties",
    "mean_social_capital": "mean social capital sc",
    "social_ties": "number of social ties",
    "value_chain_ties": "number of value-chain ties",
    "density": "density of the social layer",
    "clustering": "average local clustering of the social layer (updated with the network)",
    "exterior_ties": "number of exterior ties",
    "gatekeepers": "firms with many in-cluster knowledge ties and exterior ties",
    "industrial_level": "value-added-weighted mean stage",
    "upgrades": "firms upgrading a stage this step",
    "output": "regional output: sum of size x v[stage] x c",
    "innovations": "innovations this step",
    "diffusion_time": "mean diffusion time of innovations that diffused this step",
    "innovations_diffused": "innovations that diffused this step",
    "labour_pool": "skilled workers without a firm",
}


CLUSTERING_SAMPLE = 5000
CLUSTERING_MAX_DEGREE = 64  # neighbours looked at per sampled firm (pairs grow as degree^2)


def average_clustering(state: State) -> float:
    """Average local clustering of the social layer.

    Exact (sparse triangle counting) up to ``CLUSTERING_SAMPLE`` firms; above that, the mean
    over an evenly spaced sample of that many firms (no random draw, so no stream is used),
    whose standard error is about 0.005.
    """
    import scipy.sparse as sp

    n = state.n
    lay = state.social
    if n < 3 or lay.m == 0:
        return 0.0
    if n > CLUSTERING_SAMPLE:
        return _sampled_clustering(state, np.linspace(0, n - 1, CLUSTERING_SAMPLE).astype(np.int64))
    a = sp.coo_matrix(
        (np.ones(2 * lay.m), (np.r_[lay.i, lay.j], np.r_[lay.j, lay.i])), shape=(n, n)
    ).tocsr()
    tri = np.asarray((a @ a).multiply(a).sum(axis=1)).ravel() / 2.0
    deg = np.asarray(a.sum(axis=1)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        local = np.where(deg > 1, 2.0 * tri / (deg * (deg - 1)), 0.0)
    return float(local.mean())


def collect(snap: Snapshot) -> dict[str, float]:
    return {name: f(snap) for name, f in METRICS.items()}


def _sampled_clustering(state: State, nodes: NDArray[np.int64]) -> float:
    """Mean local clustering of ``nodes``: every pair of a node's neighbours looked up (of its
    first ``CLUSTERING_MAX_DEGREE`` neighbours for a hub)."""
    lay = state.social
    csr = lay.csr(state.n)
    # A hub's local clustering is estimated on its first CLUSTERING_MAX_DEGREE neighbours:
    # enumerating all pairs of a 200,000-tie hub would need tens of GiB.
    deg = np.minimum(csr.degree[nodes], CLUSTERING_MAX_DEGREE)
    keep = deg > 1
    local = np.zeros(nodes.size)
    if kernels() == "numba":
        tri = compiled().sampled_triangles(csr.indptr, csr.nbr, nodes, CLUSTERING_MAX_DEGREE)
        pairs = deg * (deg - 1) / 2.0
        return float(np.where(keep, tri / np.maximum(pairs, 1), 0.0).mean())
    owners, a_list, b_list = [], [], []
    for d in np.unique(deg[keep]):  # a loop over distinct degrees, not firms
        sel = np.flatnonzero(keep & (deg == d))
        starts = csr.indptr[nodes[sel]]
        nb = csr.nbr[starts[:, None] + np.arange(d)[None, :]]
        ia, ib = np.triu_indices(int(d), k=1)
        owners.append(np.repeat(sel, ia.size))
        a_list.append(nb[:, ia].ravel())
        b_list.append(nb[:, ib].ravel())
    if owners:
        own = np.concatenate(owners)
        found = lay.find(np.concatenate(a_list), np.concatenate(b_list), state.n) >= 0
        tri = np.bincount(own, weights=found, minlength=nodes.size)
        pairs = deg * (deg - 1) / 2.0
        local = np.where(keep, tri / np.maximum(pairs, 1), 0.0)
    return float(local.mean())
