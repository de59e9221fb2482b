"""An independent, agent-by-agent Mesa 3 implementation of clusterlearn's reduced model.

It exists to dock the vectorised engine against a plain implementation (Axtell et al. 1996)
and to measure the speed gap. It is written from ``MODEL.md`` and the documented rules, not
from the engine's code, and lives outside the package: ``mesa`` is a benchmark-only dependency.

* :mod:`.model` -- the Mesa model (``Firm`` agents, a ``Network`` space, ``shuffle_do``);
* :mod:`.bridge` -- builds the reference's parameters and initial cluster from a clusterlearn
  scenario and seed, so that both implementations start from the same cluster.
"""

from benchmarks.mesa_reference.model import ClusterModel, Firm, InitialCluster, ReferenceParams

__all__ = ["ClusterModel", "Firm", "InitialCluster", "ReferenceParams"]
