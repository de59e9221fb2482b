"""The reduced cluster-learning model as an idiomatic Mesa 3 model: one object per firm.

The rules are those of ``MODEL.md`` (sections 1-3) restricted to the reduced model:

* every firm ``i`` holds tacit ``T[i]`` and explicit ``E[i]`` knowledge in ``D`` domains, a
  stage with relevance vector ``w[stage]``, a location, R&D intensity ``rnd``, learning effort
  ``effort`` and opportunism ``opp``; capability ``c = w[stage] . T`` and absorptive capacity
  ``alpha = alpha0 + alpha_k c + alpha_r rnd`` (fixed at the start of each step);
* the one learning kernel ``absorb(x, a) = x exp(-x / a)`` for ``x = max(0, gap)``;
* C1 informal exchange: each firm turns to one social neighbour, drawn with weight
  ``trust x prox`` (``prox = exp(-dist / ell)``); the talk happens with probability ``trust``;
  if it does, the firm learns
  ``rate x culture x inside x trust x absorb(T_j - T_i, alpha_i)`` unless the partner turns
  opportunistic (probability ``betrayal x 2 opp_j x enforcement``), in which case it learns
  nothing and the tie's trust falls by ``eta_down x trust``; a meeting that taught something
  raises trust by ``eta_up x (1 - trust)``;
* C2 cooperation: each value-chain tie meets with probability ``meet x trust``; a meeting is
  a barter (Cowan and Jonard 2004) and goes ahead only when each side leads the other by more
  than ``margin`` in some domain; each side, unless its partner cheats, learns tacit knowledge
  ``rate x inside x trust x absorb(T_other - T_own, alpha)`` and explicit knowledge at that
  rate times the IT multiplier; a cheat on either side lowers trust, an honest exchange
  raises it;
* SECI inside the firm: externalisation ``E += eps x codify x max(0, T - E)``, then
  internalisation ``T += iota x effort x absorb(E - T, alpha)``;
* trust drifts toward the baseline: ``trust += drift x (trust0 - trust)`` on every tie.

With the exterior network off there is no outward option, so ``inside = 1`` for every firm.

Mesa idiom: firms are :class:`mesa.discrete_space.FixedAgent` objects placed on the cells of
a :class:`mesa.discrete_space.Network` built from the social graph; value-chain ties are a
second ``networkx`` graph; trust lives on the graphs' edges. Each phase is
``model.agents.shuffle_do(...)``: firms act one after another in a random order and change
the state at once (``update="sequential"``, the Mesa default). ``update="simultaneous"`` runs
the same rules in two stages (every firm computes from the state at the start of the phase,
then all changes are applied), which is how the vectorised engine updates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import FixedAgent, Network
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Update = Literal["sequential", "simultaneous"]


@dataclass(frozen=True)
class ReferenceParams:
    """Parameters of the reduced model (environment multipliers already folded in).

    Defaults are the baseline values of ``MODEL.md`` with every lever at its neutral 0.5.
    """

    informal_rate: float = 0.10
    culture: float = 1.0  # multiplier of C1 from the culture lever
    coop_rate: float = 0.08
    meet: float = 0.5
    margin: float = 0.0
    it_explicit: float = 1.0  # multiplier of C2's explicit part from IT infrastructure
    betrayal: float = 0.02
    enforcement: float = 1.0  # multiplier of the betrayal probability
    eta_up: float = 0.05
    eta_down: float = 0.3
    drift: float = 0.01
    trust0: float = 0.5
    alpha0: float = 0.5
    alpha_k: float = 0.4
    alpha_r: float = 1.0
    eps: float = 0.05
    iota: float = 0.05
    codify: float = 1.0  # codification propensity times the IT multiplier
    ell: float = 0.15
    informal: bool = True
    cooperation: bool = True
    # Diagnostic only (simultaneous mode): apply at most one rise and one fall of trust per
    # tie and phase, however many meetings used the tie, instead of counting every meeting.
    # This is the engine's C1 rule; see docs/benchmarks.md.
    once_per_tie: bool = False


@dataclass
class InitialCluster:
    """The cluster at step 0: per-firm arrays and the two tie layers with their trust."""

    T: FloatArray  # n x D
    E: FloatArray  # n x D
    stage: IntArray
    x: FloatArray
    y: FloatArray
    w: FloatArray  # S x D relevance of each stage
    rnd: FloatArray
    effort: FloatArray
    opp: FloatArray
    social: tuple[IntArray, IntArray, FloatArray]  # (i, j, trust)
    value_chain: tuple[IntArray, IntArray, FloatArray]
    inside: FloatArray | None = None

    @property
    def n(self) -> int:
        return int(self.T.shape[0])


def absorb(gap: FloatArray, alpha: float) -> FloatArray:
    """``x exp(-x / alpha)`` for ``x = max(0, gap)``: what a learner takes in across a gap."""
    x = np.maximum(gap, 0.0)
    return x * np.exp(-x / alpha)


@dataclass
class Counters:
    """Knowledge moved in one step, per channel and SECI conversion."""

    C1: float = 0.0
    C2: float = 0.0
    externalisation: float = 0.0
    internalisation: float = 0.0
    meetings: dict[str, int] = field(default_factory=lambda: {"C1": 0, "C2": 0})


class Firm(FixedAgent):
    """One firm of the cluster, sitting on its cell of the social network."""

    def __init__(
        self,
        model: ClusterModel,
        cell: mesa.discrete_space.Cell,
        index: int,
        T: FloatArray,
        E: FloatArray,
        stage: int,
        xy: tuple[float, float],
        rnd: float,
        effort: float,
        opp: float,
        inside: float,
    ) -> None:
        super().__init__(model)
        self.cell = cell
        self.index = index
        self.T = T.copy()
        self.E = E.copy()
        self.stage = stage
        self.x, self.y = xy
        self.rnd = rnd
        self.effort = effort
        self.opp = opp
        self.inside = inside
        self.alpha = 1.0
        # What the firm saw at the start of a phase, and its pending gains (simultaneous mode).
        self.T_seen = self.T
        self.E_seen = self.E
        self.dT = np.zeros_like(self.T)
        self.dE = np.zeros_like(self.E)

    # --- derived quantities ---------------------------------------------------------------
    @property
    def capability(self) -> float:
        return float(self.model.w[self.stage] @ self.T)

    def proximity(self, other: Firm) -> float:
        return math.exp(-math.hypot(self.x - other.x, self.y - other.y) / self.model.p.ell)

    def betrays(self) -> bool:
        """Does this firm turn opportunistic in a meeting? (drawn afresh every meeting)."""
        p = self.model.p
        prob = min(1.0, max(0.0, p.betrayal * 2.0 * self.opp * p.enforcement))
        return self.model.random.random() < prob

    # --- phases ---------------------------------------------------------------------------
    def prepare(self) -> None:
        """Start of a step: absorptive capacity from the capability the firm has now."""
        p = self.model.p
        self.alpha = p.alpha0 + p.alpha_k * self.capability + p.alpha_r * self.rnd

    def snapshot(self) -> None:
        """Start of a phase: what partners see of this firm (only read in simultaneous mode)."""
        if self.model.update == "simultaneous":
            self.T_seen, self.E_seen = self.T.copy(), self.E.copy()
        else:
            self.T_seen, self.E_seen = self.T, self.E

    def learn(self, dT: FloatArray, dE: FloatArray | None = None) -> None:
        if self.model.update == "simultaneous":
            self.dT += dT
            if dE is not None:
                self.dE += dE
        else:
            self.T += dT
            if dE is not None:
                self.E += dE

    def advance(self) -> None:
        """Apply the gains collected during a simultaneous phase."""
        self.T += self.dT
        self.E += self.dE
        self.dT[:] = 0.0
        self.dE[:] = 0.0

    def informal(self) -> None:
        """C1: talk to one social neighbour chosen with weight trust x proximity."""
        model = self.model
        p = model.p
        partners = list(self.cell.neighborhood.agents)
        if not partners:
            return
        weights = [model.trust("social", self, o) * self.proximity(o) for o in partners]
        if sum(weights) <= 0.0:
            return
        other = model.random.choices(partners, weights=weights)[0]
        trust = model.trust("social", self, other)
        if model.random.random() >= trust:
            return  # people share know-how only with those they trust
        cheat = other.betrays()
        model.counters.meetings["C1"] += 1
        if cheat:
            model.meeting_outcome("social", self, other, success=False)
            return
        scale = p.informal_rate * p.culture * self.inside * trust
        gain = scale * absorb(other.T_seen - self.T_seen, self.alpha)
        total = float(gain.sum())
        model.counters.C1 += total
        self.learn(gain)
        if total > 0.0:
            model.meeting_outcome("social", self, other, success=True)

    def cooperate(self) -> None:
        """C2: meet the value-chain partners this firm is responsible for (higher index)."""
        model = self.model
        p = model.p
        for other in model.vc_partners[self.index]:
            trust = model.trust("value_chain", self, other)
            if model.random.random() >= p.meet * trust:
                continue
            diff = self.T_seen - other.T_seen
            if not ((diff > p.margin).any() and (diff < -p.margin).any()):
                continue  # no barter: one side would gain nothing
            cheat_self, cheat_other = self.betrays(), other.betrays()
            model.counters.meetings["C2"] += 1
            # A barter is a swap: both sides' gains come from the levels before it.
            gains = []
            for learner, source, cheated in ((self, other, cheat_other), (other, self, cheat_self)):
                if cheated:
                    continue
                s = p.coop_rate * learner.inside * trust
                gT = s * absorb(source.T_seen - learner.T_seen, learner.alpha)
                gE = s * p.it_explicit * absorb(source.E_seen - learner.E_seen, learner.alpha)
                model.counters.C2 += float(gT.sum() + gE.sum())
                gains.append((learner, gT, gE))
            for learner, gT, gE in gains:
                learner.learn(gT, gE)
            model.meeting_outcome(
                "value_chain", self, other, success=not (cheat_self or cheat_other)
            )

    def convert(self) -> None:
        """SECI inside the firm: externalisation, then internalisation."""
        p = self.model.p
        ext = p.eps * p.codify * np.maximum(self.T - self.E, 0.0)
        self.E += ext
        internal = p.iota * self.effort * absorb(self.E - self.T, self.alpha)
        self.T += internal
        self.model.counters.externalisation += float(ext.sum())
        self.model.counters.internalisation += float(internal.sum())


class ClusterModel(mesa.Model):
    """The reduced cluster-learning model, one :class:`Firm` agent per firm.

    Parameters
    ----------
    init : InitialCluster
        The cluster at step 0.
    params : ReferenceParams
        The rules' parameters.
    seed : int
        Seed of the model's random number generator (``model.random``).
    update : {"sequential", "simultaneous"}
        Firms act one after another in random order and change the state at once (Mesa's
        default), or all compute from the state at the start of a phase and then apply.
    """

    def __init__(
        self,
        init: InitialCluster,
        params: ReferenceParams | None = None,
        seed: int = 0,
        update: Update = "sequential",
    ) -> None:
        super().__init__(seed=seed)
        if update not in ("sequential", "simultaneous"):
            raise ValueError(f"update: expected 'sequential' or 'simultaneous', got {update!r}")
        self.p = params or ReferenceParams()
        self.update = update
        self.w = np.asarray(init.w, dtype=np.float64)
        n = init.n
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        for a, b, t in zip(*init.social, strict=True):
            graph.add_edge(int(a), int(b), trust=float(t))
        self.grid = Network(graph, random=self.random)
        self.vc = nx.Graph()
        self.vc.add_nodes_from(range(n))
        for a, b, t in zip(*init.value_chain, strict=True):
            self.vc.add_edge(int(a), int(b), trust=float(t))
        inside = np.ones(n) if init.inside is None else init.inside
        self.firms: list[Firm] = [
            Firm(
                self,
                self.grid[i],
                i,
                init.T[i],
                init.E[i],
                int(init.stage[i]),
                (float(init.x[i]), float(init.y[i])),
                float(init.rnd[i]),
                float(init.effort[i]),
                float(init.opp[i]),
                float(inside[i]),
            )
            for i in range(n)
        ]
        # Each value-chain tie is handled once per step, by its lower-index end.
        self.vc_partners: list[list[Firm]] = [
            [self.firms[j] for j in sorted(self.vc.neighbors(i)) if j > i] for i in range(n)
        ]
        self._pending: list[tuple[str, int, int, bool]] = []
        self.counters = Counters()
        self.history: list[Counters] = []

    # --- trust on ties --------------------------------------------------------------------
    def _graph(self, layer: str) -> nx.Graph:
        return self.grid.G if layer == "social" else self.vc

    def trust(self, layer: str, a: Firm, b: Firm) -> float:
        data = self._graph(layer).edges[a.index, b.index]
        return float(data["trust_seen"] if self.update == "simultaneous" else data["trust"])

    def meeting_outcome(self, layer: str, a: Firm, b: Firm, success: bool) -> None:
        """A meeting on tie (a, b) went well (trust up) or was betrayed (trust down).

        Every meeting counts: when two meetings use the same tie in one phase (i talks to j
        and j talks to i), both changes apply, one after the other.
        """
        if self.update == "simultaneous":
            lo, hi = sorted((a.index, b.index))  # a tie is undirected
            self._pending.append((layer, lo, hi, success))
        else:
            self._change_trust(layer, a.index, b.index, success)

    def _change_trust(self, layer: str, a: int, b: int, success: bool) -> None:
        data = self._graph(layer).edges[a, b]
        t = data["trust"]
        t = t + self.p.eta_up * (1.0 - t) if success else t - self.p.eta_down * t
        data["trust"] = min(1.0, max(0.0, t))

    def _begin_phase(self) -> None:
        self.agents.do("snapshot")
        if self.update == "simultaneous":
            for g in (self.grid.G, self.vc):
                for _, _, data in g.edges(data=True):
                    data["trust_seen"] = data["trust"]

    def _end_phase(self) -> None:
        if self.update == "simultaneous":
            self.agents.do("advance")
            pending = self._pending
            if self.p.once_per_tie:
                # One rise per tie, then one fall per tie, each however many meetings.
                ups = dict.fromkeys(k for k in pending if k[3])
                downs = dict.fromkeys(k for k in pending if not k[3])
                pending = [*ups, *downs]
            for layer, a, b, success in pending:
                self._change_trust(layer, a, b, success)
            self._pending.clear()

    # --- the step -------------------------------------------------------------------------
    def step(self) -> None:
        """One quarter: capacities, C1, C2, SECI, trust drift."""
        self.counters = Counters()
        self.agents.do("prepare")
        if self.p.informal:
            self._begin_phase()
            self.agents.shuffle_do("informal")
            self._end_phase()
        if self.p.cooperation:
            self._begin_phase()
            self.agents.shuffle_do("cooperate")
            self._end_phase()
        self.agents.do("convert")
        for g in (self.grid.G, self.vc):
            for _, _, data in g.edges(data=True):
                data["trust"] += self.p.drift * (self.p.trust0 - data["trust"])
        self.history.append(self.counters)

    # --- outcomes -------------------------------------------------------------------------
    def capabilities(self) -> FloatArray:
        return np.array([f.capability for f in self.firms])

    def trust_values(self) -> FloatArray:
        return np.array(
            [d["trust"] for g in (self.grid.G, self.vc) for _, _, d in g.edges(data=True)]
        )

    def total_flow(self, channel: str) -> float:
        return float(sum(getattr(c, channel) for c in self.history))
