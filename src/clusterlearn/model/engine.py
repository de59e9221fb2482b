"""The step: channels and processes composed in a fixed, documented order.

One step ``t`` (a quarter) does, in order:

1. interventions in force at ``t`` are applied to the parameters;
2. the global frontier grows by ``g`` and institutions follow it with their lag;
3. capability ``c``, absorptive capacity ``alpha``, social capital ``sc`` and position are
   computed once (channels see them as at the start of the step);
4. every ``decide_every`` steps, firms choose their learning mode (section 5);
5. the channels run in registry order (C1-C5, A1-A5, X1); each sees the state left by the
   previous one and its output is applied at once (sequential operator splitting);
6. SECI conversions inside firms: externalisation, then internalisation;
7. innovation, and diffusion tracking of earlier innovations;
8. trust drifts toward the baseline;
9. firms grow and upgrade; every ``update_every`` steps the population and the networks
   change together: spin-offs drawn since the last update enter, the networks update
   (buffered ties merged, closure, decay, value-chain and exterior ties) and firms that
   stayed behind exit;
10. the outcomes are recorded.

Every channel and process draws from its own stream, spawned from one
:class:`numpy.random.SeedSequence`, so switching a channel off leaves the others' draws
unchanged (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from clusterlearn.model import memory
from clusterlearn.model.channels import Channel, ChannelOutput, channels
from clusterlearn.model.context import StepContext, children, default_generator, make_context
from clusterlearn.model.init import initial_state, institution_knowledge
from clusterlearn.model.kernel import (
    apply_rows,
    book_gains,
    capability_capacity,
    capacity,
    meet_ties,
    scatter_add,
    threads_for,
)
from clusterlearn.model.metrics import Snapshot, average_clustering, collect
from clusterlearn.model.processes import decision, dynamics, innovation, network, seci, trust
from clusterlearn.model.state import State

if TYPE_CHECKING:
    from clusterlearn.result import Result
    from clusterlearn.scenario import Scenario

PROCESS_STREAMS = ("init", "network", "innovation", "dynamics")
SECI = ("socialisation", "externalisation", "combination", "internalisation")


def stream_names() -> list[str]:
    """Names of the random streams, in spawn order (processes, then channels by registry)."""
    return [*PROCESS_STREAMS, *(c.name for c in channels())]


def _phase(at: int, ramp: int, t: int) -> float:
    """How far an intervention is phased in at step ``t``: 0 before ``at``, 1 after its ramp."""
    return 0.0 if t < at else min(1.0, (t - at + 1) / (ramp + 1))


def intervention_phases(base: Scenario, t: int) -> tuple[float, ...]:
    """Phase of every intervention at step ``t``; the scenario in force depends on nothing else."""
    return tuple(_phase(iv.at, iv.ramp, t) for iv in base.interventions)


def apply_interventions(base: Scenario, t: int) -> Scenario:
    """The scenario in force at step ``t``: each intervention phased in over its ramp."""
    if not base.interventions:
        return base
    current = base
    for iv in sorted(base.interventions, key=lambda iv: iv.at):
        if t < iv.at:
            continue
        frac = _phase(iv.at, iv.ramp, t)
        changes: dict[str, Any] = {}
        for key, target in iv.set.items():
            start = current.get(key)
            if isinstance(target, bool) or isinstance(start, bool) or frac >= 1.0:
                changes[key] = target
            else:
                value = start + (target - start) * frac
                changes[key] = round(value) if isinstance(start, int) else value
        current = current.with_overrides(changes)
    return current


class Simulation:
    """A run in progress: step it, read its state, and turn it into a :class:`Result`.

    Most users call :func:`clusterlearn.simulate`; the CLI steps a ``Simulation`` itself to
    show progress and to keep a partial result when interrupted.
    """

    def __init__(
        self,
        scenario: Scenario,
        rng: int | np.random.SeedSequence | np.random.Generator | None = None,
        record_every: int | None = None,
        metrics_every: int = 1,
    ) -> None:
        if metrics_every < 1:
            raise ValueError(f"metrics_every: expected a whole number >= 1, got {metrics_every}")
        self.scenario = scenario
        self.metrics_every = metrics_every
        self._last_counters: dict[str, float] = {}
        self._ctx: StepContext | None = None  # the last step's context (lends its environment)
        self.seed = default_generator(rng)
        names = stream_names()
        self.streams = {
            name: np.random.default_rng(child)
            for name, child in zip(names, children(self.seed, len(names)), strict=True)
        }
        self.channels: list[Channel] = [cls() for cls in channels()]
        self._flow_columns = self.flow_columns()
        self._enabled_for: Scenario | None = None
        self._enabled_list: list[tuple[int, Channel, Any]] = []
        memory.for_run(scenario.firms.n, scenario.firms.domains)
        self.state: State = initial_state(scenario, self.streams["init"], len(self.channels))
        self.record_every = record_every
        self.metric_rows: list[dict[str, float]] = []
        self.flow_rows: list[dict[str, float]] = []
        self.panel_frames: list[Any] = []
        self.current = apply_interventions(scenario, 0)
        self._phases = intervention_phases(scenario, 0)
        self._clustering = average_clustering(self.state)
        self._clustering_view = self.state.social.csr(self.state.n)
        self._record(counters={}, flows=dict.fromkeys(self.flow_columns(), 0.0))

    # --- bookkeeping ----------------------------------------------------------------------
    def flow_columns(self) -> list[str]:
        return [c.code for c in self.channels] + list(SECI)

    def _enabled(self, sc: Scenario) -> list[tuple[int, Channel, Any]]:
        """The channels switched on in scenario ``sc`` (a channel switched off draws nothing
        and does nothing), with their index and parameters; kept while ``sc`` is the same."""
        if self._enabled_for is not sc:
            found = ((k, ch, sc.channel_params(ch.name)) for k, ch in enumerate(self.channels))
            self._enabled_list = [(k, ch, params) for k, ch, params in found if params.enabled]
            self._enabled_for = sc
        return self._enabled_list

    def _record(self, counters: dict[str, float], flows: dict[str, float]) -> None:
        st = self.state
        self.flow_rows.append({"step": float(st.t), **flows})
        self._last_counters = counters
        if st.t % self.metrics_every == 0:
            self._record_metrics(counters)
        if self.record_every and st.t % self.record_every == 0:
            from clusterlearn.result import firm_table

            frame = firm_table(st, make_context(self.current, st.t), centralities=False)
            frame.insert(0, "step", st.t)
            self.panel_frames.append(frame)

    def _record_metrics(self, counters: dict[str, float]) -> None:
        st = self.state
        # The state does not change between this record and the next step's start, so the
        # next step reuses these (see _context).
        c, sc = st.capability(), st.social_capital()
        self._derived = (st.t, st.n, c, sc)
        counters = {**counters, "clustering": self._clustering}
        row = {"step": float(st.t), **collect(Snapshot(state=st, c=c, sc=sc, counters=counters))}
        self.metric_rows.append(row)

    def finish_metrics(self) -> None:
        """Record the outcomes of the current step if ``metrics_every`` skipped it, so that a
        result always ends with the final state."""
        if not self.metric_rows or int(self.metric_rows[-1]["step"]) != self.state.t:
            self._record_metrics(self._last_counters)

    def _context(self) -> StepContext:
        st = self.state
        ctx = make_context(self.current, st.t, like=self._ctx)
        self._ctx = ctx
        ln = self.current.learning
        cached = getattr(self, "_derived", None)
        if cached is not None and cached[0] == st.t and cached[1] == st.n:
            ctx.c, ctx.sc = cached[2], cached[3]
            ctx.alpha = capacity(ctx.c, ln.alpha0, ln.alpha_k, ln.alpha_r, st.rnd, st.alpha_bonus)
        else:
            ctx.c, ctx.alpha = capability_capacity(
                st.w, st.stage, st.T, ln.alpha0, ln.alpha_k, ln.alpha_r, st.rnd, st.alpha_bonus
            )
            ctx.sc = st.social_capital()
        return ctx

    # --- the step -------------------------------------------------------------------------
    def step(self) -> None:
        """Advance the simulation by one step (see the module docstring for the order)."""
        with threads_for(self.state.n):
            self._step()

    def _step(self) -> None:
        st = self.state
        t = st.t
        phases = intervention_phases(self.scenario, t)
        if phases != self._phases:  # re-validate only while an intervention is phasing in
            self.current = apply_interventions(self.scenario, t)
            self._phases = phases
        sc = self.current
        ctx = self._context()  # derived quantities first: the frontier moves below
        st.G = st.G + sc.frontier.g
        st.G_history.append(st.G.copy())
        if len(st.G_history) > sc.institutions.lag + 2:
            del st.G_history[0 : len(st.G_history) - sc.institutions.lag - 2]
        institution_knowledge(st, sc)
        if t % sc.decision.decide_every == 0:
            decision.decide(st, ctx)
        saving = decision.saving(st, ctx)

        flows = dict.fromkeys(self._flow_columns, 0.0)
        for k, ch, params in self._enabled(sc):
            out = ch.apply(st, params, ctx, self.streams[ch.name])
            if out.is_empty():  # nothing to do this step
                flows[ch.code] = 0.0
                continue
            self._apply(out, ch, k, saving if ch.in_cluster else None)
            tacit, explicit = out.tacit_flow, out.explicit_flow
            flows[ch.code] = tacit + explicit
            flows["socialisation"] += tacit
            flows["combination"] += explicit
            if out.births is not None:
                inherited_T = float(out.births["T"].sum())
                inherited_E = float(out.births["E"].sum())
                flows[ch.code] += inherited_T + inherited_E
                flows["socialisation"] += inherited_T
                flows["combination"] += inherited_E

        ext, internal = seci.convert(st, ctx)
        flows["externalisation"] = ext
        flows["internalisation"] = internal

        counters: dict[str, float] = {}
        counters["innovations"] = innovation.innovate(st, ctx, self.streams["innovation"])
        trust.drift(st, ctx)
        res = dynamics.evolve(st, ctx, self.streams["dynamics"])
        counters["upgrades"] = res["upgrades"]
        st.t = t + 1
        counters["entries"] = counters["exits"] = 0
        if st.t % sc.networks.update_every == 0:
            # Population and structure change together, once per update, so that the
            # neighbour views of the layers are rebuilt once, not every step.
            counters["entries"] = dynamics.enter(st, ctx, st.pending_births, st.pending_ties)
            counters.update(network.update(st, ctx, self.streams["network"], st.pending_ties))
            counters["exits"] = dynamics.leave(st, ctx)
            # The neighbour view is rebuilt only when the social layer or the population
            # changed, so an unchanged view means an unchanged clustering coefficient.
            view = st.social.csr(st.n)
            if view is not self._clustering_view:
                self._clustering = average_clustering(st)
                self._clustering_view = view
        times = innovation.track_diffusion(st, ctx)
        counters["diffused"] = float(len(times))
        counters["diffusion_time"] = float(np.mean(times)) if times else float("nan")
        self._record(counters, flows)

    def _apply(self, out: ChannelOutput, ch: Channel, k: int, saving: np.ndarray | None) -> None:
        """Apply the output of channel ``k`` to the state and book what each firm gained
        (``saving``: the transaction-cost saving of an in-cluster channel)."""
        st = self.state
        booked = out.rows is not None and out.row_gain is not None and out.dT is not None
        if booked:  # gains by rows with their totals: applied and booked in one pass
            assert out.rows is not None and out.row_gain is not None and out.dT is not None
            apply_rows(
                st.T, st.E, out.rows, out.dT, out.dE, out.rows_unique, out.row_gain,
                out.row_meetings, st.meetings, st.gain, st.last_inflow, st.motive_tc, k, st.t,
                saving,
            )  # fmt: skip
        for target, part in ((st.T, out.dT), (st.E, out.dE)):
            if booked or part is None or part.size == 0:
                continue
            if out.rows is None:
                target += part
            else:
                scatter_add(target, out.rows, part, unique=out.rows_unique)
        if out.lossT is not None and ch.source_loses:
            rows = out.loss_rows
            if rows is None:
                st.T -= out.lossT
                np.maximum(st.T, 0.0, out=st.T)
            else:
                st.T[rows] = np.maximum(st.T[rows] - out.lossT, 0.0)
        if out.workers is not None:
            st.workers += out.workers
            np.maximum(st.workers, 1, out=st.workers)
        if out.alpha_bonus is not None:
            st.alpha_bonus += out.alpha_bonus
        if out.trust_layer:
            lay = st.layer(out.trust_layer)
            tr = self.current.trust
            # Every meeting counts: k successes on a tie in one step compound to
            # 1 - (1 - eta_up)^k (1 - trust), b betrayals to (1 - eta_down)^b trust, as k and b
            # sequential meetings would.
            meet_ties(
                lay.trust,
                lay.tally(),
                out.success_edge,
                out.betrayal_edge,
                out.used_edge,
                lay.last_used,
                st.t,
                tr.eta_up,
                tr.eta_down,
            )
        st.pending_ties.extend(t for t in out.new_ties if t.a.size)
        if out.births is not None:
            st.pending_births.append(out.births)
        if out.spend is not None:
            st.spend += out.spend
        if out.meetings is not None:
            st.meetings += out.meetings
        if out.row_meetings and out.rows is not None and not booked:  # else apply_rows counted
            st.meetings += out.meetings_of(st.n)
        if out.pool is not None:
            st.pool = out.pool
        if not booked:
            book_gains(st.gain, st.last_inflow, st.motive_tc, out.gained(st.n), k, st.t, saving)

    # --- running --------------------------------------------------------------------------
    def run(self, steps: int, callback: Callable[[Simulation], None] | None = None) -> None:
        for _ in range(steps):
            self.step()
            if callback is not None:
                callback(self)

    def result(self, partial: bool = False) -> Result:
        from clusterlearn.result import Result

        self.finish_metrics()
        return Result.from_simulation(self, partial=partial)
