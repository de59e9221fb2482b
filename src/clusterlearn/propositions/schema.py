"""The schema of ``propositions.json``, as pydantic models.

The writer validates every report against :class:`Report` before writing it, and
``Report.model_json_schema()`` gives the JSON Schema (docs/propositions.md describes it).
Numbers that could not be computed are ``null``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

VerdictName = Literal["supported", "not supported", "inconclusive"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Part(_Strict):
    """One tested effect of a proposition."""

    name: str = Field(description="what the effect is")
    statistic: str = Field(description="how it is computed")
    effect: float | None = Field(description="effect size")
    ci_low: float | None = Field(description="lower end of the 95% confidence interval")
    ci_high: float | None = Field(description="upper end of the 95% confidence interval")
    p_value: float | None = Field(description="two-sided p-value against zero")
    n: int = Field(description="independent units behind the interval")
    sign: Literal[1, -1, 0] = Field(description="the sign the thesis claims (0: either)")
    rope: float = Field(ge=0, description="half-width of the region of practical equivalence")
    verdict: VerdictName
    extra: dict[str, Any] = Field(description="further numbers (e.g. a located threshold)")


class Coefficient(_Strict):
    """One row of a regression's coefficient table."""

    term: str
    coef: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None


class ArmSpec(_Strict):
    name: str
    overrides: dict[str, Any]
    steps: int | None = Field(description="horizon of this arm if not the experiment's")


class ExperimentSpec(_Strict):
    """What was run: one experiment (a stored folder) per arm, all with the same seed."""

    scenario: str = Field(description="the shipped scenario every arm starts from")
    base_overrides: dict[str, Any] = Field(description="dotted keys changed in every arm")
    arms: list[ArmSpec]
    factors: dict[str, list[Any]] = Field(description="factor name -> levels the arms span")
    replications: int = Field(ge=1)
    steps: int = Field(ge=0)
    runs: int = Field(ge=1)
    seed: int = Field(ge=0, description="root seed shared by the arms")


class Entry(_Strict):
    """One proposition: the claim, the experiment, the headline statistic and the verdict.

    ``effect``, ``ci_low``, ``ci_high`` and ``p_value`` repeat the first (headline) part.
    """

    id: str = Field(pattern=r"^P([1-9]|1[0-2])$")
    title: str
    claim: str = Field(description="the claim in one sentence")
    thesis: str = Field(description="the thesis's own words (English abstract)")
    measured: str = Field(description="how MODEL.md section 8 says to measure it")
    experiment: ExperimentSpec
    statistic: str = Field(description="the statistic, in words")
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: VerdictName = Field(description="combined over the parts")
    rule: str = Field(description="the verdict rule, in words")
    parts: list[Part] = Field(min_length=1)
    coefficients: list[Coefficient] | None = Field(description="regression propositions only")
    figure: str = Field(description="path of the PNG figure, relative to the report folder")
    notes: list[str]
    seconds: float = Field(ge=0, description="wall time of the experiment and analysis")


class Report(_Strict):
    """The whole of ``propositions.json``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Literal["clusterlearn-propositions/1"] = Field(alias="schema")
    variant: Literal["quick", "full"]
    seed: int
    runs: int = Field(description="runs behind the report")
    ran: int = Field(ge=0, description="runs executed by this call; the rest were read back")
    seconds: float = Field(description="wall time of this call")
    budget_seconds: float = Field(description="the budget stated before the run")
    workers: int
    backend: str
    versions: dict[str, str]
    rule: str
    propositions: list[Entry]


def validate(doc: dict[str, Any]) -> Report:
    """Check a report document against the schema (raises pydantic.ValidationError)."""
    return Report.model_validate(doc)
