"""The model state as a structure of arrays (MODEL.md section 1).

Per-firm quantities are arrays of length ``n`` (``T`` and ``E`` are ``n x D``); each tie layer
is a :class:`~clusterlearn.model.layers.TieLayer` or
:class:`~clusterlearn.model.layers.BipartiteLayer`. Firms enter by appending rows and leave by
compaction (:meth:`State.remove_firms`), with ties renumbered; ``firm_id`` stays unique for the
whole run so a firm can be followed across panel snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from clusterlearn.model.kernel import gathered_dot, social_capital_raw
from clusterlearn.model.layers import BipartiteLayer, TieChange, TieLayer

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Institution types (auxiliary network actors).
UNIVERSITY, TRAINING, SERVICE, AGENT = 0, 1, 2, 3
INSTITUTION_TYPES = ("university", "training_centre", "service_centre", "cluster_agent")

# Per-firm arrays, in the order of the firm table. 2-D ones have D columns.
FIRM_FIELDS_1D = (
    "firm_id",
    "stage",
    "rnd",
    "effort",
    "inside",
    "opp",
    "size",
    "workers",
    "alpha_bonus",
    "born",
    "parent",
    "behind",
    "motive_tc",
    "innovations",
    "meetings",
    "spend",
    "x",
    "y",
)
FIRM_FIELDS_2D = ("T", "E")
# Per channel, one row of firms each (channel-major: a channel books its gains into one
# contiguous row).
FIRM_FIELDS_BY_CHANNEL = ("gain", "last_inflow")

NEVER = -(10**9)  # "no inflow yet" in last_inflow


@dataclass
class State:
    """Everything that changes during a run."""

    t: int
    D: int
    S: int
    # firms
    firm_id: IntArray
    stage: IntArray
    T: FloatArray
    E: FloatArray
    rnd: FloatArray
    effort: FloatArray
    inside: FloatArray
    opp: FloatArray
    size: FloatArray
    workers: IntArray
    x: FloatArray
    y: FloatArray
    alpha_bonus: FloatArray
    born: IntArray
    parent: IntArray
    behind: IntArray
    motive_tc: FloatArray
    innovations: IntArray
    meetings: IntArray
    spend: FloatArray
    gain: FloatArray  # channels x n: cumulative knowledge gained per channel
    last_inflow: IntArray  # channels x n: last step each channel brought the firm knowledge
    # stage structure
    w: FloatArray  # S x D relevance
    v: FloatArray  # S value added
    # layers
    social: TieLayer
    value_chain: TieLayer
    competitor: TieLayer
    auxiliary: BipartiteLayer
    exterior: BipartiteLayer
    # world
    G: FloatArray  # D global frontier
    G_history: list[FloatArray]
    inst_type: IntArray
    inst_x: FloatArray
    inst_y: FloatArray
    inst_K: FloatArray  # institutions x D knowledge
    pool: FloatArray  # D codified knowledge pool (A3)
    n_partners: int
    labour_pool: int = 0
    next_id: int = 0
    # bookkeeping
    pending_births: list[dict[str, np.ndarray]] = field(default_factory=list)
    pending_ties: list[TieChange] = field(default_factory=list)
    innov: dict[str, np.ndarray] = field(default_factory=dict)
    innov_done: list[dict[str, np.ndarray]] = field(default_factory=list)
    counters: dict[str, float] = field(default_factory=dict)
    # last medians per stage, a starting guess for the next step's (speed only, never results)
    median_hints: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # outcomes that depend only on the network structure, with the arrays they came from
    # (speed only: recomputed when any of those arrays is replaced)
    structure_memo: dict[str, tuple[tuple[object, ...], object]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.T.shape[0])

    # --- derived quantities (cheap, recomputed where needed) ------------------------------
    def capability(self) -> FloatArray:
        """``c[i] = w[stage[i]] . T[i]``."""
        return self.capability_at(self.stage)

    def capability_at(self, stage: IntArray) -> FloatArray:
        """Capability each firm would have in ``stage`` (one per firm)."""
        # Not T @ w.T: multi-threaded BLAS on this thin product stalls when the cores are
        # shared (measured 30 ms instead of 2 ms per call at 100,000 firms).
        return gathered_dot(self.w, stage, self.T)

    def frontier_relevant(self) -> FloatArray:
        """``w[stage[i]] . G``: the frontier as it matters to each firm."""
        return (self.w @ self.G)[self.stage]

    def position(self, c: FloatArray | None = None) -> FloatArray:
        """Percentile rank of capability in the cluster, in [0, 1]."""
        c = self.capability() if c is None else c
        if c.size <= 1:
            return np.ones_like(c)
        ranks = np.empty(c.size)
        ranks[np.argsort(c, kind="stable")] = np.arange(c.size)
        return ranks / (c.size - 1)

    def social_capital(self) -> FloatArray:
        """``sc[i]`` = mean trust of a firm's firm-firm ties x log(1 + degree), scaled to [0, 1]."""
        n = self.n
        views = []
        for layer in (self.social, self.value_chain):
            csr = layer.csr(n)
            views.append((csr.indptr, csr.src, csr.edge, layer.trust))
        return social_capital_raw(views, n, scaled=True)

    def layer(self, name: str) -> TieLayer:
        lay = getattr(self, name)
        if not isinstance(lay, TieLayer):
            raise KeyError(f"{name!r} is not a firm-firm layer")
        return lay

    # --- population changes ---------------------------------------------------------------
    def remove_firms(self, gone: NDArray[np.bool_]) -> None:
        """Drop the firms where ``gone`` is true and renumber every layer."""
        if not gone.any():
            return
        keep = ~gone
        new_index = np.full(self.n, -1, dtype=np.int64)
        new_index[keep] = np.arange(int(keep.sum()))
        for f in FIRM_FIELDS_1D + FIRM_FIELDS_2D:
            setattr(self, f, getattr(self, f)[keep])
        for f in FIRM_FIELDS_BY_CHANNEL:  # compress: ten times faster than [:, keep] here
            setattr(self, f, getattr(self, f).compress(keep, axis=1))
        for lay in (self.social, self.value_chain, self.competitor):
            lay.remap(new_index)
        self.auxiliary.remap(new_index)
        self.exterior.remap(new_index)
        for p in self.pending_ties:
            a, b = new_index[p.a], new_index[p.b]
            ok = (a >= 0) & (b >= 0)
            p.a, p.b, p.trust = a[ok], b[ok], p.trust[ok]

    def append_firms(self, rows: dict[str, np.ndarray]) -> IntArray:
        """Append new firms given as arrays per field; missing fields get neutral values."""
        k = int(rows["T"].shape[0])
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        start = self.n
        ids = np.arange(self.next_id, self.next_id + k, dtype=np.int64)
        self.next_id += k
        defaults: dict[str, np.ndarray] = {
            "firm_id": ids,
            "inside": np.full(k, 1.0),
            "alpha_bonus": np.zeros(k),
            "born": np.full(k, self.t, dtype=np.int64),
            "parent": np.full(k, -1, dtype=np.int64),
            "behind": np.zeros(k, dtype=np.int64),
            "motive_tc": np.zeros(k),
            "innovations": np.zeros(k, dtype=np.int64),
            "meetings": np.zeros(k, dtype=np.int64),
            "spend": np.zeros(k),
            "gain": np.zeros((self.gain.shape[0], k)),
            "last_inflow": np.full((self.last_inflow.shape[0], k), NEVER, dtype=np.int64),
        }
        for f in FIRM_FIELDS_1D + FIRM_FIELDS_2D:
            cur = getattr(self, f)
            new = rows.get(f, defaults.get(f))
            if new is None:
                raise KeyError(f"new firms need field {f!r}")
            setattr(self, f, np.concatenate([cur, np.asarray(new, dtype=cur.dtype)]))
        for f in FIRM_FIELDS_BY_CHANNEL:
            cur = getattr(self, f)
            new = np.asarray(rows.get(f, defaults[f]), dtype=cur.dtype)
            setattr(self, f, np.concatenate([cur, new], axis=1))
        return np.arange(start, start + k, dtype=np.int64)
