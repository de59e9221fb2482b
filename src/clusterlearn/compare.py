"""Paired comparison of two scenarios with common random numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clusterlearn.model.context import children, default_generator, entropy_int
from clusterlearn.result import Result
from clusterlearn.scenario import Scenario
from clusterlearn.simulate import simulate

DEFAULT_OUTCOMES = (
    "mean_capability",
    "median_capability",
    "p10_capability",
    "max_capability",
    "catch_up",
    "gini_capability",
    "mean_trust",
    "mean_social_capital",
    "mean_inside",
    "industrial_level",
    "output",
    "population",
    "gatekeepers",
)


def final_outcomes(result: Result) -> dict[str, float]:
    """The final values of the headline metrics and the total flow per channel and conversion."""
    last = result.metrics.iloc[-1]
    out = {k: float(last[k]) for k in DEFAULT_OUTCOMES}
    for col, v in result.flows.drop(columns="step").sum().items():
        out[f"flow_{col}"] = float(v)
    out["innovations"] = float(result.metrics["innovations"].sum())
    return out


@dataclass
class Comparison:
    """Paired differences ``B - A`` per replication and their summary.

    Attributes
    ----------
    differences : pandas.DataFrame
        One row per replication, one column per outcome: ``B - A`` with the same seed stream.
    a, b : pandas.DataFrame
        The outcomes of each scenario per replication.
    summary : pandas.DataFrame
        Per outcome: means of A and B, the mean difference, its ``level`` confidence interval
        (t distribution over replications) and the paired t-test p-value.
    """

    differences: pd.DataFrame
    a: pd.DataFrame
    b: pd.DataFrame
    summary: pd.DataFrame
    seed: int


def compare(
    scenario_a: Scenario,
    scenario_b: Scenario,
    *,
    replications: int = 10,
    rng: int | np.random.SeedSequence | np.random.Generator | None = None,
    steps: int | None = None,
    level: float = 0.95,
) -> Comparison:
    """Run both scenarios with the same seed streams and compare their outcomes.

    Replication ``r`` of A and of B use the same child of ``SeedSequence(rng).spawn``, so the
    difference measures the scenarios' effect, not chance (common random numbers).

    Examples
    --------
    >>> from clusterlearn import Scenario, compare
    >>> a = Scenario.preset("baseline").with_overrides({"firms.n": 50, "steps": 5})
    >>> cmp = compare(a, a, replications=2, rng=3)
    >>> float(cmp.differences["mean_capability"].abs().max())
    0.0
    """
    from scipy import stats  # here, not at import: it costs every CLI start about a second

    if replications < 2:
        raise ValueError(f"replications: expected a whole number >= 2, got {replications}")
    root = default_generator(rng)
    rows_a, rows_b = [], []
    for child in children(root, replications):
        rows_a.append(final_outcomes(simulate(scenario_a, steps=steps, rng=child)))
        rows_b.append(final_outcomes(simulate(scenario_b, steps=steps, rng=child)))
    a, b = pd.DataFrame(rows_a), pd.DataFrame(rows_b)
    diff = b - a
    t = stats.t.ppf(0.5 + level / 2.0, replications - 1)
    mean = diff.mean()
    se = diff.std(ddof=1) / np.sqrt(replications)
    with np.errstate(invalid="ignore", divide="ignore"):
        tstat = mean / se
        p = pd.Series(2 * stats.t.sf(np.abs(tstat), replications - 1), index=mean.index)
    p[se == 0] = np.where(mean[se == 0] == 0, 1.0, 0.0)
    summary = pd.DataFrame(
        {
            "mean_a": a.mean(),
            "mean_b": b.mean(),
            "difference": mean,
            "ci_low": mean - t * se,
            "ci_high": mean + t * se,
            "p_value": p,
        }
    )
    summary.index.name = "outcome"
    diff.index.name = "replication"
    return Comparison(differences=diff, a=a, b=b, summary=summary, seed=entropy_int(root))
