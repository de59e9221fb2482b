"""How a proposition's experiment is described: arms of one base scenario, run with the
same replications (common random numbers), and the tidy tables its analysis reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

CORE = ("C1", "C2", "C3", "C4", "C5")
AUXILIARY = ("A1", "A2", "A3", "A4", "A5")
EXTERIOR = ("X1",)
IN_CLUSTER = CORE + AUXILIARY
CHANNEL_NAMES = {
    "C1": "informal",
    "C2": "cooperation",
    "C3": "mobility",
    "C4": "spinoff",
    "C5": "imitation",
    "A1": "training",
    "A2": "personnel",
    "A3": "infrastructure",
    "A4": "events",
    "A5": "services",
    "X1": "outward",
}


def channels_off(*codes: str) -> dict[str, Any]:
    """Overrides that switch the channels with these codes off."""
    return {f"channels.{CHANNEL_NAMES[c]}.enabled": False for c in codes}


@dataclass(frozen=True)
class Arm:
    """One condition of an experiment: scenario overrides on top of the design's base.

    ``values`` are the factor levels this arm stands for (they become columns of the tables,
    e.g. ``{"trust0": 0.3}``); ``steps`` overrides the design's horizon (``0`` gives the
    initial state of the same replications).
    """

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    steps: int | None = None


@dataclass(frozen=True)
class Design:
    """A proposition's experiment: every arm is run with the same ``replications`` seed
    streams, so arms differ only by their overrides (common random numbers)."""

    arms: tuple[Arm, ...]
    replications: int
    steps: int
    base: dict[str, Any] = field(default_factory=dict)
    scenario: str = "baseline"
    firms: bool = False  # keep the per-firm tables

    def runs(self) -> int:
        return len(self.arms) * self.replications

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (the ``experiment`` field of the report)."""
        factors: dict[str, list[Any]] = {}
        for arm in self.arms:
            for k, v in arm.values.items():
                factors.setdefault(k, [])
                if v not in factors[k]:
                    factors[k].append(v)
        return {
            "scenario": self.scenario,
            "base_overrides": dict(self.base),
            "arms": [
                {"name": a.name, "overrides": dict(a.overrides), "steps": a.steps}
                for a in self.arms
            ],
            "factors": factors,
            "replications": self.replications,
            "steps": self.steps,
            "runs": self.runs(),
        }


@dataclass
class Tables:
    """What an analysis reads.

    ``runs``: one row per run with columns ``arm``, ``replication``, the arm's ``values``,
    the final value of every metric, ``flow_<code>`` totals per channel and SECI conversion,
    ``growth`` (final / initial mean capability), ``innovations`` (total) and
    ``diffusion_time`` (mean over diffused innovations). ``firms``: the final firm table of
    every run with ``arm``, ``replication`` and the arm's values (empty unless the design
    keeps firms).
    """

    runs: pd.DataFrame
    firms: pd.DataFrame
    ran: int = 0  # runs executed to build these tables (the rest were read from the store)

    def arm(self, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        r = self.runs[self.runs["arm"] == name]
        f = self.firms[self.firms["arm"] == name] if len(self.firms) else self.firms
        return r.set_index("replication", drop=False), f


def run_outcomes(series: pd.DataFrame) -> dict[str, float]:
    """The per-run outcomes of :class:`Tables` from one run's time series: the metrics and the
    flows per step, flows in columns ``flow_<code>`` (the experiments store's ``series``)."""
    m = series.sort_values("step")
    last = m.iloc[-1]
    flows = [c for c in m.columns if c.startswith("flow_")]
    out = {k: float(v) for k, v in last.items() if k not in ("step", "point", "replication")
           and k not in flows and _is_number(v)}  # fmt: skip
    first = float(m["mean_capability"].iloc[0])
    out["population_0"] = float(m["population"].iloc[0])
    out["growth"] = float(last["mean_capability"]) / first if first > 0 else float("nan")
    out0 = float(m["output"].iloc[0])
    out["output_growth"] = float(last["output"]) / out0 if out0 > 0 else float("nan")
    out["innovations"] = float(m["innovations"].iloc[1:].sum()) if len(m) > 1 else 0.0
    w = m["innovations_diffused"].fillna(0.0)
    dt = m["diffusion_time"]
    ok = dt.notna() & (w > 0)
    out["diffusion_time"] = (
        float((dt[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")
    )
    for col in flows:
        out[col] = float(m[col].fillna(0.0).sum())
    out["flow_core"] = sum(out.get(f"flow_{c}", 0.0) for c in CORE)
    out["flow_auxiliary"] = sum(out.get(f"flow_{c}", 0.0) for c in AUXILIARY)
    out["flow_in_cluster"] = out["flow_core"] + out["flow_auxiliary"]
    out["steps_done"] = float(last["step"])
    return out


def _is_number(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
