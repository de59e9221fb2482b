"""The compiled (numba) kernels give bit-identical results to the pure-numpy ones.

Kernel by kernel on random inputs (edge cases included), then whole runs of random scenarios
under both backends: every recorded number and the final state must be equal, not close.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from clusterlearn import Scenario
from clusterlearn.model import kernel
from clusterlearn.model.engine import Simulation
from clusterlearn.model.kernel import use_kernels

BACKENDS = ("numpy", "numba")


def both(fn, *args):  # type: ignore[no-untyped-def]
    """``fn(*copies of args)`` under each backend; returns (numpy result, numba result, args)."""
    outs = []
    for name in BACKENDS:
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        with use_kernels(name):
            outs.append((fn(*copies), copies))
    return outs


def assert_same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    # Bit-identical, NaN where NaN (array_equal with equal_nan compares values, not bits;
    # signed zeros compare equal, which is all an addition can tell apart).
    assert np.array_equal(a, b, equal_nan=True)


@pytest.fixture(params=[3, 6, 11])
def d(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def test_pair_absorb_all_forms(d: int) -> None:
    rng = np.random.default_rng(1)
    n, k = 50, 200
    T = rng.normal(2.0, 1.5, (n, d))
    S = rng.normal(2.0, 1.5, (7, d))
    G = rng.normal(3.0, 1.0, d)
    alpha = rng.uniform(0.2, 3.0, n)
    alpha[0] = np.inf  # the linear limit
    rows = rng.integers(0, n, k)
    src = rng.integers(0, 7, k)
    scale = rng.uniform(0, 1, k)
    cases = [
        (S, T, alpha, scale, rows, src),  # institution -> firm
        (T, T, alpha, scale, rows, rng.integers(0, n, k)),  # firm -> firm
        (T, T, alpha, 0.3, rows, rng.integers(0, n, k)),  # one scale
        (G, T, alpha, 0.2, None, None),  # a shared source for every firm
        (G, T, alpha, scale[:20], rows[:20], None),
        (T, T, alpha, 0.5, None, np.arange(n)),  # aligned rows (SECI)
    ]
    for src_m, dst, al, sc, r, sr in cases:
        (a, _), (b, _) = both(
            lambda s_, d_, a_, c_, r_, q_: kernel.pair_absorb(s_, d_, a_, c_, rows=r_, src_rows=q_),
            src_m,
            dst,
            al,
            sc,
            r,
            sr,
        )
        assert_same(a, b)
        assert (a >= 0).all()


def test_pair_absorb_nan_and_empty() -> None:
    T = np.array([[np.nan, 1.0], [2.0, 0.0]])
    alpha = np.array([1.0, 1.0])
    (a, _), (b, _) = both(
        lambda: kernel.pair_absorb(T, T, alpha, 1.0, rows=np.array([0]), src_rows=np.array([1]))
    )
    assert_same(a, b)
    assert np.isnan(a[0, 0])
    (a, _), (b, _) = both(
        lambda: kernel.pair_absorb(
            T, T, alpha, 1.0, rows=np.zeros(0, np.int64), src_rows=np.zeros(0, np.int64)
        )
    )
    assert a.shape == b.shape == (0, 2)


@pytest.mark.parametrize("unique", [False, True])
def test_scatter_add(unique: bool, d: int) -> None:
    rng = np.random.default_rng(2)
    n = 40
    rows = rng.permutation(n)[:25] if unique else rng.integers(0, n, 300)
    vals = rng.exponential(1.0, (rows.size, d))
    target = rng.random((n, d))
    (_, (ta, *_)), (_, (tb, *_)) = both(
        lambda t, r, v: kernel.scatter_add(t, r, v, unique), target, rows, vals
    )
    assert_same(ta, tb)


def test_scatter_add_split_over_threads(d: int) -> None:
    # Many repeated rows: the compiled scatter splits the target's rows over the threads.
    rng = np.random.default_rng(21)
    n = 5_000
    rows = rng.integers(0, n, kernel.SPLIT_SCATTER // d + 7)
    vals = rng.exponential(1.0, (rows.size, d))
    target = rng.random((n, d))
    (_, (ta, *_)), (_, (tb, *_)) = both(
        lambda t, r, v: kernel.scatter_add(t, r, v), target, rows, vals
    )
    assert_same(ta, tb)
    with use_kernels("numba"):
        parts = []
        for k in (1, 3):
            t = target.copy()
            kernel.compiled().scatter_add_split(t, rows, vals, k)
            parts.append(t)
    assert_same(parts[0], ta)
    assert_same(parts[1], ta)


def test_row_sums_and_book_gains(d: int) -> None:
    rng = np.random.default_rng(3)
    part = rng.exponential(1.0, (500, d)) * rng.choice([0.0, 1e-14, 1.0], (500, 1))
    (a, _), (b, _) = both(kernel.row_sums, part)
    assert_same(a, b)
    n, ch = 500, 11
    got = a
    saving = rng.random(n)
    for sv in (saving, None):
        args = (rng.random((ch, n)), np.full((ch, n), -1, np.int64), rng.random(n))
        (_, ca), (_, cb) = both(
            lambda g, li, m, s=sv: kernel.book_gains(g, li, m, got, 4, 17, s), *args
        )
        for x, y in zip(ca, cb, strict=True):
            assert_same(x, y)


def test_gained(d: int) -> None:
    rng = np.random.default_rng(31)
    n, k = 300, 250
    dT, dE = rng.exponential(1.0, (k, d)), rng.exponential(1.0, (k, d))
    repeated = rng.integers(0, n, k)
    distinct = rng.permutation(n)[:k]
    cases = [
        (None, dT, None, False),
        (None, dT, dE, False),
        (distinct, dT, dE, True),
        (distinct, None, dE, True),
        (repeated, dT, dE, False),
        (repeated, dT, None, False),
    ]
    for rows, t, e, dist in cases:
        (a, _), (b, _) = both(lambda r=rows, t=t, e=e, x=dist: kernel.gained(n, r, t, e, x))
        assert_same(a, b)
        per_row = sum(p.sum(axis=1) for p in (t, e) if p is not None)
        expected = per_row if rows is None else np.bincount(rows, weights=per_row, minlength=n)
        np.testing.assert_allclose(a, expected, rtol=1e-12)


def test_group_medians(d: int) -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(size=(d, 101))
    bounds = np.array([0, 0, 1, 2, 50, 101])  # an empty group, odd and even sizes
    (a, _), (b, _) = both(kernel.group_medians, values, bounds)
    assert_same(a, b)
    assert np.isneginf(a[0]).all()
    assert_same(a[3], np.median(values[:, 2:50], axis=1))


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, numba, numpy"):
        kernel.set_kernels("cuda")


def random_scenario(seed: int) -> Scenario:
    """A random small scenario from a shipped preset with a few parameters varied."""
    rng = np.random.default_rng(seed)
    preset = ["baseline", "low-trust", "knowledge-intensive", "isolated"][seed % 4]
    return Scenario.preset(preset).with_overrides(
        {
            "firms.n": int(rng.integers(60, 400)),
            "firms.domains": int(rng.integers(2, 10)),
            "steps": 25,
            "trust.trust0": float(rng.uniform(0.1, 0.9)),
            "learning.alpha0": float(rng.uniform(0.2, 2.0)),
            "networks.update_every": int(rng.integers(1, 5)),
        }
    )


def run_both(sc: Scenario, seed: int) -> list[Simulation]:
    """The whole run of ``sc`` under each backend, same seed."""
    sims = []
    for name in BACKENDS:
        with use_kernels(name):
            sim = Simulation(sc, rng=seed)
            sim.run(sc.steps)
            sims.append(sim)
    return sims


@pytest.mark.parametrize("seed", range(6))
def test_whole_runs_identical(seed: int) -> None:
    a, b = run_both(random_scenario(seed), seed)
    assert _same_rows(a.metric_rows, b.metric_rows)
    assert _same_rows(a.flow_rows, b.flow_rows)
    for f in ("T", "E", "gain", "last_inflow", "motive_tc", "workers", "inside"):
        assert_same(getattr(a.state, f), getattr(b.state, f))
    assert_same(a.state.social.trust, b.state.social.trust)


def test_policy_run_identical() -> None:
    a, b = run_both(Scenario.preset("policy-upgrade").with_overrides({"firms.n": 200}), 11)
    assert _same_rows(a.metric_rows, b.metric_rows)
    assert_same(a.state.T, b.state.T)


def _same_rows(a: list[dict[str, float]], b: list[dict[str, float]]) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b, strict=True):
        if ra.keys() != rb.keys():
            return False
        for k in ra:
            x, y = ra[k], rb[k]
            if not (x == y or (np.isnan(x) and np.isnan(y))):
                return False
    return True


def test_sample_by_weight() -> None:
    from clusterlearn.model.layers import TieLayer, sample_by_weight

    rng = np.random.default_rng(5)
    n = 300
    lay = TieLayer.from_pairs(rng.integers(0, n, 900), rng.integers(0, n, 900), rng.random(900))
    csr = lay.csr(n)
    w = rng.random(csr.nbr.size) * rng.choice([0.0, 1.0], csr.nbr.size)
    u = rng.random(n)
    u[:5] = [0.0, 1.0, 0.5, 1 - 1e-16, 1e-300]
    (a, _), (b, _) = both(lambda: sample_by_weight(csr, w, u))
    assert_same(a, b)
    assert (a == -1).any() and (a >= 0).any()


def test_csr_and_small_kernels() -> None:
    from clusterlearn.model.layers import TieLayer

    rng = np.random.default_rng(6)
    n = 500
    lay = TieLayer.from_pairs(rng.integers(0, n, 2000), rng.integers(0, n, 2000), rng.random(2000))
    views = []
    for name in BACKENDS:
        with use_kernels(name):
            lay._csr = None
            views.append(lay.csr(n + 3))  # trailing firms without ties
    for f in ("indptr", "nbr", "edge", "src"):
        assert_same(getattr(views[0], f), getattr(views[1], f))
    last = rng.integers(-5, 30, (11, 300))
    (a, _), (b, _) = both(kernel.count_recent, last, 30, 8)
    assert_same(a, b)
    T = rng.normal(size=(400, 7))
    T[3, 2] = np.nan
    (a, _), (b, _) = both(kernel.column_max, T)
    assert_same(a, b)
    for up in (True, False):
        edges = rng.integers(0, 50, 400)
        (_, (ta, *_)), (_, (tb, *_)) = both(
            lambda tr, ed, u=up: kernel.compound_trust(tr, ed, 0.1, u), rng.random(60), edges
        )
        assert_same(ta, tb)
        tally = np.zeros(60, dtype=np.int64)  # counted in and left zeroed, call after call
        for _ in range(2):
            (_, (tc, *_)), (_, (td, *_)) = both(
                lambda tr, ed, u=up, ta=tally: kernel.compound_trust(tr, ed, 0.1, u, ta),
                rng.random(60),
                edges,
            )
            assert_same(tc, td)
            assert not tally.any()
        trust = rng.random(60)
        with use_kernels("numpy"):
            want = trust.copy()
            kernel.compound_trust(want, edges, 0.1, up)
        kernel.compound_trust(trust, edges, 0.1, up, tally)
        assert_same(trust, want)


def test_gathered_dot(d: int) -> None:
    rng = np.random.default_rng(7)
    w = rng.dirichlet(np.ones(d), 4)
    T = rng.exponential(2.0, (300, d))
    stage = rng.integers(0, 4, 300)
    (a, _), (b, _) = both(kernel.gathered_dot, w, stage, T, None)
    assert_same(a, b)
    np.testing.assert_allclose(a, np.einsum("ij,ij->i", w[stage], T), rtol=1e-14)
    rows = rng.integers(0, 300, 90)
    (a, _), (b, _) = both(kernel.gathered_dot, w, stage[:90], T, rows)
    assert_same(a, b)


def test_draw_by_cumweight() -> None:
    rng = np.random.default_rng(8)
    w = rng.exponential(1.0, 1000) * rng.choice([0.0, 1.0], 1000)
    cw = np.cumsum(w)
    u = rng.random(5000)
    u[:3] = [0.0, 1.0, 1 - 1e-16]
    (a, _), (b, _) = both(kernel.draw_by_cumweight, cw, u)
    assert_same(a, b)
    assert (w[a] > 0).all()


def test_stage_medians_with_hints_are_exact() -> None:
    from clusterlearn.model.processes.innovation import stage_medians

    rng = np.random.default_rng(9)
    S, d = 5, 4
    hint: dict[str, np.ndarray] = {}
    hint1: dict[str, np.ndarray] = {}
    with use_kernels("numba"):
        for step in range(12):
            n = int(rng.integers(40, 400))
            stage = rng.integers(0, S - 1, n)  # the last stage stays empty
            values = rng.normal(1.0 + 0.05 * step, 1.0, (n, d))
            if step == 5:
                values += 10.0  # a jump: every window misses, the full path answers
            if step == 8:
                values[3, 1] = np.nan
            if step == 9:
                values = np.round(values, 1)  # many ties at the median
            got = stage_medians(values, stage, S, hint)
            with use_kernels("numpy"):
                want = stage_medians(values, stage, S)
            assert_same(got, want)
            got1 = stage_medians(values[:, 0], stage, S, hint1)
            with use_kernels("numpy"):
                assert_same(got1, stage_medians(values[:, 0], stage, S))


def test_proximity() -> None:
    from clusterlearn.model.layers import TieLayer

    rng = np.random.default_rng(10)
    n = 200
    x, y = rng.random(n), rng.random(n)
    lay = TieLayer.from_pairs(rng.integers(0, n, 700), rng.integers(0, n, 700), rng.random(700))
    out = []
    for name in BACKENDS:
        with use_kernels(name):
            lay._prox = None
            out.append(lay.proximity(n, x, y, 0.2).copy())
    assert_same(out[0], out[1])


def test_social_capital_and_seci(d: int) -> None:
    rng = np.random.default_rng(11)
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 150, "firms.domains": d})
    sims = []
    for name in BACKENDS:
        with use_kernels(name):
            sim = Simulation(sc, rng=3)
            sims.append((sim.state.social_capital(), sim))
    assert_same(sims[0][0], sims[1][0])
    from clusterlearn.model.layers import TieLayer

    n = 400  # a hub of 300 ties: its log(1 + degree) is past the compiled kernel's table
    hub = TieLayer.from_pairs(np.zeros(300, dtype=np.int64), np.arange(1, 301), rng.random(300))
    other = TieLayer.from_pairs(rng.integers(0, n, 500), rng.integers(0, n, 500), rng.random(500))
    views = [(c.indptr, c.src, c.edge, lay.trust) for lay in (hub, other) for c in [lay.csr(n)]]
    got = []
    for name in BACKENDS:
        with use_kernels(name):
            got.append(kernel.social_capital_raw(views, n))
    assert_same(got[0], got[1])
    assert got[0][0] > 0
    T = rng.exponential(2.0, (150, d))
    E = rng.exponential(2.0, (150, d))
    T[0, 0] = np.nan
    alpha = rng.uniform(0.3, 3.0, 150)
    s_int = rng.random(150)
    (ra, (Ta, Ea, *_)), (rb, (Tb, Eb, *_)) = both(
        lambda t, e: kernel.seci(t, e, alpha, 0.07, s_int), T, E
    )
    for x, y in zip((*ra, Ta, Ea), (*rb, Tb, Eb), strict=True):
        assert_same(x, y)


def test_gathers_and_masked_mean(d: int) -> None:
    rng = np.random.default_rng(12)
    a = rng.normal(size=300)
    a[5] = np.nan
    idx = rng.integers(0, 300, 1000)
    b = rng.random(1000)
    (x, _), (y, _) = both(kernel.gather_mul, a, idx, b)
    assert_same(x, y)
    (x, _), (y, _) = both(kernel.gather_floor, a, idx, 1e-12)
    assert_same(x, y)
    (x, _), (y, _) = both(kernel.gather_at_least, a, idx, 0.2)
    assert_same(x, y)
    assert ((x == 0.0) | (x >= 0.2)).all()
    X = rng.exponential(2.0, (5000, d))
    for p in (0.001, 0.3, 1.0):
        mask = rng.random(5000) < p
        mask[0] = True
        (x, _), (y, _) = both(kernel.masked_mean_rows, X, mask)
        assert_same(x, y)
        np.testing.assert_allclose(x, X[mask].mean(axis=0), rtol=1e-12)


def test_view_extended_for_new_firms_equals_a_rebuild() -> None:
    from clusterlearn.model.layers import TieLayer

    rng = np.random.default_rng(13)
    lay = TieLayer.from_pairs(rng.integers(0, 80, 300), rng.integers(0, 80, 300), rng.random(300))
    lay.csr(80)
    grown = lay.csr(95)
    lay._csr = None
    fresh = lay.csr(95)
    for f in ("indptr", "nbr", "edge", "src"):
        assert_same(getattr(grown, f), getattr(fresh, f))


def test_exchange(d: int) -> None:
    rng = np.random.default_rng(14)
    n, k = 120, 400
    T, E = rng.exponential(2.0, (n, d)), rng.exponential(2.0, (n, d))
    a, b = rng.integers(0, n, k), rng.integers(0, n, k)
    alpha = rng.uniform(0.3, 3.0, n)
    sa, sb = rng.random(k) * (rng.random(k) < 0.8), rng.random(k)
    T[5, 0], E[7, 1] = np.nan, np.nan  # NaN reaches both sides of a pair
    a[:2], b[:2] = 5, 7
    sa[3], sb[4], sa[6] = np.inf, -0.5, np.nan  # factors whose "x 0" is not +0
    with np.errstate(invalid="ignore"):  # inf x 0
        (x, _), (y, _) = both(kernel.exchange, T, E, a, b, alpha, sa, sb, 1.3)
    for u, v in zip(x, y, strict=True):
        assert_same(u, v)
    dT, dE, tot = y
    assert_same(tot, kernel.row_sums(dT) + kernel.row_sums(dE))


def test_pair_absorb_totals(d: int) -> None:
    rng = np.random.default_rng(21)
    n, k = 150, 700  # several blocks of rows
    T = rng.exponential(2.0, (n, d))
    T[3, 0] = np.nan
    i, j = rng.integers(0, n, k), rng.integers(0, n, k)
    alpha, scale = rng.uniform(0.3, 3.0, n), rng.random(k)
    (x, _), (y, _) = both(
        lambda t_, a_, s_, i_, j_: kernel.pair_absorb_totals(t_, t_, a_, s_, rows=i_, src_rows=j_),
        T, alpha, scale, i, j,
    )  # fmt: skip
    for u, v in zip(x, y, strict=True):
        assert_same(u, v)
    gain, tot = y
    assert_same(gain, kernel.pair_absorb(T, T, alpha, scale, rows=i, src_rows=j))
    assert_same(tot, kernel.row_sums(gain))


def test_pick_by_trust_equals_a_pick_on_gathered_weights() -> None:
    from clusterlearn.model.layers import TieLayer, sample_by_weight

    rng = np.random.default_rng(22)
    n = 400  # firm 0 a hub of 100 ties: past the compiled kernel's buffer of entry weights
    a = np.r_[np.zeros(100, dtype=np.int64), rng.integers(0, n, 1500)]
    b = np.r_[np.arange(1, 101), rng.integers(0, n, 1500)]
    lay = TieLayer.from_pairs(a, b, rng.random(1600) * rng.choice([0.0, 1.0], 1600, p=[0.2, 0.8]))
    assert lay.csr(n).degree.max() > 64
    csr = lay.csr(n)
    prox, u = rng.random(csr.nbr.size), rng.random(n)
    got = []
    for name in BACKENDS:
        with use_kernels(name):
            got.append(kernel.pick_by_trust(csr, lay.trust, prox, u))
            pos = sample_by_weight(csr, lay.trust[csr.edge] * prox, u)
            learner = np.flatnonzero(pos >= 0)
            assert 0 < learner.size < n  # some firms have no tie of positive weight
            assert_same(got[-1][0], learner)
            assert_same(got[-1][1], csr.nbr[pos[learner]])
            assert_same(got[-1][2], csr.edge[pos[learner]])
    for x, y in zip(*got, strict=True):
        assert_same(x, y)


def test_keep_below_betrayal_scales_and_meet_and_barter(d: int) -> None:
    rng = np.random.default_rng(23)
    n, m = 200, 3000
    i, j, e = rng.integers(0, n, m), rng.integers(0, n, m), rng.integers(0, m, m)
    level, u = rng.random(m), rng.random(m)
    (x, _), (y, _) = both(kernel.keep_below, u, level, e, i, j)
    keep = u < level[e]
    for got, want in zip(y, (i[keep], j[keep], e[keep]), strict=True):
        assert_same(got, want)
    for p, q in zip(x, y, strict=True):
        assert_same(p, q)
    opp, inside, trust = rng.random(n) * 1.5, rng.random(n), rng.random(m)
    opp[5] = np.nan
    (x, _), (y, _) = both(kernel.betrayal_scales, u, opp, j, i, inside, trust, e, 0.3, 0.4, 1.2)
    for p, q in zip(x, y, strict=True):
        assert_same(p, q)
    scale, cheat = y
    assert cheat.any() and not cheat.all()
    assert np.all(scale[cheat] == 0.0) and np.all(scale[~cheat] > 0.0)
    T = rng.integers(0, 4, (n, d)).astype(np.float64)  # ties in some domains
    for margin in (0.0, 1.0):
        (x, _), (y, _) = both(kernel.meet_and_barter, u, 0.7, trust, i, j, T, margin)
        for p, q in zip(x, y, strict=True):
            assert_same(p, q)
        active, a, b = y
        assert active.size and np.all(u[active] < 0.7 * trust[active])
        assert_same(a, i[active])
        assert_same(b, j[active])
        diff = T[a] - T[b]
        assert np.all((diff > margin).any(axis=1) & (diff < -margin).any(axis=1))


@pytest.mark.parametrize("n", [1, 10, 64, 65, 128, 5000, 100_000])
@pytest.mark.parametrize("queries", ["many", "few"])
def test_search_right_edges(n: int, queries: str) -> None:
    # Many queries (at least n / 64) take the guide table, few the coarse binary search.
    rng = np.random.default_rng(n)
    cw = np.cumsum(rng.exponential(1.0, n) * rng.choice([0.0, 1.0], n))
    q = np.concatenate([cw, cw - 1e-9, cw + 1e-9, rng.random(n) * cw[-1]])
    if queries == "few":
        q = q[rng.integers(0, q.size, max(1, n // 64 - 5))]
    q = np.concatenate([q, [np.nan, -1.0, 0.0, 1e300]])
    with use_kernels("numba"):
        got = kernel.compiled().search_right(cw, q)
    assert_same(got, np.minimum(np.searchsorted(cw, q, side="right"), n - 1))


def test_search_right_without_weight() -> None:
    cw = np.zeros(1000)  # every weight zero: numpy's answer is the last index
    q = np.concatenate([np.zeros(500), [np.nan, 1.0]])
    with use_kernels("numba"):
        got = kernel.compiled().search_right(cw, q)
    assert_same(got, np.minimum(np.searchsorted(cw, q, side="right"), 999))


def test_tie_gain() -> None:
    from clusterlearn.model.layers import TieLayer

    rng = np.random.default_rng(16)
    n = 300
    lay = TieLayer.from_pairs(rng.integers(0, n, 900), rng.integers(0, n, 900), rng.random(900))
    v = lay.csr(n)
    c = rng.exponential(2.0, n)
    alpha = rng.uniform(0.3, 3.0, n)
    (a, _), (b, _) = both(kernel.tie_gain, v.indptr, v.src, v.nbr, v.edge, lay.trust, c, alpha)
    for x, y in zip(a, b, strict=True):
        assert_same(x, y)


def test_sampled_clustering_backends() -> None:
    from clusterlearn.model import metrics

    sc = Scenario.preset("baseline").with_overrides({"firms.n": 400})
    out = []
    for name in BACKENDS:
        with use_kernels(name):
            sim = Simulation(sc, rng=4)
            nodes = np.arange(0, sim.state.n, 3)
            out.append(metrics._sampled_clustering(sim.state, nodes))
    assert out[0] == out[1]
    assert 0.0 < out[0] < 1.0


def test_shortfall_sums(d: int) -> None:
    rng = np.random.default_rng(17)
    x = rng.exponential(2.0, (500, d))
    x[3, 0] = np.nan
    level = rng.exponential(2.0, d)
    (a, _), (b, _) = both(kernel.shortfall_sums, level, x)
    assert_same(a, b)


def test_pair_proximity_and_pick() -> None:
    from clusterlearn.model.channels._common import pick_partner
    from clusterlearn.model.layers import TieLayer

    rng = np.random.default_rng(18)
    n = 300
    x, y = rng.random(n), rng.random(n)
    a, b = rng.integers(0, n, 1000), rng.integers(0, n, 1000)
    (p, _), (q, _) = both(kernel.pair_proximity, x, y, a, b, 0.15)
    assert_same(p, q)
    sim = Simulation(Scenario.preset("baseline").with_overrides({"firms.n": n}), rng=2)
    lay = TieLayer.from_pairs(a, b, rng.random(1000))
    w = rng.random(lay.csr(n).nbr.size) * rng.choice([0.0, 1.0], lay.csr(n).nbr.size)
    picks = []
    for name in BACKENDS:
        with use_kernels(name):
            picks.append(pick_partner(sim.state, lay, w, np.random.default_rng(5)))
    for u, v in zip(*picks, strict=True):
        assert_same(u, v)


@pytest.mark.parametrize("case", ["uniform", "clumped", "duplicates", "line", "tiny"])
def test_nearest(case: str) -> None:
    rng = np.random.default_rng(19)
    m, k = 2000, 4
    if case == "uniform":
        px, py = rng.random(m), rng.random(m)
    elif case == "clumped":
        c = rng.random((8, 2))
        pick = rng.integers(0, 8, m)
        px, py = c[pick, 0] + rng.normal(0, 0.01, m), c[pick, 1] + rng.normal(0, 0.01, m)
    elif case == "duplicates":  # firms at a few addresses: ties everywhere
        px, py = np.round(rng.random(m), 1), np.round(rng.random(m), 1)
    elif case == "line":
        px, py = rng.random(m), np.zeros(m)
    else:
        m, k = 3, 2
        px, py = rng.random(m), rng.random(m)
    (a, _), (b, _) = both(kernel.nearest, px, py, k)
    assert_same(a, b)
    # brute force under the same rule
    d2 = (px[:, None] - px[None, :]) ** 2 + (py[:, None] - py[None, :]) ** 2
    np.fill_diagonal(d2, np.inf)
    idx = np.broadcast_to(np.arange(m), (m, m))
    want = np.take_along_axis(idx, np.lexsort((idx, d2), axis=-1), axis=1)[:, :k]
    assert_same(a, want)


def test_grow_sizes() -> None:
    rng = np.random.default_rng(20)
    size = rng.exponential(10.0, 1000)
    size[:3] = [np.nan, 0.05, 500.0]
    prod = rng.exponential(2.0, 1000)
    prod[5] = np.nan
    (_, (a, *_)), (_, (b, *_)) = both(
        lambda s_, p_: kernel.grow_sizes(s_, p_, 2.0, 0.3, 60.0), size, prod
    )
    assert_same(a, b)


def test_sample_by_weight_draws_in_proportion_to_weight() -> None:
    from scipy import stats

    from clusterlearn.model.layers import TieLayer, sample_by_weight

    # 20,000 firms, each tied to the same five targets with weights 1, 2, 3, 0, 4.
    n, targets = 20_000, np.arange(5)
    a = np.repeat(np.arange(5, n + 5), 5)
    lay = TieLayer.from_pairs(a, np.tile(targets, n), np.zeros(a.size))
    csr = lay.csr(n + 5)
    weight = np.array([1.0, 2.0, 3.0, 0.0, 4.0])[csr.nbr.clip(max=4)]
    u = np.random.default_rng(8).random(n + 5)
    for name in BACKENDS:
        with use_kernels(name):
            pos = sample_by_weight(csr, weight, u)
        picked = csr.nbr[pos[5:]]
        counts = np.bincount(picked, minlength=5)
        assert counts[3] == 0
        expected = n * np.array([1, 2, 3, 4]) / 10
        assert stats.chisquare(counts[[0, 1, 2, 4]], expected).pvalue > 1e-3


def test_find_ties() -> None:
    from clusterlearn.model.layers import TieLayer

    rng = np.random.default_rng(9)
    n = 400
    lay = TieLayer.from_pairs(rng.integers(0, n, 1500), rng.integers(0, n, 1500), rng.random(1500))
    k = rng.integers(0, lay.m, 300)
    # existing ties in both directions, random pairs (mostly untied), self pairs
    a = np.concatenate([lay.i[k], lay.j[k], rng.integers(0, n, 300), np.arange(20)])
    b = np.concatenate([lay.j[k], lay.i[k], rng.integers(0, n, 300), np.arange(20)])
    found = []
    for name in BACKENDS:
        with use_kernels(name):
            lay._csr = None
            found.append(lay.find(a, b, n + 2))
    assert_same(found[0], found[1])
    np.testing.assert_array_equal(found[0][:600], np.r_[k, k])
    assert (found[0][600:] == -1).any()


def test_small_clusters_step_on_one_thread() -> None:
    import numba

    from clusterlearn import Scenario
    from clusterlearn.model.engine import Simulation

    with use_kernels("numba"):
        kernel.row_sums(np.ones((10, 2)))  # a parallel kernel: numba picks its layer
        layer = numba.threading_layer()
        below = kernel.serial_below()
        assert below == kernel.SERIAL_BELOW[layer] > 0
        before = numba.get_num_threads()
        with kernel.threads_for(below - 1):
            assert numba.get_num_threads() == 1
        assert numba.get_num_threads() == before
        with kernel.threads_for(below):
            assert numba.get_num_threads() == before
        # A step of a small cluster sees one thread, and gives the state of a step on all.
        sc = Scenario.preset("baseline").with_overrides({"firms.n": 150})
        seen, finals = [], []
        for threshold in (1_000_000, 0):
            sim = Simulation(sc, rng=4)
            channel = sim.channels[0]
            apply = channel.apply

            def spy(*args, _apply=apply, **kw):  # type: ignore[no-untyped-def]
                seen.append(numba.get_num_threads())
                return _apply(*args, **kw)

            channel.apply = spy  # type: ignore[method-assign]
            saved = dict(kernel.SERIAL_BELOW)
            kernel.SERIAL_BELOW[layer] = threshold
            try:
                sim.run(6)
            finally:
                kernel.SERIAL_BELOW.update(saved)
            finals.append(sim.state.T.copy())
        assert set(seen[:6]) == {1} and set(seen[6:]) == {before}
        assert np.array_equal(finals[0], finals[1])
        assert numba.get_num_threads() == before


def test_numba_uses_tbb_where_its_wheel_is_installed() -> None:
    import importlib.metadata
    import platform
    import sys

    import numba

    if not (sys.platform.startswith("linux") and platform.machine() == "x86_64"):
        pytest.skip("the tbb wheel is a dependency on Linux x86-64 only")
    importlib.metadata.version("tbb")  # a dependency there: installed
    with use_kernels("numba"):
        kernel.row_sums(np.ones((10, 2)))
        assert numba.threading_layer() == "tbb"


def test_set_threads_can_raise_the_count_again() -> None:
    import numba

    before = numba.get_num_threads()
    try:
        kernel.set_threads(1)
        assert numba.get_num_threads() == 1
        kernel.set_threads(10**6)  # capped at the pool and the cores
        assert numba.get_num_threads() == min(numba.config.NUMBA_NUM_THREADS, os.cpu_count() or 1)
    finally:
        numba.set_num_threads(before)


def test_talk_absorb_cooperate_and_meet_ties(d: int) -> None:
    # The fused calls of C1 and C2 equal their parts, under both backends.
    rng = np.random.default_rng(24)
    n, k = 300, 700
    T, E = rng.exponential(2.0, (n, d)), rng.exponential(2.0, (n, d))
    alpha, opp, inside = rng.uniform(0.3, 3.0, n), rng.random(n), rng.uniform(0.5, 1.0, n)
    i, j = rng.permutation(n)[: k // 3], rng.integers(0, n, k // 3)
    trust, e, u = rng.random(900), rng.integers(0, 900, k // 3), rng.random(k // 3)
    args = (T, alpha, i, j, e, u, opp, inside, trust, 0.1, 0.3, 1.1)
    (x, _), (y, _) = both(kernel.talk_absorb, *args)
    for p, q in zip(x, y, strict=True):
        assert_same(p, q)
    scale, cheat = kernel.betrayal_scales(u, opp, j, i, inside, trust, e, 0.1, 0.3, 1.1)
    gain, tot = kernel.pair_absorb_totals(T, T, alpha, scale, rows=i, src_rows=j)
    for p, q in zip(y, (gain, tot, cheat, e[tot > 0], e[cheat]), strict=True):
        assert_same(p, q)
    a, b, active = rng.integers(0, n, k), rng.integers(0, n, k), rng.integers(0, 900, k)
    u2 = rng.random(2 * k)
    args2 = (T, E, a, b, active, alpha, u2, opp, inside, trust, 0.08, 0.3, 1.1, 1.3)
    (x, _), (y, _) = both(kernel.cooperate, *args2)
    for p, q in zip(x, y, strict=True):
        assert_same(p, q)
    sa, cheat_b = kernel.betrayal_scales(u2[k:], opp, b, a, inside, trust, active, 0.08, 0.3, 1.1)
    sb, cheat_a = kernel.betrayal_scales(u2[:k], opp, a, b, inside, trust, active, 0.08, 0.3, 1.1)
    cheat = cheat_a | cheat_b
    want = (*kernel.exchange(T, E, a, b, alpha, sa, sb, 1.3), cheat, active[~cheat], active[cheat])
    for p, q in zip(y, want, strict=True):
        assert_same(p, q)
    empty = np.zeros(0, dtype=np.int64)
    for name in BACKENDS:  # no talk, no pair
        with use_kernels(name):
            g, *rest = kernel.talk_absorb(T, alpha, empty, empty, empty, np.zeros(0), *args[6:])
            assert g.shape == (0, d) and [p.size for p in rest] == [0, 0, 0, 0]
            parts = kernel.cooperate(T, E, empty, empty, empty, alpha, np.zeros(0), *args2[7:])
            assert [p.shape[0] for p in parts] == [0, 0, 0, 0, 0, 0]
    success, betrayal = rng.integers(0, 900, 400), rng.integers(0, 900, 50)
    used = np.r_[success, betrayal]
    got = []
    for name in BACKENDS:
        with use_kernels(name):
            tr, last, tally = trust.copy(), np.zeros(900, dtype=np.int64), np.zeros(900, np.int64)
            kernel.meet_ties(tr, tally, success, betrayal, used, last, 7, 0.1, 0.3)
            assert not tally.any()
            got.append((tr, last))
    want_tr = trust.copy()
    with use_kernels("numpy"):
        kernel.compound_trust(want_tr, success, 0.1, True)
        kernel.compound_trust(want_tr, betrayal, 0.3, False)
    for tr, last in got:
        assert_same(tr, want_tr)
        assert_same(last, np.where(np.isin(np.arange(900), used), 7, 0))


@pytest.mark.parametrize("unique", [True, False])
def test_apply_rows_equals_scatter_and_book(d: int, unique: bool) -> None:
    rng = np.random.default_rng(25)
    n, k = 200, 150
    rows = rng.permutation(n)[:k] if unique else rng.integers(0, n, k)
    dT, dE = rng.exponential(1.0, (k, d)), rng.exponential(1.0, (k, d))
    row_gain = kernel.row_sums(dT) + kernel.row_sums(dE)
    for with_E, saving in ((True, rng.random(n)), (False, None)):
        states = []
        for name in (*BACKENDS, "parts"):
            T, E = np.full((n, d), 0.5), np.full((n, d), 0.25)
            meet, gain = np.zeros(n, dtype=np.int64), np.zeros((3, n))
            last, motive = np.full((3, n), -1, dtype=np.int64), np.zeros(n)
            de = dE if with_E else None
            tot = row_gain if with_E else kernel.row_sums(dT)
            if name == "parts":
                with use_kernels("numpy"):
                    kernel.scatter_add(T, rows, dT, unique=unique)
                    if with_E:
                        kernel.scatter_add(E, rows, dE, unique=unique)
                    meet += np.bincount(rows, minlength=n)
                    got = kernel.gained(n, rows, dT, de, distinct=unique)
                    kernel.book_gains(gain, last, motive, got, 1, 9, saving)
            else:
                with use_kernels(name):
                    kernel.apply_rows(
                        T,
                        E,
                        rows,
                        dT,
                        de,
                        unique,
                        tot,
                        True,
                        meet,
                        gain,
                        last,
                        motive,
                        1,
                        9,
                        saving,
                    )
            states.append((T, E, meet, gain, last, motive))
        for other in states[1:]:
            for x, y in zip(states[0], other, strict=True):
                assert_same(x, y)


@pytest.mark.parametrize("k", [0, 1, 5, 2047, 2048, 2049, 8191, 30_001])
def test_kernels_draw_what_the_generator_draws(k: int) -> None:
    # A kernel handed a generator draws the numbers Generator.random gives, and leaves the
    # generator where random() would: in parallel from PCG64's state, or by numpy.
    from clusterlearn.model import _compiled

    def block_by_block(stream: np.ndarray, offset: int) -> np.ndarray:
        blocks = -(-k // _compiled.BLOCK)
        hs, ls = _compiled._block_starts(stream, offset, blocks)
        parts = [
            _compiled._block_draws(np.zeros(0), stream, hs, ls, b, b * _compiled.BLOCK,
                                   min(k, (b + 1) * _compiled.BLOCK))
            for b in range(blocks)
        ]  # fmt: skip
        return np.concatenate(parts) if parts else np.zeros(0)

    for seed in (0, 7, 2**40 + 3):
        mine, ref = np.random.default_rng(seed), np.random.default_rng(seed)
        for _ in range(3):  # also from a state deep in the stream
            with use_kernels("numba"):
                values, stream = kernel.draws(mine, k)
            assert stream.size == (4 if k >= kernel.DRAW_IN_KERNEL else 0)
            want = ref.random(k)
            if stream.size:
                assert_same(block_by_block(stream, 0), want)
                # a stretch further on starts where it should (C2 draws b's after a's)
                assert_same(block_by_block(stream, 1)[:-1], want[1:])
            else:
                assert_same(values, want)
        assert mine.bit_generator.state == ref.bit_generator.state
        assert_same(mine.random(9), ref.random(9))


def test_a_buffered_half_draw_is_kept() -> None:
    # A 32-bit draw leaves half a 64-bit output buffered; advancing the stream would drop it,
    # so those draws are left to numpy.
    mine, ref = np.random.default_rng(3), np.random.default_rng(3)
    for g in (mine, ref):
        g.integers(0, 10, dtype=np.int32)
    assert mine.bit_generator.state["has_uint32"]
    with use_kernels("numba"):
        values, stream = kernel.draws(mine, 5000)
    assert stream.size == 0
    assert_same(values, ref.random(5000))
    assert mine.bit_generator.state == ref.bit_generator.state


def test_kernels_given_a_generator_equal_kernels_given_draws(d: int) -> None:
    # C1's and C2's kernels take their draws from the channel's generator: the same results,
    # and the generator in the same state, as with the draws given as arrays, under both
    # backends.
    from clusterlearn.model.layers import TieLayer

    rng = np.random.default_rng(5)
    n, m = 6000, 15000
    T, E = rng.exponential(2.0, (n, d)), rng.exponential(2.0, (n, d))
    alpha, opp, inside = rng.uniform(0.3, 3.0, n), rng.random(n), rng.uniform(0.5, 1.0, n)
    lay = TieLayer.from_pairs(rng.integers(0, n, m), rng.integers(0, n, m), 0.5)
    lay.trust = rng.random(lay.m)
    csr = lay.csr(n)
    prox = rng.random(csr.nbr.size)

    def c1_c2(u_of):  # type: ignore[no-untyped-def]
        a, b, c = kernel.pick_by_trust(csr, lay.trust, prox, u_of(n))
        a, b, c = kernel.keep_below(u_of(a.size), lay.trust, c, a, b)
        talk = kernel.talk_absorb(
            T, alpha, a, b, c, u_of(a.size), opp, inside, lay.trust, 0.1, 0.3, 1.1
        )
        act, p, q = kernel.meet_and_barter(u_of(lay.m), 0.5, lay.trust, lay.i, lay.j, T, 0.0)
        coop = kernel.cooperate(
            T, E, p, q, act, alpha, u_of(2 * p.size), opp, inside, lay.trust, 0.08, 0.3, 1.1, 1.3
        )
        return [a, b, c, *talk, act, p, q, *coop]

    for name in BACKENDS:
        with use_kernels(name):
            g1, g2 = np.random.default_rng(11), np.random.default_rng(11)
            given = c1_c2(lambda k: g1)  # noqa: B023
            drawn = c1_c2(lambda k: g2.random(k))  # noqa: B023
            for x, y in zip(given, drawn, strict=True):
                assert_same(x, y)
            assert g1.bit_generator.state == g2.bit_generator.state


def test_capacity_and_saving() -> None:
    rng = np.random.default_rng(8)
    n = 5000
    c, rnd, bonus, sc = rng.exponential(2.0, n), rng.random(n), rng.random(n) * 0.1, rng.random(n)
    c[:3] = [np.nan, np.inf, 0.0]
    sc[3:6] = [np.nan, 0.0, 1.0]
    (x, _), (y, _) = both(kernel.capacity, c, 0.5, 0.3, 0.2, rnd, bonus)
    assert_same(x, y)
    assert_same(x, 0.5 + 0.3 * c + 0.2 * rnd + bonus)
    for cost_out in (0.5, 1.0, 2.0):
        (x, _), (y, _) = both(kernel.saving, sc, 1.0, 0.4, cost_out)
        assert_same(x, y)
        assert_same(x, np.maximum(cost_out - 1.0 * (1.0 - 0.4 * sc), 0.0))


@pytest.mark.parametrize("n", [40, 6000])
def test_c1_and_c2_in_one_call_equal_their_steps(n: int, d: int) -> None:
    # informal_talks and cooperation_exchanges draw from the generator in the order of the
    # separate kernels, in one compiled call: the same results and the generator left in the
    # same state, under both backends.
    from clusterlearn.model.layers import TieLayer

    rng = np.random.default_rng(n)
    T, E = rng.exponential(2.0, (n, d)), rng.exponential(2.0, (n, d))
    alpha, opp, inside = rng.uniform(0.3, 3.0, n), rng.random(n), rng.uniform(0.5, 1.0, n)
    lay = TieLayer.from_pairs(rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n), 0.5)
    lay.trust = rng.random(lay.m)
    csr = lay.csr(n)
    prox = rng.random(csr.nbr.size)
    c1 = (csr, lay.trust, prox, T, alpha, opp, inside, 0.1, 0.3, 1.1)
    c2 = (T, E, alpha, lay.i, lay.j, lay.trust, 0.5, 0.0, opp, inside, 0.08, 0.3, 1.1, 1.3)

    def steps(g: np.random.Generator) -> list[np.ndarray]:
        i, j, e = kernel.pick_by_trust(csr, lay.trust, prox, g.random(n))
        i, j, e = kernel.keep_below(g.random(i.size), lay.trust, e, i, j)
        talk = kernel.talk_absorb(
            T, alpha, i, j, e, g.random(i.size), opp, inside, lay.trust, 0.1, 0.3, 1.1
        )
        act, a, b = kernel.meet_and_barter(g.random(lay.m), 0.5, lay.trust, lay.i, lay.j, T, 0.0)
        coop = kernel.cooperate(
            T, E, a, b, act, alpha, g.random(2 * a.size), opp, inside, lay.trust, 0.08, 0.3,
            1.1, 1.3,
        )  # fmt: skip
        talk_out = [p for k, p in enumerate(talk) if k != 2]  # all but whether each cheated
        coop_out = [p for k, p in enumerate(coop) if k != 3]
        return [i, j, e, *talk_out, act, a, b, *coop_out]

    with use_kernels("numpy"):
        ref = np.random.default_rng(99)
        want = steps(ref)
    for name in BACKENDS:
        with use_kernels(name):
            g = np.random.default_rng(99)
            got = [*kernel.informal_talks(*c1, g), *kernel.cooperation_exchanges(*c2, g)]
            assert len(got) == len(want)
            for x, y in zip(got, want, strict=True):
                assert_same(x, y)
            assert g.bit_generator.state == ref.bit_generator.state


def test_scaled_social_capital_and_capability_capacity(d: int) -> None:
    from clusterlearn.model.layers import TieLayer

    rng = np.random.default_rng(14)
    n = 3000
    layers = [
        TieLayer.from_pairs(rng.integers(0, n, k), rng.integers(0, n, k), 0.5) for k in (9000, 2000)
    ]
    for lay in layers:
        lay.trust = rng.random(lay.m)
    views = [(c.indptr, c.src, c.edge, lay.trust) for lay in layers for c in [lay.csr(n)]]
    for poison in (None, np.nan, 0.0):
        if poison is not None:
            for lay in layers:
                lay.trust[:] = poison if poison == 0.0 else lay.trust
            layers[0].trust[5] = poison
        got = []
        for name in BACKENDS:
            with use_kernels(name):
                got.append(kernel.social_capital_raw(views, n, scaled=True))
        assert_same(got[0], got[1])
    w = rng.dirichlet(np.ones(d), 4)
    stage, T = rng.integers(0, 4, n), rng.exponential(2.0, (n, d))
    rnd, bonus = rng.random(n), rng.random(n) * 0.1
    (x, _), (y, _) = both(kernel.capability_capacity, w, stage, T, 0.5, 0.3, 0.2, rnd, bonus)
    for p, q in zip(x, y, strict=True):
        assert_same(p, q)
    assert_same(x[0], kernel.gathered_dot(w, stage, T))


def test_drift_toward_both_layers() -> None:
    rng = np.random.default_rng(21)
    for mx, my in ((5000, 1700), (0, 300), (300, 0), (0, 0)):
        x, y = rng.random(mx), rng.random(my)
        if mx:
            x[0] = np.nan
        (_, (x1, y1, *_)), (_, (x2, y2, *_)) = both(kernel.drift_toward, x, y, 0.55, 0.03)
        assert_same(x1, x2)
        assert_same(y1, y2)
        assert_same(x2, x + 0.03 * (0.55 - x))
