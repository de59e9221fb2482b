"""Given edge lists and per-firm attribute tables instead of generated ones, including the
real Kecskemet printing-cluster advice network (Juhasz and Lengyel 2018)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clusterlearn import Scenario, simulate
from clusterlearn.errors import ScenarioError
from clusterlearn.model.engine import Simulation


def read_matrix(path: Path) -> tuple[list[str], np.ndarray]:
    """A labelled ';'-separated matrix with any line endings."""
    text = path.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    rows = [r.split(";") for r in text.strip().split("\n")]
    labels = rows[0][1:]
    mat = np.array([[int(v) for v in r[1:]] for r in rows[1:]])
    return labels, mat


def test_kecskemet_advice_network_as_social_layer(data_dir: Path) -> None:
    labels, mat = read_matrix(data_dir / "KNetwork1.csv")
    active = np.flatnonzero(mat.sum(axis=0) + mat.sum(axis=1) > 0)
    assert active.size == 26  # as the data README counts for 2012
    sub = mat[np.ix_(active, active)]
    a, b = np.nonzero(sub)
    assert a.size == 223  # directed ties among the active firms
    edges = [[int(i), int(j)] for i, j in zip(a, b, strict=True)]
    emp = dict(
        line.split(";")
        for line in (data_dir / "emp.csv").read_bytes().decode().replace("\r", "\n").split("\n")[1:]
        if line
    )
    workers = [float(emp[labels[k]]) for k in active]
    sc = Scenario.preset("baseline").with_overrides(
        {
            "firms.n": int(active.size),
            "networks.social.edges": edges,
            "firms.attributes": {"workers": workers},
            "steps": 10,
        }
    )
    sim = Simulation(sc, rng=1)
    undirected = {(min(i, j), max(i, j)) for i, j in zip(a, b, strict=True)}
    assert sim.state.social.m == len(undirected)
    np.testing.assert_array_equal(sim.state.workers, np.maximum(np.round(workers), 1))
    r = sim.result()
    assert r.network("social").number_of_edges() == len(undirected)
    out = simulate(sc, rng=1)
    assert np.isfinite(out.metrics["mean_capability"]).all()


def test_edges_and_attributes_from_files(tmp_path: Path) -> None:
    (tmp_path / "ties.csv").write_text("i,j,trust\n0,1,0.9\n1,2,0.2\n2,3,0.5\n")
    (tmp_path / "firms.csv").write_text("stage,T0,T1\n0,1,2\n1,2,1\n0,3,3\n1,0.5,0.5\n")
    (tmp_path / "s.toml").write_text(
        'steps = 3\n[firms]\nn = 4\ndomains = 2\nstages = 2\nattributes = "firms.csv"\n'
        '[networks.social]\nedges = "ties.csv"\n'
    )
    sc = Scenario.from_toml(tmp_path / "s.toml")
    sim = Simulation(sc, rng=0)
    np.testing.assert_array_equal(sim.state.stage, [0, 1, 0, 1])
    np.testing.assert_array_equal(sim.state.T[:, 0], [1, 2, 3, 0.5])
    np.testing.assert_allclose(np.sort(sim.state.social.trust), [0.2, 0.5, 0.9])
    simulate(sc, rng=0)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"networks.social.edges": [[0, 99]]}, "firm indices must lie in [0, 9]"),
        ({"networks.social.edges": [[0, 1, 2.0]]}, "trust values must lie in [0, 1]"),
        ({"firms.attributes": {"rnd": [0.5] * 3}}, "expected 10 values (firms.n), got 3"),
        ({"firms.attributes": {"stage": [7.0] * 10}}, "firms.attributes.stage"),
        ({"networks.social.edges": "missing.csv"}, "file not found"),
    ],
)
def test_bad_custom_inputs(override: dict, message: str) -> None:
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 10, **override})
    with pytest.raises(ScenarioError) as info:
        Simulation(sc, rng=0)
    assert message in str(info.value)
