"""Shared fixtures: small seeded scenarios that run in well under a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterlearn import Scenario

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "kecskemet-printing-cluster"


@pytest.fixture
def small() -> Scenario:
    """The baseline preset shrunk to 80 firms and 20 steps."""
    return Scenario.preset("baseline").with_overrides({"firms.n": 80, "steps": 20})


@pytest.fixture
def data_dir() -> Path:
    if not DATA.exists():
        pytest.skip(f"shared data not found at {DATA}")
    return DATA
