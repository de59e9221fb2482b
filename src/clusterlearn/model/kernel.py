"""The one learning kernel every channel moves knowledge with (MODEL.md section 2), and the
hot loops built on it, in numpy and compiled (numba) versions that give identical results."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from clusterlearn.model.layers import CSR

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def absorb(gap: FloatArray | float, alpha: FloatArray | float) -> FloatArray:
    """Knowledge absorbed across a gap by a learner of absorptive capacity ``alpha``.

    ``absorb(x, a) = x * exp(-x / a)`` for ``x = max(0, gap)``: it rises with small gaps,
    peaks at ``x = a`` and falls when the gap exceeds what the learner can understand
    (Nooteboom's cognitive distance). As ``a`` grows it tends to the linear rule ``x``.

    Parameters
    ----------
    gap : array_like
        Source level minus own level; negative gaps count as zero.
    alpha : array_like
        Absorptive capacity, strictly positive; ``numpy.inf`` gives the linear rule.
        Broadcast against ``gap`` (pass ``alpha[:, None]`` for a firms x domains gap).

    Returns
    -------
    numpy.ndarray
        The absorbed amount, never negative and never larger than the gap.

    Examples
    --------
    >>> float(absorb(1.0, 1.0))  # the peak: x = a
    0.36787944117144233
    >>> float(absorb(2.0, np.inf))  # linear limit
    2.0
    >>> float(absorb(-1.0, 1.0))
    0.0
    """
    x = np.maximum(np.asarray(gap, dtype=np.float64), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(np.divide(x, alpha), dtype=np.float64)
        np.negative(out, out=out)
        np.exp(out, out=out)
        out *= x  # in place: this kernel runs on firms x domains arrays in every channel
    return np.asarray(out, dtype=np.float64)


# --- backends ------------------------------------------------------------------------------
# The hot kernels have a pure-numpy implementation and a compiled one (numba, parallel over
# the cores); both give bit-identical results. ``CLUSTERLEARN_KERNELS`` (``auto``, ``numba``,
# ``numpy``) picks one at import; :func:`use_kernels` switches for a block of code.
BACKENDS = ("numpy", "numba")
_backend = "numpy"
_compiled: Any = None


def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a dependency; a broken install falls back
        return False
    return True


def _load_tbb() -> None:
    """Make numba's TBB threading layer loadable (its first choice, when it loads).

    TBB's workers spin briefly before they sleep: a kernel launched a few microseconds after
    the last one finds them awake, and two processes sharing the cores do not slow each other
    down as spinning OpenMP threads do. The ``tbb`` wheel puts ``libtbb.so.12`` in the
    environment's ``lib`` folder, which the loader of a virtual environment does not search;
    loading it here by path lets numba's TBB layer find it. Measured on 2 cores: 7-12% less
    time a step at 10,000 firms than OpenMP with sleeping threads, the same at 100,000.
    ``NUMBA_THREADING_LAYER`` still chooses the layer; nothing is done off Linux.
    """
    if not sys.platform.startswith("linux"):
        return
    for folder in (Path(sys.prefix) / "lib", Path(sys.base_prefix) / "lib"):
        lib = folder / "libtbb.so.12"
        if lib.exists():
            try:
                ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
            except OSError:  # a broken install: numba falls back to OpenMP
                pass
            return


def set_kernels(name: str) -> str:
    """Select the kernel backend (``"numpy"``, ``"numba"`` or ``"auto"``); returns the one in use.

    ``auto`` is numba when it can be imported, numpy otherwise.
    """
    global _backend, _compiled
    if name not in (*BACKENDS, "auto"):
        raise ValueError(f"kernel backend must be one of auto, numba, numpy; got {name!r}")
    if name == "auto":
        name = "numba" if _numba_available() else "numpy"
    if name == "numba":
        _load_tbb()
        # If numba falls back to OpenMP: idle threads sleep instead of spinning. Spinning
        # threads of two processes on the same cores (a sweep, a test run with workers) slowed
        # each step eightfold.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from clusterlearn.model import _compiled as compiled

        _compiled = compiled
    _backend = name
    return name


def kernels() -> str:
    """The kernel backend in use (``"numpy"`` or ``"numba"``)."""
    return _backend


def compiled() -> Any:
    """The compiled kernels module (numba backend only)."""
    if _compiled is None:
        raise RuntimeError("the numba kernels are not loaded (set_kernels('numba') first)")
    return _compiled


@contextmanager
def use_kernels(name: str) -> Iterator[str]:
    """Run a block with the given kernel backend, then restore the previous one."""
    before = _backend
    try:
        yield set_kernels(name)
    finally:
        set_kernels(before)


def set_threads(k: int) -> None:
    """Threads the compiled kernels may use (a sweep worker runs with 1: runs are the
    parallel unit there), at most numba's thread pool and the cores; a later call may raise
    the count again. No effect with the numpy backend."""
    if _backend == "numba":
        import numba

        top = min(int(numba.config.NUMBA_NUM_THREADS), os.cpu_count() or 1)  # type: ignore[attr-defined]
        numba.set_num_threads(max(1, min(k, top)))


#: Below this many firms a step runs the compiled kernels on one thread, by numba threading
#: layer: waking the other threads for each kernel costs more than they save. Measured on the
#: 2-core benchmark machine, full model, ms a step on one / two threads: with OpenMP (threads
#: sleep when idle) 300 firms 2.8 / 3.8, 1,000 firms 3.8 / 4.6, 3,000 firms 6.7 / 7.1, 5,000
#: firms 8.9 / 8.9; with TBB (threads spin briefly first) 300 firms 3.0 / 3.2, 1,000 firms
#: 4.3 / 4.2.
SERIAL_BELOW = {"tbb": 500, "omp": 4000, "workqueue": 4000}


_layer: str | None = None  # numba's threading layer, once it has chosen one


def serial_below() -> int:
    """The cluster size below which a step runs on one thread (0 before any parallel kernel
    has run, when numba has not chosen its threading layer yet)."""
    global _layer
    if _layer is None:
        import numba

        try:
            _layer = str(numba.threading_layer())
        except ValueError:
            return 0
    return SERIAL_BELOW.get(_layer, max(SERIAL_BELOW.values()))


@contextmanager
def threads_for(firms: int) -> Iterator[None]:
    """Run a block on one thread when a cluster of ``firms`` firms is too small to pay for
    more (see :data:`SERIAL_BELOW`); the thread count is restored afterwards. Results do not
    depend on the number of threads."""
    if _backend != "numba" or firms >= serial_below():
        yield
        return
    import numba

    before = numba.get_num_threads()
    if before == 1:
        yield
        return
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def threads() -> int:
    """Threads the model may use (1 with the numpy backend or in a sweep worker)."""
    if _backend == "numba":
        import numba

        return int(numba.get_num_threads())
    return 1


_EMPTY = np.zeros(0, dtype=np.int64)
_EMPTY_FLOAT = np.zeros(0)
_EMPTY_ROWS = np.zeros((0, 1))
_NO_STREAM = np.zeros(0, dtype=np.uint64)
_WORD = (1 << 64) - 1

#: From this many draws on, a compiled kernel draws its uniforms itself, in parallel (see
#: :func:`draws`); fewer are drawn by numpy, for which reading and advancing the stream would
#: cost more than drawing in parallel saves.
DRAW_IN_KERNEL = 2048

#: Uniform draws for a kernel: given as an array, or a generator to take them from.
Uniforms = FloatArray | np.random.Generator


def stream(rng: np.random.Generator) -> NDArray[np.uint64] | None:
    """The state of a PCG64 generator for a compiled kernel to draw from (state and increment,
    high and low words), or None (another bit generator, a buffered half-draw that advancing
    would drop, or the numpy backend). The caller advances the generator past what the kernel
    drew."""
    if _backend != "numba" or type(rng.bit_generator) is not np.random.PCG64:
        return None
    st = rng.bit_generator.state
    if st["has_uint32"]:
        return None
    s, inc = st["state"]["state"], st["state"]["inc"]
    return np.array([s >> 64, s & _WORD, inc >> 64, inc & _WORD], dtype=np.uint64)


def _advance(rng: np.random.Generator, k: int) -> None:
    """Move a PCG64 generator ``k`` draws on (past what a kernel drew from its stream)."""
    bg = rng.bit_generator
    assert isinstance(bg, np.random.PCG64)
    bg.advance(k)


def draws(u: Uniforms, k: int) -> tuple[FloatArray, NDArray[np.uint64]]:
    """A kernel's ``k`` uniform draws ``u`` as ``(values, stream)``: an array as it is; from a
    generator, its next ``k`` draws, the numbers ``Generator.random(k)`` gives.

    With the numba backend, a PCG64 generator and at least :data:`DRAW_IN_KERNEL` draws, the
    values are left empty and ``stream`` holds the generator's state (:func:`stream`): the
    kernel draws them itself, in parallel, and the generator is advanced past them here.
    Otherwise ``stream`` is empty and numpy draws the values.
    """
    if isinstance(u, np.ndarray):
        return u, _NO_STREAM
    if k >= DRAW_IN_KERNEL:
        rs = stream(u)
        if rs is not None:
            _advance(u, k)
            return _EMPTY_FLOAT, rs
    return u.random(k), _NO_STREAM


def drawn(u: Uniforms, k: int) -> FloatArray:
    """``u`` as an array of ``k`` draws (drawn from it when it is a generator)."""
    return u if isinstance(u, np.ndarray) else u.random(k)


def pair_absorb(
    src: FloatArray,
    dst: FloatArray,
    alpha: FloatArray,
    scale: FloatArray | float,
    rows: IntArray | None = None,
    src_rows: IntArray | None = None,
) -> FloatArray:
    """What each learner absorbs from its source: one row per learner.

    ``scale[k] * absorb(src[src_rows[k]] - dst[rows[k]], alpha[rows[k]])``, the pattern of every
    channel: learners ``rows`` (all rows of ``dst`` when None) learn from source rows
    ``src_rows`` of ``src``, or, when ``src_rows`` is None, from ``src`` itself, one level per
    domain shared by all (the frontier, the cluster pool).

    Parameters
    ----------
    src : numpy.ndarray
        Source levels, ``m x D`` (or ``D`` when ``src_rows`` is None).
    dst : numpy.ndarray
        The learners' own levels, ``n x D``.
    alpha : numpy.ndarray
        Absorptive capacity per row of ``dst``.
    scale : float or numpy.ndarray
        One factor, or one per learner.
    rows, src_rows : numpy.ndarray, optional
        Learner rows of ``dst`` and their source rows of ``src``.

    Returns
    -------
    numpy.ndarray
        ``k x D`` gains (``k`` learners).
    """
    return _pair_absorb(src, dst, alpha, scale, rows, src_rows, None)


def pair_absorb_totals(
    src: FloatArray,
    dst: FloatArray,
    alpha: FloatArray,
    scale: FloatArray | float,
    rows: IntArray | None = None,
    src_rows: IntArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """:func:`pair_absorb` and each learner's total gain (its row summed left to right, as
    :func:`row_sums` adds), computed while the row is in cache."""
    k = dst.shape[0] if rows is None else rows.size
    tot = np.empty(k)
    return _pair_absorb(src, dst, alpha, scale, rows, src_rows, tot), tot


def _pair_absorb(
    src: FloatArray,
    dst: FloatArray,
    alpha: FloatArray,
    scale: FloatArray | float,
    rows: IntArray | None,
    src_rows: IntArray | None,
    tot: FloatArray | None,
) -> FloatArray:
    scalar = np.ndim(scale) == 0
    if _backend == "numba":
        k = dst.shape[0] if rows is None else rows.size
        if k == 0:
            return np.zeros((0, dst.shape[1]))
        s2 = np.ascontiguousarray(src, dtype=np.float64)
        out: FloatArray = _compiled.pair_absorb(
            s2.reshape(1, -1) if src_rows is None else s2,
            _EMPTY if src_rows is None else np.asarray(src_rows, dtype=np.int64),
            dst,
            _EMPTY if rows is None else np.asarray(rows, dtype=np.int64),
            np.asarray(alpha, dtype=np.float64),
            np.asarray(scale, dtype=np.float64).reshape(-1),
            _EMPTY_FLOAT if tot is None or dst.shape[1] == 0 else tot,
        )
        if tot is not None and dst.shape[1] == 0:
            tot[:] = 0.0
        return out
    s = src[None, :] if src_rows is None else src[src_rows]
    d = dst if rows is None else dst[rows]
    a = alpha if rows is None else alpha[rows]
    g = absorb(s - d, a[:, None])
    g = scale * g if scalar else np.asarray(scale)[:, None] * g
    if tot is not None:
        tot[:] = row_sums(g)
    return g


# Values from which a scatter with repeated rows is split over the threads by target row: each
# thread reads every entry, which pays only when there are many.
SPLIT_SCATTER = 200_000


def scatter_add(
    target: FloatArray, rows: IntArray, values: FloatArray, unique: bool = False
) -> None:
    """``target[rows] += values``; repeated rows add up (in row order). ``unique``: the rows
    are known to be distinct (a faster path)."""
    if rows.size == 0:
        return
    if _backend == "numba" and target.flags.c_contiguous and values.flags.c_contiguous:
        if unique:
            _compiled.scatter_add_unique(target, rows, values)
        elif rows.size * target.shape[1] >= SPLIT_SCATTER and threads() > 1:
            _compiled.scatter_add_split(target, rows, values, threads())
        else:
            _compiled.scatter_add(target, rows, values)
        return
    if unique:
        target[rows] += values  # no repeats: plain fancy indexing is exact and faster
        return
    # The 1-D fast path of np.add.at on flat indices: about three times faster than
    # np.add.at with row indices on a 2-D array.
    d = target.shape[1]
    flat = (rows[:, None] * d + np.arange(d)).ravel()
    np.add.at(target.reshape(-1), flat, values.ravel())


def row_sums(part: FloatArray) -> FloatArray:
    """Sum of each row of a ``k x D`` array, added left to right (the same in both backends)."""
    if part.shape[1] == 0:
        return np.zeros(part.shape[0])
    if _backend == "numba" and part.flags.c_contiguous:
        out: FloatArray = _compiled.row_sums(part)
        return out
    s = part[:, 0].copy()
    for c in range(1, part.shape[1]):  # a loop over domains (few), fixing the order of the sum
        s += part[:, c]
    return s


def gained(
    n: int,
    rows: IntArray | None,
    dT: FloatArray | None,
    dE: FloatArray | None,
    distinct: bool = False,
) -> FloatArray:
    """Knowledge gained per firm from a channel's ``dT`` and ``dE`` rows: each row's sum
    (tacit, plus explicit), added into firm ``rows[k]`` in row order (row ``k`` is firm ``k``
    when ``rows`` is None). ``distinct``: no firm appears twice in ``rows``."""
    parts = [p for p in (dT, dE) if p is not None]
    if not parts:
        return np.zeros(n)
    if _backend == "numba" and all(p.flags.c_contiguous and p.shape[1] for p in parts):
        second = parts[1] if len(parts) == 2 else _EMPTY_ROWS
        if rows is None or distinct:
            got: FloatArray = _compiled.gained_distinct(
                n, _EMPTY if rows is None else np.asarray(rows, dtype=np.int64), parts[0], second
            )
            return got
        out: FloatArray = _compiled.gained(n, np.asarray(rows, dtype=np.int64), parts[0], second)
        return out
    per_row = row_sums(parts[0]) if len(parts) == 1 else row_sums(parts[0]) + row_sums(parts[1])
    if rows is None:
        return per_row
    return np.bincount(rows, weights=per_row, minlength=n).astype(np.float64, copy=False)


def apply_rows(
    T: FloatArray,
    E: FloatArray,
    rows: IntArray,
    dT: FloatArray,
    dE: FloatArray | None,
    unique: bool,
    row_gain: FloatArray,
    count: bool,
    meetings: IntArray,
    gain: FloatArray,
    last_inflow: IntArray,
    motive: FloatArray,
    k: int,
    t: int,
    saving: FloatArray | None,
) -> None:
    """A channel's gains given by rows, applied and booked at once: ``T[rows] += dT``,
    ``E[rows] += dE`` (:func:`scatter_add`), one meeting per row when ``count``, and
    :func:`book_gains` of each firm's gain (the rows' totals ``row_gain`` added up)."""
    arrays = (T, E, dT, gain, last_inflow) + (() if dE is None else (dE,))
    if _backend == "numba" and T.shape[1] and all(a.flags.c_contiguous for a in arrays):
        _compiled.apply_rows(
            T, E, rows, dT, _EMPTY_ROWS if dE is None else dE, unique, row_gain, count,
            meetings, gain, last_inflow, motive, k, t, _EMPTY_FLOAT if saving is None else saving,
        )  # fmt: skip
        return
    scatter_add(T, rows, dT, unique=unique)
    if dE is not None:
        scatter_add(E, rows, dE, unique=unique)
    if count:
        meetings += np.bincount(rows, minlength=T.shape[0])
    got = np.bincount(rows, weights=row_gain, minlength=T.shape[0]).astype(np.float64, copy=False)
    book_gains(gain, last_inflow, motive, got, k, t, saving)


def quintile_sums(
    c: FloatArray, floors: FloatArray, x: FloatArray
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Per group ``q`` = how many of the four ascending ``floors`` each ``c`` reaches (the
    position quintile), the sum of ``x`` (added in firm order) and the count of firms."""
    if _backend == "numba":
        total, count = _compiled.quintile_sums(c, floors, x)
        return total, count
    q = sum((c >= f).astype(np.int64) for f in floors)
    total = np.bincount(q, weights=x, minlength=5).astype(np.float64, copy=False)
    return total, np.bincount(q, minlength=5).astype(np.int64, copy=False)


def book_gains(
    gain: FloatArray,
    last_inflow: IntArray,
    motive: FloatArray,
    got: FloatArray,
    k: int,
    t: int,
    saving: FloatArray | None,
) -> None:
    """Record what channel ``k`` brought each firm at step ``t``: ``gain[k] += got``, the
    step it last brought knowledge, and (``saving`` given) the transaction-cost motive.
    ``gain`` and ``last_inflow`` are channel-major (``channels x n``)."""
    if _backend == "numba" and gain.flags.c_contiguous and last_inflow.flags.c_contiguous:
        _compiled.book_gains(
            gain, last_inflow, motive, got, k, t, np.zeros(0) if saving is None else saving
        )
        return
    gain[k] += got
    last_inflow[k, got > 1e-12] = t
    if saving is not None:
        motive += saving * got


def group_medians(ordered: FloatArray, bounds: IntArray) -> FloatArray:
    """Median of each row of ``ordered`` (``D x n``, columns grouped) within each group of
    columns ``bounds[s]:bounds[s + 1]``; ``-inf`` for an empty group. Returns ``groups x D``."""
    out = np.full((bounds.size - 1, ordered.shape[0]), -np.inf)
    if _backend == "numba":
        _compiled.group_medians(np.ascontiguousarray(ordered), bounds.astype(np.int64), out)
        return out
    for s in range(bounds.size - 1):  # a loop over groups (few stages), not firms
        if bounds[s + 1] > bounds[s]:
            out[s] = np.median(ordered[:, bounds[s] : bounds[s + 1]], axis=1)
    return out


def count_recent(last: IntArray, t: int, window: int) -> FloatArray:
    """Per column of ``last`` (steps, channels x firms), how many entries lie within ``window``
    steps before ``t``."""
    if _backend == "numba" and last.flags.c_contiguous:
        out: FloatArray = _compiled.count_recent(last, t, window)
        return out
    return ((t - last) < window).sum(axis=0).astype(np.float64)


def column_max(a: FloatArray) -> FloatArray:
    """Maximum of each column of a ``k x D`` array (``k > 0``)."""
    if _backend == "numba" and a.flags.c_contiguous:
        out: FloatArray = _compiled.column_max(a)
        return out
    return np.asarray(a.max(axis=0), dtype=np.float64)


def compound_trust(
    trust: FloatArray, edges: IntArray, eta: float, up: bool, tally: IntArray | None = None
) -> None:
    """Apply ``k`` meetings per tie at once (``edges`` lists a tie once per meeting):
    ``trust = 1 - (1 - trust)(1 - eta)^k`` for successes (``up``), ``trust (1 - eta)^k`` for
    betrayals, as ``k`` meetings one after another would give. ``tally``: a zeroed count per
    tie to count in (left zeroed), so that no count array is allocated."""
    if edges.size == 0:
        return
    if _backend == "numba":
        counts = np.zeros(trust.size, dtype=np.int64) if tally is None else tally
        _compiled.compound_trust(trust, np.asarray(edges, dtype=np.int64), eta, up, counts)
        return
    k = np.bincount(edges, minlength=trust.size)
    e = np.flatnonzero(k)
    if up:
        trust[e] = 1.0 - (1.0 - trust[e]) * (1.0 - eta) ** k[e]
    else:
        trust[e] *= (1.0 - eta) ** k[e]


def drift_toward(x: FloatArray, y: FloatArray, target: float, rate: float) -> None:
    """``x += rate * (target - x)`` and the same for ``y``, in place (the trust of two tie
    layers drifting toward its baseline; one compiled call for both)."""
    if _backend == "numba" and x.flags.c_contiguous and y.flags.c_contiguous:
        _compiled.drift_toward(x, y, target, rate)
        return
    x += rate * (target - x)
    y += rate * (target - y)


def gathered_dot(
    w: FloatArray, wrows: IntArray, x: FloatArray, xrows: IntArray | None = None
) -> FloatArray:
    """``out[k] = w[wrows[k]] . x[xrows[k]]`` (row ``k`` of ``x`` when ``xrows`` is None):
    capability ``c = w[stage] . T`` and its relatives, summed over domains left to right."""
    if x.shape[1] == 0:
        return np.zeros(wrows.size)
    if _backend == "numba":
        out: FloatArray = _compiled.gathered_dot(
            np.ascontiguousarray(w),
            np.asarray(wrows, dtype=np.int64),
            np.ascontiguousarray(x),
            _EMPTY if xrows is None else np.asarray(xrows, dtype=np.int64),
        )
        return out
    ws = w[wrows]
    xs = x if xrows is None else x[xrows]
    acc = ws[:, 0] * xs[:, 0]
    for c in range(1, x.shape[1]):  # a loop over domains (few), fixing the order of the sum
        acc += ws[:, c] * xs[:, c]
    return acc


def capability_capacity(
    w: FloatArray,
    stage: IntArray,
    T: FloatArray,
    a0: float,
    ak: float,
    ar: float,
    rnd: FloatArray,
    bonus: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Capability ``c = w[stage] . T`` (:func:`gathered_dot`) and absorptive capacity
    (:func:`capacity`) per firm; one pass with the numba backend."""
    if _backend == "numba" and T.shape[1] and T.flags.c_contiguous and w.flags.c_contiguous:
        c, alpha = _compiled.capability_capacity(w, stage, T, a0, ak, ar, rnd, bonus)
        return c, alpha
    c = gathered_dot(w, stage, T)
    return c, capacity(c, a0, ak, ar, rnd, bonus)


def capacity(
    c: FloatArray, a0: float, ak: float, ar: float, rnd: FloatArray, bonus: FloatArray
) -> FloatArray:
    """Absorptive capacity ``alpha = a0 + ak c + ar rnd + bonus`` per firm (one pass)."""
    if _backend == "numba":
        out: FloatArray = _compiled.capacity(c, a0, ak, ar, rnd, bonus)
        return out
    return a0 + ak * c + ar * rnd + bonus


def saving(sc: FloatArray, cost_in0: float, discount: float, cost_out: float) -> FloatArray:
    """The transaction-cost saving of learning inside, ``max(cost_out - cost_in, 0)`` with
    ``cost_in = cost_in0 (1 - discount sc)``, per firm (one pass)."""
    if _backend == "numba":
        out: FloatArray = _compiled.saving(sc, cost_in0, discount, cost_out)
        return out
    return np.maximum(cost_out - cost_in0 * (1.0 - discount * sc), 0.0)


def draw_by_cumweight(cw: FloatArray, u: FloatArray) -> IntArray:
    """Indices drawn with probability proportional to weights whose running sum is ``cw``,
    one per uniform draw in ``u`` (inverse transform)."""
    q = u * cw[-1]
    if _backend == "numba" and q.size:
        out: IntArray = _compiled.search_right(cw, q)
        return out
    return np.minimum(np.searchsorted(cw, q, side="right"), cw.size - 1)


def barter(x: FloatArray, a: IntArray, b: IntArray, margin: float) -> NDArray[np.bool_]:
    """Pairs ``(a, b)`` where each side leads the other by more than ``margin`` in some
    column of ``x`` (both gain from an exchange)."""
    if _backend == "numba" and x.flags.c_contiguous:
        out: NDArray[np.bool_] = _compiled.barter(x, a, b, margin)
        return out
    diff = x[a] - x[b]
    return np.asarray((diff > margin).any(axis=1) & (diff < -margin).any(axis=1))


def social_capital_raw(
    views: list[tuple[IntArray, IntArray, IntArray, FloatArray]], n: int, scaled: bool = False
) -> FloatArray:
    """``mean trust x log(1 + degree)`` per firm over two layers, each given as its neighbour
    view ``(indptr, src, edge, trust)``; trust summed in neighbour-view order. ``scaled``:
    divided by the largest value when that is positive (social capital in [0, 1])."""
    (ia, sa, ea, ta), (ib, sb, eb, tb) = views
    if _backend == "numba":
        out: FloatArray = _compiled.social_capital(ia, ea, ta, ib, eb, tb, scaled)
        return out
    deg = np.diff(ia).astype(np.float64) + np.diff(ib)
    tsum = np.bincount(sa, weights=ta[ea], minlength=n) + np.bincount(
        sb, weights=tb[eb], minlength=n
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(deg > 0, tsum / np.maximum(deg, 1) * np.log1p(deg), 0.0)
    if not scaled:
        return raw
    top = raw.max() if raw.size else 0.0
    return raw / top if top > 0 else raw


def seci(
    T: FloatArray, E: FloatArray, alpha: FloatArray, k_ext: float, s_int: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Externalisation ``E += k_ext max(0, T - E)``, then internalisation
    ``T += s_int absorb(E - T, alpha)``, in place; returns both flows (``n x D`` each)."""
    if _backend == "numba" and T.flags.c_contiguous and E.flags.c_contiguous:
        ext, internal = _compiled.seci(T, E, alpha, k_ext, np.asarray(s_int, dtype=np.float64))
        return ext, internal
    ext = k_ext * np.maximum(T - E, 0.0)
    E += ext
    internal = pair_absorb(E, T, alpha, s_int, src_rows=np.arange(T.shape[0]))
    T += internal
    return ext, internal


def gather_mul(a: FloatArray, idx: IntArray, b: FloatArray) -> FloatArray:
    """``a[idx] * b`` (per tie entry: trust of the tie times proximity, say)."""
    if _backend == "numba":
        out: FloatArray = _compiled.gather_mul(a, idx, b)
        return out
    return a[idx] * b


def gather_floor(a: FloatArray, idx: IntArray, floor: float) -> FloatArray:
    """``maximum(a[idx], floor)``."""
    if _backend == "numba":
        out: FloatArray = _compiled.gather_floor(a, idx, floor)
        return out
    return np.maximum(a[idx], floor)


def gather_at_least(a: FloatArray, idx: IntArray, threshold: float) -> FloatArray:
    """``a[idx]`` where it is at least ``threshold``, 0 elsewhere."""
    if _backend == "numba":
        out: FloatArray = _compiled.gather_at_least(a, idx, threshold)
        return out
    v = a[idx]
    return np.where(v >= threshold, v, 0.0)


def masked_mean_rows(x: FloatArray, mask: NDArray[np.bool_]) -> FloatArray:
    """Mean of the rows of ``x`` where ``mask`` holds (at least one), added row after row."""
    if _backend == "numba" and x.flags.c_contiguous:
        out: FloatArray = _compiled.masked_mean_rows(x, mask)
        return out
    # cumsum adds in order whatever the shape (a reduction over a single contiguous column
    # would use pairwise summation)
    return np.asarray(np.cumsum(x[mask], axis=0)[-1] / int(mask.sum()), dtype=np.float64)


def exchange(
    T: FloatArray,
    E: FloatArray,
    a: IntArray,
    b: IntArray,
    alpha: FloatArray,
    sa: FloatArray,
    sb: FloatArray,
    it: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Both sides of pair exchanges (C2): tacit and explicit gains of ``a`` from ``b`` (scale
    ``sa``, explicit ``sa x it``) stacked over those of ``b`` from ``a``, and each row's total
    gain (its tacit row summed left to right, plus its explicit row so summed)."""
    if (
        _backend == "numba"
        and a.size
        and T.shape[1]
        and T.flags.c_contiguous
        and E.flags.c_contiguous
    ):
        dT, dE, tot = _compiled.exchange(T, E, a, b, alpha, sa, sb, it)
        return dT, dE, tot
    gT_a = pair_absorb(T, T, alpha, sa, rows=a, src_rows=b)
    gT_b = pair_absorb(T, T, alpha, sb, rows=b, src_rows=a)
    gE_a = pair_absorb(E, E, alpha, sa * it, rows=a, src_rows=b)
    gE_b = pair_absorb(E, E, alpha, sb * it, rows=b, src_rows=a)
    dT, dE = np.concatenate([gT_a, gT_b]), np.concatenate([gE_a, gE_b])
    return dT, dE, row_sums(dT) + row_sums(dE)


def pick_by_trust(
    csr: CSR, trust: FloatArray, prox: FloatArray, u: Uniforms
) -> tuple[IntArray, IntArray, IntArray]:
    """One entry per firm of the neighbour view ``csr``, drawn with weight
    ``trust[edge] x prox`` by the firm's uniform ``u`` (the first entry whose running sum
    within the firm's entries exceeds ``u`` times their total). Returns the firms that found
    one, their partners and the ties, in firm order. ``u``: a draw per firm (see
    :func:`draws`)."""
    n = csr.indptr.size - 1
    if _backend == "numba" and csr.nbr.size:
        values, stream = draws(u, n)
        i, j, e = _compiled.pick_by_trust(
            csr.indptr, csr.nbr, csr.edge, trust, prox, values, stream
        )
        return i, j, e
    from clusterlearn.model.layers import sample_by_weight

    pos = sample_by_weight(csr, trust[csr.edge] * prox, drawn(u, n))
    learner = np.flatnonzero(pos >= 0)
    p = pos[learner]
    return learner, csr.nbr[p], csr.edge[p]


def keep_below(
    u: Uniforms, level: FloatArray, idx: IntArray, i: IntArray, j: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """The rows ``r`` with ``u[r] < level[idx[r]]``, in order: their ``i``, ``j`` and ``idx``
    (meetings that happen with the probability of their tie's trust, say). ``u``: a draw per
    row (see :func:`draws`)."""
    if _backend == "numba":
        values, stream = draws(u, i.size)
        oi, oj, oe = _compiled.keep_below(values, stream, level, idx, i, j)
        return oi, oj, oe
    keep = np.flatnonzero(drawn(u, i.size) < level[idx])
    return i[keep], j[keep], idx[keep]


def betrayal_scales(
    u: FloatArray,
    opp: FloatArray,
    src: IntArray,
    dst: IntArray,
    inside: FloatArray,
    trust: FloatArray,
    tie: IntArray,
    rate: float,
    base: float,
    enforcement: float,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Per meeting ``r`` where ``dst[r]`` learns from ``src[r]`` on tie ``tie[r]``: whether
    the source is opportunistic (``u[r] < clip(base x 2 opp[src] x enforcement, 0, 1)``; with
    ``opp ~ U(0, 1)`` the mean probability is ``base`` at neutral enforcement), and the
    learner's scale ``rate x inside[dst] x trust[tie]``, 0 when the source cheats."""
    base2 = base * 2.0
    if _backend == "numba":
        scale, cheat = _compiled.betrayal_scales(
            u, opp, src, dst, inside, trust, tie, rate, base2, enforcement
        )
        return scale, cheat
    cheat = u < np.clip(base2 * opp[src] * enforcement, 0.0, 1.0)
    return rate * inside[dst] * trust[tie] * ~cheat, cheat


def talk_absorb(
    T: FloatArray,
    alpha: FloatArray,
    i: IntArray,
    j: IntArray,
    e: IntArray,
    u: Uniforms,
    opp: FloatArray,
    inside: FloatArray,
    trust: FloatArray,
    rate: float,
    base: float,
    enforcement: float,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_], IntArray, IntArray]:
    """Talks where ``i`` learns from ``j`` on tie ``e``: whether ``j`` cheats (draws ``u``)
    and the scale ``rate x inside[i] x trust[e]`` (:func:`betrayal_scales`), then what ``i``
    absorbs from ``T[j]`` and each row's total (:func:`pair_absorb_totals`). Returns the
    gains, their row totals, whether each partner cheated, and the ties of the talks that
    brought knowledge and of those where the partner cheated. ``u``: a draw per talk (see
    :func:`draws`)."""
    if _backend == "numba" and i.size and T.shape[1] and T.flags.c_contiguous:
        values, stream = draws(u, i.size)
        gain, tot, cheat, success, betrayed = _compiled.talk_absorb(
            T, alpha, i, j, e, values, stream, opp, inside, trust, rate, base * 2.0, enforcement
        )
        return gain, tot, cheat, success, betrayed
    u = drawn(u, i.size)
    scale, cheat = betrayal_scales(u, opp, j, i, inside, trust, e, rate, base, enforcement)
    gain, tot = pair_absorb_totals(T, T, alpha, scale, rows=i, src_rows=j)
    return gain, tot, cheat, e[tot > 0], e[cheat]


def cooperate(
    T: FloatArray,
    E: FloatArray,
    a: IntArray,
    b: IntArray,
    active: IntArray,
    alpha: FloatArray,
    u: Uniforms,
    opp: FloatArray,
    inside: FloatArray,
    trust: FloatArray,
    rate: float,
    base: float,
    enforcement: float,
    it: float,
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.bool_], IntArray, IntArray]:
    """Pair exchanges on ties ``active`` between ``a`` and ``b``: ``a`` learns from ``b``
    unless ``b`` cheats and the other way round (draws ``u``: ``a``'s first, then ``b``'s),
    with scale ``rate x inside x trust`` (:func:`betrayal_scales`); then :func:`exchange`.
    Returns its ``dT``, ``dE`` and row totals, whether either side of each pair cheated, and
    the ties where neither side cheated and where one did. ``u``: two draws per pair (see
    :func:`draws`)."""
    k = a.size
    if _backend == "numba" and k and T.shape[1] and T.flags.c_contiguous and E.flags.c_contiguous:
        values, stream = draws(u, 2 * k)
        dT, dE, tot, cheat, kept, broken = _compiled.cooperate(
            T, E, a, b, active, alpha, values, stream, opp, inside, trust, rate, base * 2.0,
            enforcement, it,
        )  # fmt: skip
        return dT, dE, tot, cheat, kept, broken
    u = drawn(u, 2 * k)
    sa, cheat_b = betrayal_scales(u[k:], opp, b, a, inside, trust, active, rate, base, enforcement)
    sb, cheat_a = betrayal_scales(u[:k], opp, a, b, inside, trust, active, rate, base, enforcement)
    dT, dE, tot = exchange(T, E, a, b, alpha, sa, sb, it)
    cheat = cheat_a | cheat_b
    return dT, dE, tot, cheat, active[~cheat], active[cheat]


def informal_talks(
    csr: CSR,
    trust: FloatArray,
    prox: FloatArray,
    T: FloatArray,
    alpha: FloatArray,
    opp: FloatArray,
    inside: FloatArray,
    rate: float,
    base: float,
    enforcement: float,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray, IntArray, FloatArray, FloatArray, IntArray, IntArray]:
    """C1's talks, drawing from ``rng`` in this order: a partner per firm
    (:func:`pick_by_trust`), whether each talk happens (:func:`keep_below`), whether each
    partner cheats and what the learner absorbs (:func:`talk_absorb`). Returns the learners,
    partners and ties of the talks, the gains and their row totals, and the ties of the talks
    that brought knowledge and of those where the partner cheated. With the numba backend, one
    compiled call that draws from the generator's stream itself."""
    rs = stream(rng) if csr.nbr.size and T.shape[1] and T.flags.c_contiguous else None
    if rs is not None:
        i, j, e, gain, tot, success, betrayed, used = _compiled.informal_talks(
            csr.indptr, csr.nbr, csr.edge, trust, prox, T, alpha, opp, inside, rate,
            base * 2.0, enforcement, rs,
        )  # fmt: skip
        _advance(rng, used)
        return i, j, e, gain, tot, success, betrayed
    i, j, e = pick_by_trust(csr, trust, prox, rng)
    i, j, e = keep_below(rng, trust, e, i, j)
    gain, tot, _, success, betrayed = talk_absorb(
        T, alpha, i, j, e, rng, opp, inside, trust, rate, base, enforcement
    )
    return i, j, e, gain, tot, success, betrayed


def cooperation_exchanges(
    T: FloatArray,
    E: FloatArray,
    alpha: FloatArray,
    i: IntArray,
    j: IntArray,
    trust: FloatArray,
    meet: float,
    margin: float,
    opp: FloatArray,
    inside: FloatArray,
    rate: float,
    base: float,
    enforcement: float,
    it: float,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray, IntArray, FloatArray, FloatArray, FloatArray, IntArray, IntArray]:
    """C2's exchanges on the ties ``(i, j)``, drawing from ``rng`` in this order: which ties
    meet and barter (:func:`meet_and_barter`), then whether each side cheats
    (:func:`cooperate`). Returns the ties that exchanged and their ends, ``dT``, ``dE`` and
    row totals, and the ties where neither side cheated and where one did. With the numba
    backend, one compiled call that draws from the generator's stream itself."""
    ok = T.shape[1] and T.flags.c_contiguous and E.flags.c_contiguous
    rs = stream(rng) if ok else None
    if rs is not None:
        active, a, b, dT, dE, tot, kept, broken, used = _compiled.cooperation_exchanges(
            T, E, alpha, i, j, trust, meet, margin, opp, inside, rate, base * 2.0,
            enforcement, it, rs,
        )  # fmt: skip
        _advance(rng, used)
        return active, a, b, dT, dE, tot, kept, broken
    active, a, b = meet_and_barter(rng, meet, trust, i, j, T, margin)
    dT, dE, tot, _, kept, broken = cooperate(
        T, E, a, b, active, alpha, rng, opp, inside, trust, rate, base, enforcement, it
    )
    return active, a, b, dT, dE, tot, kept, broken


def meet_ties(
    trust: FloatArray,
    tally: IntArray,
    success: IntArray | None,
    betrayal: IntArray | None,
    used: IntArray | None,
    last_used: IntArray,
    t: int,
    eta_up: float,
    eta_down: float,
) -> None:
    """A channel's meetings on one tie layer: trust compounded over the successes, then over
    the betrayals (:func:`compound_trust`, counting in ``tally``), and ``last_used[used] = t``."""
    none = _EMPTY
    success = none if success is None else np.asarray(success, dtype=np.int64)
    betrayal = none if betrayal is None else np.asarray(betrayal, dtype=np.int64)
    used = none if used is None else np.asarray(used, dtype=np.int64)
    if _backend == "numba":
        _compiled.meet_ties(trust, tally, success, betrayal, used, last_used, t, eta_up, eta_down)
        return
    compound_trust(trust, success, eta_up, True, tally)
    compound_trust(trust, betrayal, eta_down, False, tally)
    if used.size:
        last_used[used] = t


def meet_and_barter(
    u: Uniforms,
    meet: float,
    trust: FloatArray,
    i: IntArray,
    j: IntArray,
    x: FloatArray,
    margin: float,
) -> tuple[IntArray, IntArray, IntArray]:
    """The ties ``(i[e], j[e])`` that meet (``u[e] < meet x trust[e]``) and on which each side
    leads the other by more than ``margin`` in some column of ``x``; returns the ties and both
    ends, in tie order. ``u``: a draw per tie (see :func:`draws`)."""
    if _backend == "numba" and x.flags.c_contiguous:
        values, stream = draws(u, i.size)
        active, a, b = _compiled.meet_and_barter(values, stream, meet, trust, i, j, x, margin)
        return active, a, b
    active = np.flatnonzero(drawn(u, i.size) < meet * trust)
    a, b = i[active], j[active]
    ok = barter(x, a, b, margin)
    return active[ok], a[ok], b[ok]


def tie_gain(
    indptr: IntArray,
    src: IntArray,
    nbr: IntArray,
    edge: IntArray,
    trust: FloatArray,
    c: FloatArray,
    alpha: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Per firm, over its ties (a neighbour view, entries in order): the sums of
    ``trust x absorb(c_neighbour - c_own, alpha_own)`` and of ``trust``."""
    if _backend == "numba":
        num, den = _compiled.tie_gain(indptr, nbr, edge, trust, c, alpha)
        return num, den
    n = indptr.size - 1
    w = trust[edge]
    g = w * absorb(c[nbr] - c[src], alpha[src])
    num = np.asarray(np.bincount(src, weights=g, minlength=n), dtype=np.float64)
    return num, np.asarray(np.bincount(src, weights=w, minlength=n), dtype=np.float64)


def shortfall_sums(level: FloatArray, x: FloatArray) -> FloatArray:
    """Per row of ``x`` (``k x D``), ``sum_d max(level_d - x_d, 0)``, added left to right."""
    if x.shape[1] == 0:
        return np.zeros(x.shape[0])
    if _backend == "numba" and x.flags.c_contiguous:
        out: FloatArray = _compiled.shortfall_sums(np.ascontiguousarray(level, dtype=np.float64), x)
        return out
    return row_sums(np.maximum(level[None, :] - x, 0.0))


def pair_proximity(
    x: FloatArray, y: FloatArray, a: IntArray, b: IntArray, ell: float
) -> FloatArray:
    """``exp(-dist(a, b) / ell)`` for pairs of firms at ``(x, y)``."""
    if _backend == "numba" and a.size:
        out: FloatArray = _compiled.pair_proximity(
            np.ascontiguousarray(x), np.ascontiguousarray(y), a, b, ell
        )
        return out
    return np.asarray(np.exp(-np.hypot(x[a] - x[b], y[a] - y[b]) / ell), dtype=np.float64)


def nearest(px: FloatArray, py: FloatArray, k: int) -> IntArray:
    """For every point, its ``k`` nearest other points (``m x k`` indices, nearest first),
    ordered by ``(dx * dx + dy * dy, index)``: ties between equally distant points go to the
    lower index, the same under both backends. Needs ``k < m``."""
    m = px.size
    if _backend == "numba":
        out: IntArray = _compiled.nearest(
            np.ascontiguousarray(px, dtype=np.float64),
            np.ascontiguousarray(py, dtype=np.float64),
            k,
        )
        return out
    from scipy.spatial import cKDTree  # imported here: costs 0.6 s at import

    tree = cKDTree(np.column_stack([px, py]))
    extra = 4
    while True:
        # Candidates from the tree, then the exact order: the tree's own rounding may order
        # near-equal distances differently, and it breaks ties arbitrarily.
        q = min(m, k + 1 + extra)
        _, idx = tree.query(np.column_stack([px, py]), k=q, workers=threads())
        idx = np.asarray(idx, dtype=np.int64).reshape(m, q)
        dx = px[idx] - px[:, None]
        dy = py[idx] - py[:, None]
        d2 = dx * dx + dy * dy
        d2[idx == np.arange(m)[:, None]] = np.inf  # not its own neighbour
        order = np.lexsort((idx, d2), axis=-1)
        d2s = np.take_along_axis(d2, order, axis=1)
        chosen = np.take_along_axis(idx, order, axis=1)[:, :k]
        # Exact when the k-th distance is clearly below the farthest candidate's (so no point
        # outside the candidates can tie with or beat it), or all points were candidates.
        far = np.where(np.isinf(d2), -np.inf, d2).max(axis=1)
        if q == m or bool(np.all(d2s[:, k - 1] < far * (1.0 - 1e-9))):
            return np.asarray(chosen, dtype=np.int64)
        extra *= 4


def grow_sizes(
    size: FloatArray, prod: FloatArray, mean: float, rate: float, ceiling: float
) -> None:
    """Firm size growth in place: ``rate (prod / mean - 1)``, slowed near ``ceiling`` when
    positive, the factor clipped to [0.5, 1.5], sizes at least 0.1."""
    if _backend == "numba" and size.flags.c_contiguous:
        _compiled.grow_sizes(size, np.ascontiguousarray(prod), mean, rate, ceiling)
        return
    growth = rate * (prod / mean - 1.0)
    growth = np.where(growth > 0, growth * np.maximum(1.0 - size / ceiling, 0.0), growth)
    size *= np.clip(1.0 + growth, 0.5, 1.5)
    np.maximum(size, 0.1, out=size)


set_kernels(os.environ.get("CLUSTERLEARN_KERNELS", "auto"))
