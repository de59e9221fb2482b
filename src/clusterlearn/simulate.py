"""The one entry point of a run: :func:`simulate`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from clusterlearn.model.engine import Simulation
from clusterlearn.result import Result
from clusterlearn.scenario import Scenario


def simulate(
    scenario: Scenario,
    *,
    steps: int | None = None,
    rng: int | np.random.SeedSequence | np.random.Generator | None = None,
    record_every: int | None = None,
    metrics_every: int = 1,
    callback: Callable[[Simulation], None] | None = None,
) -> Result:
    """Run a scenario and return its :class:`Result`.

    Parameters
    ----------
    scenario : Scenario
        What to simulate.
    steps : int, optional
        Steps to run; defaults to ``scenario.steps``.
    rng : int, SeedSequence or Generator, optional
        The only source of randomness. The same seed gives bit-identical results; every
        channel and process gets its own stream spawned from it.
    record_every : int, optional
        Keep the firm table every ``record_every`` steps in ``Result.panel``.
    metrics_every : int, optional
        Record the outcomes (``Result.metrics``) every ``metrics_every`` steps and at the last
        step, instead of every step; flows are still recorded every step. The run itself is
        the same. Outcomes that count events (entries, innovations, ...) are those of the
        recorded step. Saves time on large clusters.
    callback : callable, optional
        Called with the :class:`~clusterlearn.model.engine.Simulation` after every step.

    Examples
    --------
    >>> from clusterlearn import Scenario, simulate
    >>> r = simulate(Scenario.preset("baseline").with_overrides({"firms.n": 60}), steps=5, rng=1)
    >>> len(r.metrics)
    6
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(
            f"scenario: expected a clusterlearn.Scenario, got {type(scenario).__name__}"
        )
    n_steps = scenario.steps if steps is None else steps
    if n_steps < 0:
        raise ValueError(f"steps: expected a non-negative whole number, got {n_steps}")
    if record_every is not None and record_every < 1:
        raise ValueError(f"record_every: expected a whole number >= 1, got {record_every}")
    sim = Simulation(scenario, rng=rng, record_every=record_every, metrics_every=metrics_every)
    sim.run(n_steps, callback=callback)
    return sim.result()
