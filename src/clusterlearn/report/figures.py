"""The run report's figures, drawn with matplotlib from a :class:`~clusterlearn.Result`.

Every figure is a function of the result's tables only (``metrics``, ``flows``, ``firms``,
``innovations``, ``edges``), so a saved and reloaded result draws the same pictures. Figures
are built on :class:`matplotlib.figure.Figure` directly (no pyplot): no global state, and the
Agg/SVG canvases are picked by ``savefig`` from the file format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from clusterlearn.model.channels import channels

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from clusterlearn.result import Result

SECI_ORDER = ("socialisation", "externalisation", "combination", "internalisation")
# Largest number of firms the network figure draws; bigger clusters are subsampled so the
# picture stays readable and the SVG small.
MAX_DRAWN_FIRMS = 2500
MAX_DRAWN_EDGES = 20_000

_NETWORK_COLOURS = {
    "core": ["#08306b", "#2171b5", "#4292c6", "#6baed6", "#9ecae1"],
    "auxiliary": ["#00441b", "#238b45", "#41ab5d", "#74c476", "#a1d99b"],
    "exterior": ["#d94801"],
}
_SECI_COLOURS = {
    "socialisation": "#1b9e77",
    "externalisation": "#d95f02",
    "combination": "#7570b3",
    "internalisation": "#e7298a",
}


@dataclass(frozen=True)
class FigureSpec:
    """One figure of the report: a file name, a title, a caption and its drawing function."""

    name: str
    title: str
    caption: str
    draw: Callable[[Result], Figure]


def channel_colours() -> dict[str, str]:
    """A colour per channel code, shaded by network: core blue, auxiliary green, exterior orange."""
    out: dict[str, str] = {}
    used = {k: 0 for k in _NETWORK_COLOURS}
    for ch in channels():
        pal = _NETWORK_COLOURS[ch.network]
        out[ch.code] = pal[used[ch.network] % len(pal)]
        used[ch.network] += 1
    return out


def channel_names() -> dict[str, str]:
    """Channel code -> readable name, e.g. ``C1 -> "C1 informal"``."""
    return {ch.code: f"{ch.code} {ch.name}" for ch in channels()}


def _new(ncols: int = 1, width: float = 7.5, height: float = 4.0) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.grid(True, alpha=0.25, linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, list(axes)


def _steps(result: Result) -> np.ndarray:
    return result.metrics["step"].to_numpy()


def _bars(ax: Axes, t: np.ndarray, y: np.ndarray, **kw: object) -> None:
    """Bars per step; a filled step line for long runs, where thousands of bars are slow."""
    if len(t) > 200:
        ax.fill_between(t, y, step="mid", linewidth=0, **kw)  # type: ignore[arg-type]
    else:
        ax.bar(t, y, width=0.9, **kw)  # type: ignore[arg-type]


def _empty_note(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


# --- the figures ---------------------------------------------------------------------------
def capability(result: Result) -> Figure:
    m = result.metrics
    t = _steps(result)
    fig, (ax,) = _new()
    ax.fill_between(
        t,
        m["p10_capability"],
        m["p90_capability"],
        color="#9ecae1",
        alpha=0.6,
        label="10th-90th percentile",
        linewidth=0,
    )
    ax.plot(t, m["median_capability"], color="#08519c", lw=2, label="median")
    ax.plot(t, m["mean_capability"], color="#08519c", lw=1, ls="--", label="mean")
    ax.plot(t, m["max_capability"], color="#6a51a3", lw=1, ls=":", label="cluster best")
    ax.plot(t, m["frontier"], color="#cb181d", lw=2, label="global frontier (stage-relevant)")
    ax.set_xlabel("step (quarter)")
    ax.set_ylabel("capability c = w[stage] · T")
    # Below the axes: the band and the frontier leave no free corner inside.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
    return fig


def catch_up(result: Result) -> Figure:
    m = result.metrics
    t = _steps(result)
    fig, (ax,) = _new(height=3.2)
    ax.plot(t, m["catch_up"], color="#cb181d", lw=2)
    ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("step (quarter)")
    ax.set_ylabel("catch-up index\nmean c / mean frontier")
    top = float(np.nanmax(m["catch_up"].to_numpy())) if len(m) else 1.0
    ax.set_ylim(0.0, max(1.05, top * 1.1) if np.isfinite(top) else 1.05)
    return fig


def flows_by_channel(result: Result) -> Figure:
    f = result.flows
    codes = [ch.code for ch in channels() if ch.code in f.columns]
    colours = channel_colours()
    names = channel_names()
    fig, (ax1, ax2) = _new(ncols=2, width=10.0, height=4.2)
    # Step 0 is the initial state, with no flows; drop it from the area.
    ff = f[f["step"] > 0]
    if len(ff):
        ax1.stackplot(
            ff["step"],
            *(ff[c].to_numpy() for c in codes),
            labels=[names[c] for c in codes],
            colors=[colours[c] for c in codes],
            linewidth=0,
        )
    else:
        _empty_note(ax1, "no steps run")
    ax1.set_xlabel("step (quarter)")
    ax1.set_ylabel("knowledge absorbed per step")
    ax1.set_title("per step, stacked", fontsize=10)
    totals = f[codes].sum()
    ax2.barh(range(len(codes)), totals.to_numpy(), color=[colours[c] for c in codes])
    ax2.set_yticks(range(len(codes)), [names[c] for c in codes], fontsize=8)
    ax2.invert_yaxis()
    ax2.set_xlabel("total knowledge absorbed")
    ax2.set_title("whole run, by channel", fontsize=10)
    # No legend on the stack: the bars on the right name each colour.
    return fig


def seci(result: Result) -> Figure:
    f = result.flows
    fig, (ax1, ax2) = _new(ncols=2, width=10.0, height=4.2)
    ff = f[f["step"] > 0]
    for name in SECI_ORDER:
        if name in ff.columns:
            ax1.plot(ff["step"], ff[name], color=_SECI_COLOURS[name], lw=1.8, label=name)
    if not len(ff):
        _empty_note(ax1, "no steps run")
    ax1.set_xlabel("step (quarter)")
    ax1.set_ylabel("volume per step")
    ax1.legend(fontsize=8, frameon=False)
    ax1.set_title("the four conversions over time", fontsize=10)
    # Nonaka's matrix: S (tacit->tacit) top left, E (tacit->explicit) top right,
    # I (explicit->tacit) bottom left, C (explicit->explicit) bottom right; the spiral
    # runs S -> E -> C -> I.
    totals = {k: float(f[k].sum()) if k in f.columns else 0.0 for k in SECI_ORDER}
    top = max(max(totals.values()), 1e-12)
    cells = {
        "socialisation": (0, 1),
        "externalisation": (1, 1),
        "internalisation": (0, 0),
        "combination": (1, 0),
    }
    for name, (cx, cy) in cells.items():
        share = totals[name] / top
        ax2.add_patch(_square(cx, cy, _SECI_COLOURS[name], 0.15 + 0.75 * share))
        ax2.text(
            cx + 0.5, cy + 0.58, name, ha="center", va="center", fontsize=10, fontweight="bold"
        )
        ax2.text(cx + 0.5, cy + 0.38, f"{totals[name]:,.1f}", ha="center", va="center", fontsize=9)
    for (x0, y0), (x1, y1) in (
        ((0.8, 1.5), (1.2, 1.5)),
        ((1.5, 1.2), (1.5, 0.8)),
        ((1.2, 0.5), (0.8, 0.5)),
        ((0.5, 0.8), (0.5, 1.2)),
    ):
        ax2.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={"arrowstyle": "->", "color": "0.2", "lw": 1.5},
        )
    ax2.set_xlim(0, 2)
    ax2.set_ylim(0, 2)
    ax2.set_aspect("equal")
    ax2.set_xticks([0.5, 1.5], ["to tacit", "to explicit"])
    ax2.set_yticks([0.5, 1.5], ["from explicit", "from tacit"])
    ax2.grid(False)
    ax2.set_title("the spiral: whole-run volumes", fontsize=10)
    return fig


def _square(x: float, y: float, colour: str, alpha: float) -> Rectangle:
    return Rectangle(
        (x + 0.03, y + 0.03), 0.94, 0.94, facecolor=colour, alpha=alpha, edgecolor="0.3"
    )


def learning_mode(result: Result) -> Figure:
    from scipy.stats import spearmanr

    firms = result.firms
    fig, (ax1, ax2) = _new(ncols=2, width=10.0, height=4.2)
    pos = firms["position"].to_numpy()
    out = 1.0 - firms["inside"].to_numpy()
    if len(firms) > 1:
        ax1.scatter(pos, out, s=8, alpha=0.35, color="#2171b5", linewidths=0, label="firm")
        bins = np.minimum((pos * 5).astype(int), 4)
        means = pd.Series(out).groupby(bins).mean()
        ax1.plot(
            (means.index.to_numpy() + 0.5) / 5,
            means.to_numpy(),
            "o-",
            color="#cb181d",
            lw=2,
            label="quintile mean",
        )
        rho = spearmanr(pos, out).statistic if np.ptp(out) > 0 else float("nan")
        ax1.set_title(f"at the end: rank correlation ρ = {rho:.2f}", fontsize=10)
        ax1.legend(fontsize=8, frameon=False)
    else:
        _empty_note(ax1, "too few firms")
    ax1.set_xlabel("position (capability percentile)")
    ax1.set_ylabel("outward share of learning (1 - inside)")
    ax1.set_ylim(-0.03, 1.03)
    m = result.metrics
    t = _steps(result)
    cmap = ["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]
    labels = ["lowest", "2nd", "3rd", "4th", "highest"]
    for k in range(5):
        ax2.plot(t, 1.0 - m[f"inside_q{k + 1}"], color=cmap[k], lw=2, label=f"{labels[k]} quintile")
    ax2.set_xlabel("step (quarter)")
    ax2.set_ylabel("mean outward share")
    ax2.set_ylim(-0.03, 1.03)
    ax2.set_title("by position quintile over time", fontsize=10)
    ax2.legend(fontsize=8, frameon=False)
    return fig


def trust(result: Result) -> Figure:
    m = result.metrics
    t = _steps(result)
    fig, (ax,) = _new(height=3.6)
    ax.plot(t, m["mean_trust"], color="#238b45", lw=2, label="mean trust (all firm-firm ties)")
    ax.plot(t, m["mean_trust_social"], color="#74c476", lw=1.2, ls="--", label="social ties")
    ax.plot(
        t, m["mean_trust_value_chain"], color="#005a32", lw=1.2, ls=":", label="value-chain ties"
    )
    ax.plot(t, m["mean_social_capital"], color="#6a51a3", lw=2, label="mean social capital")
    ax.set_ylim(0, 1)
    ax.set_xlabel("step (quarter)")
    ax.set_ylabel("level in [0, 1]")
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    return fig


def network(result: Result) -> Figure:
    firms = result.firms.reset_index(drop=True)
    fig, (ax,) = _new(width=7.0, height=6.6)
    ax.grid(False)
    n = len(firms)
    if n == 0:
        _empty_note(ax, "no firms")
        return fig
    all_gatekeepers = int(firms["gatekeeper"].astype(bool).sum())
    if n > MAX_DRAWN_FIRMS:
        pick = np.sort(
            np.random.default_rng(result.seed % 2**63).choice(n, MAX_DRAWN_FIRMS, replace=False)
        )
        firms = firms.iloc[pick].reset_index(drop=True)
        ax.set_title(f"{MAX_DRAWN_FIRMS:,} of {n:,} firms drawn (random sample)", fontsize=10)
    index = pd.Series(np.arange(len(firms)), index=firms["firm_id"].to_numpy())
    xy = firms[["x", "y"]].to_numpy()
    for layer, colour, width in (("social", "0.6", 0.4), ("value_chain", "#fd8d3c", 0.7)):
        e = result.edges.get(layer)
        if e is None or not len(e):
            continue
        a = index.reindex(e["source"].to_numpy()).to_numpy()
        b = index.reindex(e["target"].to_numpy()).to_numpy()
        ok = ~(np.isnan(a) | np.isnan(b))
        a, b = a[ok].astype(int)[:MAX_DRAWN_EDGES], b[ok].astype(int)[:MAX_DRAWN_EDGES]
        segs = np.stack([xy[a], xy[b]], axis=1)
        ax.add_collection(
            LineCollection(
                list(segs),
                colors=colour,
                linewidths=width,
                alpha=0.35,
                label=f"{layer.replace('_', '-')} tie",
                zorder=1,
                # Thousands of ties as vectors make a slow, heavy SVG; draw them as pixels.
                rasterized=len(segs) > 1000,
            )
        )
    cap = firms["capability"].to_numpy()
    size = 6 + 60 * (cap - cap.min()) / max(float(np.ptp(cap)), 1e-12)
    stages = int(max(result.scenario.firms.stages, int(firms["stage"].max()) + 1))
    cmap = matplotlib.colormaps["viridis"].resampled(stages)
    norm = BoundaryNorm(np.arange(stages + 1) - 0.5, stages)
    sc = ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=size,
        c=firms["stage"],
        cmap=cmap,
        norm=norm,
        edgecolors="white",
        linewidths=0.3,
        zorder=2,
    )
    gk = firms["gatekeeper"].to_numpy().astype(bool)
    if gk.any():
        ax.scatter(
            xy[gk, 0],
            xy[gk, 1],
            s=size[gk] + 40,
            facecolors="none",
            edgecolors="#cb181d",
            linewidths=1.4,
            zorder=3,
            label=f"gatekeeper ({int(gk.sum())}"
            + (f" of {all_gatekeepers:,})" if len(firms) < n else ")"),
        )
    fig.colorbar(sc, ax=ax, label="value-chain stage", shrink=0.6, ticks=np.arange(stages))
    ax.set_aspect("equal")
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = 0.05 * max(float((hi - lo).max()), 1e-3)
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)
    ax.set_xlabel("location x")
    ax.set_ylabel("location y")
    ax.legend(fontsize=8, loc="upper right", framealpha=0.8)
    return fig


def _twin_legend(ax: Axes, ax2: Axes) -> None:
    """Draw the line axis over its twin bar axis and merge both legends into one."""
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, frameon=False, loc="upper left")


def industry(result: Result) -> Figure:
    m = result.metrics
    t = _steps(result)
    fig, (ax,) = _new(height=3.6)
    ax.plot(t, m["industrial_level"], color="#54278f", lw=2, label="industrial level")
    ax.set_xlabel("step (quarter)")
    ax.set_ylabel("value-added-weighted mean stage")
    ax2 = ax.twinx()
    _bars(ax2, t, m["upgrades"].to_numpy(), color="#fdae6b", alpha=0.7, label="upgrades per step")
    ax2.set_ylabel("upgrades per step")
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    _twin_legend(ax, ax2)
    return fig


def innovation(result: Result) -> Figure:
    m = result.metrics
    t = _steps(result)
    fig, (ax1, ax2) = _new(ncols=2, width=10.0, height=3.8)
    _bars(ax1, t, m["innovations"].to_numpy(), color="#2171b5", label="innovations")
    ax1.set_xlabel("step (quarter)")
    ax1.set_ylabel("innovations per step")
    ax1.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax1.set_title(f"{int(m['innovations'].sum())} innovations in all", fontsize=10)
    times = (
        result.innovations["diffusion_time"].to_numpy(dtype=float)
        if len(result.innovations)
        else np.zeros(0)
    )
    done = times[np.isfinite(times)]
    if done.size:
        ax2.hist(done, bins=min(30, max(5, int(np.sqrt(done.size)))), color="#6a51a3")
        ax2.axvline(
            float(np.median(done)),
            color="#cb181d",
            lw=1.5,
            label=f"median {np.median(done):.1f} steps",
        )
        ax2.legend(fontsize=8, frameon=False)
    else:
        _empty_note(ax2, "no innovation diffused yet")
    ax2.set_xlabel("diffusion time (steps)")
    ax2.set_ylabel("innovations")
    ax2.set_title(f"diffusion: {done.size} of {times.size} diffused", fontsize=10)
    return fig


def population(result: Result) -> Figure:
    m = result.metrics
    t = _steps(result)
    fig, (ax,) = _new(height=3.6)
    ax.plot(t, m["population"], color="#08519c", lw=2, label="firms")
    ax.set_xlabel("step (quarter)")
    ax.set_ylabel("firms")
    ax2 = ax.twinx()
    _bars(ax2, t, m["entries"].to_numpy(), color="#74c476", alpha=0.8, label="entries (spin-offs)")
    _bars(ax2, t, -m["exits"].to_numpy(), color="#fb6a4a", alpha=0.8, label="exits (negative)")
    ax2.axhline(0, color="0.5", lw=0.6)
    ax2.set_ylabel("entries / exits per step")
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    _twin_legend(ax, ax2)
    return fig


FIGURES: list[FigureSpec] = [
    FigureSpec(
        "capability",
        "Capability over time",
        "Median capability with the 10th-90th percentile band, the mean, the cluster's "
        "best firm and the global frontier as it matters to the cluster's stages.",
        capability,
    ),
    FigureSpec(
        "catch_up",
        "Catch-up with the global frontier",
        "Catch-up index: mean capability over the mean stage-relevant frontier "
        "(1 = at the frontier).",
        catch_up,
    ),
    FigureSpec(
        "flows_by_channel",
        "Knowledge absorbed by channel",
        f"Knowledge absorbed through each of the {len(channels())} channels per step (stacked) "
        "and over the whole run. Core-network channels blue, auxiliary green, exterior orange.",
        flows_by_channel,
    ),
    FigureSpec(
        "seci",
        "SECI conversions",
        "The four knowledge conversions (Nonaka and Takeuchi): socialisation and "
        "combination between actors, externalisation and internalisation inside firms.",
        seci,
    ),
    FigureSpec(
        "learning_mode",
        "Learning mode against position",
        "Outward share of learning effort against a firm's position in the cluster: "
        "the thesis expects high-position firms to turn outward and low-position firms "
        "to follow inside the cluster.",
        learning_mode,
    ),
    FigureSpec(
        "trust",
        "Trust and social capital",
        "Mean trust on firm-firm ties and mean social capital.",
        trust,
    ),
    FigureSpec(
        "network",
        "The final knowledge network",
        "Firms at their locations, sized by capability and coloured by value-chain "
        "stage; social ties grey, value-chain ties orange; gatekeepers (many in-cluster "
        "knowledge ties and an exterior tie) circled red.",
        network,
    ),
    FigureSpec(
        "industry",
        "Industrial level and upgrading",
        "Value-added-weighted mean stage and the firms upgrading per step.",
        industry,
    ),
    FigureSpec(
        "innovation",
        "Innovations and their diffusion",
        "Innovations per step, and the time until each diffused to half its stage "
        "(innovations still spreading at the end are not counted).",
        innovation,
    ),
    FigureSpec(
        "population",
        "Population",
        "Number of firms, with spin-off entries and exits per step.",
        population,
    ),
]
