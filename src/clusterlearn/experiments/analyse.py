"""Analysis of stored runs: means and confidence intervals per design point, main effects,
and Sobol and Morris sensitivity indices (SALib)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from clusterlearn.errors import ClusterlearnError

if TYPE_CHECKING:
    from clusterlearn.experiments.results import ExperimentResults


def _ci(values: pd.Series, level: float) -> tuple[float, float, float, float, int]:
    v = values.dropna().to_numpy(dtype=float)
    n = v.size
    if n == 0:
        return np.nan, np.nan, np.nan, np.nan, 0
    mean = float(v.mean())
    if n < 2:
        return mean, np.nan, np.nan, np.nan, n
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1)) * sd / np.sqrt(n)
    return mean, sd, mean - half, mean + half, n


def summarise(
    final: pd.DataFrame, factors: list[str], outcomes: list[str], level: float = 0.95
) -> pd.DataFrame:
    """Tidy summary: one row per (design point, outcome) with n, mean, sd and CI bounds.

    The CI is the ``level`` t interval of the mean over replications (NaN with one run).
    """
    _check_outcomes(final, outcomes)
    rows = []
    for point, g in final.groupby("point", sort=True):
        head = {"point": point, **{f: g[f].iloc[0] for f in factors}}
        for o in outcomes:
            mean, sd, lo, hi, n = _ci(g[o], level)
            rows.append({**head, "outcome": o, "n": n, "mean": mean, "sd": sd,
                         "ci_low": lo, "ci_high": hi})  # fmt: skip
    return pd.DataFrame(rows)


def main_effects(
    final: pd.DataFrame, factors: list[str], outcome: str, bins: int = 5, level: float = 0.95
) -> pd.DataFrame:
    """Mean ``outcome`` per level of each factor over all other factors, with CIs.

    Factors with more than ``bins`` distinct values (sampled designs) are cut into ``bins``
    equal-count bins, labelled by their mid value.
    """
    _check_outcomes(final, [outcome])
    rows = []
    for f in factors:
        x = final[f]
        if x.nunique() > bins and pd.api.types.is_numeric_dtype(x):
            cut = pd.qcut(x, bins, duplicates="drop")
            groups = final.groupby(cut, observed=True)
            labels = {iv: float(iv.mid) for iv in cut.cat.categories}
        else:
            groups = final.groupby(f, sort=True, dropna=False)
            labels = None
        for key, g in groups:
            mean, sd, lo, hi, n = _ci(g[outcome], level)
            rows.append({"factor": f, "level": labels[key] if labels else key, "n": n,
                         "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi})  # fmt: skip
    return pd.DataFrame(rows)


@dataclass
class SobolIndices:
    """Sobol indices with their confidence intervals (half-widths, ``*_conf``).

    Attributes
    ----------
    first : pandas.DataFrame
        ``factor``, ``S1``, ``S1_conf``.
    total : pandas.DataFrame
        ``factor``, ``ST``, ``ST_conf``.
    second : pandas.DataFrame or None
        ``factor_a``, ``factor_b``, ``S2``, ``S2_conf`` (when the design has second order).
    outcome : str
    """

    first: pd.DataFrame
    total: pd.DataFrame
    second: pd.DataFrame | None
    outcome: str

    def table(self) -> pd.DataFrame:
        """First and total order side by side, one row per factor."""
        return self.first.merge(self.total, on="factor")


def _point_means(res: ExperimentResults, outcome: str) -> np.ndarray:
    final = res.final
    _check_outcomes(final, [outcome])
    y = final.groupby("point")[outcome].mean()
    missing = np.setdiff1d(np.arange(len(res.design)), y.index.to_numpy())
    if missing.size:
        raise ClusterlearnError(
            f"{res.path}: {missing.size} of {len(res.design)} design points have no stored run "
            f"(e.g. point {int(missing[0])}); sensitivity indices need every point -- finish "
            f"the sweep (rerun it, with --retry-failed for failures)"
        )
    return y.sort_index().to_numpy(dtype=float)


def sobol(
    res: ExperimentResults, outcome: str, level: float = 0.95, num_resamples: int = 1000
) -> SobolIndices:
    """First, total and second-order Sobol indices of ``outcome`` (SALib, Saltelli design).

    Replications are averaged per design point first.
    """
    from SALib.analyze import sobol as salib_sobol

    if res.method != "sobol":
        raise ClusterlearnError(
            f"{res.path}: Sobol indices need a design.method = 'sobol' experiment, this one is "
            f"{res.method!r}"
        )
    y = _point_means(res, outcome)
    second = bool(res.spec["design"].get("second_order", True))
    si = salib_sobol.analyze(
        res.problem(), y, calc_second_order=second, num_resamples=num_resamples,
        conf_level=level, print_to_console=False, seed=_seed(res),
    )  # fmt: skip
    names = res.factors
    first = pd.DataFrame({"factor": names, "S1": si["S1"], "S1_conf": si["S1_conf"]})
    total = pd.DataFrame({"factor": names, "ST": si["ST"], "ST_conf": si["ST_conf"]})
    pairs = None
    if second:
        rows = []
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                rows.append({"factor_a": names[a], "factor_b": names[b],
                             "S2": si["S2"][a, b], "S2_conf": si["S2_conf"][a, b]})  # fmt: skip
        pairs = pd.DataFrame(rows)
    return SobolIndices(first=first, total=total, second=pairs, outcome=outcome)


def morris(
    res: ExperimentResults, outcome: str, level: float = 0.95, num_resamples: int = 1000
) -> pd.DataFrame:
    """Morris elementary-effect indices of ``outcome``: ``mu``, ``mu_star``, ``sigma`` and
    ``mu_star_conf`` per factor (SALib)."""
    from SALib.analyze import morris as salib_morris

    if res.method != "morris":
        raise ClusterlearnError(
            f"{res.path}: Morris indices need a design.method = 'morris' experiment, this one "
            f"is {res.method!r}"
        )
    y = _point_means(res, outcome)
    x = res.design[res.factors].to_numpy(dtype=float)
    si = salib_morris.analyze(
        res.problem(), x, y, num_resamples=num_resamples, conf_level=level,
        num_levels=int(res.spec["design"].get("levels", 4)), seed=_seed(res),
    )  # fmt: skip
    return pd.DataFrame(
        {
            "factor": res.factors,
            "mu": np.asarray(si["mu"], dtype=float),
            "mu_star": np.asarray(si["mu_star"], dtype=float),
            "sigma": np.asarray(si["sigma"], dtype=float),
            "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
        }
    )


def _seed(res: ExperimentResults) -> int:
    # The bootstrap of the confidence intervals gets its own stream of the experiment's seed.
    ss = np.random.SeedSequence(int(res.spec["seed"]), spawn_key=(2**32 - 2,))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def _check_outcomes(final: pd.DataFrame, outcomes: list[str]) -> None:
    missing = [o for o in outcomes if o not in final.columns]
    if missing:
        import difflib

        options = [c for c in final.columns if c not in ("point", "replication")]
        hint = difflib.get_close_matches(missing[0], options, n=1)
        raise ClusterlearnError(
            f"unknown outcome {missing[0]!r}"
            + (f"; did you mean {hint[0]!r}?" if hint else "")
            + f" (available: {', '.join(options[:40])})"
        )


def headline(res: ExperimentResults) -> list[str]:
    """A few outcomes worth showing first (those that exist)."""
    prefer = ["mean_capability", "gini_capability", "catch_up", "mean_trust", "y"]
    have = res.outcomes
    out = [o for o in prefer if o in have]
    return out or have[:3]


def describe(res: ExperimentResults) -> dict[str, Any]:
    """Counts and timings of a stored experiment."""
    runs = res.runs
    done = runs[runs["status"] == "done"]
    return {
        **res.counts,
        "mean_seconds_per_run": float(done["seconds"].mean()) if len(done) else float("nan"),
        "workers": int(runs["worker"].nunique()),
    }
