"""clusterlearn: collective technological learning in industrial clusters.

The public API is deliberately small: describe a cluster with :class:`Scenario`, run it with
:func:`simulate`, read the :class:`Result`, and compare two scenarios with :func:`compare`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from clusterlearn.compare import compare
from clusterlearn.result import Result
from clusterlearn.scenario import Scenario
from clusterlearn.simulate import simulate

__all__ = ["Result", "Scenario", "__version__", "compare", "simulate"]
