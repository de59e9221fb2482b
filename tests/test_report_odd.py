"""The generated ODD description covers the model as the code defines it."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from clusterlearn import Scenario
from clusterlearn.model import engine
from clusterlearn.model.channels import REGISTRY
from clusterlearn.model.environment import LEVER_EFFECTS
from clusterlearn.model.metrics import METRICS
from clusterlearn.report import coverage_gaps, odd_markdown
from clusterlearn.report.odd import parameters


@pytest.fixture(scope="module")
def text() -> str:
    return odd_markdown()


def test_follows_the_seven_odd_elements(text: str) -> None:
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert [h.split(" ", 2)[1] for h in heads] == ["1.", "2.", "3.", "4.", "5.", "6.", "7."]


def test_every_channel_with_its_docstring_and_parameters(text: str) -> None:
    for cls in REGISTRY.values():
        section = text.split(f"#### {cls.code} {cls.name}\n", 1)[1].split("\n#### ", 1)[0]
        module_doc = inspect.getmodule(cls).__doc__ or ""
        # The first sentence of the channel's own description, as written in the code.
        first = module_doc.strip().splitlines()[0].replace("``", "`")
        assert first in section, cls.name
        assert f"network: **{cls.network}**" in section
        for name in cls.Params.model_fields:
            assert f"`channels.{cls.name}.{name}`" in section


def test_every_scenario_parameter_with_type_range_default(text: str) -> None:
    keys = set(Scenario().flat())
    listed = {p.key for p in parameters()}
    assert keys <= listed
    assert {"interventions[].at", "interventions[].ramp", "interventions[].set"} <= listed
    table = text.split("## 5. Initialization", 1)[1].split("## 6.", 1)[0]
    for p in parameters():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{p.key}` |"))
        assert p.default.replace("|", "\\|") in row and p.description.split("|")[0] in row
    n = next(p for p in parameters() if p.key == "firms.n")
    field = Scenario.model_fields["firms"].annotation.model_fields["n"]  # type: ignore[union-attr]
    assert n.type == "int" and n.default == str(field.default)
    assert n.range.startswith("[") and n.range.endswith("]")
    assert next(p for p in parameters() if p.key == "innovation.enabled").range == "true / false"


def test_schedule_metrics_and_levers_come_from_the_code(text: str) -> None:
    first_step_line = next(
        line for line in (engine.__doc__ or "").splitlines() if line.strip().startswith("1.")
    )
    assert first_step_line.strip().replace("``", "`") in text
    for name in METRICS:
        assert f"| `{name}` |" in text
    for lever in LEVER_EFFECTS:
        assert f"`environment.{lever}`" in text


def test_scenario_values_are_shown() -> None:
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 1234, "name": "odd-test"})
    text = odd_markdown(sc)
    row = next(line for line in text.splitlines() if line.startswith("| `firms.n` |"))
    assert "**1234**" in row
    assert "in `odd-test`" in text


def test_coverage_check_finds_what_a_text_leaves_out(text: str) -> None:
    assert coverage_gaps(text) == []
    informal = next(c for c in REGISTRY.values() if c.name == "informal")
    # Drop the informal channel's section and every mention of one parameter.
    cut = text.replace(f"#### {informal.code} {informal.name}", "").replace(informal.name, "")
    cut = cut.replace("trust.eta_up", "")
    gaps = coverage_gaps(cut)
    assert f"channel {informal.code} {informal.name}" in gaps
    assert "parameter trust.eta_up" in gaps
    assert "parameter firms.n" not in gaps


def test_docs_odd_mentions_everything_the_code_defines() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
    if not doc.exists():
        pytest.skip("docs/ODD.md not written yet")
    gaps = coverage_gaps(doc.read_text(encoding="utf-8"))
    assert not gaps, "docs/ODD.md misses: " + ", ".join(gaps)
