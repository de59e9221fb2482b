"""Statistics behind the verdicts: every function returns an :class:`Estimate` (an effect,
its 95% confidence interval and a p-value) or a coefficient table.

Replications are the unit of independence: firm-level statistics are computed within each
replication and then summarised over replications, or fitted with standard errors clustered
by replication.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from clusterlearn.propositions.verdict import Verdict, decide

LEVEL = 0.95


@dataclass
class Estimate:
    """One tested effect (a *part* of a proposition).

    Attributes
    ----------
    name : str
        What the effect is, in words.
    statistic : str
        How it is computed (e.g. ``"mean Spearman rho over replications"``).
    effect, ci_low, ci_high, p_value : float
        The effect size, its 95% confidence interval and the two-sided p-value against zero.
    n : int
        Independent units behind the interval (replications, or clusters).
    sign : int
        The sign the thesis claims (+1 or -1).
    rope : float
        Half-width of the region of practical equivalence used by the verdict rule.
    verdict : str
        Filled by :meth:`judge`.
    extra : dict
        Further numbers worth reporting (e.g. a located threshold).
    """

    name: str
    statistic: str
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    sign: int = 1
    rope: float = 0.05
    verdict: Verdict = "inconclusive"
    extra: dict[str, Any] = field(default_factory=dict)

    def judge(self) -> Estimate:
        """Apply the verdict rule and return ``self``."""
        self.verdict = decide(self.ci_low, self.ci_high, self.sign, self.rope)
        return self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("effect", "ci_low", "ci_high", "p_value"):
            d[k] = _num(d[k])
        d["extra"] = {k: _num(v) if isinstance(v, float) else v for k, v in self.extra.items()}
        return d


def _num(x: float) -> float | None:
    """JSON-safe number: NaN and infinities become null."""
    x = float(x)
    return x if np.isfinite(x) else None


def mean_ci(
    values: np.ndarray | pd.Series | list[float],
    *,
    name: str,
    statistic: str,
    sign: int = 1,
    rope: float = 0.05,
    level: float = LEVEL,
) -> Estimate:
    """Mean of independent values with a t confidence interval and a one-sample t-test.

    Examples
    --------
    >>> e = mean_ci([1.0, 1.2, 0.9, 1.1], name="x", statistic="mean")
    >>> round(e.effect, 3), e.ci_low > 0
    (1.05, True)
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n < 2:
        m = float(v.mean()) if n else float("nan")
        return Estimate(name, statistic, m, np.nan, np.nan, np.nan, n, sign, rope).judge()
    m = float(v.mean())
    se = float(v.std(ddof=1) / np.sqrt(n))
    if se == 0.0:
        p = 1.0 if m == 0.0 else 0.0
        return Estimate(name, statistic, m, m, m, p, n, sign, rope).judge()
    t = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    p = float(2.0 * stats.t.sf(abs(m / se), n - 1))
    return Estimate(name, statistic, m, m - t * se, m + t * se, p, n, sign, rope).judge()


def paired_difference(
    a: pd.Series,
    b: pd.Series,
    *,
    name: str,
    sign: int = 1,
    rope: float = 0.05,
    relative: bool = True,
) -> Estimate:
    """Paired difference ``b - a`` over replications run with common random numbers.

    ``a`` and ``b`` are indexed by replication. With ``relative`` the differences are divided
    by the mean of ``|a|``, so the effect reads as a share of the reference level; dividing by
    one constant leaves the paired t-test unchanged.
    """
    a, b = a.align(b, join="inner")
    d = (b - a).to_numpy(dtype=float)
    scale = 1.0
    stat = "mean paired difference over replications"
    if relative:
        ref = float(np.nanmean(np.abs(a.to_numpy(dtype=float))))
        scale = ref if ref > 0 else 1.0
        stat = "mean paired difference over replications, as a share of the reference mean"
    e = mean_ci(d / scale, name=name, statistic=stat, sign=sign, rope=rope)
    e.extra.update(reference_mean=float(np.nanmean(a)), treated_mean=float(np.nanmean(b)))
    return e


def rank_correlation(
    firms: pd.DataFrame,
    x: str,
    y: str,
    *,
    by: str = "replication",
    name: str,
    sign: int = 1,
    rope: float = 0.1,
) -> tuple[Estimate, pd.Series]:
    """Spearman's rho of ``x`` and ``y`` across firms within each replication, summarised by
    its mean over replications (t interval). Returns the estimate and the per-replication rho.
    """

    def rho(g: pd.DataFrame) -> float:
        if len(g) < 3 or g[x].nunique() < 2 or g[y].nunique() < 2:
            return float("nan")
        return float(stats.spearmanr(g[x], g[y]).statistic)

    per = firms.groupby(by)[[x, y]].apply(rho)
    e = mean_ci(
        per.to_numpy(),
        name=name,
        statistic=f"mean over replications of Spearman rho({x}, {y}) across firms",
        sign=sign,
        rope=rope,
    )
    return e, per


def trend(
    runs: pd.DataFrame,
    x: str,
    y: str,
    *,
    name: str,
    sign: int = 1,
    rope: float = 0.05,
) -> Estimate:
    """Dose-response: OLS of ``y`` on factor ``x`` over runs, with HC3 standard errors.

    The effect is the fitted change of ``y`` across the factor's range, as a share of the mean
    of ``y``: ``slope * (max x - min x) / mean y``.
    """
    import statsmodels.api as sm

    d = runs[[x, y]].astype(float).dropna()
    ybar = float(d[y].mean()) if len(d) else float("nan")
    span = float(d[x].max() - d[x].min()) if len(d) else float("nan")
    stat = f"OLS slope of {y} on {x} x range of {x} / mean {y} (HC3)"
    if len(d) < 4 or d[x].nunique() < 2 or not np.isfinite(ybar) or ybar == 0:
        return Estimate(name, stat, np.nan, np.nan, np.nan, np.nan, len(d), sign, rope).judge()
    scale = span / abs(ybar)
    if d[y].std() == 0:
        return Estimate(name, stat, 0.0, 0.0, 0.0, 1.0, len(d), sign, rope).judge()
    fit = sm.OLS(d[y].to_numpy(), sm.add_constant(d[x].to_numpy())).fit(cov_type="HC3")
    lo, hi = fit.conf_int(alpha=1 - LEVEL)[1]
    e = Estimate(
        name,
        stat,
        float(fit.params[1] * scale),
        float(lo * scale),
        float(hi * scale),
        float(fit.pvalues[1]),
        len(d),
        sign,
        rope,
    )
    e.extra.update(slope=float(fit.params[1]), mean=ybar)
    return e.judge()


def _zscore(s: pd.Series) -> pd.Series:
    sd = s.std()
    return (s - s.mean()) / sd if sd and np.isfinite(sd) else s * 0.0


def firm_regression(
    firms: pd.DataFrame,
    y: str,
    xs: list[str],
    *,
    interactions: list[tuple[str, str]] = (),  # type: ignore[assignment]
    group: str = "replication",
    family: str = "ols",
    offset: str | None = None,
) -> tuple[pd.DataFrame, Any]:
    """Firm-level regression with replication fixed effects and cluster-robust standard
    errors by replication (t reference with G - 1 degrees of freedom).

    Predictors are z-scored over the pooled firms, so coefficients are the change in ``y``
    per standard deviation; products are formed from the z-scores. ``family`` is ``"ols"``
    (``y`` z-scored too: standardised coefficients) or ``"poisson"`` (a count ``y``; the
    coefficients are log rate ratios), with ``offset`` the log-exposure column if given.

    Returns the coefficient table (index: term; columns coef, se, ci_low, ci_high, p_value)
    and the fitted statsmodels result.
    """
    import statsmodels.api as sm

    cols = list(dict.fromkeys([y, *xs, group] + ([offset] if offset else [])))
    d = firms[cols].replace([np.inf, -np.inf], np.nan).dropna().reset_index(drop=True)
    X = pd.DataFrame({x: _zscore(d[x].astype(float)) for x in xs})
    for a, b in interactions:
        X[f"{a}:{b}"] = X[a] * X[b]
    groups = pd.Categorical(d[group]).codes
    fe = pd.get_dummies(d[group].astype(str), prefix="rep", drop_first=True, dtype=float)
    design = sm.add_constant(pd.concat([X, fe], axis=1), has_constant="add")
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": groups}, "use_t": True}
    if family == "ols":
        fit = sm.OLS(_zscore(d[y].astype(float)).to_numpy(), design).fit(**kw)
    elif family == "poisson":
        off = np.log(d[offset].astype(float).clip(lower=1e-9)).to_numpy() if offset else None
        model = sm.GLM(
            d[y].astype(float).to_numpy(), design, family=sm.families.Poisson(), offset=off
        )
        fit = model.fit(**kw)
    else:
        raise ValueError(f"family: expected 'ols' or 'poisson', got {family!r}")
    ci = fit.conf_int(alpha=1 - LEVEL)
    terms = ["const", *X.columns]
    table = pd.DataFrame(
        {
            "coef": fit.params[terms],
            "se": fit.bse[terms],
            "ci_low": ci.loc[terms, 0],
            "ci_high": ci.loc[terms, 1],
            "p_value": fit.pvalues[terms],
        }
    )
    table.index.name = "term"
    table.attrs.update(n_obs=int(fit.nobs), n_clusters=len(np.unique(groups)), family=family)
    return table, fit


def coefficient_estimate(
    table: pd.DataFrame, term: str, *, name: str, sign: int = 1, rope: float = 0.05
) -> Estimate:
    """An :class:`Estimate` from one row of a :func:`firm_regression` table."""
    r = table.loc[term]
    fam = table.attrs.get("family", "ols")
    stat = (
        f"standardised coefficient of {term}"
        if fam == "ols"
        else f"log rate ratio per SD of {term} (Poisson)"
    ) + ", replication fixed effects, SE clustered by replication"
    return Estimate(
        name,
        stat,
        float(r["coef"]),
        float(r["ci_low"]),
        float(r["ci_high"]),
        float(r["p_value"]),
        int(table.attrs.get("n_clusters", 0)),
        sign,
        rope,
    ).judge()


# --- thresholds --------------------------------------------------------------------------
def hinge_fit(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> tuple[float, float, float, float]:
    """Continuous piecewise-linear fit ``y = a + s1 x + s2 (x - b)+`` by least squares over the
    breakpoints ``grid``. Returns ``(b, s1, s2, sse)`` of the best breakpoint; ``s2`` is the
    change in slope at ``b``.
    """
    best = (float("nan"), float("nan"), float("nan"), float("inf"))
    ones = np.ones_like(x)
    for b in grid:
        X = np.column_stack([ones, x, np.maximum(x - b, 0.0)])
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        sse = float(((y - X @ coef) ** 2).sum())
        if sse < best[3]:
            best = (float(b), float(coef[1]), float(coef[2]), sse)
    return best


def threshold(
    runs: pd.DataFrame,
    x: str,
    y: str,
    *,
    name: str,
    rng: np.random.Generator,
    n_boot: int = 500,
    by: str = "replication",
    sign: int = 1,
    rope: float = 0.05,
) -> Estimate:
    """Locate a threshold in ``y`` against factor ``x`` by a continuous piecewise-linear
    (hinge) fit, with a bootstrap over replications.

    ``y`` is divided by its mean at the highest level of ``x``, so slopes read as shares of the
    top level per unit of ``x``. The breakpoint is searched on a fine grid strictly inside the
    factor's range. Each bootstrap draw resamples runs with replacement within every level of
    ``x`` (keeping the design) and refits. The tested effect is the change in slope at the
    breakpoint (``slope above - slope below``; positive: ``y`` stays low below the threshold
    and takes off above it; negative: ``y`` falls steeply below it and levels off above it)
    with a percentile interval; the breakpoint's location and its interval are reported in
    ``extra``.
    """
    d = runs[[x, y]].astype(float).dropna()
    levels = np.sort(d[x].unique())
    stat = f"change in slope of {y}/{y}(top) vs {x} at the hinge-fit breakpoint (bootstrap)"
    if levels.size < 4:
        return Estimate(name, stat, np.nan, np.nan, np.nan, np.nan, 0, sign, rope).judge()
    top = float(d.loc[d[x] == levels[-1], y].mean())
    scale = abs(top) if top != 0 else 1.0
    xv = d[x].to_numpy()
    yv = d[y].to_numpy() / scale
    grid = np.linspace(levels[0], levels[-1], 81)[4:-4]
    b, s1, s2, _ = hinge_fit(xv, yv, grid)
    idx_by_level = [np.flatnonzero(xv == lv) for lv in levels]
    boots = np.empty((n_boot, 3))
    for k in range(n_boot):
        take = np.concatenate([rng.choice(ix, size=ix.size, replace=True) for ix in idx_by_level])
        bb, bs1, bs2, _ = hinge_fit(xv[take], yv[take], grid)
        boots[k] = (bb, bs1, bs2)
    lo, hi = np.percentile(boots[:, 2], [2.5, 97.5])
    # Two-sided bootstrap p-value of the slope change against zero.
    tail = min(int((boots[:, 2] <= 0).sum()), int((boots[:, 2] >= 0).sum()))
    p = float(min(1.0, 2.0 * (tail + 1) / (n_boot + 1)))
    b_lo, b_hi = np.percentile(boots[:, 0], [2.5, 97.5])
    means = d.groupby(x)[y].mean() / scale
    e = Estimate(name, stat, s2, float(lo), float(hi), p, len(d), sign, rope)
    e.extra.update(
        threshold=b,
        threshold_ci_low=float(b_lo),
        threshold_ci_high=float(b_hi),
        slope_below=s1,
        slope_above=s1 + s2,
        bootstrap_draws=n_boot,
        level_means={float(k): float(v) for k, v in means.items()},
    )
    return e.judge()
