"""Headline numbers of a run, shared by the HTML report and the command line's summary table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clusterlearn.model.channels import channels

if TYPE_CHECKING:
    from clusterlearn.result import Result

SECI = ("socialisation", "externalisation", "combination", "internalisation")

# metric column -> label shown at start and end of the run
_HEADLINE = (
    ("mean_capability", "mean capability"),
    ("median_capability", "median capability"),
    ("p90_capability", "90th percentile capability"),
    ("max_capability", "best firm's capability"),
    ("frontier", "global frontier (stage-relevant)"),
    ("catch_up", "catch-up index"),
    ("gini_capability", "Gini of capability"),
    ("mean_trust", "mean trust"),
    ("mean_social_capital", "mean social capital"),
    ("mean_inside", "mean in-cluster share of learning"),
    ("gatekeepers", "gatekeepers"),
    ("industrial_level", "industrial level"),
    ("population", "firms"),
)
# metric column -> label summed over the run
_TOTALS = (
    ("innovations", "innovations"),
    ("innovations_diffused", "innovations diffused"),
    ("upgrades", "upgrades"),
    ("entries", "entries (spin-offs)"),
    ("exits", "exits"),
)


# Outcomes that are counts, shown as whole numbers.
_COUNTS = {"gatekeepers", "population"}


@dataclass(frozen=True)
class Headline:
    label: str
    start: float
    end: float
    count: bool = False


@dataclass(frozen=True)
class FlowRow:
    code: str
    name: str
    network: str
    seci: str
    total: float
    share: float


def headline(result: Result) -> list[Headline]:
    """Start and end values of the main outcomes."""
    m = result.metrics
    first, last = m.iloc[0], m.iloc[-1]
    return [
        Headline(label, float(first[col]), float(last[col]), col in _COUNTS)
        for col, label in _HEADLINE
    ]


def totals(result: Result) -> list[tuple[str, float]]:
    """Counts summed over the run (innovations, upgrades, entries, exits)."""
    m = result.metrics
    return [(label, float(np.nansum(m[col].to_numpy()))) for col, label in _TOTALS]


def flows(result: Result) -> list[FlowRow]:
    """Knowledge absorbed over the run by channel, with each channel's share of the total."""
    f = result.flows
    rows = []
    sums = {ch.code: float(f[ch.code].sum()) for ch in channels() if ch.code in f.columns}
    whole = sum(sums.values())
    for ch in channels():
        if ch.code in sums:
            total = sums[ch.code]
            rows.append(
                FlowRow(
                    ch.code, ch.name, ch.network, ch.seci, total, total / whole if whole else 0.0
                )
            )
    return rows


def seci_totals(result: Result) -> list[tuple[str, float]]:
    """Whole-run volume of each SECI conversion."""
    f = result.flows
    return [(k, float(f[k].sum())) for k in SECI if k in f.columns]


def fmt(x: float, count: bool = False) -> str:
    """A number for a table: counts whole, with thousands separators; other values with 3
    decimals below 1,000 and whole above."""
    if not np.isfinite(x):
        return "n/a"
    if count or abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3f}"


def fmt_flow(x: float) -> str:
    """A knowledge volume: one decimal, thousands separators."""
    return f"{x:,.1f}" if np.isfinite(x) else "n/a"
