"""Docking (Axtell et al. 1996): clusterlearn against an independent Mesa reference.

The reduced model (C1 informal exchange, C2 cooperation, SECI, trust dynamics; everything else
off) runs in clusterlearn and in ``benchmarks/mesa_reference`` from the same initial clusters,
30 seeds x 60 firms x 20 steps each. For every final outcome a two-sample Kolmogorov-Smirnov
test must not reject at ``LEVEL`` (0.05 over five outcomes, Bonferroni) and the means must
agree within ``TOL``. With 30 seeds per side the test has 80% power against a location shift
of about 1.1 standard deviations of the outcome (0.56 with the 100 seeds of ``make bench``);
a 25% change of the informal-exchange rate is detected (``test_docking_detects_a_changed_rate``).
See docs/benchmarks.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, for benchmarks/

pytest.importorskip("mesa")

from benchmarks.mesa_reference.bridge import reduced_scenario
from benchmarks.mesa_reference.docking import (
    OUTCOMES,
    Comparison,
    Samples,
    collect,
    compare,
)

SEEDS = range(30)
N_FIRMS = 60
STEPS = 20
LEVEL = 0.05 / len(OUTCOMES)
TOL = 0.03  # largest relative difference of the means we accept

pytestmark = pytest.mark.xdist_group("docking")


@pytest.fixture(scope="module")
def samples() -> dict[str, Samples]:
    return {
        "engine": collect("clusterlearn", SEEDS, N_FIRMS, STEPS),
        "sequential": collect("reference", SEEDS, N_FIRMS, STEPS, kind="reference"),
        "simultaneous": collect(
            "reference (simultaneous)",
            SEEDS,
            N_FIRMS,
            STEPS,
            kind="reference",
            update="simultaneous",
        ),
    }


def _by_outcome(rows: list[Comparison]) -> dict[str, Comparison]:
    return {r.outcome: r for r in rows}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_engine_docks_with_reference(samples: dict[str, Samples], outcome: str) -> None:
    r = _by_outcome(compare(samples["engine"], samples["sequential"]))[outcome]
    assert r.ks_p > LEVEL, f"{outcome}: KS D={r.ks_stat:.3f}, p={r.ks_p:.4f}"
    assert abs(r.rel_diff) < TOL, f"{outcome}: means differ by {r.rel_diff:+.2%}"


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_update_order_within_tolerance(samples: dict[str, Samples], outcome: str) -> None:
    """Sequential (Mesa's shuffle_do) versus simultaneous (the engine's) updates, same rules."""
    r = _by_outcome(compare(samples["sequential"], samples["simultaneous"]))[outcome]
    assert r.ks_p > LEVEL, f"{outcome}: KS D={r.ks_stat:.3f}, p={r.ks_p:.4f}"
    assert abs(r.rel_diff) < TOL, f"{outcome}: means differ by {r.rel_diff:+.2%}"


def test_docking_detects_a_changed_rate(samples: dict[str, Samples]) -> None:
    """The test has teeth: a reference with a 25% higher C1 rate is told apart."""
    rate = reduced_scenario(N_FIRMS, STEPS).channels.informal.rate * 1.25
    changed = collect(
        "reference, C1 rate x1.25",
        SEEDS,
        N_FIRMS,
        STEPS,
        kind="reference",
        param_changes={"informal_rate": rate},
    )
    r = _by_outcome(compare(samples["engine"], changed))["flow_C1"]
    assert r.ks_p < LEVEL
    assert r.rel_diff > TOL
