"""Testing the thesis: each proposition of MODEL.md section 8 as a replicated experiment
with a computed verdict.

:data:`PROPOSITIONS` holds the twelve propositions (claim, thesis words, experiment design,
analysis); :func:`run_propositions` runs their experiments through
:mod:`clusterlearn.experiments` and writes the report; :mod:`.verdict` holds the rules and
:mod:`.stats` the statistics. See docs/propositions.md.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window

from clusterlearn.propositions.definitions import PROPOSITIONS, Outcome, Proposition
from clusterlearn.propositions.design import Arm, Design, Tables
from clusterlearn.propositions.report import SCHEMA
from clusterlearn.propositions.runner import (
    DEFAULT_SEED,
    PropositionsError,
    budget,
    run_propositions,
    select,
)
from clusterlearn.propositions.stats import Estimate
from clusterlearn.propositions.verdict import RULE_TEXT, combine, decide

__all__ = [
    "DEFAULT_SEED",
    "PROPOSITIONS",
    "RULE_TEXT",
    "SCHEMA",
    "Arm",
    "Design",
    "Estimate",
    "Outcome",
    "Proposition",
    "PropositionsError",
    "Tables",
    "budget",
    "combine",
    "decide",
    "run_propositions",
    "select",
]
