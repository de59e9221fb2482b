"""Experiment descriptions: validation messages, design sizes, streams, folder identity."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import clusterlearn.experiments as cx
from clusterlearn import Scenario
from clusterlearn.errors import ClusterlearnError
from clusterlearn.experiments.design import point_params

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "exp.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(cx.ExperimentError) as info:
        cx.Experiment.from_toml(_write(tmp_path, text))
    assert str(tmp_path / "exp.toml") in str(info.value)  # the message names the file
    return str(info.value)


def test_unknown_factor_key_names_it_and_suggests(tmp_path: Path) -> None:
    msg = _problems(tmp_path, '[factors."trust.intial"]\nlevels = [0.2, 0.5]\n')
    assert "factors.'trust.intial': unknown scenario key" in msg
    assert "did you mean 'trust.initial'" in msg


def test_empty_range_and_empty_levels(tmp_path: Path) -> None:
    msg = _problems(
        tmp_path,
        '[factors."trust.initial"]\nrange = [0.5, 0.5]\n[factors."learning.alpha0"]\nlevels = []\n',
    )
    assert "factors.'trust.initial': empty range [0.5, 0.5]; expected low < high" in msg
    assert "factors.'learning.alpha0': levels is empty" in msg


def test_zero_replications(tmp_path: Path) -> None:
    msg = _problems(tmp_path, 'replications = 0\n[factors."trust.initial"]\nlevels = [0.2]\n')
    assert "replications: expected a whole number >= 1, got 0" in msg


def test_design_larger_than_budget(tmp_path: Path) -> None:
    msg = _problems(
        tmp_path,
        "replications = 4\nbudget = 50\n"
        '[factors."trust.initial"]\nrange = [0.1, 0.9]\n'
        '[factors."learning.alpha0"]\nrange = [0.2, 1.0]\n'
        '[design]\nmethod = "sobol"\nsamples = 8\n',
    )
    # 8 x (2 x 2 + 2) = 48 points x 4 replications = 192 runs
    assert "48 design points x 4 replications = 192 runs, more than budget = 50" in msg


def test_every_problem_at_once_with_unknown_keys(tmp_path: Path) -> None:
    msg = _problems(
        tmp_path,
        "replicatons = 2\nreplications = -1\n"
        '[factors."trust.intial"]\nlevels = [0.2]\n'
        '[design]\nmethod = "grid"\nsample = 3\n',
    )
    assert "3 problems" in msg or "4 problems" in msg
    assert "replicatons: unknown key; did you mean 'replications'?" in msg
    assert "design.sample: unknown key; did you mean 'samples'?" in msg
    assert "did you mean 'trust.initial'" in msg


def test_level_out_of_the_scenario_range(tmp_path: Path) -> None:
    msg = _problems(tmp_path, '[factors."trust.initial"]\nlevels = [0.5, 1.5]\n')
    assert "factors.'trust.initial'.levels[1]" in msg
    assert "[0.0, 1.0]" in msg and "1.5" in msg


def test_design_needs_the_right_factor_kind(tmp_path: Path) -> None:
    msg = _problems(
        tmp_path,
        '[factors."trust.initial"]\nlevels = [0.2, 0.5]\n'
        '[factors."learning.alpha0"]\nrange = [0.2, 1.0]\n'
        '[design]\nmethod = "sobol"\nsamples = 6\n',
    )
    assert "factors.'trust.initial': design.method = 'sobol' samples ranges" in msg
    assert "design.samples: Sobol/Saltelli needs a power of 2 (e.g. 4 or 8), got 6" in msg
    msg = _problems(tmp_path, '[factors."learning.alpha0"]\nrange = [0.2, 1.0]\n')
    assert "a grid needs levels = [...] or range with points = N" in msg


def test_files_that_are_not_experiments(tmp_path: Path) -> None:
    with pytest.raises(cx.ExperimentError, match="no such file"):
        cx.Experiment.from_toml(tmp_path / "missing.toml")
    assert "not valid TOML" in _problems(tmp_path, "factors = [\n")
    assert "the file is empty" in _problems(tmp_path, "\n")
    msg = _problems(tmp_path, 'scenario = "basline"\n[factors."trust.initial"]\nlevels=[0.1]\n')
    assert "scenario: 'basline' is neither a preset" in msg
    assert "factors: none given" in _problems(tmp_path, "seed = 1\n")


def test_python_experiment_errors_are_experiment_errors() -> None:
    with pytest.raises(cx.ExperimentError, match="unknown scenario key"):
        cx.Experiment(factors={"firms.count": [10, 20]})
    # user errors are ClusterlearnError: the CLI turns them into exit code 2
    assert issubclass(cx.ExperimentError, ClusterlearnError)


def test_shipped_examples_are_valid() -> None:
    grid = cx.Experiment.from_toml(ROOT / "experiments" / "trust-absorptive.toml")
    assert grid.n_points == 9 and grid.n_runs == 45
    sob = cx.Experiment.from_toml(ROOT / "experiments" / "environment-sobol.toml")
    assert all(k.startswith("environment.") for k in sob.factors)
    assert sob.n_points == 64 * (2 * 9 + 2)


@pytest.mark.parametrize(
    ("method", "extra", "points"),
    [
        ("grid", {}, 6),
        ("lhs", {"samples": 7}, 7),
        ("sobol", {"samples": 8, "second_order": False}, 8 * (2 + 2)),
        ("sobol", {"samples": 8}, 8 * (2 * 2 + 2)),
        ("morris", {"samples": 5}, 5 * (2 + 1)),
    ],
)
def test_design_sizes_match_and_stay_in_bounds(method: str, extra: dict, points: int) -> None:
    factors = (
        {"trust.initial": [0.2, 0.5, 0.8], "firms.n": [30, 40]}
        if method == "grid"
        else {"trust.initial": (0.1, 0.9), "firms.n": (30.0, 60.0)}
    )
    exp = cx.Experiment(factors=factors, design={"method": method, **extra}, seed=4)
    design = cx.build_design(exp)
    assert exp.n_points == len(design) == points
    assert design["point"].tolist() == list(range(points))
    assert design["trust.initial"].between(0.1, 0.9).all()
    params = point_params(exp, design)
    # integer scenario keys are rounded when sampled from a range
    assert all(isinstance(p["firms.n"], int) for p in params)
    # the same seed gives the same design; another seed another (sampled designs)
    again = cx.build_design(exp)
    assert again.equals(design)
    if method in ("lhs", "sobol"):
        other = cx.build_design(exp.model_copy(update={"seed": 5}))
        assert not np.allclose(other["trust.initial"], design["trust.initial"])


def test_run_streams_are_spawned_children_and_distinct() -> None:
    root = np.random.SeedSequence(99)
    children = [c.spawn(3) for c in root.spawn(4)]
    states = set()
    for p in range(4):
        for r in range(3):
            s = cx.run_seed(99, p, r).generate_state(4).tolist()
            assert s == children[p][r].generate_state(4).tolist()
            states.add(tuple(s))
    assert len(states) == 12


def test_function_model_factors_are_free_names() -> None:
    from clusterlearn.experiments.models import ishigami

    exp = cx.Experiment(
        model=ishigami,
        factors={"x1": (-math.pi, math.pi), "x2": (-math.pi, math.pi), "x3": (-1.0, 1.0)},
        design={"method": "lhs", "samples": 4},
    )
    assert exp.to_dict()["model"] == "clusterlearn.experiments.models.ishigami"


def test_a_folder_belongs_to_one_experiment(tmp_path: Path) -> None:
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 30})
    exp = cx.Experiment(scenario=sc, factors={"trust.initial": [0.3]}, steps=2, seed=1)
    cx.run_experiment(exp, tmp_path / "out", workers=1, progress=False)
    other = exp.model_copy(update={"seed": 2})
    with pytest.raises(ClusterlearnError, match="holds results of a different experiment"):
        cx.run_experiment(other, tmp_path / "out", workers=1, progress=False)
    # more replications are welcome: only the new ones run
    more = exp.model_copy(update={"replications": 3})
    res = cx.run_experiment(more, tmp_path / "out", workers=1, progress=False)
    assert res.ran == 2 and res.counts == {"done": 3, "failed": 0, "pending": 0, "total": 3}
    # fewer replications: the extra stored runs stay in the store but out of view
    fewer = exp.model_copy(update={"replications": 2})
    res = cx.run_experiment(fewer, tmp_path / "out", workers=1, progress=False)
    assert res.ran == 0 and res.counts["pending"] == 0 and len(res.final) == 2
    assert len(cx.open(tmp_path / "out").final) == 2


def test_backend_choices_are_checked() -> None:
    from clusterlearn.experiments.executors import make_executor

    with pytest.raises(ClusterlearnError, match="--backend: expected one of"):
        make_executor("spark")
    with pytest.raises(ClusterlearnError, match="--backend dask needs --address"):
        make_executor("dask")
    with pytest.raises(ClusterlearnError, match="--workers: expected a whole number >= 1"):
        make_executor("local", workers=0)
