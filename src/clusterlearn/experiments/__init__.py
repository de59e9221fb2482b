"""Experiments at scale: designs, replications, a results store and sensitivity analysis.

Describe an :class:`Experiment` (in TOML or Python), run it with :func:`run_experiment` on
local processes or a Dask cluster, and read what is stored with :func:`open`::

    import clusterlearn.experiments as cx

    exp = cx.Experiment.from_toml("experiments/trust-absorptive.toml")
    res = cx.run_experiment(exp, "results/trust-absorptive", workers=2)
    res.summary(["mean_capability"])
    res.sql("SELECT point, avg(catch_up) FROM final GROUP BY point")

The package follows the stages of a study: :mod:`.spec` (what to run), :mod:`.design`
(design points and run streams), :mod:`.executors` (where runs execute), :mod:`.store`
(catalogue and outcome files), :mod:`.analyse` (summaries and sensitivity indices) and
:mod:`.plots` (figures and the report). See docs/experiments.md.
"""

from __future__ import annotations

from clusterlearn.experiments.analyse import SobolIndices, main_effects, morris, sobol, summarise
from clusterlearn.experiments.design import build_design, run_seed
from clusterlearn.experiments.executors import BACKENDS
from clusterlearn.experiments.results import ExperimentResults, open_results
from clusterlearn.experiments.runner import run_experiment
from clusterlearn.experiments.spec import (
    DesignSpec,
    Experiment,
    ExperimentError,
    Factor,
    Outcomes,
)

open = open_results

__all__ = [
    "BACKENDS",
    "DesignSpec",
    "Experiment",
    "ExperimentError",
    "ExperimentResults",
    "Factor",
    "Outcomes",
    "SobolIndices",
    "build_design",
    "main_effects",
    "morris",
    "open",
    "open_results",
    "run_experiment",
    "run_seed",
    "sobol",
    "summarise",
]
