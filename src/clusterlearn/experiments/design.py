"""Design points of an experiment: full grid, Latin hypercube, Saltelli (Sobol) and Morris.

:func:`build_design` returns a table with one row per design point (``point`` = its index)
and one column per factor. Sampled designs draw from their own stream,
``SeedSequence(seed, spawn_key=(DESIGN_STREAM,))``, which no run ever uses.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from clusterlearn.experiments.spec import Experiment

# Spawn key of the design's stream: run streams have two-part keys (point, replication), so a
# one-part key can never coincide with one of them.
DESIGN_STREAM = 2**32 - 1


def design_seed(exp: Experiment) -> np.random.SeedSequence:
    """The stream the design is sampled from."""
    return np.random.SeedSequence(exp.seed, spawn_key=(DESIGN_STREAM,))


def run_seed(seed: int, point: int, replication: int) -> np.random.SeedSequence:
    """The stream of run ``(point, replication)``.

    Equal to ``SeedSequence(seed).spawn(point + 1)[point].spawn(replication + 1)[replication]``,
    built directly so that any worker can make it without spawning the others.
    """
    return np.random.SeedSequence(seed, spawn_key=(point, replication))


def build_design(exp: Experiment) -> pd.DataFrame:
    """The design points: column ``point`` and one column per factor (values as sampled).

    Examples
    --------
    >>> from clusterlearn.experiments import Experiment, build_design
    >>> exp = Experiment(factors={"trust.initial": [0.2, 0.8], "learning.alpha0": [0.5, 1.0]})
    >>> build_design(exp)["trust.initial"].tolist()
    [0.2, 0.2, 0.8, 0.8]
    """
    names = exp.factor_names
    m = exp.design.method
    if m == "grid":
        rows = list(itertools.product(*(f.grid_levels() for f in exp.factors.values())))
        table = pd.DataFrame(rows, columns=names)
    else:
        x = _sample(exp)
        table = pd.DataFrame(x, columns=names)
    table.insert(0, "point", np.arange(len(table), dtype=np.int64))
    return table


def _sample(exp: Experiment) -> np.ndarray:
    problem = exp.problem()
    n = int(exp.design.samples or 0)
    ss = design_seed(exp)
    salib_seed = int(ss.generate_state(1, dtype=np.uint32)[0])
    m = exp.design.method
    if m == "lhs":
        sampler = qmc.LatinHypercube(d=problem["num_vars"], rng=np.random.default_rng(ss))
        bounds = np.asarray(problem["bounds"], dtype=float)
        return qmc.scale(sampler.random(n), bounds[:, 0], bounds[:, 1])
    if m == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, n, calc_second_order=exp.design.second_order, seed=salib_seed)
    from SALib.sample import morris

    return morris.sample(problem, n, num_levels=exp.design.levels, seed=salib_seed)


def point_params(exp: Experiment, design: pd.DataFrame) -> list[dict[str, Any]]:
    """Per design point, the scenario overrides a run applies (integer keys rounded)."""
    ints: set[str] = set()
    if exp.model is None:
        flat = exp.scenario.flat()
        ints = {
            k
            for k, f in exp.factors.items()
            if f.range is not None
            and isinstance(flat.get(k), int)
            and not isinstance(flat[k], bool)
        }
    out = []
    for row in design[exp.factor_names].itertuples(index=False):
        params = {}
        for k, v in zip(exp.factor_names, row, strict=True):
            params[k] = _plain(v, k in ints)
        out.append(params)
    return out


def _plain(v: Any, as_int: bool) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if as_int and isinstance(v, float):
        return round(v)
    if isinstance(v, float) and np.isnan(v):
        return None
    return v
