"""Scenarios: validation messages, TOML round trips, presets and dotted overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from clusterlearn import Scenario
from clusterlearn.errors import ScenarioError
from clusterlearn.scenario import presets

BAD = Path(__file__).parent / "bad_scenarios"

# file -> text the single message must contain (the key and what was expected)
EXPECTED = {
    "empty.toml": "the file is empty",
    "not_toml.toml": "not valid TOML",
    "unknown_section.toml": "chanels: unknown key; did you mean 'channels'?",
    "unknown_key.toml": (
        "channels.cooperation.rat: unknown key; did you mean 'channels.cooperation.rate'?"
    ),
    "wrong_type.toml": "firms.n: expected a whole number, got 'many'",
    "out_of_range.toml": "channels.informal.rate: expected a number in [0.0, 1.0], got 2.5",
    "negative_count.toml": "firms.n: expected a whole number in [1, 20000000], got -5",
    "crossed_bounds.toml": "tacit_low must not exceed tacit_high",
    "intervention_beyond_horizon.toml": "interventions[0].at: expected a step in [0, 10]",
    "intervention_negative_ramp.toml": "interventions[0].ramp: expected a whole number >= 0",
    "intervention_unknown_key.toml": "did you mean 'environment.openness'?",
    "intervention_structural.toml": "'firms.n' fixes the cluster's structure",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gives_one_clear_message(name: str) -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml(BAD / name)
    err = info.value
    assert len(err.problems) == 1, err.problems
    assert EXPECTED[name] in str(err)
    assert name in str(err)  # the file is named
    assert "Traceback" not in str(err) and "pydantic" not in str(err).lower()


def test_corpus_is_covered() -> None:
    assert {p.name for p in BAD.glob("*.toml")} == set(EXPECTED)


def test_missing_file() -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        Scenario.from_toml("does/not/exist.toml")


def test_every_problem_reported_at_once() -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict({"firms": {"n": -1, "domains": "x"}, "trust": {"trust0": 3}})
    assert len(info.value.problems) == 3


@pytest.mark.parametrize("name", presets())
def test_round_trip_exact(name: str, tmp_path: Path) -> None:
    s = Scenario.preset(name)
    s.to_toml(tmp_path / "s.toml")
    again = Scenario.from_toml(tmp_path / "s.toml")
    assert again == s
    assert again.to_toml() == s.to_toml()


def test_round_trip_with_overrides_and_interventions(tmp_path: Path) -> None:
    s = Scenario.preset("baseline").with_overrides(
        {"channels.cooperation.rate": 0.2, "environment.openness": 0.9, "firms.n": 123}
    )
    s = Scenario.from_dict(
        {
            **s.to_dict(),
            "interventions": [{"at": 10, "ramp": 4, "set": {"environment.culture": 0.8}}],
        }
    )
    s.to_toml(tmp_path / "x.toml")
    assert Scenario.from_toml(tmp_path / "x.toml") == s


def test_with_overrides() -> None:
    s = Scenario.preset("baseline")
    t = s.with_overrides({"channels.cooperation.rate": 0.2, "trust.trust0": 0.9})
    assert t.channels.cooperation.rate == 0.2 and t.trust.trust0 == 0.9
    assert s.channels.cooperation.rate != 0.2  # the original is unchanged (frozen)
    assert t.get("trust.trust0") == 0.9


def test_overrides_unknown_and_bad_values() -> None:
    s = Scenario.preset("baseline")
    with pytest.raises(ScenarioError, match=r"did you mean 'channels\.cooperation'"):
        s.with_overrides({"channels.coperation.rate": 0.2})
    with pytest.raises(
        ScenarioError, match=r"trust.trust0: expected a number in \[0.0, 1.0\], got 1.5"
    ):
        s.with_overrides({"trust.trust0": 1.5})


def test_frozen() -> None:
    s = Scenario()
    with pytest.raises(ValidationError):
        s.steps = 5  # type: ignore[misc]


def test_unknown_preset() -> None:
    with pytest.raises(ScenarioError, match="did you mean 'baseline'"):
        Scenario.preset("baselin")


def test_flat_keys_cover_every_channel() -> None:
    flat = Scenario().flat()
    from clusterlearn.model.channels import REGISTRY

    for name in REGISTRY:
        assert f"channels.{name}.enabled" in flat and f"channels.{name}.rate" in flat
