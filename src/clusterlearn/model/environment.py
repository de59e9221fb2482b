"""Environment levers (MODEL.md section 6) and the multipliers they put on the model.

Every lever lies in [0, 1] and 0.5 is neutral: each effect is a multiplier
``up(x, k) = 1 + k (2x - 1)`` or ``down(x, k) = 1 - k (2x - 1)`` that equals 1 at x = 0.5.
:data:`LEVER_EFFECTS` is the single documented table; the channels and processes read the
multipliers through :class:`Environment` so the table and the code cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# lever -> list of (effect name, direction, strength, where it acts)
LEVER_EFFECTS: dict[str, list[tuple[str, Literal["up", "down"], float, str]]] = {
    "public_services": [
        ("training", "up", 1.0, "A1 training sessions per tie"),
        ("services", "up", 1.0, "A5 service-centre requests (subsidy)"),
        ("reach", "up", 0.5, "auxiliary tie probability"),
    ],
    "cluster_agents": [
        ("events", "up", 1.0, "A4 event frequency"),
        ("trust0", "up", 0.15, "baseline trust trust0 (additive, x0.15)"),
    ],
    "it_infrastructure": [
        ("pool", "up", 1.0, "A3 draw rate from the knowledge pool"),
        ("codify", "up", 0.5, "externalisation (codification) rate"),
        ("explicit", "up", 0.5, "explicit part of C2 cooperation"),
    ],
    "ip_protection": [
        ("imitation", "down", 1.0, "C5 observation and imitation"),
        ("appropriability", "up", 1.0, "innovation probability via appropriability"),
    ],
    "openness": [
        ("outward", "up", 0.5, "X1 efficiency"),
        ("exterior_form", "up", 1.0, "exterior tie formation"),
        ("cost_out", "down", 0.3, "outward learning cost cost_out"),
    ],
    "labour_flexibility": [("mobility", "up", 1.0, "C3 worker mobility rate")],
    "tech_market": [
        ("market", "up", 1.0, "A5 technology-market access"),
        ("price", "down", 0.5, "A5 technology-market price"),
    ],
    "contract_enforcement": [
        ("betrayal", "down", 1.0, "betrayal probability in C1 and C2"),
        ("trust0", "up", 0.15, "baseline trust trust0 (additive, x0.15)"),
    ],
    "culture": [
        ("informal", "up", 0.5, "C1 informal exchange"),
        ("mobility_absorb", "up", 0.5, "tacit knowledge carried by C3 movers"),
        ("trust0", "up", 0.15, "baseline trust trust0 (additive, x0.15)"),
    ],
}


def up(x: float, k: float) -> float:
    """Multiplier rising with the lever: 1 at 0.5, ``1 + k`` at 1, ``1 - k`` at 0."""
    return 1.0 + k * (2.0 * x - 1.0)


def down(x: float, k: float) -> float:
    """Multiplier falling with the lever: 1 at 0.5, ``1 - k`` at 1, ``1 + k`` at 0."""
    return 1.0 - k * (2.0 * x - 1.0)


@dataclass(frozen=True)
class Environment:
    """Lever values of one step and the multipliers derived from them."""

    levers: dict[str, float]
    # Multipliers already looked up (a step asks for the same few several times).
    _known: dict[tuple[str, str], float] = field(default_factory=dict, compare=False, repr=False)

    def mult(self, lever: str, effect: str) -> float:
        """The multiplier lever ``lever`` puts on ``effect`` (see :data:`LEVER_EFFECTS`)."""
        known = self._known.get((lever, effect))
        if known is not None:
            return known
        for name, direction, k, _ in LEVER_EFFECTS[lever]:
            if name == effect:
                x = self.levers[lever]
                value = max(0.0, up(x, k) if direction == "up" else down(x, k))
                self._known[(lever, effect)] = value
                return value
        raise KeyError(f"lever {lever!r} has no effect {effect!r}")

    def trust0_shift(self) -> float:
        """Additive shift of baseline trust from agents, contract enforcement and culture."""
        s = 0.0
        for lever in ("cluster_agents", "contract_enforcement", "culture"):
            s += self.mult(lever, "trust0") - 1.0
        return s
