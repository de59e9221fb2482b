"""Small helpers shared by channels (geometry of ties, partner sampling)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from clusterlearn.model.kernel import compiled, kernels
from clusterlearn.model.layers import TieLayer, sample_by_weight
from clusterlearn.model.state import State

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def pick_partner(
    state: State, layer: TieLayer, weight: FloatArray, rng: np.random.Generator
) -> tuple[IntArray, IntArray, IntArray]:
    """One partner per firm drawn with ``weight`` per directed entry.

    Returns the learners, their partners and the undirected tie index, for firms that found one.
    """
    csr = layer.csr(state.n)
    u = rng.random(state.n)
    if kernels() == "numba" and csr.nbr.size:
        w = np.ascontiguousarray(weight, dtype=np.float64)
        i, j, e = compiled().pick_entries(csr.indptr, w, u, csr.nbr, csr.edge)
        return i, j, e
    pos = sample_by_weight(csr, weight, u)
    learner = np.flatnonzero(pos >= 0)
    p = pos[learner]
    return learner, csr.nbr[p], csr.edge[p]
