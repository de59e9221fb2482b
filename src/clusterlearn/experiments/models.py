"""Function models: plain Python functions run in place of the simulation.

A function model takes the design point's parameters (factor name -> value) and the run's
:class:`numpy.random.SeedSequence` and returns a dict of outcome values. It must be importable
by the workers (defined at module level in an installed module), because it travels to them by
reference. :func:`ishigami` is the textbook test function of sensitivity analysis.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Analytic Sobol indices of the Ishigami function with a = 7, b = 0.1 on [-pi, pi]^3.
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
ISHIGAMI_S2 = {("x1", "x2"): 0.0, ("x1", "x3"): 0.2437, ("x2", "x3"): 0.0}


def ishigami(params: dict[str, Any], rng: np.random.SeedSequence | None = None) -> dict[str, float]:
    """The Ishigami function ``sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1`` (deterministic).

    Examples
    --------
    >>> round(ishigami({"x1": 1.0, "x2": 0.5, "x3": -1.0})["y"], 4)
    2.5796
    """
    x1, x2, x3 = float(params["x1"]), float(params["x2"]), float(params["x3"])
    y = math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)
    return {"y": y}


def noisy_linear(params: dict[str, Any], rng: np.random.SeedSequence) -> dict[str, float]:
    """``sum_k (k+1) * x_k`` plus standard normal noise drawn from the run's stream.

    Shows that a function model gets its replication's own stream.
    """
    g = np.random.default_rng(rng)
    y = sum((k + 1) * float(v) for k, v in enumerate(params.values()))
    return {"y": y + float(g.standard_normal())}
