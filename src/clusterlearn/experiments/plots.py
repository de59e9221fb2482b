"""Figures of an experiment (matplotlib, Agg) and its Markdown report.

Each plotting function returns a :class:`matplotlib.figure.Figure`; :func:`write_report` saves
them next to a ``report.md`` with the summary tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from clusterlearn.experiments.analyse import (
    SobolIndices,
    describe,
    headline,
    main_effects,
)

if TYPE_CHECKING:
    from clusterlearn.experiments.results import ExperimentResults


def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def plot_main_effects(res: ExperimentResults, outcome: str, bins: int = 5) -> Figure:
    """Mean ``outcome`` against each factor's levels, with confidence bands."""
    eff = main_effects(res.final, res.factors, outcome, bins=bins)
    k = len(res.factors)
    fig, axes = plt.subplots(1, k, figsize=(3.2 * k, 3.0), sharey=True, squeeze=False)
    for ax, f in zip(axes[0], res.factors, strict=True):
        e = eff[eff["factor"] == f]
        if _numeric(e["level"]):
            x = e["level"].astype(float)
            ax.plot(x, e["mean"], marker="o")
            ax.fill_between(x, e["ci_low"], e["ci_high"], alpha=0.25)
        else:
            pos = np.arange(len(e))
            ax.errorbar(pos, e["mean"], yerr=[e["mean"] - e["ci_low"], e["ci_high"] - e["mean"]],
                        fmt="o", capsize=3)  # fmt: skip
            ax.set_xticks(pos, [str(v) for v in e["level"]], rotation=30, fontsize=7)
        ax.set_xlabel(f, fontsize=8)
    axes[0][0].set_ylabel(outcome)
    fig.suptitle(f"Main effects on {outcome}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_interaction(
    res: ExperimentResults, outcome: str, x: str | None = None, y: str | None = None, bins: int = 5
) -> Figure:
    """Heat map of mean ``outcome`` over two factors (levels, or bins of sampled values)."""
    x = x or res.factors[0]
    y = y or res.factors[1 if len(res.factors) > 1 else 0]
    df = res.final[[x, y, outcome]].copy()
    for f in {x, y}:
        if df[f].nunique() > bins and _numeric(df[f]):
            df[f] = pd.qcut(df[f], bins, duplicates="drop").map(lambda iv: round(iv.mid, 3))
    table = df.pivot_table(index=y, columns=x, values=outcome, aggfunc="mean", observed=True)
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    im = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(table.shape[1]), [f"{v:.3g}" if isinstance(v, float) else str(v)
                                          for v in table.columns], fontsize=7)  # fmt: skip
    ax.set_yticks(range(table.shape[0]), [f"{v:.3g}" if isinstance(v, float) else str(v)
                                          for v in table.index], fontsize=7)  # fmt: skip
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    fig.colorbar(im, ax=ax, label=outcome)
    ax.set_title(f"{outcome}: {x} x {y}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_sensitivity(indices: SobolIndices | pd.DataFrame, title: str = "") -> Figure:
    """Bars of Sobol (S1, ST) or Morris (mu*) indices with their confidence intervals."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    if isinstance(indices, SobolIndices):
        t = indices.table()
        pos = np.arange(len(t))
        ax.bar(pos - 0.2, t["S1"], 0.4, yerr=t["S1_conf"], capsize=3, label="first order S1")
        ax.bar(pos + 0.2, t["ST"], 0.4, yerr=t["ST_conf"], capsize=3, label="total ST")
        ax.set_xticks(pos, t["factor"], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("Sobol index")
        ax.legend(fontsize=7)
        title = title or f"Sobol indices of {indices.outcome}"
    else:
        t = indices.sort_values("mu_star", ascending=False)
        pos = np.arange(len(t))
        ax.bar(pos, t["mu_star"], yerr=t["mu_star_conf"], capsize=3, label="mu*")
        ax.plot(pos, t["sigma"], "o", color="C3", label="sigma")
        ax.set_xticks(pos, t["factor"], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("elementary effect")
        ax.legend(fontsize=7)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_outcome_vs_factor(res: ExperimentResults, outcome: str, factor: str) -> Figure:
    """Every run's ``outcome`` against ``factor``, with the mean and its band per point."""
    final = res.final
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    if not _numeric(final[factor]):
        final = final.assign(**{factor: final[factor].astype(str)})
    ax.scatter(final[factor], final[outcome], s=8, alpha=0.4, color="grey", label="runs")
    means = main_effects(final, [factor], outcome, bins=max(final[factor].nunique(), 1))
    if _numeric(means["level"]):
        means = means.sort_values("level")
        ax.plot(means["level"], means["mean"], color="C0", label="mean")
        ax.fill_between(means["level"].astype(float), means["ci_low"], means["ci_high"],
                        alpha=0.25, color="C0", label="95% CI")  # fmt: skip
    ax.set_xlabel(factor)
    ax.set_ylabel(outcome)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (numbers to 4 significant digits)."""

    def cell(v: object) -> str:
        if isinstance(v, float | np.floating):
            return f"{v:.4g}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def write_report(res: ExperimentResults, out: Path, outcomes: list[str] | None = None) -> Path:
    """Write ``report.md`` and its figures to ``out``; returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    d = describe(res)
    lines = [
        f"# Experiment {res.name}",
        "",
        str(res.spec.get("description", "")),
        "",
        f"- design: {res.method}, {len(res.design)} points x {res.replications} replications",
        f"- runs: {d['done']} done, {d['failed']} failed, {d['pending']} pending (of {d['total']})",
        f"- seconds per run (mean): {d['mean_seconds_per_run']:.3f}; workers used: {d['workers']}",
        f"- seed: {res.spec['seed']}; clusterlearn {res.versions.get('clusterlearn', '?')}",
        "",
    ]
    if d["done"] == 0:
        path = out / "report.md"
        path.write_text("\n".join([*lines, "No run is stored yet.", ""]), encoding="utf-8")
        return path
    outs = outcomes or headline(res)
    figs: list[tuple[str, Figure]] = []
    for o in outs:
        lines += [f"## {o}", ""]
        summ = res.summary([o])
        lines += [markdown_table(summ.drop(columns="outcome").head(30)),
                  ""]  # fmt: skip
        figs.append((f"main_effects_{o}.png", plot_main_effects(res, o)))
        lines.append(f"![main effects](main_effects_{o}.png)\n")
        if len(res.factors) >= 2:
            figs.append((f"interaction_{o}.png", plot_interaction(res, o)))
            lines.append(f"![interaction](interaction_{o}.png)\n")
        f0 = res.factors[0]
        figs.append((f"{o}_vs_factor.png", plot_outcome_vs_factor(res, o, f0)))
        lines.append(f"![{o} against {f0}]({o}_vs_factor.png)\n")
        if res.counts["pending"] == 0 and res.method in ("sobol", "morris"):
            try:
                idx = res.sobol(o) if res.method == "sobol" else res.morris(o)
            except Exception as exc:  # e.g. failed points: report why, keep the rest
                lines.append(f"Sensitivity indices not available: {exc}\n")
            else:
                table = idx.table() if isinstance(idx, SobolIndices) else idx
                lines += [f"### {res.method.capitalize()} indices", "",
                          markdown_table(table), ""]  # fmt: skip
                if isinstance(idx, SobolIndices) and idx.second is not None:
                    lines += ["Second order:", "", markdown_table(idx.second), ""]
                figs.append((f"sensitivity_{o}.png", plot_sensitivity(idx)))
                lines.append(f"![sensitivity](sensitivity_{o}.png)\n")
    if d["failed"]:
        lines += ["## Failed runs", "", markdown_table(res.failures.head(20)), ""]
    for name, fig in figs:
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
