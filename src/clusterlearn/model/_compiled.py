"""numba versions of the hot kernels in :mod:`clusterlearn.model.kernel`.

Each function does, element by element, exactly the floating-point operations of its numpy
twin in the same order (no ``fastmath``, ``error_model="numpy"`` so x / 0 is inf as in numpy),
so both backends give bit-identical results (``tests/test_kernels.py``). Loops whose rows may
repeat run sequentially in row order, which is the order ``np.add.at`` and ``np.bincount`` add in.

Imported only when the numba backend is in use.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

_serial = njit(cache=True, error_model="numpy", nogil=True)
_parallel = njit(parallel=True, cache=True, error_model="numpy", nogil=True)


BLOCK = 128  # rows per block of the compacting kernels
LOG1P_TABLE = 256  # log1p of degrees below this from a table
PICK_BUFFER = 64  # entry weights of a firm kept between the two passes of pick_by_trust


# --- uniform draws of numpy's PCG64, in parallel -------------------------------------------
# PCG64 (O'Neill 2014, as numpy implements it): a 128-bit linear congruential state
# s <- s x MULT + inc (mod 2^128), each step's output the XSL-RR of the new state, a double its
# top 53 bits / 2^53. A state k steps on is reached in O(log k) (Brown 1994), so each block of
# a kernel's rows draws its own stretch of the stream where it starts: the same numbers as
# ``Generator.random``, drawn in parallel as they are used.
PCG_MULT = (0x2360ED051FC65DA4 << 64) | 0x4385DF649FCCF645
_MULT_HI = np.uint64(PCG_MULT >> 64)
_MULT_LO = np.uint64(PCG_MULT & ((1 << 64) - 1))
_ONE = np.uint64(1)
_ZERO = np.uint64(0)


def _wide(builder, hi, lo):  # type: ignore[no-untyped-def]
    i128 = ir.IntType(128)
    top = builder.shl(builder.zext(hi, i128), ir.Constant(i128, 64))
    return builder.or_(top, builder.zext(lo, i128))


@intrinsic
def _muladd_hi(typingctx, ah, al, bh, bl, ch, cl):  # type: ignore[no-untyped-def]
    """The high 64 bits of ``a x b + c`` mod 2^128 (each given as high and low words), in
    128-bit integer arithmetic, which numba's types lack."""
    u64 = types.uint64
    sig = u64(u64, u64, u64, u64, u64, u64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        a = _wide(builder, args[0], args[1])
        b = _wide(builder, args[2], args[3])
        c = _wide(builder, args[4], args[5])
        r = builder.add(builder.mul(a, b), c)
        return builder.trunc(builder.lshr(r, ir.Constant(ir.IntType(128), 64)), ir.IntType(64))

    return sig, codegen


@_serial
def _muladd(ah, al, bh, bl, ch, cl):  # type: ignore[no-untyped-def]
    """``a x b + c`` mod 2^128 as high and low words."""
    return _muladd_hi(ah, al, bh, bl, ch, cl), al * bl + cl


@_serial
def _coefficients(ih, il, delta):  # type: ignore[no-untyped-def]
    """``m, p`` with ``s -> s x m + p`` the PCG64 step (increment ``inc``) applied ``delta``
    times, by doubling."""
    mh, ml = _ZERO, _ONE
    ph, pl = _ZERO, _ZERO
    ch, cl = _MULT_HI, _MULT_LO  # the step applied 2^bit times
    qh, ql = ih, il
    d = delta
    while d > 0:
        if d & 1:
            mh, ml = _muladd(mh, ml, ch, cl, _ZERO, _ZERO)
            ph, pl = _muladd(ph, pl, ch, cl, qh, ql)
        qh, ql = _muladd(ch, cl, qh, ql, qh, ql)  # (c + 1) x q
        ch, cl = _muladd(ch, cl, ch, cl, _ZERO, _ZERO)
        d >>= 1
    return mh, ml, ph, pl


@_serial
def _jump(sh, sl, ih, il, delta):  # type: ignore[no-untyped-def]
    """The PCG64 state ``delta`` steps after ``s`` (increment ``inc``)."""
    mh, ml, ph, pl = _coefficients(ih, il, delta)
    return _muladd(mh, ml, sh, sl, ph, pl)


@_serial
def _block_starts(rs, offset, blocks):  # type: ignore[no-untyped-def]
    """The state of stream ``rs`` before draw ``offset + b x BLOCK``, for each block ``b``
    (none when ``rs`` is empty): where a kernel's block of rows starts drawing."""
    hs = np.empty(blocks if rs.size else 0, dtype=np.uint64)
    ls = np.empty_like(hs)
    if rs.size and blocks:
        h, l_ = _jump(rs[0], rs[1], rs[2], rs[3], offset)
        mh, ml, ph, pl = _coefficients(rs[2], rs[3], BLOCK)
        for b in range(blocks):
            hs[b] = h
            ls[b] = l_
            h, l_ = _muladd(mh, ml, h, l_, ph, pl)
    return hs, ls


@_serial
def _block_start(hs, ls, blk):  # type: ignore[no-untyped-def]
    """The stream state where block ``blk`` starts drawing (zeros when nothing is drawn)."""
    if hs.size == 0:
        return _ZERO, _ZERO
    return hs[blk], ls[blk]


@_serial
def _next_draw(u, rs, h, lo, r):  # type: ignore[no-untyped-def]
    """Row ``r``'s draw: ``u[r]``, or (``rs`` not empty) the next number of stream ``rs``
    after state ``h, lo``; with the state after it."""
    if rs.size == 0:
        return h, lo, u[r]
    nh, nl = _muladd(h, lo, _MULT_HI, _MULT_LO, rs[2], rs[3])
    return nh, nl, _next_double(nh, nl)


@_serial
def _block_draws(u, rs, hs, ls, blk, r0, r1):  # type: ignore[no-untyped-def]
    """The draws of rows ``r0..r1`` (block ``blk``), as an array indexed from ``r0``: a view
    of ``u``, or made from stream ``rs`` (block starts ``hs, ls``)."""
    if rs.size == 0:
        return u[r0:r1]
    out = np.empty(r1 - r0)
    h, lo = _block_start(hs, ls, blk)
    for r in range(r1 - r0):
        h, lo, out[r] = _next_draw(u, rs, h, lo, r)
    return out


@_serial
def _next_double(hi, lo):  # type: ignore[no-untyped-def]
    """PCG64's XSL-RR output of state ``hi, lo`` as a double in [0, 1)."""
    h = hi
    x = hi ^ lo
    rot = h >> np.uint64(58)
    v = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
    return np.float64(np.int64(v >> np.uint64(11))) * (1.0 / 9007199254740992.0)


@_serial
def _absorb_marked(flat, base, r0, r1, d, ra, rf, cnt):  # type: ignore[no-untyped-def]
    """The second pass of the compacting kernels. The first wrote each value of rows
    ``r0..r1`` (at ``flat[base + r * d + c]``): the gap where it is positive, else its final
    value (``factor x 0``, or NaN), and counted the ``cnt`` positive gaps. Here those become
    ``rf * (exp(-(gap / ra)) * gap)``, with the capacity ``ra`` and factor ``rf`` of their row
    (indexed from ``r0``): their positions are packed without a branch, then the divisions
    and exponentials run in one tight loop. A branch per value on the sign of the gap was
    mispredicted half the time; packing in the first pass stored four values per value."""
    if cnt == 0:
        return
    pos = np.empty(cnt + 1, dtype=np.int64)
    row = np.empty(cnt + 1, dtype=np.int64)
    q = 0
    for r in range(r0, r1):
        for c in range(d):
            w = base + r * d + c
            pos[q] = w
            row[q] = r - r0
            q += flat[w] > 0.0
    ex = np.empty(cnt)
    for t in range(cnt):
        ex[t] = np.exp(-(flat[pos[t]] / ra[row[t]]))
    for t in range(cnt):
        w = pos[t]
        flat[w] = rf[row[t]] * (ex[t] * flat[w])


@_parallel
def pair_absorb(src, src_rows, dst, rows, alpha, scale, tot):  # type: ignore[no-untyped-def]
    """``scale[k] * absorb(src[src_rows[k]] - dst[rows[k]], alpha[rows[k]])`` for every k.

    ``src_rows`` of length 0 means ``src`` has one row shared by all; ``rows`` of length 0
    means every row of ``dst`` in order; ``scale`` of length 1 is one scale for all. ``tot``
    of length ``k`` receives each row's sum (left to right); of length 0, nothing.

    By blocks of rows (:func:`_absorb_rows`).
    """
    k = dst.shape[0] if rows.size == 0 else rows.size
    out = np.empty((k, dst.shape[1]))
    for blk in prange((k + BLOCK - 1) // BLOCK):
        _absorb_rows(src, src_rows, dst, rows, alpha, scale, tot, out, blk)
    return out


@_serial
def _absorb_rows(src, src_rows, dst, rows, alpha, scale, tot, out, blk):  # type: ignore[no-untyped-def]
    """Block ``blk`` of :func:`pair_absorb` into ``out``: the values first, then the positive
    gaps (about half, at random) packed and absorbed (:func:`_absorb_marked`)."""
    all_rows = rows.size == 0
    shared = src_rows.size == 0
    k = out.shape[0]
    d = out.shape[1]
    one_scale = scale.size == 1
    flat = out.reshape(-1)
    r0 = blk * BLOCK
    r1 = min(k, r0 + BLOCK)
    ra = np.empty(r1 - r0)
    rf = np.empty(r1 - r0)
    cnt = 0
    for r in range(r0, r1):
        i = np.int64(r) if all_rows else rows[r]
        j = np.int64(0) if shared else src_rows[r]
        s = scale[0] if one_scale else scale[r]
        ra[r - r0] = alpha[i]
        rf[r - r0] = s
        zero = s * (1.0 * 0.0)  # numpy: s * (exp(-0 / a) * 0) for a gap <= 0
        for c in range(d):
            x = src[j, c] - dst[i, c]
            flat[r * d + c] = x if (x > 0.0 or x != x) else zero  # NaN propagates
            cnt += x > 0.0
    _absorb_marked(flat, 0, r0, r1, d, ra, rf, cnt)
    if tot.size:
        _row_totals(out, tot, r0, r1)


@_serial
def _row_totals(part, tot, r0, r1):  # type: ignore[no-untyped-def]
    """``tot[r]``: the sum of row ``r`` of ``part``, left to right, for ``r0 <= r < r1``."""
    for r in range(r0, r1):
        s = part[r, 0]
        for c in range(1, part.shape[1]):
            s += part[r, c]
        tot[r] = s


@_serial
def scatter_add(target, rows, values):  # type: ignore[no-untyped-def]
    """``target[rows] += values`` with repeated rows adding up, in row order."""
    d = target.shape[1]
    for r in range(rows.size):
        i = rows[r]
        for c in range(d):
            target[i, c] += values[r, c]


@_parallel
def scatter_add_split(target, rows, values, parts):  # type: ignore[no-untyped-def]
    """:func:`scatter_add` in parallel: part ``p`` of the target's rows is written by one
    thread, which reads every entry and adds those that fall in its part, in row order (so
    each value adds up in the same order as the serial loop)."""
    n, d = target.shape
    for p in prange(parts):
        lo = n * p // parts
        hi = n * (p + 1) // parts
        for r in range(rows.size):
            i = rows[r]
            if i >= lo and i < hi:
                for c in range(d):
                    target[i, c] += values[r, c]


@_parallel
def scatter_add_unique(target, rows, values):  # type: ignore[no-untyped-def]
    """``target[rows] += values`` for distinct rows (in parallel)."""
    d = target.shape[1]
    for r in prange(rows.size):
        i = rows[r]
        for c in range(d):
            target[i, c] += values[r, c]


@_parallel
def row_sums(part):  # type: ignore[no-untyped-def]
    """Sum of each row, added left to right."""
    k, d = part.shape
    out = np.empty(k)
    for r in prange(k):
        s = part[r, 0]
        for c in range(1, d):
            s += part[r, c]
        out[r] = s
    return out


@_serial
def _row_total(first, second, r):  # type: ignore[no-untyped-def]
    s = first[r, 0]
    for c in range(1, first.shape[1]):
        s += first[r, c]
    if second.shape[0] > 0:
        s2 = second[r, 0]
        for c in range(1, second.shape[1]):
            s2 += second[r, c]
        s = s + s2
    return s


@_parallel
def gained(n, rows, first, second):  # type: ignore[no-untyped-def]
    """Per firm, the sum of its rows of ``first`` (plus ``second`` when that has rows), each
    row added left to right and rows added in order (rows may repeat): the row totals in
    parallel, then added up in row order."""
    k = first.shape[0]
    total = np.empty(k)
    for r in prange(k):
        total[r] = _row_total(first, second, r)
    out = np.zeros(n)
    for r in range(k):
        out[rows[r]] += total[r]
    return out


@_parallel
def gained_distinct(n, rows, first, second):  # type: ignore[no-untyped-def]
    """:func:`gained` for distinct ``rows`` (in parallel); ``rows`` empty: row ``k`` is firm
    ``k``."""
    k = first.shape[0]
    if rows.size == 0:
        out = np.empty(k)
        for r in prange(k):
            out[r] = _row_total(first, second, r)
        return out
    out = np.zeros(n)
    for r in prange(k):
        out[rows[r]] += _row_total(first, second, r)
    return out


@_parallel
def find_ties(indptr, nbr, edge, a, b):  # type: ignore[no-untyped-def]
    """The tie between ``a[q]`` and ``b[q]`` (-1 if none), from ``a[q]``'s neighbour entries."""
    out = np.empty(a.size, dtype=np.int64)
    for q in prange(a.size):
        found = -1
        for p in range(indptr[a[q]], indptr[a[q] + 1]):
            if nbr[p] == b[q]:
                found = edge[p]
                break
        out[q] = found
    return out


@_parallel
def book_gains(gain, last_inflow, motive, got, k, t, saving):  # type: ignore[no-untyped-def]
    """A channel's bookkeeping: gains by channel, when it last brought knowledge, and the
    transaction-cost motive (when ``saving`` is not empty). Channel-major ``gain``."""
    with_motive = saving.size > 0
    row = gain[k]
    last = last_inflow[k]
    for i in prange(got.size):
        g = got[i]
        row[i] += g
        if g > 1e-12:
            last[i] = t
        if with_motive:
            motive[i] += saving[i] * g


@_parallel
def group_medians(ordered, bounds, out):  # type: ignore[no-untyped-def]
    """``out[s, c]`` = median of ``ordered[c, bounds[s]:bounds[s + 1]]`` (groups in parallel)."""
    d = ordered.shape[0]
    groups = bounds.size - 1
    for p in prange(groups * d):
        s = p // d
        c = p - s * d
        lo = bounds[s]
        hi = bounds[s + 1]
        if hi > lo:
            out[s, c] = np.median(ordered[c, lo:hi])


@_parallel
def sample_by_weight(indptr, weight, u):  # type: ignore[no-untyped-def]
    """One entry per group of ``indptr`` drawn with probability proportional to ``weight``:
    the first entry whose running sum within the group exceeds ``u`` times the group's total."""
    n = indptr.size - 1
    out = np.empty(n, dtype=np.int64)
    for i in prange(n):
        lo = indptr[i]
        hi = indptr[i + 1]
        total = 0.0
        for e in range(lo, hi):
            total += weight[e]
        if total > 0.0:
            target = u[i] * total
            # the first entry whose running sum exceeds the target is the count of those that
            # do not (running sums never decrease): no branch on random data to mispredict
            run = 0.0
            below = 0
            for e in range(lo, hi):
                run += weight[e]
                below += run <= target
            out[i] = min(lo + below, hi - 1)
        else:
            out[i] = -1
    return out


@_serial
def csr_build(i, j, n):  # type: ignore[no-untyped-def]
    """Neighbour view of the undirected ties ``(i[e], j[e])``: entries ``i -> j`` for every tie,
    then ``j -> i``, grouped by source in that order (a stable counting sort, O(m + n))."""
    m = i.size
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        indptr[i[e] + 1] += 1
        indptr[j[e] + 1] += 1
    for v in range(n):
        indptr[v + 1] += indptr[v]
    fill = indptr[:-1].copy()
    nbr = np.empty(2 * m, dtype=np.int64)
    edge = np.empty(2 * m, dtype=np.int64)
    src = np.empty(2 * m, dtype=np.int64)
    for e in range(m):
        s = i[e]
        p = fill[s]
        fill[s] = p + 1
        nbr[p] = j[e]
        edge[p] = e
        src[p] = s
    for e in range(m):
        s = j[e]
        p = fill[s]
        fill[s] = p + 1
        nbr[p] = i[e]
        edge[p] = e
        src[p] = s
    return indptr, nbr, edge, src


@_parallel
def count_recent(last, t, window):  # type: ignore[no-untyped-def]
    """Per column (firm), the number of rows (channels) with ``t - last < window``."""
    d, k = last.shape
    out = np.empty(k)
    for i in prange(k):
        c = 0
        for q in range(d):
            if t - last[q, i] < window:
                c += 1
        out[i] = c
    return out


@_serial
def column_max(a):  # type: ignore[no-untyped-def]
    """Maximum of each column (NaN if the column holds one, as numpy)."""
    k, d = a.shape
    out = np.full(d, -np.inf)
    nan = np.zeros(d, dtype=np.bool_)
    for r in range(k):
        for c in range(d):
            v = a[r, c]
            if v > out[c]:
                out[c] = v
            elif v != v:
                nan[c] = True
    for c in range(d):
        if nan[c]:
            out[c] = np.nan
    return out


@_serial
def compound_trust(trust, edges, eta, up, count):  # type: ignore[no-untyped-def]
    """``k`` meetings on a tie in one step: trust ``1 - (1 - trust)(1 - eta)^k`` (successes,
    ``up``) or ``trust (1 - eta)^k`` (betrayals). Only the listed ties are visited: a step's
    meetings touch a fraction of the layer. ``count``: zeros, one per tie; left zeroed."""
    for q in range(edges.size):
        count[edges[q]] += 1
    base = 1.0 - eta
    for q in range(edges.size):
        e = edges[q]
        k = count[e]
        if k > 0:
            # pow(x, 1) is x exactly; most ties are met once a step, and pow costs 15 ns
            f = base if k == 1 else base ** np.float64(k)
            if up:
                trust[e] = 1.0 - (1.0 - trust[e]) * f
            else:
                trust[e] = trust[e] * f
            count[e] = 0  # a tie listed k times is updated once


@_parallel
def gathered_dot(w, wrows, x, xrows):  # type: ignore[no-untyped-def]
    """``out[k] = w[wrows[k]] . x[xrows[k]]`` (``xrows`` empty: row ``k`` of ``x``), summed
    over the columns left to right."""
    k = wrows.size
    d = x.shape[1]
    all_rows = xrows.size == 0
    out = np.empty(k)
    for r in prange(k):
        a = wrows[r]
        b = np.int64(r) if all_rows else xrows[r]
        s = w[a, 0] * x[b, 0]
        for c in range(1, d):
            s += w[a, c] * x[b, c]
        out[r] = s
    return out


@_parallel
def capability_capacity(w, stage, T, a0, ak, ar, rnd, bonus):  # type: ignore[no-untyped-def]
    """Capability ``c = w[stage] . T`` (:func:`gathered_dot`) and capacity ``a0 + ak c +
    ar rnd + bonus`` (:func:`capacity`) per firm, in one pass."""
    n, d = T.shape
    c = np.empty(n)
    alpha = np.empty(n)
    for i in prange(n):
        a = stage[i]
        s = w[a, 0] * T[i, 0]
        for col in range(1, d):
            s += w[a, col] * T[i, col]
        c[i] = s
        alpha[i] = a0 + ak * s + ar * rnd[i] + bonus[i]
    return c, alpha


@_parallel
def capacity(c, a0, ak, ar, rnd, bonus):  # type: ignore[no-untyped-def]
    """``a0 + ak c + ar rnd + bonus`` per firm, added left to right as numpy adds it."""
    out = np.empty(c.size)
    for i in prange(c.size):
        out[i] = a0 + ak * c[i] + ar * rnd[i] + bonus[i]
    return out


@_parallel
def saving(sc, cost_in0, discount, cost_out):  # type: ignore[no-untyped-def]
    """``maximum(cost_out - cost_in0 (1 - discount sc), 0)`` per firm (NaN stays NaN)."""
    out = np.empty(sc.size)
    for i in prange(sc.size):
        g = cost_out - cost_in0 * (1.0 - discount * sc[i])
        out[i] = g if (g > 0.0 or g != g) else 0.0
    return out


@_parallel
def search_right(cw, q):  # type: ignore[no-untyped-def]
    """``min(searchsorted(cw, q, side="right"), len(cw) - 1)`` for every query.

    Random binary searches over the whole array miss the cache at every level and mispredict
    half their branches. Many queries: a guide table (Chen and Asau 1974), ``guide[t]`` the
    first index whose value exceeds ``t / g`` of the total, built in one merge; a query starts
    at its cell's entry and walks to the answer (a step or two). Few queries: a binary search
    over every 64th value first (a table that stays in cache), then within the block of 64.
    """
    n = cw.size
    out = np.empty(q.size, dtype=np.int64)
    total = cw[n - 1]
    if q.size >= n // 64 and total > 0.0 and total < np.inf:
        g = max(1, min(n, 2 * q.size))
        guide = np.empty(g + 1, dtype=np.int64)
        i = 0
        for t in range(g + 1):
            v = t * (total / g)
            while i < n and cw[i] <= v:
                i += 1
            guide[t] = i
        scale = g / total
        for r in prange(q.size):
            v = q[r]
            if v != v:  # NaN sorts last in numpy's searchsorted
                out[r] = n - 1
                continue
            c = v * scale
            c = min(max(c, 0.0), np.float64(g))
            p = guide[np.int64(c)]
            # The cell's entry is exact up to rounding in v * scale: walk either way to it.
            while p > 0 and cw[p - 1] > v:
                p -= 1
            while p < n and cw[p] <= v:
                p += 1
            out[r] = min(p, n - 1)
        return out
    B = 64
    coarse = cw[::B].copy()
    for r in prange(q.size):
        v = q[r]
        if v != v:
            out[r] = n - 1
            continue
        b = np.searchsorted(coarse, v, side="right")  # coarse[b - 1] <= v < coarse[b]
        if b == 0:
            out[r] = 0
            continue
        lo = (b - 1) * B  # cw[lo] <= v
        hi = min(b * B, n)  # cw[hi] > v, or the end
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if cw[mid] <= v:
                lo = mid
            else:
                hi = mid
        out[r] = min(hi, n - 1)
    return out


@_serial
def _barters(x, p, q, margin):  # type: ignore[no-untyped-def]
    """Whether rows ``p`` and ``q`` of ``x`` each lead the other by more than ``margin`` in
    some column (tested without a branch: the signs are random)."""
    ahead = False
    behind = False
    for c in range(x.shape[1]):
        diff = x[p, c] - x[q, c]
        ahead |= diff > margin
        behind |= diff < -margin
    return ahead & behind


@_serial
def _where(ok):  # type: ignore[no-untyped-def]
    """The positions where ``ok`` holds, in order (``np.flatnonzero``), compacted without a
    branch: the flags are true at random."""
    keep = np.empty(ok.size + 1, dtype=np.int64)
    k = 0
    for r in range(ok.size):
        keep[k] = r
        k += ok[r]
    return keep[:k]


@_parallel
def barter(x, a, b, margin):  # type: ignore[no-untyped-def]
    """Pairs where each side leads the other by more than ``margin`` in some column."""
    out = np.empty(a.size, dtype=np.bool_)
    for r in prange(a.size):
        out[r] = _barters(x, a[r], b[r], margin)
    return out


@_serial
def window_medians(values, stage, counts, center, width):  # type: ignore[no-untyped-def]
    """Exact medians of each column of ``values`` within each stage, from one pass that keeps
    only the values near a guess (``center +- width``, e.g. last step's medians).

    Returns the medians, per group whether the median fell outside the window (the caller
    computes those groups in full), and how many values the window held. Empty groups get
    -inf, groups holding NaN NaN.
    """
    n, d = values.shape
    groups = counts.size
    g = groups * d
    base = np.zeros(g, dtype=np.int64)  # where each group's window values go in buf
    off = 0
    for s in range(groups):
        for c in range(d):
            base[s * d + c] = off
            off += counts[s]
    buf = np.empty(off)
    fill = np.zeros(g, dtype=np.int64)
    below = np.zeros(g, dtype=np.int64)
    nan = np.zeros(g, dtype=np.int64)
    mid = center.ravel()
    half = width.ravel()
    for i in range(n):
        row = stage[i] * d
        for c in range(d):
            q = row + c
            v = values[i, c]
            # One difference decides below / inside / above, so the three are consistent with
            # the order of the values. Below is counted without a branch (a coin toss per
            # value); inside is rare, so its branch is well predicted.
            x = v - mid[q]
            below[q] += 1 if x < -half[q] else 0
            nan[q] += 1 if v != v else 0
            if abs(x) <= half[q]:
                buf[base[q] + fill[q]] = v
                fill[q] += 1
    out = np.full((groups, d), -np.inf)
    missed = np.zeros((groups, d), dtype=np.bool_)
    held = np.zeros((groups, d), dtype=np.int64)
    for s in range(groups):
        k = counts[s]
        if k == 0:
            continue
        r1 = (k - 1) // 2
        r2 = k // 2
        for c in range(d):
            q = s * d + c
            f = fill[q]
            held[s, c] = f
            if nan[q]:
                out[s, c] = np.nan
                continue
            lo_n = below[q]
            if lo_n <= r1 and r2 < lo_n + f:
                # Selection, not a sort: the rank r2 value, and for an even count the largest
                # value before it (rank r1).
                w = np.partition(buf[base[q] : base[q] + f], r2 - lo_n)
                b = w[r2 - lo_n]
                a = b if r1 == r2 else np.max(w[: r2 - lo_n])
                out[s, c] = a if r1 == r2 else (a + b) / 2.0
            else:
                missed[s, c] = True
    return out, missed, held


@_parallel
def proximity(src, nbr, x, y, ell):  # type: ignore[no-untyped-def]
    """``exp(-dist / ell)`` between the firms of each entry."""
    m = src.size
    out = np.empty(m)
    for e in prange(m):
        dx = x[src[e]] - x[nbr[e]]
        dy = y[src[e]] - y[nbr[e]]
        out[e] = np.exp(-np.sqrt(dx * dx + dy * dy) / ell)
    return out


@_parallel
def social_capital(indptr_a, edge_a, trust_a, indptr_b, edge_b, trust_b, scaled):  # type: ignore[no-untyped-def]
    """Raw social capital per firm over two layers' neighbour views (see State); ``scaled``:
    divided by its maximum when that is positive (a NaN maximum, as numpy's, when any is
    NaN)."""
    n = indptr_a.size - 1
    raw = np.empty(n)
    log1p = np.empty(LOG1P_TABLE)  # degrees are small integers: log1p once per value
    for k in range(LOG1P_TABLE):
        log1p[k] = np.log1p(np.float64(k))
    blocks = (n + BLOCK - 1) // BLOCK
    tops = np.empty(blocks)
    for blk in prange(blocks):
        top = -np.inf
        for v in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
            ta = 0.0
            for e in range(indptr_a[v], indptr_a[v + 1]):
                ta += trust_a[edge_a[e]]
            tb = 0.0
            for e in range(indptr_b[v], indptr_b[v + 1]):
                tb += trust_b[edge_b[e]]
            k = indptr_a[v + 1] - indptr_a[v] + indptr_b[v + 1] - indptr_b[v]
            deg = np.float64(k)
            x = 0.0
            if deg > 0.0:
                lg = log1p[k] if k < LOG1P_TABLE else np.log1p(deg)
                x = (ta + tb) / max(deg, 1.0) * lg
            raw[v] = x
            top = x if (x > top or x != x) else top  # a NaN stays
        tops[blk] = top
    if scaled and blocks:
        top = tops[0]
        for b in range(1, blocks):
            x = tops[b]
            top = x if (x > top or x != x) else top
        if top > 0.0:
            for v in prange(n):
                raw[v] = raw[v] / top
    return raw


@_parallel
def seci(T, E, alpha, k_ext, s_int):  # type: ignore[no-untyped-def]
    """Externalisation then internalisation in place; returns both flows per firm and domain.

    Blocks of rows, the positive gaps absorbed in a second pass (see pair_absorb).
    """
    n, d = T.shape
    ext = np.empty((n, d))
    internal = np.empty((n, d))
    flat = internal.reshape(-1)
    for blk in prange((n + BLOCK - 1) // BLOCK):
        r0 = blk * BLOCK
        r1 = min(n, r0 + BLOCK)
        cnt = 0
        for i in range(r0, r1):
            zero = s_int[i] * (1.0 * 0.0)
            for c in range(d):
                x = T[i, c] - E[i, c]
                if not x > 0.0 and x == x:
                    x = 0.0
                g = k_ext * x
                ext[i, c] = g
                E[i, c] += g
                y = E[i, c] - T[i, c]
                flat[i * d + c] = y if (y > 0.0 or y != y) else zero
                cnt += y > 0.0
        _absorb_marked(flat, 0, r0, r1, d, alpha[r0:r1], s_int[r0:r1], cnt)
        for i in range(r0, r1):
            for c in range(d):
                T[i, c] += internal[i, c]
    return ext, internal


@_parallel
def gather_mul(a, idx, b):  # type: ignore[no-untyped-def]
    """``a[idx] * b``."""
    out = np.empty(idx.size)
    for e in prange(idx.size):
        out[e] = a[idx[e]] * b[e]
    return out


@_parallel
def gather_floor(a, idx, floor):  # type: ignore[no-untyped-def]
    """``maximum(a[idx], floor)`` (NaN stays NaN)."""
    out = np.empty(idx.size)
    for e in prange(idx.size):
        v = a[idx[e]]
        out[e] = v if (v > floor or v != v) else floor
    return out


@_parallel
def gather_at_least(a, idx, threshold):  # type: ignore[no-untyped-def]
    """``a[idx]`` where it is at least ``threshold``, 0 elsewhere."""
    out = np.empty(idx.size)
    for e in prange(idx.size):
        v = a[idx[e]]
        out[e] = v if v >= threshold else 0.0
    return out


@_serial
def masked_mean_rows(x, mask):  # type: ignore[no-untyped-def]
    """Mean of the rows of ``x`` where ``mask`` holds, added row after row."""
    d = x.shape[1]
    acc = np.zeros(d)
    k = 0
    for i in range(x.shape[0]):
        if mask[i]:
            for c in range(d):
                acc[c] += x[i, c]
            k += 1
    return acc / k


@_parallel
def exchange(T, E, a, b, alpha, sa, sb, it):  # type: ignore[no-untyped-def]
    """Both sides of ``k`` pair exchanges: rows ``0..k-1`` of the returned ``dT`` and ``dE``
    are what ``a`` learns from ``b`` (scale ``sa``, explicit ``sa x it``), rows ``k..2k-1``
    what ``b`` learns from ``a``; and each row's total gain (its ``dT`` row summed left to
    right, plus its ``dE`` row so summed).

    In a domain where the sides differ, exactly one of them is behind: ``T_a - T_b`` is
    exactly ``-(T_b - T_a)``. So by blocks of pairs, each domain's one positive gap is packed
    (where it goes, the gap, which capacity and factor) without a branch, onto rows that start
    at ``factor x 0`` (zero for the usual finite non-negative factors, written out otherwise);
    then the divisions and exponentials run in one tight loop."""
    k = a.size
    tot = np.empty(2 * k)
    both = np.empty((2, 2 * k, T.shape[1]))  # dT and dE
    for blk in prange((k + BLOCK - 1) // BLOCK):
        _exchange_rows(T, E, a, b, alpha, sa, sb, it, both, tot, blk)
    return both[0], both[1], tot


@_serial
def _exchange_rows(T, E, a, b, alpha, sa, sb, it, both, tot, blk):  # type: ignore[no-untyped-def]
    """Block ``blk`` of :func:`exchange` into ``both`` (``dT`` and ``dE``) and ``tot``."""
    k = a.size
    d = T.shape[1]
    flat = both.reshape(-1)
    half = 2 * k * d  # where dE starts in flat
    r0 = blk * BLOCK
    r1 = min(k, r0 + BLOCK)
    nb = r1 - r0
    for side in range(4):  # the block's four row ranges start at zero
        lo = (side // 2) * half + ((side % 2) * k + r0) * d
        flat[lo : lo + nb * d] = 0.0
    cap = np.empty(4 * nb)  # per pair: capacity and factor of a's T, b's T, a's E, b's E
    fac = np.empty(4 * nb)
    pos = np.empty(2 * nb * d, dtype=np.int64)
    gap = np.empty(2 * nb * d)
    rid = np.empty(2 * nb * d, dtype=np.int64)
    cnt = 0
    for r in range(r0, r1):
        p = a[r]
        q = b[r]
        t = 4 * (r - r0)
        ap = alpha[p]
        aq = alpha[q]
        cap[t] = ap
        cap[t + 1] = aq
        cap[t + 2] = ap
        cap[t + 3] = aq
        fac[t] = sa[r]
        fac[t + 1] = sb[r]
        fac[t + 2] = sa[r] * it
        fac[t + 3] = sb[r] * it
        wa = r * d  # a's row of dT, then b's, in flat
        wb = (k + r) * d
        for f in range(4):
            if not (fac[t + f] >= 0.0 and fac[t + f] < np.inf):  # numpy: factor x 0
                w0 = (f // 2) * half + (wa if f % 2 == 0 else wb)
                for c in range(d):
                    flat[w0 + c] = fac[t + f] * (1.0 * 0.0)
        for c in range(d):
            for kind in range(2):
                if kind == 0:
                    x = T[q, c] - T[p, c]  # what a is behind b by; b is behind a by -x
                    off = 0
                else:
                    x = E[q, c] - E[p, c]
                    off = half
                if x != x:  # NaN propagates to both sides, as numpy computes each
                    flat[off + wa + c] = x
                    flat[off + wb + c] = (T[p, c] - T[q, c]) if kind == 0 else (E[p, c] - E[q, c])
                ahead = x > 0.0
                pos[cnt] = off + (wa if ahead else wb) + c
                gap[cnt] = x if ahead else -x
                rid[cnt] = t + 2 * kind + (0 if ahead else 1)
                cnt += (x > 0.0) | (x < 0.0)
    ex = np.empty(cnt)
    for u in range(cnt):
        ex[u] = np.exp(-(gap[u] / cap[rid[u]]))
    for u in range(cnt):
        flat[pos[u]] = fac[rid[u]] * (ex[u] * gap[u])
    for r in range(r0, r1):
        for row in (r, k + r):
            st = both[0, row, 0]
            for c in range(1, d):
                st += both[0, row, c]
            se = both[1, row, 0]
            for c in range(1, d):
                se += both[1, row, c]
            tot[row] = st + se


@_serial
def _absorb1(x, a, s):  # type: ignore[no-untyped-def]
    """``s * absorb(x, a)`` for one value, as numpy computes it."""
    if x > 0.0:
        return s * (np.exp(-(x / a)) * x)
    if x != x:
        return x
    return s * (1.0 * 0.0)


@_parallel
def tie_gain(indptr, nbr, edge, trust, c, alpha):  # type: ignore[no-untyped-def]
    """Per firm, over its neighbour-view entries in order: the sums of
    ``trust x absorb(c_nbr - c_own, alpha_own)`` and of ``trust``."""
    n = indptr.size - 1
    num = np.empty(n)
    den = np.empty(n)
    for v in prange(n):
        a = alpha[v]
        s = 0.0
        w = 0.0
        for e in range(indptr[v], indptr[v + 1]):
            t = trust[edge[e]]
            s += _absorb1(c[nbr[e]] - c[v], a, t)
            w += t
        num[v] = s
        den[v] = w
    return num, den


@_parallel
def sampled_triangles(indptr, nbr, nodes, cap):  # type: ignore[no-untyped-def]
    """For each node, how many pairs of its first ``cap`` neighbours are tied to each other
    (each pair looked up in the shorter of the two neighbour lists)."""
    out = np.zeros(nodes.size)
    for r in prange(nodes.size):
        v = nodes[r]
        start = indptr[v]
        d = min(indptr[v + 1] - start, cap)
        found = 0
        for p in range(d):
            x = nbr[start + p]
            for q in range(p + 1, d):
                y = nbr[start + q]
                a, b = x, y
                if indptr[a + 1] - indptr[a] > indptr[b + 1] - indptr[b]:
                    a, b = y, x
                for e in range(indptr[a], indptr[a + 1]):
                    if nbr[e] == b:
                        found += 1
                        break
        out[r] = found
    return out


@_parallel
def shortfall_sums(level, x):  # type: ignore[no-untyped-def]
    """Per row of ``x``, the sum of ``max(level - x, 0)`` over columns, left to right."""
    k, d = x.shape
    out = np.empty(k)
    for r in prange(k):
        g = level[0] - x[r, 0]
        s = g if (g > 0.0 or g != g) else 0.0
        for c in range(1, d):
            g = level[c] - x[r, c]
            s += g if (g > 0.0 or g != g) else 0.0
        out[r] = s
    return out


@_parallel
def pair_proximity(x, y, a, b, ell):  # type: ignore[no-untyped-def]
    """``exp(-hypot(x_a - x_b, y_a - y_b) / ell)`` for every pair."""
    out = np.empty(a.size)
    for r in prange(a.size):
        out[r] = np.exp(-np.hypot(x[a[r]] - x[b[r]], y[a[r]] - y[b[r]]) / ell)
    return out


@_serial
def pick_entries(indptr, weight, u, nbr, edge):  # type: ignore[no-untyped-def]
    """``sample_by_weight``, then the firms that found a partner, the partner and the tie."""
    return _picked(sample_by_weight(indptr, weight, u), nbr, edge)


@_parallel
def pick_by_trust(indptr, nbr, edge, trust, prox, u, rs):  # type: ignore[no-untyped-def]
    """:func:`pick_entries` with entry weights ``trust[edge] x prox``, computed as they are
    summed instead of gathered into an array first, and kept for the search (up to
    ``PICK_BUFFER`` entries a firm) instead of gathered again. ``u``: one draw per firm, or
    (``rs`` not empty) drawn here, each firm's as it is reached (:func:`_next_draw`)."""
    n = indptr.size - 1
    blocks = (n + BLOCK - 1) // BLOCK
    hs, ls = _block_starts(rs, 0, blocks)
    pos = np.empty(n, dtype=np.int64)
    for blk in prange(blocks):
        buf = np.empty(PICK_BUFFER)
        sh, sl = _block_start(hs, ls, blk)
        for i in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
            sh, sl, ui = _next_draw(u, rs, sh, sl, i)
            lo = indptr[i]
            hi = indptr[i + 1]
            kept = hi - lo <= PICK_BUFFER
            total = 0.0
            for e in range(lo, hi):
                w = trust[edge[e]] * prox[e]
                if kept:
                    buf[e - lo] = w
                total += w
            if total > 0.0:
                target = ui * total
                run = 0.0
                below = 0  # as in sample_by_weight
                for e in range(lo, hi):
                    run += buf[e - lo] if kept else trust[edge[e]] * prox[e]
                    below += run <= target
                pos[i] = min(lo + below, hi - 1)
            else:
                pos[i] = -1
    return _picked(pos, nbr, edge)


@_parallel
def _picked(pos, nbr, edge):  # type: ignore[no-untyped-def]
    """The firms with a picked entry (``pos >= 0``), their partners and ties."""
    learner = _where(pos >= 0)
    count = learner.size
    partner = np.empty(count, dtype=np.int64)
    tie = np.empty(count, dtype=np.int64)
    for r in range(count):
        p = pos[learner[r]]
        partner[r] = nbr[p]
        tie[r] = edge[p]
    return learner, partner, tie


@_parallel
def nearest(px, py, k):  # type: ignore[no-untyped-def]
    """The ``k`` nearest other points of every point, by ``(squared distance, index)``
    (``dx * dx + dy * dy``), from a grid: rings of cells around a point's cell are searched
    until the ``k``-th best distance is below the ring's reach."""
    m = px.size
    out = np.empty((m, k), dtype=np.int64)
    best = np.empty((m, k))
    xmin = px.min()
    ymin = py.min()
    span = max(px.max() - xmin, py.max() - ymin)
    g = max(1, int(np.sqrt(m / 2.0)))
    h = span / g if span > 0.0 else 1.0
    cx = np.empty(m, dtype=np.int64)
    cy = np.empty(m, dtype=np.int64)
    start = np.zeros(g * g + 1, dtype=np.int64)
    for p in range(m):
        cx[p] = min(int((px[p] - xmin) / h), g - 1)
        cy[p] = min(int((py[p] - ymin) / h), g - 1)
        start[cx[p] * g + cy[p] + 1] += 1
    for c in range(g * g):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    items = np.empty(m, dtype=np.int64)
    for p in range(m):
        c = cx[p] * g + cy[p]
        items[fill[c]] = p
        fill[c] += 1
    slack = 1e-9 * span  # a point on a cell border may sit in the neighbouring cell
    for p in prange(m):
        cnt = 0
        r = 0
        while True:
            lo_x = cx[p] - r
            hi_x = cx[p] + r
            for ix in range(max(lo_x, 0), min(hi_x, g - 1) + 1):
                edge_x = ix == lo_x or ix == hi_x
                for iy in range(max(cy[p] - r, 0), min(cy[p] + r, g - 1) + 1):
                    if not edge_x and iy != cy[p] - r and iy != cy[p] + r:
                        continue  # inside the ring: visited before
                    c = ix * g + iy
                    for q in range(start[c], start[c + 1]):
                        j = items[q]
                        if j == p:
                            continue
                        dx = px[j] - px[p]
                        dy = py[j] - py[p]
                        d2 = dx * dx + dy * dy
                        if cnt == k and (
                            d2 > best[p, k - 1] or (d2 == best[p, k - 1] and j > out[p, k - 1])
                        ):
                            continue
                        pos = cnt if cnt < k else k - 1
                        while pos > 0 and (
                            best[p, pos - 1] > d2
                            or (best[p, pos - 1] == d2 and out[p, pos - 1] > j)
                        ):
                            if pos < k:
                                best[p, pos] = best[p, pos - 1]
                                out[p, pos] = out[p, pos - 1]
                            pos -= 1
                        best[p, pos] = d2
                        out[p, pos] = j
                        if cnt < k:
                            cnt += 1
            reach = r * h - slack
            if (cnt == k and reach > 0.0 and best[p, k - 1] < reach * reach) or r > g:
                break
            r += 1
    return out


@_parallel
def grow_sizes(size, prod, mean, rate, ceiling):  # type: ignore[no-untyped-def]
    """Size growth in place (see dynamics.evolve), as numpy computes it, NaN included."""
    for i in prange(size.size):
        g = rate * (prod[i] / mean - 1.0)
        if g > 0.0:
            h = 1.0 - size[i] / ceiling
            if not (h > 0.0 or h != h):
                h = 0.0
            g = g * h
        f = 1.0 + g
        if f < 0.5:
            f = 0.5
        elif f > 1.5:
            f = 1.5
        s = size[i] * f
        size[i] = s if (s > 0.1 or s != s) else 0.1


@_parallel
def keep_below(u, rs, level, idx, i, j):  # type: ignore[no-untyped-def]
    """The rows ``r`` with ``u[r] < level[idx[r]]``: their ``i``, ``j`` and ``idx``. The tests
    in parallel by blocks, then compacted without a branch (the test is true at random).
    ``u`` may be drawn here, each as it is needed (``rs``, :func:`_next_draw`)."""
    n = i.size
    blocks = (n + BLOCK - 1) // BLOCK
    hs, ls = _block_starts(rs, 0, blocks)
    ok = np.empty(n, dtype=np.bool_)
    for blk in prange(blocks):
        sh, sl = _block_start(hs, ls, blk)
        for r in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
            sh, sl, ur = _next_draw(u, rs, sh, sl, r)
            ok[r] = ur < level[idx[r]]
    keep = _where(ok)
    k = keep.size
    oi = np.empty(k, dtype=np.int64)
    oj = np.empty(k, dtype=np.int64)
    oe = np.empty(k, dtype=np.int64)
    for q in range(k):
        r = keep[q]
        oi[q] = i[r]
        oj[q] = j[r]
        oe[q] = idx[r]
    return oi, oj, oe


@_parallel
def betrayal_scales(u, opp, src, dst, inside, trust, tie, rate, base2, enf):  # type: ignore[no-untyped-def]
    """Per meeting ``r``: whether the source cheats, ``u[r] < clip(base2 x opp[src[r]] x enf,
    0, 1)``, and the learner's scale ``rate x inside[dst[r]] x trust[tie[r]] x (not cheat)``,
    multiplied left to right (:func:`_betrayals`)."""
    k = u.size
    scale = np.empty(k)
    cheat = np.empty(k, dtype=np.bool_)
    for blk in prange((k + BLOCK - 1) // BLOCK):
        ub = u[blk * BLOCK : min(k, (blk + 1) * BLOCK)]
        _betrayals(ub, opp, src, dst, inside, trust, tie, rate, base2, enf, scale, cheat, blk)
    return scale, cheat


@_serial
def _betrayals(ub, opp, src, dst, inside, trust, tie, rate, base2, enf, scale, cheat, blk):  # type: ignore[no-untyped-def]
    """Block ``blk`` of :func:`betrayal_scales` into ``scale`` and ``cheat``; ``ub`` holds the
    block's draws."""
    r0 = blk * BLOCK
    for r in range(r0, r0 + ub.size):
        p = base2 * opp[src[r]] * enf
        if p < 0.0:
            p = 0.0
        elif p > 1.0:
            p = 1.0
        c = ub[r - r0] < p
        cheat[r] = c
        scale[r] = rate * inside[dst[r]] * trust[tie[r]] * (0.0 if c else 1.0)


@_serial
def _take(x, ok):  # type: ignore[no-untyped-def]
    """``x[ok]``, compacted without a branch (see :func:`_where`)."""
    out = np.empty(ok.size + 1, dtype=x.dtype)
    k = 0
    for r in range(ok.size):
        out[k] = x[r]
        k += ok[r]
    return out[:k]


@_parallel
def meet_and_barter(u, rs, meet, trust, li, lj, x, margin):  # type: ignore[no-untyped-def]
    """The ties ``e`` that meet (``u[e] < meet x trust[e]``) and barter (each side leads the
    other by more than ``margin`` in some column of ``x``), and their two ends. By blocks of
    ties; ``u`` may be drawn here, each as it is needed (``rs``, :func:`_next_draw`)."""
    m = li.size
    blocks = (m + BLOCK - 1) // BLOCK
    hs, ls = _block_starts(rs, 0, blocks)
    ok = np.empty(m, dtype=np.bool_)
    for blk in prange(blocks):
        sh, sl = _block_start(hs, ls, blk)
        for e in range(blk * BLOCK, min(m, (blk + 1) * BLOCK)):
            sh, sl, ue = _next_draw(u, rs, sh, sl, e)
            # every tie tested: skipping the barter would branch at random
            ok[e] = (ue < meet * trust[e]) & _barters(x, li[e], lj[e], margin)
    active = _where(ok)
    k = active.size
    a = np.empty(k, dtype=np.int64)
    b = np.empty(k, dtype=np.int64)
    for q in range(k):
        a[q] = li[active[q]]
        b[q] = lj[active[q]]
    return active, a, b


@_parallel
def drift_toward(x, y, target, rate):  # type: ignore[no-untyped-def]
    """``x += rate * (target - x)`` and the same for ``y``, in place, in one parallel loop."""
    for e in prange(x.size + y.size):
        if e < x.size:
            x[e] += rate * (target - x[e])
        else:
            f = e - x.size
            y[f] += rate * (target - y[f])


@_parallel
def talk_absorb(T, alpha, i, j, e, u, rs, opp, inside, trust, rate, base2, enf):  # type: ignore[no-untyped-def]
    """C1's talks in one call: by blocks, whether each partner ``j`` cheats and each
    learner's scale (:func:`_betrayals`), then what each learner ``i`` absorbs from ``T[j]``
    and its row total (:func:`_absorb_rows`); then the ties of the talks that brought
    knowledge and of those where the partner cheated. Needs at least one talk. ``u`` may be
    drawn here, a block's at its start (``rs``, :func:`_block_draws`)."""
    k = i.size
    blocks = (k + BLOCK - 1) // BLOCK
    hs, ls = _block_starts(rs, 0, blocks)
    out = np.empty((k, T.shape[1]))
    tot = np.empty(k)
    scale = np.empty(k)
    cheat = np.empty(k, dtype=np.bool_)
    for blk in prange(blocks):
        ub = _block_draws(u, rs, hs, ls, blk, blk * BLOCK, min(k, (blk + 1) * BLOCK))
        _betrayals(ub, opp, j, i, inside, trust, e, rate, base2, enf, scale, cheat, blk)
        _absorb_rows(T, j, T, i, alpha, scale, tot, out, blk)
    return out, tot, cheat, _take(e, tot > 0.0), _take(e, cheat)


@_parallel
def cooperate(T, E, a, b, active, alpha, u, rs, opp, inside, trust, rate, base2, enf, it):  # type: ignore[no-untyped-def]
    """C2's exchanges in one call: by blocks of pairs, whether each side cheats (``u[:k]``
    the draws of ``a``, ``u[k:]`` those of ``b``) and each side's scale (:func:`_betrayals`),
    then :func:`_exchange_rows`; then the ties where neither side cheated and those where
    one did. Needs at least one pair. ``u`` may be drawn here, a block's at its start
    (``rs``, :func:`_block_draws`)."""
    k = a.size
    blocks = (k + BLOCK - 1) // BLOCK
    hs_a, ls_a = _block_starts(rs, 0, blocks)
    hs_b, ls_b = _block_starts(rs, k, blocks)
    sa = np.empty(k)
    sb = np.empty(k)
    cheat_a = np.empty(k, dtype=np.bool_)
    cheat_b = np.empty(k, dtype=np.bool_)
    cheat = np.empty(k, dtype=np.bool_)
    ua = u[:k]
    ub = u[k:]
    tot = np.empty(2 * k)
    both = np.empty((2, 2 * k, T.shape[1]))  # dT and dE
    for blk in prange(blocks):
        r0 = blk * BLOCK
        r1 = min(k, r0 + BLOCK)
        ua_blk = _block_draws(ua, rs, hs_a, ls_a, blk, r0, r1)
        ub_blk = _block_draws(ub, rs, hs_b, ls_b, blk, r0, r1)
        _betrayals(ub_blk, opp, b, a, inside, trust, active, rate, base2, enf, sa, cheat_b, blk)
        _betrayals(ua_blk, opp, a, b, inside, trust, active, rate, base2, enf, sb, cheat_a, blk)
        for r in range(blk * BLOCK, min(k, (blk + 1) * BLOCK)):
            cheat[r] = cheat_a[r] | cheat_b[r]
        _exchange_rows(T, E, a, b, alpha, sa, sb, it, both, tot, blk)
    return both[0], both[1], tot, cheat, _take(active, ~cheat), _take(active, cheat)


@_serial
def _advanced(rs, k):  # type: ignore[no-untyped-def]
    """Stream ``rs`` after ``k`` draws."""
    out = rs.copy()
    out[0], out[1] = _jump(rs[0], rs[1], rs[2], rs[3], k)
    return out


@_serial
def informal_talks(indptr, nbr, edge, trust, prox, T, alpha, opp, inside, rate, base2, enf, rs):  # type: ignore[no-untyped-def]
    """C1 in one call, drawing from stream ``rs`` in order: a partner per firm
    (:func:`pick_by_trust`), whether each talk happens (:func:`keep_below`), whether each
    partner cheats (:func:`talk_absorb`). Returns the talks (learners, partners, ties), the
    gains and their row totals, the success and betrayal ties, and how many draws it made."""
    n = indptr.size - 1
    none = np.empty(0)
    pi, pj, pe = pick_by_trust(indptr, nbr, edge, trust, prox, none, rs)
    after_pick = _advanced(rs, n)
    i, j, e = keep_below(none, after_pick, trust, pe, pi, pj)
    after_keep = _advanced(after_pick, pi.size)
    gain, tot, _, success, betrayed = talk_absorb(
        T, alpha, i, j, e, none, after_keep, opp, inside, trust, rate, base2, enf
    )
    return i, j, e, gain, tot, success, betrayed, n + pi.size + i.size


@_serial
def cooperation_exchanges(
    T, E, alpha, li, lj, trust, meet, margin, opp, inside, rate, base2, enf, it, rs
):  # type: ignore[no-untyped-def]
    """C2 in one call, drawing from stream ``rs`` in order: which ties meet and barter
    (:func:`meet_and_barter`), then whether each side cheats (:func:`cooperate`). Returns the
    ties and their ends, ``dT``, ``dE``, the row totals, the ties where neither side cheated
    and where one did, and how many draws it made."""
    none = np.empty(0)
    active, a, b = meet_and_barter(none, rs, meet, trust, li, lj, T, margin)
    after = _advanced(rs, li.size)
    dT, dE, tot, _, kept, broken = cooperate(
        T, E, a, b, active, alpha, none, after, opp, inside, trust, rate, base2, enf, it
    )
    return active, a, b, dT, dE, tot, kept, broken, li.size + 2 * a.size


@_serial
def meet_ties(trust, tally, success, betrayal, used, last_used, t, eta_up, eta_down):  # type: ignore[no-untyped-def]
    """A channel's meetings on a tie layer: successes then betrayals compounded into trust
    (:func:`compound_trust`), and the step each used tie was last used."""
    if success.size:
        compound_trust(trust, success, eta_up, True, tally)
    if betrayal.size:
        compound_trust(trust, betrayal, eta_down, False, tally)
    for q in range(used.size):
        last_used[used[q]] = t


@_serial
def apply_rows(
    T, E, rows, dT, dE, unique, row_gain, count, meetings, gain, last_inflow, motive, k, t, saving
):  # type: ignore[no-untyped-def]
    """A channel's gains by rows, applied and booked in one call: ``T[rows] += dT`` and
    ``E[rows] += dE`` (``dE`` with no rows: none), each firm's gain (its rows' totals
    ``row_gain`` added in row order) and one meeting per row when ``count``; then
    :func:`book_gains`. Distinct rows in parallel (:func:`_apply_unique`); rows that may
    repeat by ranges of firms (:func:`_apply_split`)."""
    got = np.zeros(T.shape[0])
    if unique:
        _apply_unique(T, E, rows, dT, dE, row_gain, count, meetings, got)
    else:
        _apply_split(T, E, rows, dT, dE, row_gain, count, meetings, got)
    book_gains(gain, last_inflow, motive, got, k, t, saving)


@_parallel
def _apply_unique(T, E, rows, dT, dE, row_gain, count, meetings, got):  # type: ignore[no-untyped-def]
    """The scatters of :func:`apply_rows` for distinct rows, in parallel."""
    d = T.shape[1]
    with_e = dE.shape[0] > 0
    for r in prange(rows.size):
        i = rows[r]
        for c in range(d):
            T[i, c] += dT[r, c]
        if with_e:
            for c in range(d):
                E[i, c] += dE[r, c]
        got[i] += row_gain[r]
        if count:
            meetings[i] += 1


@_parallel
def _apply_split(T, E, rows, dT, dE, row_gain, count, meetings, got):  # type: ignore[no-untyped-def]
    """The scatters of :func:`apply_rows` for rows that may repeat, in parallel by two
    ranges of firms: each part reads every row and applies those of its firms in row order,
    so a repeated row adds up in the order of a serial loop."""
    n, d = T.shape
    with_e = dE.shape[0] > 0
    for p in prange(2):
        lo = n * p // 2
        hi = n * (p + 1) // 2
        for r in range(rows.size):
            i = rows[r]
            if i >= lo and i < hi:
                for c in range(d):
                    T[i, c] += dT[r, c]
                if with_e:
                    for c in range(d):
                        E[i, c] += dE[r, c]
                got[i] += row_gain[r]
                if count:
                    meetings[i] += 1


@_serial
def quintile_sums(c, floors, x):  # type: ignore[no-untyped-def]
    """Per group ``q`` (how many of the four ``floors`` each ``c`` reaches), the sum of ``x``
    in firm order and the count."""
    total = np.zeros(5)
    count = np.zeros(5, dtype=np.int64)
    for i in range(c.size):
        v = c[i]
        q = (v >= floors[0]) + (v >= floors[1]) + (v >= floors[2]) + (v >= floors[3])
        total[q] += x[i]
        count[q] += 1
    return total, count
