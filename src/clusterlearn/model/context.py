"""What a step hands to channels and processes besides the state: parameters and streams."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from clusterlearn.model.environment import Environment

if TYPE_CHECKING:
    from clusterlearn.scenario import Scenario


@dataclass
class StepContext:
    """Read-only inputs of one step.

    Attributes
    ----------
    scenario : Scenario
        Parameters in force this step (interventions already applied).
    env : Environment
        Lever values and their multipliers.
    t : int
        The step being computed (0-based).
    """

    scenario: Scenario
    env: Environment
    t: int
    # Derived at the start of the step (capacities and positions as the step begins).
    c: np.ndarray = field(default_factory=lambda: np.zeros(0))
    alpha: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sc: np.ndarray = field(default_factory=lambda: np.zeros(0))
    position: np.ndarray = field(default_factory=lambda: np.zeros(0))
    trust0: float = 0.5

    def enabled(self, channel: str) -> bool:
        return bool(getattr(self.scenario.channels, channel).enabled)


def make_context(scenario: Scenario, t: int, like: StepContext | None = None) -> StepContext:
    """The context of step ``t``; ``like``, a context of the same scenario object, lends its
    environment (the levers change only when an intervention gives a new scenario)."""
    if like is not None and like.scenario is scenario:
        env, trust0 = like.env, like.trust0
    else:
        env = Environment(levers=scenario.environment.model_dump())
        trust0 = float(min(1.0, max(0.0, scenario.trust.trust0 + env.trust0_shift())))
    return StepContext(scenario=scenario, env=env, t=t, trust0=trust0)


def entropy_int(seq: np.random.SeedSequence) -> int:
    """The root entropy of a seed sequence as one integer (0 if it is not one)."""
    e = seq.entropy
    return int(e) if isinstance(e, (int, np.integer)) else 0


def default_generator(
    rng: int | np.random.SeedSequence | np.random.Generator | None,
) -> np.random.SeedSequence:
    """Normalise the one ``rng`` argument to a :class:`numpy.random.SeedSequence`."""
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        # Derive a seed sequence from the generator's own stream (it advances by one draw).
        return np.random.SeedSequence(int(rng.integers(0, 2**63 - 1)))
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng: expected a non-negative integer seed, got {rng}")
        return np.random.SeedSequence(int(rng))
    raise TypeError(
        f"rng: expected an int, a numpy SeedSequence or a numpy Generator, got {type(rng).__name__}"
    )


def children(seq: np.random.SeedSequence, k: int) -> list[np.random.SeedSequence]:
    """The first ``k`` children ``seq.spawn(k)`` would give a fresh copy of ``seq``.

    Unlike ``seq.spawn``, this does not advance ``seq``'s spawn counter, so the same seed
    sequence given twice (for example to both arms of a comparison) yields the same streams.
    """
    return [
        np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, i), pool_size=seq.pool_size)
        for i in range(k)
    ]
