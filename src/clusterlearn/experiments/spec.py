"""What an experiment is: a base scenario, factors, a design, replications, outcomes, a seed.

An :class:`Experiment` is written in TOML (see ``experiments/*.toml``) or built in Python; both
go through the same pydantic validation, and every problem is reported at once with the key
that is wrong and what was expected (:class:`ExperimentError`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from clusterlearn.errors import ProblemsError, ScenarioError
from clusterlearn.scenario import Scenario, presets

# Scenario keys whose string values are file paths (resolved relative to the experiment file).
PATH_KEYS = ("firms.attributes", "networks.social.edges", "networks.value_chain.edges",
             "networks.competitor.edges")  # fmt: skip

METHODS = ("grid", "lhs", "sobol", "morris")

# A function model: ``model(params, rng) -> {outcome: value}`` (see :mod:`.models`).
FunctionModel = Callable[[dict[str, Any], Any], dict[str, float]]


class ExperimentError(ProblemsError):
    """An experiment (file, dict or Python object) is not valid.

    ``problems`` lists one message per problem, each naming the key, what was expected and
    the value given.
    """


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Factor(_Strict):
    """One varied scenario key: either explicit ``levels`` or a numeric ``range``.

    Parameters
    ----------
    levels : list, optional
        The values to try (grid designs).
    range : (float, float), optional
        Lower and upper bound, ``low < high`` (sampled designs; grids need ``points``).
    points : int, optional
        Evenly spaced values of ``range`` to use in a grid design.
    """

    levels: list[Any] | None = None
    range: tuple[float, float] | None = None
    points: int | None = Field(None, ge=2, le=10_000)

    @model_validator(mode="after")
    def _one_kind(self) -> Factor:
        if (self.levels is None) == (self.range is None):
            raise ValueError("give either levels = [...] or range = [low, high]")
        if self.levels is not None and len(self.levels) == 0:
            raise ValueError("levels is empty; give at least one level")
        if self.range is not None:
            lo, hi = self.range
            if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
                raise ValueError(f"empty range [{lo}, {hi}]; expected low < high")
        if self.points is not None and self.range is None:
            raise ValueError("points goes with range, not with levels")
        return self

    def grid_levels(self) -> list[Any]:
        """The values a grid design uses."""
        if self.levels is not None:
            return list(self.levels)
        lo, hi = self.range  # type: ignore[misc]
        n = self.points or 0
        return [lo + (hi - lo) * k / (n - 1) for k in range(n)]


class DesignSpec(_Strict):
    """How design points are chosen.

    Parameters
    ----------
    method : {"grid", "lhs", "sobol", "morris"}
        Full factorial grid; Latin hypercube (``scipy.stats.qmc``); Saltelli's scheme for
        Sobol indices and Morris trajectories (both SALib).
    samples : int, optional
        Points for ``lhs``; base samples N for ``sobol`` (N x (2D+2) points with second-order
        indices, N x (D+2) without; a power of 2); trajectories for ``morris`` (N x (D+1)).
    second_order : bool
        Sobol only: also estimate second-order indices.
    levels : int
        Morris only: grid levels p.
    """

    method: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: int | None = Field(None, ge=1, le=10_000_000)
    second_order: bool = True
    levels: int = Field(4, ge=2, le=100)


class Outcomes(_Strict):
    """Which outcomes each run keeps.

    Parameters
    ----------
    final : bool
        Final metrics and total flows (:func:`clusterlearn.compare.final_outcomes`).
    series : bool
        Per-step metrics and flows.
    firms : bool
        The final firm table.
    """

    final: bool = True
    series: bool = False
    firms: bool = False


class Experiment(_Strict):
    """A set of runs: a base scenario, factors, a design, replications and a root seed.

    Run ``(point, replication)`` draws its randomness from
    ``SeedSequence(seed, spawn_key=(point, replication))``, i.e. child ``replication`` of
    child ``point`` of ``SeedSequence(seed)`` -- the same stream whatever the backend, the
    worker count or the order in which runs finish.

    Parameters
    ----------
    scenario : Scenario or str
        The base scenario (a preset name or a scenario TOML path in files); ``overrides`` in a
        file apply on top of it.
    factors : dict
        Dotted scenario keys (see :meth:`Scenario.flat`) to :class:`Factor`, a list (levels),
        a tuple ``(low, high)`` (range) or a dict of :class:`Factor` fields.
    design : DesignSpec
    replications : int
        Runs per design point (>= 1), each with its own stream.
    steps : int, optional
        Steps per run; defaults to the scenario's ``steps``.
    seed : int
        Root seed of every stream.
    outcomes : Outcomes
    budget : int, optional
        Most runs allowed: a design larger than this is refused.
    model : callable, optional
        Python only: ``model(params, rng) -> dict`` run instead of the simulation (factor keys
        are then free names, see :mod:`clusterlearn.experiments.models`).

    Examples
    --------
    >>> from clusterlearn.experiments import Experiment
    >>> exp = Experiment(scenario="baseline", factors={"trust.initial": [0.2, 0.8]},
    ...                  replications=2, steps=5, seed=1)
    >>> exp.n_points, exp.n_runs
    (2, 4)
    """

    name: str = "experiment"
    description: str = ""
    scenario: Scenario = Field(default_factory=Scenario)
    factors: dict[str, Factor]
    design: DesignSpec = DesignSpec()
    replications: int = Field(1, ge=1, le=1_000_000)
    steps: int | None = Field(None, ge=0, le=1_000_000)
    seed: int = Field(0, ge=0)
    outcomes: Outcomes = Outcomes()
    budget: int | None = Field(None, ge=1)
    model: Any = Field(None, exclude=True)

    def __init__(self, **data: Any) -> None:
        source = data.pop("_source", None)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            problems = _messages(exc)
            # Field errors stop pydantic before the checks of factor keys: run those too, so
            # that every problem shows at once.
            problems += [p for p in _early_key_problems(data) if p not in problems]
            raise ExperimentError(problems, source) from None
        except ScenarioError as exc:
            raise ExperimentError([f"scenario: {p}" for p in exc.problems], source) from None

    @field_validator("scenario", mode="before")
    @classmethod
    def _scenario(cls, v: Any) -> Any:
        if isinstance(v, str):
            if v in presets():
                return Scenario.preset(v)
            if v.endswith(".toml"):
                return Scenario.from_toml(v)
            raise ValueError(
                f"expected a preset name ({', '.join(presets())}) or a scenario .toml path, "
                f"got {v!r}"
            )
        return v

    @field_validator("factors", mode="before")
    @classmethod
    def _factors(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        out = {}
        for key, f in v.items():
            if isinstance(f, list):
                f = {"levels": f}
            elif isinstance(f, tuple):
                f = {"range": f}
            out[key] = f
        return out

    @model_validator(mode="after")
    def _check(self) -> Experiment:
        problems: list[str] = []
        if not self.factors:
            problems.append("factors: none given; add at least one factor")
        if self.model is not None and not callable(self.model):
            problems.append(f"model: expected a callable, got {type(self.model).__name__}")
        if self.model is None:
            problems += _check_keys(self.scenario, self.factors)
        problems += _check_design(self)
        if not problems and self.budget is not None and self.n_runs > self.budget:
            problems.append(
                f"design too large for the budget: {self.n_points} design points x "
                f"{self.replications} replications = {self.n_runs} runs, more than "
                f"budget = {self.budget}; lower design.samples, the levels or replications, "
                f"or raise budget"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # --- derived ---------------------------------------------------------------------------
    @property
    def factor_names(self) -> list[str]:
        return list(self.factors)

    @property
    def n_points(self) -> int:
        """Design points (without replications)."""
        d = len(self.factors)
        m = self.design.method
        if m == "grid":
            return math.prod(len(f.grid_levels()) for f in self.factors.values())
        n = self.design.samples or 0
        if m == "lhs":
            return n
        if m == "sobol":
            return n * (2 * d + 2 if self.design.second_order else d + 2)
        return n * (d + 1)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.replications

    @property
    def run_steps(self) -> int:
        """Steps each run simulates."""
        return self.scenario.steps if self.steps is None else self.steps

    def problem(self) -> dict[str, Any]:
        """The SALib problem (names and bounds) of a design over ranges."""
        return {
            "num_vars": len(self.factors),
            "names": list(self.factors),
            "bounds": [list(f.range) for f in self.factors.values()],  # type: ignore[arg-type]
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able description (the model is named, not stored)."""
        data = self.model_dump(mode="json", exclude={"scenario", "model"})
        data["scenario"] = self.scenario.to_dict()
        data["factors"] = {
            k: {kk: vv for kk, vv in f.model_dump(mode="json").items() if vv is not None}
            for k, f in self.factors.items()
        }
        if self.model is not None:
            data["model"] = f"{self.model.__module__}.{self.model.__qualname__}"
        return data

    def fingerprint(self) -> str:
        """Hash of everything that decides a run's outcome (not replications or budget).

        A results folder belongs to one fingerprint: more replications may be added later,
        but a changed factor, design, seed, scenario, steps or outcome choice is refused.
        """
        data = self.to_dict()
        for k in ("name", "description", "replications", "budget"):
            data.pop(k, None)
        data["steps"] = self.run_steps
        data["factor_order"] = list(self.factors)  # the design's column order matters
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def with_design(self, method: str, **kwargs: Any) -> Experiment:
        """A copy with another design method (e.g. for ``clusterlearn sensitivity``)."""
        design = self.design.model_dump() | {"method": method} | kwargs
        data = {k: getattr(self, k) for k in type(self).model_fields}
        data["design"] = design
        return Experiment(**data)

    # --- files -----------------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | Path) -> Experiment:
        """Read an experiment TOML file (see ``experiments/`` for commented examples)."""
        p = Path(path)
        if not p.exists():
            raise ExperimentError(["no such file (expected an experiment TOML file)"], str(p))
        if p.is_dir():
            raise ExperimentError(["is a folder, expected an experiment TOML file"], str(p))
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ExperimentError([f"cannot be read as UTF-8 text ({exc})"], str(p)) from None
        if not text.strip():
            raise ExperimentError(["the file is empty; expected an experiment"], str(p))
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ExperimentError([f"not valid TOML: {exc}"], str(p)) from None
        return cls.from_dict(data, base=p.parent, source=str(p))

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], base: str | Path | None = None, source: str | None = None
    ) -> Experiment:
        """Build from the TOML layout: ``scenario`` (preset or path) plus ``overrides``."""
        data = dict(data)
        base_dir = Path(base) if base is not None else Path.cwd()
        overrides = data.pop("overrides", {}) or {}
        if not isinstance(overrides, dict):
            raise ExperimentError(["overrides: expected a table of dotted keys"], source)
        sc = data.get("scenario", "baseline")
        try:
            if isinstance(sc, str) and sc not in presets():
                sc_path = base_dir / sc
                if not sc_path.exists():
                    raise ExperimentError(
                        [
                            f"scenario: {sc!r} is neither a preset ({', '.join(presets())}) "
                            f"nor an existing scenario file (looked for {sc_path})"
                        ],
                        source,
                    )
                scenario = Scenario.from_toml(sc_path)
            elif isinstance(sc, str):
                scenario = Scenario.preset(sc)
            elif isinstance(sc, dict):
                scenario = Scenario.from_dict(sc, source=source)
            else:
                raise ExperimentError(
                    [f"scenario: expected a preset name or a scenario file path, got {sc!r}"],
                    source,
                )
            if overrides:
                scenario = scenario.with_overrides(
                    _resolve(overrides, base_dir), source="overrides"
                )
        except ScenarioError as exc:
            raise ExperimentError(
                [f"scenario: {p}" for p in exc.problems], source or exc.source
            ) from None
        data["scenario"] = scenario
        facs = data.get("factors")
        if isinstance(facs, dict):
            data["factors"] = {
                k: _resolve_levels(k, f, base_dir) if isinstance(f, dict) else f
                for k, f in facs.items()
            }
        return cls(**data, _source=source)


# --- checks ---------------------------------------------------------------------------------
def _check_keys(scenario: Scenario, factors: dict[str, Factor]) -> list[str]:
    problems = []
    flat = scenario.flat()
    for key, f in factors.items():
        where = f"factors.{key!r}"
        if key not in flat:
            near = difflib.get_close_matches(key, list(flat), n=1, cutoff=0.6)
            if not near:
                tails = {k.split(".")[-1]: k for k in flat}
                t = difflib.get_close_matches(key.split(".")[-1], list(tails), n=1, cutoff=0.6)
                near = [tails[t[0]]] if t else []
            hint = f"; did you mean {near[0]!r}?" if near else ""
            problems.append(
                f"{where}: unknown scenario key{hint} (factors are dotted scenario keys, "
                f"e.g. 'trust.initial')"
            )
            continue
        default = flat[key]
        values = f.grid_levels() if f.levels is not None else list(f.range or ())
        if f.range is not None and (isinstance(default, bool) or not _numeric(default)):
            problems.append(
                f"{where}.range: {key} takes {type(default).__name__} values; "
                f"use levels = [...] instead of a range"
            )
            continue
        for k, v in enumerate(values):
            if isinstance(default, int) and not isinstance(default, bool) and f.range is not None:
                v = round(v)
            try:
                scenario.with_overrides({key: v})
            except ScenarioError as exc:
                label = f"levels[{k}]" if f.levels is not None else ("range[0]", "range[1]")[k]
                msg = "; ".join(exc.problems)
                problems.append(f"{where}.{label}: {msg}")
    return problems


def _early_key_problems(data: dict[str, Any]) -> list[str]:
    sc, facs = data.get("scenario", Scenario()), data.get("factors")
    if data.get("model") is not None or not isinstance(sc, Scenario) or not isinstance(facs, dict):
        return []
    flat = sc.flat()
    fake = {k: Factor(levels=[flat[k]]) for k in facs if isinstance(k, str) and k in flat}
    fake |= {k: Factor(levels=[0]) for k in facs if isinstance(k, str) and k not in flat}
    return [p for p in _check_keys(sc, fake) if "unknown scenario key" in p]


def _check_design(exp: Experiment) -> list[str]:
    m = exp.design.method
    problems = []
    if m == "grid":
        for key, f in exp.factors.items():
            if f.range is not None and f.points is None:
                problems.append(
                    f"factors.{key!r}: a grid needs levels = [...] or range with points = N"
                )
        return problems
    for key, f in exp.factors.items():
        if f.range is None:
            problems.append(
                f"factors.{key!r}: design.method = {m!r} samples ranges; "
                f"give range = [low, high] instead of levels"
            )
    if exp.design.samples is None:
        what = {"lhs": "points", "sobol": "base samples N", "morris": "trajectories"}[m]
        problems.append(f"design.samples: {m!r} needs samples = <{what}>")
    elif m == "sobol":
        n = exp.design.samples
        if n & (n - 1):
            problems.append(
                f"design.samples: Sobol/Saltelli needs a power of 2 (e.g. "
                f"{1 << max(0, n.bit_length() - 1)} or {1 << n.bit_length()}), got {n}"
            )
    if m in ("sobol", "morris") and len(exp.factors) < 2:
        problems.append(f"factors: {m!r} needs at least two factors")
    return problems


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _resolve(overrides: dict[str, Any], base: Path) -> dict[str, Any]:
    return {
        k: str((base / v).resolve()) if k in PATH_KEYS and isinstance(v, str) else v
        for k, v in overrides.items()
    }


def _resolve_levels(key: str, f: dict[str, Any], base: Path) -> dict[str, Any]:
    if key in PATH_KEYS and isinstance(f.get("levels"), list):
        f = dict(f)
        f["levels"] = [str((base / v).resolve()) if isinstance(v, str) else v for v in f["levels"]]
    return f


_TOP = list(Experiment.model_fields)
_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
           "less_than": "<"}  # fmt: skip


def _messages(exc: ValidationError) -> list[str]:
    out: list[str] = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        # pydantic names union members in the location; keep only real keys
        if len(loc) >= 2 and loc[0] == "factors":
            loc = ["factors", repr(loc[1]), *loc[2:]]
        key = ".".join(loc)
        typ = err["type"]
        given = err.get("input")
        if typ == "extra_forbidden":
            options = _TOP if len(loc) == 1 else _fields_at(loc[:-1])
            near = difflib.get_close_matches(loc[-1], options, n=1, cutoff=0.5)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            out.append(f"{key}: unknown key{hint}")
        elif typ == "value_error":
            msg = str((err.get("ctx") or {}).get("error", err["msg"]))
            out.extend(f"{key}: {m}" if key else m for m in msg.split("\n"))
        elif typ in _BOUNDS:
            limit = next(iter((err.get("ctx") or {}).values()), "?")
            kind = "a whole number" if isinstance(given, int) else "a number"
            out.append(f"{key}: expected {kind} {_BOUNDS[typ]} {limit}, got {given!r}")
        elif typ == "missing" and key == "factors":
            out.append('factors: none given; add at least one [factors."KEY"] table')
        elif typ == "missing":
            out.append(f"{key}: required, but not given")
        else:
            out.append(f"{key}: {err['msg'].lower()}, got {given!r}")
    seen: list[str] = []
    for m in out:
        if m not in seen:
            seen.append(m)
    return seen


def _fields_at(loc: list[str]) -> list[str]:
    models: dict[str, type[BaseModel]] = {"design": DesignSpec, "outcomes": Outcomes}
    if loc and loc[0] in models:
        return list(models[loc[0]].model_fields)
    if loc and loc[0] == "factors":
        return list(Factor.model_fields)
    return _TOP
