"""The twelve propositions of MODEL.md section 8: for each, the claim in the thesis's words,
the experiment and the analysis that computes the verdict.

Each analysis reads only the :class:`~clusterlearn.propositions.design.Tables` of its own
experiment; nothing here knows the results in advance. Effects are oriented so that the sign
the thesis claims is stated in ``Estimate.sign``; the rules are in
:mod:`clusterlearn.propositions.verdict`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from clusterlearn.propositions import stats as st
from clusterlearn.propositions.design import (
    AUXILIARY,
    CORE,
    IN_CLUSTER,
    Arm,
    Design,
    Tables,
    channels_off,
)
from clusterlearn.propositions.verdict import combine
from clusterlearn.scenario import Scenario

# Sizes of the two variants. Full: the baseline preset as shipped.
QUICK = {"firms.n": 80}
QUICK_STEPS = 40
FULL: dict[str, Any] = {}
FULL_STEPS = 100


@dataclass
class Outcome:
    """What an analysis returns: the tested parts (the first is the headline), an optional
    coefficient table, and a figure."""

    parts: list[st.Estimate]
    figure: Figure
    table: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return combine(p.verdict for p in self.parts)


@dataclass(frozen=True)
class Proposition:
    """One thesis proposition as an experiment with a computed verdict."""

    id: str
    title: str
    claim: str
    thesis: str
    measured: str
    statistic: str
    design: Callable[[bool], Design]
    analyse: Callable[[Tables, np.random.Generator], Outcome]


def _fig(ncols: int = 2, width: float = 9.0) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, 3.4), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, np.atleast_1d(axes)


def _forest(ax: Any, parts: list[st.Estimate], title: str = "effects (95% CI)") -> None:
    """Each part's effect and interval, oriented as computed, with zero marked."""
    ys = np.arange(len(parts))[::-1]
    for y, p in zip(ys, parts, strict=True):
        colour = {"supported": "tab:green", "not supported": "tab:red"}.get(p.verdict, "tab:gray")
        if np.isfinite(p.ci_low) and np.isfinite(p.ci_high):
            ax.plot([p.ci_low, p.ci_high], [y, y], color=colour, lw=2)
        ax.plot([p.effect], [y], "o", color=colour)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(ys, [p.name for p in parts], fontsize=7)
    ax.set_title(title, fontsize=9)


def _by_level(ax: Any, runs: pd.DataFrame, x: str, y: str, label: str | None = None) -> None:
    g = runs.groupby(x)[y]
    m, s, n = g.mean(), g.std(ddof=1), g.count()
    half = 1.96 * s / np.sqrt(n.clip(lower=1))
    ax.fill_between(m.index, m - half, m + half, alpha=0.25)
    ax.plot(m.index, m.values, "o-", label=label or y)
    ax.set_xlabel(x)
    ax.set_ylabel(y)


def _levels(quick: bool, full: list[float], quick_levels: list[float]) -> list[float]:
    return quick_levels if quick else full


def _sweep(
    key: str, short: str, levels: list[float], extra: dict[str, Any] | None = None
) -> tuple[Arm, ...]:
    return tuple(
        Arm(f"{short}={v:g}", {key: v, **{k: f(v) for k, f in (extra or {}).items()}}, {short: v})
        for v in levels
    )


def _size(quick: bool) -> tuple[dict[str, Any], int]:
    return (dict(QUICK), QUICK_STEPS) if quick else (dict(FULL), FULL_STEPS)


# --- P1 -----------------------------------------------------------------------------------
def _p1_design(quick: bool) -> Design:
    base, steps = _size(quick)
    return Design((Arm("baseline"),), 6 if quick else 30, steps, base, firms=True)


def _p1(t: Tables, rng: np.random.Generator) -> Outcome:
    f = t.firms.assign(outward=1.0 - t.firms["inside"])
    est, per = st.rank_correlation(
        f, "position", "outward", name="rho(position, outward share)", sign=1, rope=0.1
    )
    fig, ax = _fig()
    bins = pd.cut(f["position"], np.linspace(0, 1, 11), include_lowest=True)
    mean = f.groupby(bins, observed=False)["outward"].mean()
    ax[0].plot(np.linspace(0.05, 0.95, 10), mean.values, "o-")
    ax[0].set_xlabel("position (capability percentile)")
    ax[0].set_ylabel("outward share 1 - inside")
    ax[0].set_title("outward share by position decile, pooled", fontsize=9)
    ax[1].plot(per.values, np.zeros(len(per)), "|", ms=20, alpha=0.6)
    _forest(ax[1], [est], "rho per replication and mean (95% CI)")
    return Outcome([est], fig)


# --- P2 -----------------------------------------------------------------------------------
P2_ARMS = {
    "no_in_cluster": ("all in-cluster channels", IN_CLUSTER),
    "no_spillover": ("spillover (C1, C3, C4, C5)", ("C1", "C3", "C4", "C5")),
    "no_coordination": ("coordination (C2)", ("C2",)),
    "no_resource": ("resource (A1-A5)", AUXILIARY),
}


def _p2_design(quick: bool) -> Design:
    base, steps = _size(quick)
    arms = [Arm("baseline")]
    arms += [Arm(name, channels_off(*codes)) for name, (_, codes) in P2_ARMS.items()]
    # Transaction-cost motive: learning inside costs as much as outward, whatever the
    # social capital (no saving left to earn).
    cost_out0 = Scenario.preset("baseline").with_overrides(base).decision.cost_out0
    arms.append(
        Arm("no_transaction_cost", {"decision.cost_in0": cost_out0, "decision.sc_discount": 0.0})
    )
    return Design(tuple(arms), 5 if quick else 20, steps, base, firms=True)


def _same_firm_gain(t: Tables, arm: str, n0: int) -> pd.Series:
    """Per replication: mean over initial firms alive in both arms of c(baseline) - c(arm),
    as a share of the arm's mean."""
    _, fb = t.arm("baseline")
    _, fa = t.arm(arm)
    keep = ["replication", "firm_id", "capability"]
    j = fb[keep].merge(fa[keep], on=["replication", "firm_id"], suffixes=("_on", "_off"))
    j = j[j["firm_id"] < n0]
    g = j.groupby("replication")
    return (g["capability_on"].mean() - g["capability_off"].mean()) / g["capability_off"].mean()


def _p2(t: Tables, rng: np.random.Generator) -> Outcome:
    _, fb = t.arm("baseline")
    n0 = int(t.runs["population_0"].iloc[0])
    parts = []
    for arm, label in [
        ("no_transaction_cost", "transaction-cost saving"),
        ("no_resource", "resource advantage (A1-A5)"),
        ("no_spillover", "spillover benefit (C1, C3-C5)"),
        ("no_coordination", "coordination benefit (C2)"),
        ("no_in_cluster", "all in-cluster channels"),
    ]:
        d = _same_firm_gain(t, arm, n0)
        e = st.mean_ci(
            d.to_numpy(),
            name=label,
            statistic="mean over replications of the same initial firms' capability with "
            "the effect on minus off, as a share of off",
            sign=1,
            rope=0.02,
        )
        parts.append(e)
    acc = fb.groupby("replication")[
        ["motive_transaction_cost", "motive_resource", "motive_spillover", "motive_coordination"]
    ].mean()
    notes = [
        "accounted motive effects (mean per firm, baseline; mean over replications): "
        + ", ".join(f"{k.removeprefix('motive_')} {v:.3g}" for k, v in acc.mean().items())
    ]
    fig, ax = _fig()
    ax[0].bar(
        [c.removeprefix("motive_").replace("_", " ") for c in acc.columns],
        acc.mean().values,
        yerr=1.96 * acc.std(ddof=1).values / np.sqrt(max(len(acc), 1)),
    )
    ax[0].tick_params(axis="x", labelsize=7)
    ax[0].set_title("accounted motive effects per firm (baseline)", fontsize=9)
    _forest(ax[1], parts, "capability gain of the same firms, on vs off")
    return Outcome(parts, fig, notes=notes)


# --- P3 -----------------------------------------------------------------------------------
# "Collapse" below the trust threshold: in-cluster flow at the lowest trust0 keeps less than
# this share of its level at the highest trust0.
COLLAPSE_SHARE = 0.5


def _p3_design(quick: bool) -> Design:
    base, steps = _size(quick)
    levels = _levels(
        quick, [round(x, 2) for x in np.linspace(0, 1, 11)], [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    )
    # The initial trust on ties starts at the baseline it drifts to.
    arms = _sweep("trust.trust0", "trust0", levels, {"trust.initial": lambda v: v})
    return Design(arms, 5 if quick else 20, steps, base)


def _p3(t: Tables, rng: np.random.Generator) -> Outcome:
    r = t.runs
    thr = st.threshold(
        r,
        "trust0",
        "flow_core",
        name="threshold: slope change of in-cluster flow",
        rng=rng,
        n_boot=300 if len(r) < 60 else 500,
        sign=0,  # a threshold is a change of slope of either sign; the collapse part below
        # carries the claim's direction and size
    )
    # Collapse: without trust, in-cluster flow keeps less than half of its level at full
    # trust (paired by replication: the arms share seeds).
    lo_lv, hi_lv = r["trust0"].min(), r["trust0"].max()
    low = r[r["trust0"] == lo_lv].set_index("replication")["flow_core"]
    high = r[r["trust0"] == hi_lv].set_index("replication")["flow_core"]
    low, high = low.align(high, join="inner")
    collapse = st.mean_ci(
        (COLLAPSE_SHARE - low / high).to_numpy(),
        name=f"collapse: flow at trust0={lo_lv:g} < {COLLAPSE_SHARE:g} x flow at {hi_lv:g}",
        statistic=f"mean over replications of {COLLAPSE_SHARE:g} - flow(lowest)/flow(highest)",
        sign=1,
        rope=0.02,
    )
    collapse.extra["ratio_low_to_high"] = float((low / high).mean())
    parts = [
        thr,
        collapse,
        st.trend(r, "trust0", "flow_core", name="in-cluster (core) flow rises with trust0"),
        st.trend(r, "trust0", "growth", name="growth rises with trust0"),
    ]
    fig, ax = _fig()
    _by_level(
        ax[0],
        r.assign(rel=r["flow_core"] / r.loc[r.trust0 == r.trust0.max(), "flow_core"].mean()),
        "trust0",
        "rel",
    )
    b = thr.extra.get("threshold", np.nan)
    if np.isfinite(b):
        ax[0].axvline(b, color="tab:red", ls="--", lw=1)
        ax[0].axvspan(
            thr.extra["threshold_ci_low"],
            thr.extra["threshold_ci_high"],
            color="tab:red",
            alpha=0.1,
        )
        xs = np.linspace(r.trust0.min(), r.trust0.max(), 50)
        means = thr.extra["level_means"]
        x0 = min(means)
        a = means[x0] - thr.extra["slope_below"] * x0
        ax[0].plot(
            xs, a + thr.extra["slope_below"] * xs + thr.effect * np.maximum(xs - b, 0), "k:", lw=1
        )
    ax[0].set_ylabel("core flow / flow at top trust0")
    ax[0].set_title("in-cluster flow vs trust0, hinge fit and threshold", fontsize=9)
    _forest(ax[1], parts)
    return Outcome(parts, fig)


# --- P4 -----------------------------------------------------------------------------------
def _p4_design(quick: bool) -> Design:
    base, steps = _size(quick)
    return Design((Arm("start", steps=0), Arm("end")), 6 if quick else 20, steps, base, firms=True)


def _p4(t: Tables, rng: np.random.Generator) -> Outcome:
    _, f0 = t.arm("start")
    _, f1 = t.arm("end")
    f0 = f0.assign(degree=f0["degree_social"] + f0["degree_value_chain"])
    f1 = f1.assign(
        degree=f1["degree_social"] + f1["degree_value_chain"],
        gain_in_cluster=f1[[f"gain_{c}" for c in IN_CLUSTER]].sum(axis=1),
        gain_total=f1[[f"gain_{c}" for c in (*IN_CLUSTER, "X1")]].sum(axis=1),
    )
    j = f0[["replication", "firm_id", "eigenvector", "alpha", "degree", "capability"]].merge(
        f1[["replication", "firm_id", "gain_in_cluster", "gain_total", "degree", "alpha"]],
        on=["replication", "firm_id"],
        suffixes=("_0", "_1"),
    )
    j = j.rename(columns={"eigenvector": "centrality", "alpha_0": "alpha"})
    j["centrality_gain"] = j["degree_1"] - j["degree_0"]
    j["alpha_gain"] = j["alpha_1"] - j["alpha"]
    # Initial capability is a control: alpha rises with capability by construction, and a
    # firm ahead has less to learn inside the cluster whatever its capacity.
    table, _ = st.firm_regression(
        j,
        "gain_in_cluster",
        ["centrality", "alpha", "capability"],
        interactions=[("centrality", "alpha")],
    )
    raw, _ = st.firm_regression(
        j, "gain_in_cluster", ["centrality", "alpha"], interactions=[("centrality", "alpha")]
    )
    # Interdependence, both ways: capacity -> later centrality gain, centrality -> later
    # capacity gain.
    t2, _ = st.firm_regression(j, "centrality_gain", ["alpha", "capability"])
    t3, _ = st.firm_regression(j, "alpha_gain", ["centrality", "capability"])
    table.loc["alpha -> centrality gain"] = t2.loc["alpha"]
    table.loc["centrality -> alpha gain"] = t3.loc["centrality"]
    parts = [
        st.coefficient_estimate(
            table, "centrality:alpha", name="interaction centrality x alpha", sign=-1
        ),
        st.coefficient_estimate(table, "centrality", name="centrality -> in-cluster gain", sign=1),
        st.coefficient_estimate(table, "alpha", name="alpha -> in-cluster gain", sign=1),
        st.coefficient_estimate(t2, "alpha", name="alpha -> centrality (degree) gain", sign=1),
        st.coefficient_estimate(t3, "centrality", name="centrality -> alpha gain", sign=1),
    ]
    total, _ = st.firm_regression(
        j,
        "gain_total",
        ["centrality", "alpha", "capability"],
        interactions=[("centrality", "alpha")],
    )
    notes = [
        "descriptive, not part of the verdict: with the total gain (in-cluster and outward) "
        "as outcome the coefficients are: "
        + ", ".join(
            f"{k} {total.loc[k, 'coef']:.3g} "
            f"[{total.loc[k, 'ci_low']:.3g}, {total.loc[k, 'ci_high']:.3g}]"
            for k in ("centrality", "alpha", "centrality:alpha")
        ),
        "without the capability control the coefficients are: "
        + ", ".join(
            f"{k} {raw.loc[k, 'coef']:.3g} "
            f"[{raw.loc[k, 'ci_low']:.3g}, {raw.loc[k, 'ci_high']:.3g}]"
            for k in ("centrality", "alpha", "centrality:alpha")
        ),
    ]
    fig, ax = _fig()
    hi = j["alpha"] >= j.groupby("replication")["alpha"].transform("median")
    for mask, lab in ((hi, "alpha above median"), (~hi, "alpha below median")):
        q = pd.qcut(j.loc[mask, "centrality"].rank(method="first"), 5, labels=False)
        m = j.loc[mask].groupby(q)["gain_in_cluster"].mean()
        ax[0].plot(np.arange(1, 6), m.values, "o-", label=lab)
    ax[0].set_xlabel("initial centrality quintile")
    ax[0].set_ylabel("in-cluster knowledge gain")
    ax[0].legend(fontsize=7)
    ax[0].set_title("gain by centrality, split by absorptive capacity", fontsize=9)
    _forest(ax[1], parts, "standardised coefficients (cluster-robust 95% CI)")
    return Outcome(parts, fig, table=table, notes=notes)


# --- P5 -----------------------------------------------------------------------------------
def _p5_design(quick: bool) -> Design:
    base, steps = _size(quick)
    return Design((Arm("baseline"),), 5 if quick else 20, steps, base, firms=True)


def _p5(t: Tables, rng: np.random.Generator) -> Outcome:
    f = t.firms
    ties = f["degree_social"] + f["degree_value_chain"]
    f = f.assign(
        gain_per_tie=f[[f"gain_{c}" for c in CORE]].sum(axis=1) / ties.where(ties > 0)
    ).dropna(subset=["gain_per_tie"])
    e1, _ = st.rank_correlation(
        f, "social_capital", "cost_in", name="rho(sc, transaction cost)", sign=-1
    )
    e2, _ = st.rank_correlation(
        f, "social_capital", "gain_per_tie", name="rho(sc, core flow per tie)", sign=1
    )
    fig, ax = _fig()
    ax[0].scatter(f["social_capital"], f["gain_per_tie"], s=4, alpha=0.3)
    ax[0].set_xlabel("social capital sc")
    ax[0].set_ylabel("core knowledge gain per tie")
    ax[0].set_title("sharing efficiency vs social capital", fontsize=9)
    _forest(ax[1], [e1, e2], "rank correlations (95% CI)")
    notes = [
        "transaction cost is cost_in0 (1 - sc_discount sc) by construction: part 1 checks "
        "the wiring, part 2 is the model's answer"
    ]
    return Outcome([e2, e1], fig, notes=notes)


# --- P6 -----------------------------------------------------------------------------------
def _p6_design(quick: bool) -> Design:
    base, steps = _size(quick)
    s_lv = _levels(quick, [1, 2, 3, 4, 6, 8], [1, 2, 4, 6])
    v_lv = _levels(quick, [0.0, 1.0, 2.0, 4.0, 6.0], [0.0, 2.0, 4.0])
    arms = tuple(Arm(f"stages={s}", {"firms.stages": s}, {"stages": s}) for s in s_lv)
    arms += tuple(
        Arm(f"vc_degree={v:g}", {"networks.value_chain.mean_degree": v}, {"vc_degree": v})
        for v in v_lv
    )
    return Design(arms, 5 if quick else 20, steps, base)


def _p6(t: Tables, rng: np.random.Generator) -> Outcome:
    r = t.runs
    rs = r[r["arm"].str.startswith("stages=")]
    rv = r[r["arm"].str.startswith("vc_degree=")]
    parts = [
        st.trend(rs, "stages", "flow_C2", name="C2 flow rises with stages S"),
        st.trend(rs, "stages", "value_chain_ties", name="value-chain ties rise with S"),
        st.trend(rs, "stages", "growth", name="growth rises with S"),
        st.trend(rv, "vc_degree", "flow_C2", name="C2 flow rises with value-chain density"),
        st.trend(rv, "vc_degree", "growth", name="growth rises with value-chain density"),
    ]
    fig, ax = _fig(3, 12)
    _by_level(ax[0], rs, "stages", "flow_C2")
    ax[0].set_title("cooperation flow vs stages", fontsize=9)
    _by_level(ax[1], rv, "vc_degree", "flow_C2")
    ax[1].set_title("cooperation flow vs value-chain degree", fontsize=9)
    _forest(ax[2], parts, "relative change over the range (95% CI)")
    return Outcome(parts, fig)


# --- P7 -----------------------------------------------------------------------------------
def _lever_design(key: str, short: str, quick: bool, firms: bool = False) -> Design:
    base, steps = _size(quick)
    lv = _levels(quick, [0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 0.5, 1.0])
    return Design(_sweep(key, short, lv), 5 if quick else 20, steps, base, firms=firms)


def _p7(t: Tables, rng: np.random.Generator) -> Outcome:
    r = t.runs
    parts = [
        st.trend(r, "it", "flow_combination", name="combination volume rises with IT"),
        st.trend(r, "it", "diffusion_time", name="diffusion time falls with IT", sign=-1),
    ]
    fig, ax = _fig(3, 12)
    _by_level(ax[0], r, "it", "flow_combination")
    _by_level(ax[1], r, "it", "diffusion_time")
    _forest(ax[2], parts, "relative change over the range (95% CI)")
    return Outcome(parts, fig)


# --- P8 -----------------------------------------------------------------------------------
def _p8(t: Tables, rng: np.random.Generator) -> Outcome:
    f = t.firms
    g = f[[f"gain_{c}" for c in (*IN_CLUSTER, "X1")]].clip(lower=0.0)
    total = g.sum(axis=1)
    share = g.div(total.where(total > 0), axis=0).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(share * np.log(share.where(share > 0))).sum(axis=1)
    f = f.assign(flow_volume=total, inflow_diversity=np.exp(h), exposure=f["age"].clip(lower=1))
    table, _ = st.firm_regression(
        f, "innovations", ["flow_volume", "inflow_diversity"], family="poisson", offset="exposure"
    )
    parts = [
        st.coefficient_estimate(table, "flow_volume", name="flow volume -> innovations"),
        st.coefficient_estimate(table, "inflow_diversity", name="inflow diversity -> innovations"),
    ]
    fig, ax = _fig()
    q = pd.qcut(f["flow_volume"].rank(method="first"), 5, labels=False)
    qd = pd.qcut(f["inflow_diversity"].rank(method="first"), 5, labels=False)
    rate = f["innovations"] / f["exposure"]
    ax[0].plot(np.arange(1, 6), rate.groupby(q).mean().values, "o-", label="by flow volume")
    ax[0].plot(np.arange(1, 6), rate.groupby(qd).mean().values, "s-", label="by inflow diversity")
    ax[0].set_xlabel("quintile")
    ax[0].set_ylabel("innovations per step alive")
    ax[0].legend(fontsize=7)
    _forest(ax[1], parts, "log rate ratio per SD (cluster-robust 95% CI)")
    return Outcome(parts, fig, table=table)


# --- P9 -----------------------------------------------------------------------------------
def _p9_design(quick: bool) -> Design:
    base, steps = _size(quick)
    arms = (
        Arm("baseline"),
        Arm("no_auxiliary", channels_off(*AUXILIARY)),
        Arm("no_exterior", channels_off("X1")),
        Arm("no_core", channels_off(*CORE)),
    )
    return Design(arms, 6 if quick else 20, steps, base)


def _paired(t: Tables, arm: str, y: str, name: str, sign: int) -> st.Estimate:
    a, _ = t.arm("baseline")
    b, _ = t.arm(arm)
    return st.paired_difference(a[y], b[y], name=name, sign=sign, rope=0.02)


def _p9(t: Tables, rng: np.random.Generator) -> Outcome:
    parts = [
        _paired(
            t, "no_auxiliary", "p10_capability", "no auxiliary: low-position (p10) capability", -1
        ),
        _paired(t, "no_exterior", "catch_up", "no exterior: catch-up to the frontier", -1),
        _paired(t, "no_exterior", "max_capability", "no exterior: best firm's capability", -1),
        _paired(t, "no_core", "mean_capability", "no core: mean capability", -1),
    ]
    fig, ax = _fig()
    r = t.runs
    order = ["baseline", "no_auxiliary", "no_exterior", "no_core"]
    for k, y in enumerate(["p10_capability", "mean_capability", "max_capability"]):
        m = r.groupby("arm")[y].mean().reindex(order)
        ax[0].bar(np.arange(4) + (k - 1) * 0.27, m.values, width=0.27, label=y)
    ax[0].set_xticks(np.arange(4), order, fontsize=7)
    ax[0].legend(fontsize=7)
    ax[0].set_title("final capability by ablation", fontsize=9)
    _forest(ax[1], parts, "ablation minus baseline, share of baseline (95% CI)")
    return Outcome(parts, fig)


# --- P10 ----------------------------------------------------------------------------------
BETTER = {
    "environment.public_services": 0.8,
    "environment.cluster_agents": 0.8,
    "environment.it_infrastructure": 0.8,
    "environment.contract_enforcement": 0.8,
    "environment.tech_market": 0.8,
    "environment.openness": 0.8,
}


def _p10_design(quick: bool) -> Design:
    base, steps = _size(quick)
    at = steps // 2
    iv = [{"at": at, "ramp": max(1, steps // 10), "set": dict(BETTER)}]
    arms = (
        Arm("baseline"),
        Arm("better", dict(BETTER)),
        Arm("intervention", {"interventions": iv}),
    )
    return Design(arms, 5 if quick else 20, steps, base)


def _p10(t: Tables, rng: np.random.Generator) -> Outcome:
    parts = [
        _paired(t, "better", "catch_up", "better levers: catch-up", 1),
        _paired(t, "better", "output_growth", "better levers: output growth", 1),
        _paired(t, "intervention", "catch_up", "mid-run intervention: catch-up", 1),
    ]
    fig, ax = _fig()
    r = t.runs
    order = ["baseline", "better", "intervention"]
    m = r.groupby("arm")["catch_up"].agg(["mean", "std", "count"]).reindex(order)
    ax[0].bar(order, m["mean"], yerr=1.96 * m["std"] / np.sqrt(m["count"]))
    ax[0].set_ylabel("final catch-up index")
    _forest(ax[1], parts, "paired difference, share of baseline (95% CI)")
    return Outcome(parts, fig)


# --- P11 ----------------------------------------------------------------------------------
def _p11(t: Tables, rng: np.random.Generator) -> Outcome:
    r = t.runs.assign(p10_catch_up=t.runs["p10_capability"] / t.runs["frontier"])
    f = t.firms
    ent = f.assign(entrant=f["parent"] >= 0)
    per = (
        ent.groupby(["replication", "arm", "tech_market", "entrant"])["capability"].mean().unstack()
    )
    rel = pd.DataFrame({"tech_market": per.index.get_level_values("tech_market")})
    rel["entrant_relative"] = (per.get(True, np.nan) / per.get(False, np.nan)).to_numpy()
    parts = [
        st.trend(r, "tech_market", "p10_catch_up", name="low-position (p10) catch-up rises"),
        st.trend(
            rel, "tech_market", "entrant_relative", name="entrants' relative capability rises"
        ),
    ]
    fig, ax = _fig(3, 12)
    _by_level(ax[0], r, "tech_market", "p10_catch_up")
    _by_level(ax[1], rel.dropna(), "tech_market", "entrant_relative")
    _forest(ax[2], parts, "relative change over the range (95% CI)")
    return Outcome(parts, fig)


# --- P12 ----------------------------------------------------------------------------------
def _p12(t: Tables, rng: np.random.Generator) -> Outcome:
    r = t.runs
    parts = [
        st.trend(
            r, "culture", "flow_socialisation", name="socialisation volume rises with culture"
        ),
        st.trend(r, "culture", "flow_C1", name="informal exchange (C1) rises with culture"),
    ]
    fig, ax = _fig()
    _by_level(ax[0], r, "culture", "flow_socialisation")
    _forest(ax[1], parts, "relative change over the range (95% CI)")
    return Outcome(parts, fig)


def _firm_baseline(quick: bool) -> Design:
    base, steps = _size(quick)
    return Design((Arm("baseline"),), 5 if quick else 20, steps, base, firms=True)


PROPOSITIONS: dict[str, Proposition] = {
    p.id: p
    for p in [
        Proposition(
            "P1",
            "position and learning mode",
            "High-position firms prefer outward learning, low-position firms in-cluster "
            "follow-up learning.",
            "the enterprises on higher business positions in the clusters intend to follow "
            "extraversive learning pattern, and enterprises on lower business positions are apt "
            "to take running-after learning pattern",
            "rank correlation of position with 1 - inside, positive across replications",
            "Spearman rho of position and outward share across firms, mean over replications",
            _p1_design,
            _p1,
        ),
        Proposition(
            "P2",
            "motives: being in the cluster pays",
            "Each of the four motive effects (transaction-cost saving, resource advantage, "
            "spillover benefit, coordination benefit) raises the same firms' capability.",
            "enterprises of industrial clusters are encouraged to learn collectively for the "
            "purposes of transaction costs saving, advantage of resources, benefit of knowledge "
            "spill-over, effect of coordination",
            "same firms with in-cluster channels on vs off; each effect's mean with a CI",
            "same initial firms' final capability, effect on minus off (common random numbers)",
            _p2_design,
            _p2,
        ),
        Proposition(
            "P3",
            "social trust as a precondition",
            "Social trust is a precondition: in-cluster learning bends at a threshold of "
            "baseline trust and, without trust, collapses to less than half its level.",
            "constructing social trust of industrial cluster is a basic condition",
            "growth and in-cluster flow against trust0; a threshold below which in-cluster "
            "learning collapses",
            "hinge (piecewise-linear) fit of core flow on trust0: slope change and breakpoint, "
            "bootstrap over replications; dose-response trends",
            _p3_design,
            _p3,
        ),
        Proposition(
            "P4",
            "absorptive capacity and network position",
            "Absorptive capacity and network position are interdependent, and capacity "
            "moderates (neutralises) the role of position in acquiring knowledge.",
            "Enterprises' network status and abilities to absorb knowledge are interdependent, "
            "the abilities to absorb knowledge can neutralize the roles that networks play in "
            "knowledge acquisition",
            "regression of a firm's learning gain on centrality, alpha and their interaction; "
            "centrality gain of high-alpha firms",
            "OLS of in-cluster gain on initial centrality, alpha and centrality x alpha, "
            "controlling for initial capability (standardised, replication fixed effects, SE "
            "clustered by replication)",
            _p4_design,
            _p4,
        ),
        Proposition(
            "P5",
            "social capital",
            "Social capital lowers transaction cost and raises sharing efficiency.",
            "The increasing of social capital has a major function in reducing transaction "
            "cost, enhancing sharing efficiency and promoting technological learning",
            "transaction cost and flow per tie against sc",
            "Spearman rho across firms, mean over replications",
            _firm_baseline,
            _p5,
        ),
        Proposition(
            "P6",
            "division of labour",
            "Deeper division of labour raises linkage between firms and their learning.",
            "deepening of labour division and cooperation among the enterprises forms "
            "connections of enterprises in a cluster. Connecting degree of enterprises affects "
            "sharing degree of knowledge",
            "S and value-chain density against C2 flow and growth",
            "OLS dose-response over runs: change across the factor range / mean (HC3)",
            _p6_design,
            _p6,
        ),
        Proposition(
            "P7",
            "information technology",
            "IT raises the efficiency of knowledge flow: more combination, faster diffusion.",
            "The information technology can establish the channel to transmit and share virtual "
            "knowledge among the enterprises in a cluster, so as to ensure the high efficiency "
            "of knowledge flow",
            "combination volume up and innovation diffusion time down with it_infrastructure",
            "OLS dose-response over runs: change across the factor range / mean (HC3)",
            lambda q: _lever_design("environment.it_infrastructure", "it", q),
            _p7,
        ),
        Proposition(
            "P8",
            "knowledge flow drives innovation",
            "The scale and efficiency of knowledge flows drive the cluster's innovation.",
            "Knowledge flow of industrial clusters is one of main causes for Industrial cluster "
            "innovation. The extension and efficiency of knowledge flow would have a direct "
            "effect on structure and operation of industrial cluster innovation system",
            "innovation rate against flow volume and inflow diversity",
            "Poisson regression of a firm's innovations on flow volume and inflow diversity "
            "(exposure: age; replication fixed effects; SE clustered by replication)",
            _firm_baseline,
            _p8,
        ),
        Proposition(
            "P9",
            "all three networks matter",
            "Without the auxiliary network low-position firms fall behind; without the "
            "exterior network the cluster locks in and falls behind the global frontier.",
            "This ecosystem is divided into three networks, namely core network, auxiliary "
            "network and exterior network",
            "ablations of each layer",
            "paired difference ablation minus baseline (common random numbers), share of baseline",
            _p9_design,
            _p9,
        ),
        Proposition(
            "P10",
            "a better environment",
            "A better environment (public services, cluster agents, IT, enforcement, technology "
            "market, openness) raises learning performance, also when introduced mid-run.",
            "Advantageous circumstance can ensure the effectiveness of collective technological "
            "learning mechanism in cluster",
            "policy levers and mid-run interventions against catch-up and growth",
            "paired difference against the baseline (common random numbers), share of baseline",
            _p10_design,
            _p10,
        ),
        Proposition(
            "P11",
            "the technology market",
            "The technology market lowers entry barriers: low-position firms and entrants "
            "catch up.",
            "As a neutral market, techniques market can provide the cluster for continuous "
            "learning resources, simultaneously reduce the technical admittance barriers",
            "catch-up of low-position firms and entrants with tech_market",
            "OLS dose-response over runs: change across the factor range / mean (HC3)",
            lambda q: _lever_design("environment.tech_market", "tech_market", q, firms=True),
            _p11,
        ),
        Proposition(
            "P12",
            "culture and tacit knowledge",
            "Shared local culture helps tacit knowledge spread.",
            "Cultural characteristics of clusters are also positive factors for tacit knowledge "
            "diffusion and share",
            "socialisation volume against culture",
            "OLS dose-response over runs: change across the factor range / mean (HC3)",
            lambda q: _lever_design("environment.culture", "culture", q),
            _p12,
        ),
    ]
}
