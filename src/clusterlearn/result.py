"""Results of a run: outcome tables, the final networks, and saving/loading with provenance."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clusterlearn.errors import ClusterlearnError
from clusterlearn.model.context import StepContext, entropy_int
from clusterlearn.model.kernel import capacity
from clusterlearn.model.metrics import gatekeepers
from clusterlearn.model.processes.innovation import FIELDS as INNOV_FIELDS
from clusterlearn.model.processes.innovation import diversity
from clusterlearn.model.state import INSTITUTION_TYPES, State

if TYPE_CHECKING:
    import networkx as nx

    from clusterlearn.model.engine import Simulation
    from clusterlearn.scenario import Scenario

LAYERS = ("social", "value_chain", "competitor", "auxiliary", "exterior", "knowledge")
MANIFEST = "manifest.json"
FORMAT = "clusterlearn-result/1"


def versions() -> dict[str, str]:
    """Versions of clusterlearn, numpy and Python stored with every result."""
    from clusterlearn import __version__

    return {
        "clusterlearn": __version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
        "platform": sys.platform,
    }


def _eigenvector(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    import scipy.sparse as sp
    from scipy.sparse.linalg import eigsh

    if n < 3 or i.size == 0:
        return np.zeros(n)
    a = sp.coo_matrix((np.ones(2 * i.size), (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    a.data[:] = 1.0
    try:
        _, vec = eigsh(a.astype(np.float64), k=1, which="LA", v0=np.ones(n) / np.sqrt(n), tol=1e-6)
        v = np.abs(vec[:, 0])
    except Exception:  # no convergence on odd graphs: fall back to degree share
        v = np.asarray(a.sum(axis=1)).ravel()
    top = v.max()
    return v / top if top > 0 else v


def firm_table(
    state: State, ctx: StepContext, centralities: bool = True, seed: int = 0
) -> pd.DataFrame:
    """One row per firm: every per-firm quantity, position, centralities and motive effects."""
    from clusterlearn.model.channels import channels
    from clusterlearn.model.processes.decision import costs

    n = state.n
    sc = ctx.scenario
    c = state.capability()
    ln = sc.learning
    alpha = capacity(c, ln.alpha0, ln.alpha_k, ln.alpha_r, state.rnd, state.alpha_bonus)
    soc = state.social_capital()
    ctx.sc = soc
    deg_s = state.social.degree(n)
    deg_v = state.value_chain.degree(n)
    df = pd.DataFrame(
        {
            "firm_id": state.firm_id,
            "stage": state.stage,
            "x": state.x,
            "y": state.y,
            "capability": c,
            "position": state.position(c),
            "frontier_gap": state.frontier_relevant() - c,
            "alpha": alpha,
            "social_capital": soc,
            "inside": state.inside,
            "effort": state.effort,
            "rnd": state.rnd,
            "opp": state.opp,
            "size": state.size,
            "workers": state.workers,
            "revenue": state.size * state.v[state.stage] * c,
            "age": state.t - state.born,
            "parent": state.parent,
            "innovations": state.innovations,
            "inflow_diversity": diversity(state, sc.innovation.window),
            "meetings": state.meetings,
            "spend": state.spend,
            "degree_social": deg_s,
            "degree_value_chain": deg_v,
            "degree_competitor": state.competitor.degree(n),
            "auxiliary_ties": state.auxiliary.count(n),
            "exterior_ties": state.exterior.count(n),
            "gatekeeper": gatekeepers(state),
        }
    )
    for d in range(state.D):
        df[f"T{d}"] = state.T[:, d]
    for d in range(state.D):
        df[f"E{d}"] = state.E[:, d]
    chans = channels()
    for k, ch in enumerate(chans):
        df[f"gain_{ch.code}"] = state.gain[k]
    by_motive = {
        m: [k for k, ch in enumerate(chans) if ch.motive == m]
        for m in ("spillover", "coordination", "resource")
    }
    cost_in, _ = costs(state, ctx)
    df["cost_in"] = cost_in
    df["motive_transaction_cost"] = state.motive_tc
    df["motive_resource"] = state.gain[by_motive["resource"]].sum(axis=0)
    df["motive_spillover"] = state.gain[by_motive["spillover"]].sum(axis=0)
    df["motive_coordination"] = state.gain[by_motive["coordination"]].sum(axis=0)
    if centralities:
        import networkx as nx

        ki = np.r_[state.social.i, state.value_chain.i]
        kj = np.r_[state.social.j, state.value_chain.j]
        df["eigenvector"] = _eigenvector(n, ki, kj)
        if n <= 20_000:
            g = nx.Graph()
            g.add_nodes_from(range(n))
            g.add_edges_from(zip(ki.tolist(), kj.tolist(), strict=True))
            k = min(n, 200)
            bc = nx.betweenness_centrality(g, k=k if k < n else None, seed=seed, normalized=True)
            df["betweenness"] = np.array([bc[v] for v in range(n)])
        else:
            df["betweenness"] = np.nan
    return df


@dataclass
class Result:
    """The outcome of :func:`clusterlearn.simulate`.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per step (step 0 is the initial state): the outcomes of MODEL.md section 7.
    flows : pandas.DataFrame
        Knowledge absorbed per channel (C1..X1) and per SECI conversion, per step.
    firms : pandas.DataFrame
        One row per firm at the end.
    panel : pandas.DataFrame or None
        The firm table every ``record_every`` steps (column ``step``), when asked.
    innovations : pandas.DataFrame
        One row per innovation: firm, stage, domain, step, size and diffusion time (NaN when
        not diffused by the end or censored).
    scenario : Scenario
    seed : int
        Entropy of the root :class:`numpy.random.SeedSequence`; ``simulate(s, rng=seed)``
        replays the run bit for bit.
    """

    metrics: pd.DataFrame
    flows: pd.DataFrame
    firms: pd.DataFrame
    innovations: pd.DataFrame
    edges: dict[str, pd.DataFrame]
    scenario: Scenario
    seed: int
    panel: pd.DataFrame | None = None
    partial: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_simulation(cls, sim: Simulation, partial: bool = False) -> Result:
        st = sim.state
        ctx = sim._context()
        firms = firm_table(st, ctx, centralities=True, seed=entropy_int(sim.seed) % (2**32))
        recs = list(st.innov_done)
        if st.innov and st.innov["id"].size:
            open_ = {f: st.innov[f] for f in INNOV_FIELDS}
            open_["new_to_stage"] = np.ones(st.innov["id"].size, dtype=bool)
            open_["diffusion_time"] = np.full(st.innov["id"].size, np.nan)
            recs.append(open_)
        if recs:
            innov = pd.DataFrame({k: np.concatenate([r[k] for r in recs]) for k in recs[0]})
            innov = innov.sort_values("id").reset_index(drop=True)
        else:
            innov = pd.DataFrame(
                {
                    k: pd.Series(dtype=float)
                    for k in [*INNOV_FIELDS, "new_to_stage", "diffusion_time"]
                }
            )
        fid = st.firm_id
        edges = {
            name: pd.DataFrame(
                {
                    "source": fid[lay.i],
                    "target": fid[lay.j],
                    "trust": lay.trust,
                    "last_used": lay.last_used,
                    "alliance": lay.kind.astype(bool) if lay.kind.size == lay.m else False,
                }
            )
            for name, lay in (
                ("social", st.social),
                ("value_chain", st.value_chain),
                ("competitor", st.competitor),
            )
        }
        edges["auxiliary"] = pd.DataFrame(
            {
                "source": fid[st.auxiliary.firm],
                "institution": st.auxiliary.other,
                "type": np.array(INSTITUTION_TYPES, dtype=object)[st.inst_type[st.auxiliary.other]]
                if st.auxiliary.m
                else np.array([], dtype=object),
            }
        )
        edges["exterior"] = pd.DataFrame(
            {"source": fid[st.exterior.firm], "partner": st.exterior.other}
        )
        panel = pd.concat(sim.panel_frames, ignore_index=True) if sim.panel_frames else None
        return cls(
            metrics=pd.DataFrame(sim.metric_rows).astype({"step": "int64"}),
            flows=pd.DataFrame(sim.flow_rows).astype({"step": "int64"}),
            firms=firms,
            innovations=innov,
            edges=edges,
            scenario=sim.scenario,
            seed=entropy_int(sim.seed),
            panel=panel,
            partial=partial,
            meta={
                "steps_done": st.t,
                "spawn_key": list(sim.seed.spawn_key),
                "versions": versions(),
            },
        )

    # --- networks -------------------------------------------------------------------------
    def network(self, layer: str = "knowledge") -> nx.Graph:
        """The final ``layer`` as a networkx graph with firm attributes on the nodes.

        Layers: ``social``, ``value_chain``, ``competitor`` (firm-firm, trust on edges),
        ``knowledge`` (social and value-chain together), ``auxiliary`` (firms and institutions,
        bipartite) and ``exterior`` (firms and outside partners).
        """
        import networkx as nx

        if layer not in LAYERS:
            raise ClusterlearnError(f"unknown layer {layer!r}; expected one of {', '.join(LAYERS)}")
        g = nx.Graph(layer=layer)
        attrs = self.firms.set_index("firm_id")[
            ["stage", "capability", "position", "x", "y", "gatekeeper", "inside"]
        ]
        g.add_nodes_from((int(k), {**v, "kind": "firm"}) for k, v in attrs.to_dict("index").items())
        if layer in ("social", "value_chain", "competitor", "knowledge"):
            names = ("social", "value_chain") if layer == "knowledge" else (layer,)
            for name in names:
                e = self.edges[name]
                g.add_edges_from(
                    (int(s), int(t), {"trust": float(w), "layer": name})
                    for s, t, w in zip(e["source"], e["target"], e["trust"], strict=True)
                )
        elif layer == "auxiliary":
            e = self.edges["auxiliary"]
            for k, typ in zip(e["institution"], e["type"], strict=True):
                g.add_node(f"inst{k}", kind=str(typ))
            g.add_edges_from(
                (int(s), f"inst{k}") for s, k in zip(e["source"], e["institution"], strict=True)
            )
        else:
            e = self.edges["exterior"]
            g.add_nodes_from((f"ext{p}", {"kind": "partner"}) for p in e["partner"].unique())
            g.add_edges_from(
                (int(s), f"ext{p}") for s, p in zip(e["source"], e["partner"], strict=True)
            )
        return g

    # --- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write Parquet tables and ``manifest.json`` (scenario, seed, versions) to a folder."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        tables = {
            "metrics": self.metrics,
            "flows": self.flows,
            "firms": self.firms,
            "innovations": self.innovations,
        }
        if self.panel is not None:
            tables["panel"] = self.panel
        for name, e in self.edges.items():
            tables[f"edges_{name}"] = e
        for name, df in tables.items():
            tmp = out / f".{name}.parquet.tmp"
            df.to_parquet(tmp, index=False)
            tmp.replace(out / f"{name}.parquet")
        manifest = {
            "format": FORMAT,
            "scenario": self.scenario.to_dict(),
            "seed": {"entropy": str(self.seed)},
            "partial": self.partial,
            "tables": sorted(tables),
            **self.meta,
        }
        tmp = out / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        tmp.replace(out / MANIFEST)
        return out

    @classmethod
    def load(cls, path: str | Path) -> Result:
        """Read a result written by :meth:`save`."""
        from clusterlearn.scenario import Scenario

        p = Path(path)
        mf = p / MANIFEST
        if not mf.exists():
            raise ClusterlearnError(f"{p}: not a clusterlearn result (no {MANIFEST})")
        try:
            manifest = json.loads(mf.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ClusterlearnError(f"{mf}: not valid JSON ({exc})") from None
        if manifest.get("format") != FORMAT:
            raise ClusterlearnError(
                f"{mf}: unknown format {manifest.get('format')!r}, expected {FORMAT!r}"
            )
        tables = {name: pd.read_parquet(p / f"{name}.parquet") for name in manifest["tables"]}
        edges = {k.removeprefix("edges_"): v for k, v in tables.items() if k.startswith("edges_")}
        meta = {
            k: v
            for k, v in manifest.items()
            if k not in ("format", "scenario", "seed", "partial", "tables")
        }
        return cls(
            metrics=tables["metrics"],
            flows=tables["flows"],
            firms=tables["firms"],
            innovations=tables["innovations"],
            edges=edges,
            scenario=Scenario.from_dict(manifest["scenario"], source=str(mf)),
            seed=int(manifest["seed"]["entropy"]),
            panel=tables.get("panel"),
            partial=bool(manifest.get("partial", False)),
            meta=meta,
        )

    def seed_sequence(self) -> np.random.SeedSequence:
        """The root seed sequence of the run: ``simulate(scenario, rng=r.seed_sequence())``
        replays it bit for bit (also for runs seeded with a spawned child sequence)."""
        key = tuple(int(k) for k in self.meta.get("spawn_key", ()))
        return np.random.SeedSequence(self.seed, spawn_key=key)

    def summary(self) -> dict[str, float]:
        """Headline numbers of the final step."""
        last = self.metrics.iloc[-1]
        flows = self.flows.drop(columns="step").sum()
        return {
            "steps": int(last["step"]),
            "population": float(last["population"]),
            "mean_capability": float(last["mean_capability"]),
            "max_capability": float(last["max_capability"]),
            "catch_up": float(last["catch_up"]),
            "mean_trust": float(last["mean_trust"]),
            **{f"flow_{k}": float(v) for k, v in flows.items()},
        }
