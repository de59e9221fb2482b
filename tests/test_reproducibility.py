"""The same seed gives bit-identical results; different seeds differ."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlearn import Result, Scenario, simulate


def test_same_seed_bit_identical(small: Scenario) -> None:
    a = simulate(small, rng=7)
    b = simulate(small, rng=7)
    pd.testing.assert_frame_equal(a.metrics, b.metrics, check_exact=True)
    pd.testing.assert_frame_equal(a.flows, b.flows, check_exact=True)
    pd.testing.assert_frame_equal(a.firms, b.firms, check_exact=True)
    pd.testing.assert_frame_equal(a.innovations, b.innovations, check_exact=True)


def test_different_seeds_differ(small: Scenario) -> None:
    a = simulate(small, rng=7)
    b = simulate(small, rng=8)
    assert not a.metrics["mean_capability"].equals(b.metrics["mean_capability"])


def test_rng_forms(small: Scenario) -> None:
    a = simulate(small, steps=5, rng=np.random.SeedSequence(3))
    b = simulate(small, steps=5, rng=3)
    pd.testing.assert_frame_equal(a.metrics, b.metrics, check_exact=True)
    g1 = simulate(small, steps=5, rng=np.random.default_rng(4))
    g2 = simulate(small, steps=5, rng=np.random.default_rng(4))
    pd.testing.assert_frame_equal(g1.metrics, g2.metrics, check_exact=True)
    with pytest.raises(TypeError, match="rng"):
        simulate(small, steps=1, rng="seven")  # type: ignore[arg-type]


def test_replay_from_stored_seed(small: Scenario, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = simulate(small, steps=6, rng=None)  # fresh entropy
    a.save(tmp_path / "r")
    loaded = Result.load(tmp_path / "r")
    again = simulate(loaded.scenario, steps=6, rng=loaded.seed)
    pd.testing.assert_frame_equal(a.metrics, again.metrics, check_exact=True)


def test_save_load_round_trip(small: Scenario, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = simulate(small, steps=8, rng=2, record_every=4)
    r.save(tmp_path / "out")
    back = Result.load(tmp_path / "out")
    pd.testing.assert_frame_equal(r.metrics, back.metrics)
    pd.testing.assert_frame_equal(r.firms, back.firms)
    assert back.panel is not None and set(back.panel["step"]) == {0, 4, 8}
    assert back.scenario == r.scenario and back.seed == r.seed
    import json

    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {"clusterlearn", "numpy", "python"} <= set(manifest["versions"])
    g = back.network("knowledge")
    assert g.number_of_nodes() == len(back.firms)
