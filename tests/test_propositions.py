"""The statistics and verdict layer of `clusterlearn propositions`, on synthetic statistics
whose answer is known, and the report schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlearn.propositions import PROPOSITIONS, PropositionsError, select
from clusterlearn.propositions import stats as st
from clusterlearn.propositions.schema import Report
from clusterlearn.propositions.verdict import combine, decide


# --- verdict rules ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lo", "hi", "sign", "expected"),
    [
        (0.2, 0.6, 1, "supported"),  # clear positive effect, claimed positive
        (-0.6, -0.2, -1, "supported"),  # clear negative effect, claimed negative
        (-0.6, -0.2, 1, "not supported"),  # reversed
        (0.2, 0.6, -1, "not supported"),  # reversed
        (-0.01, 0.02, 1, "not supported"),  # null, tightly around zero
        (-0.4, 0.5, 1, "inconclusive"),  # null, wide
        (-0.01, 0.3, 1, "inconclusive"),  # touches zero, not tight
        (float("nan"), float("nan"), 1, "inconclusive"),
    ],
)
def test_decide(lo: float, hi: float, sign: int, expected: str) -> None:
    assert decide(lo, hi, sign, rope=0.05) == expected


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [(0.2, 0.6, "supported"), (-0.6, -0.2, "supported"), (-0.01, 0.02, "not supported"),
     (-0.3, 0.4, "inconclusive")],
)  # fmt: skip
def test_decide_two_sided(lo: float, hi: float, expected: str) -> None:
    assert decide(lo, hi, 0, rope=0.05) == expected


def test_decide_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="sign"):
        decide(0.1, 0.2, 2, 0.05)
    with pytest.raises(ValueError, match="rope"):
        decide(0.1, 0.2, 1, -1.0)
    with pytest.raises(ValueError, match="ci_low"):
        decide(0.3, 0.2, 1, 0.05)


def test_combine() -> None:
    assert combine(["supported"] * 3) == "supported"
    assert combine(["supported", "inconclusive"]) == "inconclusive"
    assert combine(["supported", "inconclusive", "not supported"]) == "not supported"
    assert combine([]) == "inconclusive"


def test_mean_ci_on_synthetic_effects() -> None:
    rng = np.random.default_rng(1)
    pos = st.mean_ci(rng.normal(0.5, 0.1, 20), name="x", statistic="mean")
    assert pos.verdict == "supported" and pos.ci_low < 0.5 < pos.ci_high and pos.p_value < 1e-6
    rev = st.mean_ci(rng.normal(-0.5, 0.1, 20), name="x", statistic="mean")
    assert rev.verdict == "not supported"
    null_tight = st.mean_ci(rng.normal(0.0, 0.01, 30), name="x", statistic="mean", rope=0.05)
    assert null_tight.verdict == "not supported"
    null_wide = st.mean_ci(rng.normal(0.0, 1.0, 5), name="x", statistic="mean", rope=0.05)
    assert null_wide.verdict in ("inconclusive", "not supported")
    assert null_wide.ci_low < 0 < null_wide.ci_high or null_wide.verdict == "not supported"


def test_paired_difference_is_relative_and_signed() -> None:
    rng = np.random.default_rng(2)
    a = pd.Series(10 + rng.normal(0, 1, 12))
    b = a * 0.8 + rng.normal(0, 0.05, 12)  # the treatment removes about 20%
    e = st.paired_difference(a, b, name="ablation", sign=-1)
    assert e.verdict == "supported"
    assert e.ci_low < -0.2 + 0.02 and e.ci_high > -0.2 - 0.02


def test_rank_correlation_per_replication() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for r in range(6):
        x = rng.uniform(size=80)
        rows.append(pd.DataFrame({"replication": r, "x": x, "y": x + rng.normal(0, 0.1, 80)}))
    f = pd.concat(rows)
    e, per = st.rank_correlation(f, "x", "y", name="rho")
    assert len(per) == 6 and e.verdict == "supported" and e.effect > 0.8
    e2, _ = st.rank_correlation(f.assign(y=-f["y"]), "x", "y", name="rho")
    assert e2.verdict == "not supported"


def test_trend_recovers_relative_change() -> None:
    rng = np.random.default_rng(4)
    x = np.repeat(np.linspace(0, 1, 5), 10)
    y = 10 + 5 * x + rng.normal(0, 0.5, x.size)  # +5 over the range; mean 12.5 -> 0.4
    e = st.trend(pd.DataFrame({"x": x, "y": y}), "x", "y", name="t")
    assert e.verdict == "supported" and e.ci_low < 0.4 < e.ci_high
    flat = st.trend(
        pd.DataFrame({"x": x, "y": 10 + rng.normal(0, 0.01, x.size)}), "x", "y", name="t"
    )
    assert flat.verdict == "not supported"  # tightly around zero


def test_threshold_locates_a_hinge() -> None:
    rng = np.random.default_rng(5)
    x = np.repeat(np.linspace(0, 1, 11), 8)
    y = 0.05 + 2.0 * np.maximum(x - 0.4, 0) + rng.normal(0, 0.03, x.size)
    runs = pd.DataFrame({"x": x, "y": y, "replication": np.tile(np.arange(8), 11)})
    e = st.threshold(runs, "x", "y", name="hinge", rng=np.random.default_rng(0), n_boot=200)
    assert e.verdict == "supported"  # slope change positive
    assert e.extra["threshold_ci_low"] <= 0.4 <= e.extra["threshold_ci_high"]
    assert abs(e.extra["threshold"] - 0.4) < 0.06
    assert abs(e.extra["slope_below"]) < 0.3


def test_threshold_of_a_reversed_kink_is_not_supported() -> None:
    rng = np.random.default_rng(6)
    x = np.repeat(np.linspace(0, 1, 11), 8)
    y = np.minimum(x, 0.5) + rng.normal(0, 0.02, x.size)  # rises, then saturates
    e = st.threshold(
        pd.DataFrame({"x": x, "y": y}), "x", "y", name="h", rng=np.random.default_rng(0), n_boot=200
    )
    assert e.verdict == "not supported"


def test_firm_regression_clustered_with_interaction() -> None:
    rng = np.random.default_rng(7)
    rows = []
    for r in range(8):
        n = 120
        c, a = rng.normal(size=n), rng.normal(size=n)
        y = 0.5 * c + 0.3 * a - 0.4 * c * a + rng.normal(0, 0.5, n) + rng.normal()  # rep shock
        rows.append(pd.DataFrame({"replication": r, "c": c, "a": a, "y": y}))
    f = pd.concat(rows, ignore_index=True)
    table, fit = st.firm_regression(f, "y", ["c", "a"], interactions=[("c", "a")])
    assert list(table.index) == ["const", "c", "a", "c:a"]
    assert table.attrs["n_clusters"] == 8 and table.attrs["n_obs"] == 960
    assert fit.cov_type == "cluster"
    assert st.coefficient_estimate(table, "c", name="c").verdict == "supported"
    assert st.coefficient_estimate(table, "c:a", name="i", sign=-1).verdict == "supported"
    assert st.coefficient_estimate(table, "c:a", name="i", sign=1).verdict == "not supported"


def test_poisson_regression_recovers_rate_ratio() -> None:
    rng = np.random.default_rng(8)
    rows = []
    for r in range(6):
        x = rng.normal(size=300)
        age = rng.integers(5, 40, 300)
        y = rng.poisson(age * 0.05 * np.exp(0.5 * x))
        rows.append(pd.DataFrame({"replication": r, "x": x, "age": age, "y": y}))
    f = pd.concat(rows, ignore_index=True)
    table, _ = st.firm_regression(f, "y", ["x"], family="poisson", offset="age")
    # x is z-scored (sd ~ 1), so the log rate ratio per SD is about 0.5
    assert table.loc["x", "ci_low"] < 0.5 < table.loc["x", "ci_high"]


# --- definitions and selection ------------------------------------------------------------
def test_twelve_propositions_each_with_a_design() -> None:
    assert list(PROPOSITIONS) == [f"P{k}" for k in range(1, 13)]
    for p in PROPOSITIONS.values():
        for quick in (True, False):
            d = p.design(quick)
            assert d.replications >= 5 and d.arms and d.runs() == len(d.arms) * d.replications
        assert p.thesis and p.claim and p.measured


def test_select() -> None:
    assert [p.id for p in select("p3, P1")] == ["P1", "P3"]
    assert len(select(None)) == 12
    with pytest.raises(PropositionsError, match="P13"):
        select("P1,P13")


def test_schema_rejects_missing_and_bad_fields() -> None:
    schema = Report.model_json_schema()
    entry = schema["$defs"]["Entry"]
    for k in ("id", "claim", "experiment", "statistic", "effect", "ci_low", "ci_high",
              "p_value", "verdict", "rule", "figure", "coefficients", "parts"):  # fmt: skip
        assert k in entry["required"], k
    with pytest.raises(ValueError):
        Report.model_validate({"schema": "clusterlearn-propositions/1"})


def test_arms_share_a_seed_and_seeds_do_not_depend_on_selection() -> None:
    from clusterlearn.propositions.runner import experiment_for, proposition_seed

    seeds = {pid: proposition_seed(7, pid) for pid in PROPOSITIONS}
    assert len(set(seeds.values())) == 12  # independent streams per proposition
    assert proposition_seed(7, "P3") == seeds["P3"]
    d = PROPOSITIONS["P9"].design(True)
    exps = [experiment_for(d, arm, "P9", seeds["P9"]) for arm in d.arms]
    assert {e.seed for e in exps} == {seeds["P9"]}  # common random numbers across arms
    assert all(e.n_points == 1 and e.replications == d.replications for e in exps)
    off = exps[1].scenario.channels
    assert not off.training.enabled and exps[0].scenario.channels.training.enabled
    p4 = PROPOSITIONS["P4"].design(True)
    assert [experiment_for(p4, a, "P4", 1).run_steps for a in p4.arms] == [0, p4.steps]
