"""Tie layers stored as edge arrays, with a cached CSR view for neighbour sampling.

A firm-firm layer holds each undirected tie once (``i < j``) with its trust and the step it
was last used. Channels that need neighbours per firm use :meth:`TieLayer.csr`, a directed
view built once per structural change (ties added or removed, firms removed), not per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from clusterlearn.model import kernel

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass
class TieChange:
    """Ties to create in one firm-firm layer (buffered until the next network update)."""

    layer: str
    a: IntArray
    b: IntArray
    trust: FloatArray


@dataclass
class CSR:
    """Directed neighbour view of an undirected layer.

    ``nbr[indptr[i]:indptr[i+1]]`` are the neighbours of firm ``i`` and ``edge`` the index of
    the undirected tie behind each entry (so trust is read live from the layer).
    """

    indptr: IntArray
    nbr: IntArray
    edge: IntArray
    src: IntArray

    @property
    def degree(self) -> IntArray:
        return np.diff(self.indptr)


@dataclass
class TieLayer:
    """An undirected firm-firm layer with trust on every tie."""

    i: IntArray
    j: IntArray
    trust: FloatArray
    last_used: IntArray
    kind: NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    _csr: CSR | None = field(default=None, repr=False)
    _csr_n: int = field(default=-1, repr=False)
    _prox: FloatArray | None = field(default=None, repr=False)
    _prox_ell: float = field(default=-1.0, repr=False)
    _counts: IntArray | None = field(default=None, repr=False)

    @classmethod
    def empty(cls) -> TieLayer:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), np.zeros(0), z.copy(), np.zeros(0, dtype=np.int8))

    @classmethod
    def from_pairs(
        cls,
        a: IntArray,
        b: IntArray,
        trust: FloatArray | float,
        t: int = 0,
        kind: NDArray[np.int8] | None = None,
    ) -> TieLayer:
        """Build a layer from possibly repeated, unordered pairs (self-loops dropped)."""
        layer = cls.empty()
        layer.add(a, b, trust, t, kind)
        return layer

    @property
    def m(self) -> int:
        return int(self.i.shape[0])

    def tally(self) -> IntArray:
        """A zeroed count per tie, kept between steps: :func:`kernel.compound_trust` counts
        meetings in it and zeroes what it touched, so no step allocates and clears one."""
        if self._counts is None or self._counts.size != self.m:
            self._counts = np.zeros(self.m, dtype=np.int64)
        return self._counts

    def keys(self, n: int) -> IntArray:
        return self.i * np.int64(n) + self.j

    def add(
        self,
        a: IntArray,
        b: IntArray,
        trust: FloatArray | float,
        t: int,
        kind: NDArray[np.int8] | None = None,
        n: int | None = None,
    ) -> int:
        """Add ties; a tie already present keeps the higher trust. Returns ties created."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        one_trust = np.ndim(trust) == 0
        trust0 = float(np.asarray(trust)) if one_trust else 0.0
        trust = np.broadcast_to(np.asarray(trust, dtype=np.float64), a.shape)
        k = np.zeros(a.shape, dtype=np.int8) if kind is None else np.broadcast_to(kind, a.shape)
        keep = a != b
        lo = np.minimum(a, b)[keep]
        hi = np.maximum(a, b)[keep]
        if lo.size == 0:
            return 0
        nn = int(max(n or 0, hi.max() + 1, (self.j.max() + 1) if self.m else 0))
        tr, kd = trust[keep], k[keep]
        key = lo * np.int64(nn) + hi
        if self.m == 0 and kind is None and one_trust:
            # A new layer of identical ties (the competitor layer): duplicates are equal, so
            # a plain sort of the keys gives the same layer as the general path below.
            key = np.sort(key)
            key = key[_run_starts(key)]
            self.i, self.j = key // nn, key % nn
            self.trust = np.full(key.size, trust0)
            self.last_used = np.full(key.size, t, dtype=np.int64)
            self.kind = np.zeros(key.size, dtype=np.int8)
            self._csr = None
            return int(key.size)
        # New pairs: keep one per key, the highest trust.
        order = np.lexsort((-tr, key))
        ks = key[order]
        first = np.flatnonzero(_run_starts(ks))  # np.unique is hash-based and 5x slower here
        key, sel = ks[first], order[first]
        lo, hi, tr, kd = lo[sel], hi[sel], tr[sel], kd[sel]
        # Existing ties (sorted by key) keep the higher trust; the rest are inserted in order,
        # which costs O(m) instead of re-sorting the whole layer.
        old = self.keys(nn)
        pos = np.searchsorted(old, key)
        hit = pos < old.size
        hit[hit] = old[pos[hit]] == key[hit]
        if hit.any():
            p = pos[hit]
            self.trust[p] = np.maximum(self.trust[p], tr[hit])
        ins = ~hit
        where = pos[ins]
        self.i = np.insert(self.i, where, lo[ins])
        self.j = np.insert(self.j, where, hi[ins])
        self.trust = np.insert(self.trust, where, tr[ins])
        self.last_used = np.insert(
            self.last_used, where, np.full(int(ins.sum()), t, dtype=np.int64)
        )
        self.kind = np.insert(self.kind, where, kd[ins])
        self._csr = None
        return int(ins.sum())

    def keep(self, mask: NDArray[np.bool_]) -> None:
        """Keep only the ties where ``mask`` is true."""
        self.i, self.j = self.i[mask], self.j[mask]
        self.trust, self.last_used, self.kind = (
            self.trust[mask],
            self.last_used[mask],
            self.kind[mask],
        )
        self._csr = None

    def remap(self, new_index: IntArray) -> None:
        """Renumber firms after removals; ``new_index[old] = -1`` drops a firm's ties."""
        a, b = new_index[self.i], new_index[self.j]
        ok = (a >= 0) & (b >= 0)
        self.keep(ok)
        self.i, self.j = a[ok], b[ok]
        self._csr = None

    def csr(self, n: int) -> CSR:
        """The directed neighbour view for ``n`` firms (cached until the structure changes)."""
        if self._csr is not None and self._csr_n == n:
            return self._csr
        if self._csr is not None and self._csr_n < n:
            # Firms were appended and the ties did not change: the new firms have no entries,
            # so the view only gains empty groups at the end (the proximity cache stays valid).
            old = self._csr
            indptr = np.concatenate([old.indptr, np.full(n - self._csr_n, old.indptr[-1])])
            self._csr = CSR(indptr=indptr, nbr=old.nbr, edge=old.edge, src=old.src)
            self._csr_n = n
            return self._csr
        if kernel.kernels() == "numba":
            indptr, nbr, edge, src = kernel.compiled().csr_build(self.i, self.j, n)
            self._csr = CSR(indptr=indptr, nbr=nbr, edge=edge, src=src)
            self._csr_n = n
            self._prox = None
            return self._csr
        # Counting sort by source firm (O(m + n)): the order within a firm follows edge order.
        src = np.concatenate([self.i, self.j])
        dst = np.concatenate([self.j, self.i])
        edge = np.concatenate([np.arange(self.m), np.arange(self.m)])
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
        order = _counting_order(src, indptr)
        src, dst, edge = src[order], dst[order], edge[order]
        self._csr = CSR(indptr=indptr, nbr=dst, edge=edge, src=src)
        self._csr_n = n
        self._prox = None
        return self._csr

    def proximity(self, n: int, x: FloatArray, y: FloatArray, ell: float) -> FloatArray:
        """``exp(-dist / ell)`` per directed entry of :meth:`csr`, cached with the view.

        Firms do not move, so the cache stays valid until the structure or population changes.
        """
        csr = self.csr(n)
        if (self._prox is None or self._prox_ell != ell) and kernel.kernels() == "numba":
            self._prox = kernel.compiled().proximity(
                csr.src, csr.nbr, np.ascontiguousarray(x), np.ascontiguousarray(y), ell
            )
            self._prox_ell = ell
        if self._prox is None or self._prox_ell != ell:
            dx = x[csr.src] - x[csr.nbr]
            dy = y[csr.src] - y[csr.nbr]
            self._prox = np.exp(-np.sqrt(dx * dx + dy * dy) / ell)
            self._prox_ell = ell
        return self._prox

    def degree(self, n: int) -> IntArray:
        if self._csr is not None and self._csr_n == n:  # the neighbour view has it already
            return self._csr.degree
        return np.bincount(self.i, minlength=n) + np.bincount(self.j, minlength=n)

    def find(self, a: IntArray, b: IntArray, n: int) -> IntArray:
        """Index of the tie between each pair, or -1 where there is none."""
        if kernel.kernels() == "numba":
            # A scan of the first firm's neighbours: a few nearby entries, where a binary
            # search over all keys missed the cache at every level (20 ms a step at 1M firms).
            csr = self.csr(n)
            out: IntArray = kernel.compiled().find_ties(
                csr.indptr, csr.nbr, csr.edge, np.asarray(a, np.int64), np.asarray(b, np.int64)
            )
            return out
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        keys = self.keys(n)
        q = lo * np.int64(n) + hi
        pos = np.searchsorted(keys, q)
        pos = np.minimum(pos, max(self.m - 1, 0))
        found = (self.m > 0) & (keys[pos] == q) if self.m else np.zeros(q.shape, dtype=bool)
        return np.where(found, pos, -1).astype(np.int64)


@dataclass
class BipartiteLayer:
    """Ties from firms to other actors (institutions, outside partners)."""

    firm: IntArray
    other: IntArray
    _masks: dict[tuple[int, ...], tuple[IntArray, NDArray[np.bool_]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def other_in(self, kind: IntArray, values: tuple[int, ...]) -> NDArray[np.bool_]:
        """Ties whose other actor's ``kind`` is one of ``values`` (cached while the ties stay
        the same: ``other`` is replaced, never changed in place, when they change)."""
        hit = self._masks.get(values)
        if hit is not None and hit[0] is self.other:
            return hit[1]
        mask = np.isin(kind[self.other], values)
        self._masks[values] = (self.other, mask)
        return mask

    @classmethod
    def empty(cls) -> BipartiteLayer:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    @property
    def m(self) -> int:
        return int(self.firm.shape[0])

    def count(self, n: int) -> IntArray:
        return np.bincount(self.firm, minlength=n).astype(np.int64, copy=False)

    def add(self, firm: IntArray, other: IntArray, n_other: int) -> None:
        f = np.concatenate([self.firm, np.asarray(firm, dtype=np.int64)])
        o = np.concatenate([self.other, np.asarray(other, dtype=np.int64)])
        key = f * np.int64(max(n_other, 1)) + o
        order = np.argsort(key, kind="stable")
        first = order[_run_starts(key[order])]  # first occurrence of each key, in key order
        self.firm, self.other = f[first], o[first]

    def keep(self, mask: NDArray[np.bool_]) -> None:
        self.firm, self.other = self.firm[mask], self.other[mask]

    def remap(self, new_index: IntArray) -> None:
        f = new_index[self.firm]
        ok = f >= 0
        self.firm, self.other = f[ok], self.other[ok]


def _run_starts(sorted_keys: IntArray) -> NDArray[np.bool_]:
    """True where a run of equal values starts in a sorted array."""
    out = np.empty(sorted_keys.size, dtype=bool)
    if sorted_keys.size:
        out[0] = True
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=out[1:])
    return out


def _counting_order(src: IntArray, indptr: IntArray) -> IntArray:
    """Stable order that groups entries by ``src`` (a counting sort; ``src`` in [0, n))."""
    # numpy's stable sort is a radix sort for 16-bit keys: two LSD passes cover n < 2**32,
    # about three times faster than a comparison sort of int64 keys.
    n = indptr.size - 1
    if n <= 2**16:
        return np.argsort(src.astype(np.uint16), kind="stable")
    if n <= 2**32:
        first = np.argsort((src & 0xFFFF).astype(np.uint16), kind="stable")
        return first[np.argsort((src[first] >> 16).astype(np.uint16), kind="stable")]
    return np.argsort(src, kind="stable")


def sample_by_weight(csr: CSR, weight: FloatArray, u: FloatArray) -> IntArray:
    """Draw one neighbour entry per firm with probability proportional to ``weight``.

    Parameters
    ----------
    csr : CSR
        Neighbour view; ``weight`` is aligned with ``csr.nbr``.
    weight : numpy.ndarray
        Non-negative weight per directed entry.
    u : numpy.ndarray
        One uniform draw per firm (length ``n``).

    Returns
    -------
    numpy.ndarray
        Position in ``csr.nbr`` chosen for each firm, or -1 where the firm has no neighbour
        of positive weight.
    """
    n = csr.indptr.shape[0] - 1
    if csr.nbr.size == 0:
        return np.full(n, -1, dtype=np.int64)
    if kernel.kernels() == "numba":
        out: IntArray = kernel.compiled().sample_by_weight(
            csr.indptr, np.ascontiguousarray(weight, dtype=np.float64), u
        )
        return out
    # Running sums within each firm's group, added left to right as the compiled kernel does
    # (a global cumulative sum would chain every entry's addition after all earlier ones).
    start = csr.indptr[:-1]
    deg = np.diff(csr.indptr)
    by_degree = np.argsort(-deg, kind="stable")
    # longer[k]: how many groups have more than k entries (a prefix of by_degree)
    longer = np.searchsorted(-deg[by_degree], -np.arange(int(deg.max())), side="left")
    run = np.empty(weight.size)
    total = np.zeros(n)
    for k in range(longer.size):  # the k-th entry of every group longer than k
        rows = by_degree[: longer[k]]
        e = start[rows] + k
        total[rows] += weight[e]
        run[e] = total[rows]
    target = u * total
    # The first entry whose running sum exceeds the target: the count of those that do not
    # (running sums never decrease), in one pass over the entries.
    below = np.bincount(csr.src, weights=run <= target[csr.src], minlength=n)
    pos = start + below.astype(np.int64)
    pos = np.minimum(pos, np.maximum(csr.indptr[1:] - 1, start))
    return np.where(total > 0, pos, -1).astype(np.int64)
