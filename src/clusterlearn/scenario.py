"""Scenarios: frozen, validated descriptions of a cluster, round-tripping to TOML.

A :class:`Scenario` holds every parameter of a run, grouped in sections (``firms``,
``networks``, ``trust``, ``channels``, ``environment`` ...). Sweeps rebuild scenarios from flat
dicts of dotted keys with :meth:`Scenario.with_overrides`. Every validation problem is reported
with its dotted key, the expected type or range and the value given.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from clusterlearn.errors import ScenarioError
from clusterlearn.model.channels import REGISTRY

PRESET_DIR = Path(__file__).parent / "scenarios"


class Section(BaseModel):
    """Base of every scenario section: frozen, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# An edge list: pairs [i, j] or triples [i, j, trust] of firm indices (0-based), or the path
# of a CSV file with columns i, j and optionally trust.
EdgeInput = list[list[float]] | str


class FirmsConfig(Section):
    n: int = Field(300, ge=1, le=20_000_000, description="initial number of firms")
    domains: int = Field(6, ge=1, le=64, description="number of knowledge domains D")
    stages: int = Field(4, ge=1, le=12, description="value-chain stages S")
    tacit_low: float = Field(0.5, ge=0.0, description="initial tacit level, lower bound")
    tacit_high: float = Field(3.0, ge=0.0, description="initial tacit level, upper bound")
    factor_low: float = Field(0.6, ge=0.0, description="firm factor on initial knowledge, low")
    factor_high: float = Field(1.4, ge=0.0, description="firm factor on initial knowledge, high")
    explicit_share: float = Field(0.3, ge=0.0, le=1.0, description="initial E as a share of T")
    workers_mean: float = Field(8.0, ge=1.0, le=10_000, description="mean skilled workers per firm")
    rnd_low: float = Field(0.05, ge=0.0, le=1.0, description="R&D/learning intensity, low")
    rnd_high: float = Field(0.6, ge=0.0, le=1.0, description="R&D/learning intensity, high")
    effort_low: float = Field(0.3, ge=0.0, le=1.0, description="learning effort, low")
    effort_high: float = Field(0.9, ge=0.0, le=1.0, description="learning effort, high")
    relevance_concentration: float = Field(
        1.5, gt=0.0, le=100.0, description="how sharply each stage's relevance w[s] peaks"
    )
    value_added_step: float = Field(
        0.3, ge=0.0, le=10.0, description="value-added multiplier v[s] = 1 + step * s"
    )
    attributes: dict[str, list[float]] | str | None = Field(
        None,
        description="given per-firm table (columns: stage, x, y, workers, rnd, effort, opp, "
        "size, T0..T{D-1}, E0..E{D-1}) as a dict of lists or a CSV path",
    )

    @model_validator(mode="after")
    def _bounds(self) -> FirmsConfig:
        for lo, hi in (
            ("tacit_low", "tacit_high"),
            ("factor_low", "factor_high"),
            ("rnd_low", "rnd_high"),
            ("effort_low", "effort_high"),
        ):
            if getattr(self, lo) > getattr(self, hi):
                raise ValueError(
                    f"{lo} must not exceed {hi}; got {getattr(self, lo)} > {getattr(self, hi)}"
                )
        return self


class GeographyConfig(Section):
    centres: int = Field(3, ge=1, le=1000, description="agglomeration centres in the unit square")
    spread: float = Field(0.12, gt=0.0, le=1.0, description="spread of firms around a centre")
    ell: float = Field(0.15, gt=0.0, le=10.0, description="proximity length: exp(-dist / ell)")


class SocialConfig(Section):
    mean_degree: float = Field(6.0, ge=0.0, le=200.0, description="mean social ties per firm")
    local: float = Field(0.8, ge=0.0, le=1.0, description="share of ties to spatial neighbours")
    same_stage: float = Field(
        0.5, ge=0.0, le=1.0, description="share of local ties drawn among same-stage competitors"
    )
    edges: EdgeInput | None = Field(None, description="given social ties instead of generating")


class ValueChainConfig(Section):
    mean_degree: float = Field(2.0, ge=0.0, le=100.0, description="mean value-chain ties per firm")
    alliance_share: float = Field(
        0.1, ge=0.0, le=1.0, description="share of ties that are alliances"
    )
    form: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="per-update chance a firm below mean degree seeks a partner",
    )
    edges: EdgeInput | None = Field(None, description="given value-chain ties")


class CompetitorConfig(Section):
    visible: int = Field(4, ge=0, le=100, description="same-stage competitors each firm observes")
    edges: EdgeInput | None = Field(None, description="given competitor-visibility ties")


class AuxiliaryConfig(Section):
    reach: float = Field(0.6, ge=0.0, le=1.0, description="tie probability to a nearby institution")


class ExteriorConfig(Section):
    initial: float = Field(0.3, ge=0.0, le=50.0, description="mean exterior ties per firm at start")
    form: float = Field(0.02, ge=0.0, le=1.0, description="new exterior tie rate x outward effort")
    decay: float = Field(0.01, ge=0.0, le=1.0, description="per-step loss rate of an exterior tie")
    half: float = Field(1.0, gt=0.0, le=100.0, description="ties at which access is 63% of full")
    partners: int = Field(200, ge=1, le=10_000_000, description="outside partners in the world")


class NetworksConfig(Section):
    social: SocialConfig = SocialConfig()
    value_chain: ValueChainConfig = ValueChainConfig()
    competitor: CompetitorConfig = CompetitorConfig()
    auxiliary: AuxiliaryConfig = AuxiliaryConfig()
    exterior: ExteriorConfig = ExteriorConfig()
    update_every: int = Field(4, ge=1, le=1000, description="steps between network updates")
    closure: float = Field(0.02, ge=0.0, le=1.0, description="triadic closure rate per firm")
    closure_trust: float = Field(0.5, ge=0.0, le=1.0, description="trust needed to introduce")
    decay_after: int = Field(12, ge=1, description="steps unused before a tie may decay")
    decay_trust: float = Field(0.55, ge=0.0, le=1.0, description="ties below this trust may decay")
    decay: float = Field(0.2, ge=0.0, le=1.0, description="decay probability of such a tie")
    competitor_every: int = Field(20, ge=1, description="steps between competitor-layer rebuilds")


class TrustConfig(Section):
    initial: float = Field(0.5, ge=0.0, le=1.0, description="mean trust on initial ties")
    trust0: float = Field(0.5, ge=0.0, le=1.0, description="social baseline trust")
    eta_up: float = Field(0.05, ge=0.0, le=1.0, description="trust gain on a useful meeting")
    eta_down: float = Field(0.3, ge=0.0, le=1.0, description="trust loss share on betrayal")
    drift: float = Field(0.01, ge=0.0, le=1.0, description="drift toward baseline per step")
    betrayal: float = Field(0.02, ge=0.0, le=1.0, description="base betrayal probability")
    spinoff: float = Field(0.8, ge=0.0, le=1.0, description="trust on a parent-child spin-off tie")


class LearningConfig(Section):
    alpha0: float = Field(0.5, gt=0.0, le=100.0, description="base absorptive capacity")
    alpha_k: float = Field(0.4, ge=0.0, le=100.0, description="capacity gain per unit capability")
    alpha_r: float = Field(
        1.0, ge=0.0, le=100.0, description="capacity gain per unit R&D intensity"
    )
    eps: float = Field(0.05, ge=0.0, le=1.0, description="externalisation rate (tacit to explicit)")
    iota: float = Field(
        0.05, ge=0.0, le=1.0, description="internalisation rate (explicit to tacit)"
    )
    codify: float = Field(1.0, ge=0.0, le=10.0, description="base codification propensity")


class DecisionConfig(Section):
    decide_every: int = Field(4, ge=1, le=1000, description="steps between learning-mode choices")
    cost_in0: float = Field(1.0, gt=0.0, description="unit cost of in-cluster learning")
    cost_out0: float = Field(2.0, gt=0.0, description="unit cost of outward learning")
    sc_discount: float = Field(
        0.5, ge=0.0, le=1.0, description="cost saving at full social capital"
    )
    temperature: float = Field(0.05, gt=0.0, le=100.0, description="logistic choice temperature")
    initial_inside: float = Field(
        0.8, ge=0.0, le=1.0, description="inside share before the first choice"
    )


class FrontierConfig(Section):
    G0: float = Field(6.0, gt=0.0, description="global frontier level at step 0")
    g: float = Field(0.02, ge=0.0, le=10.0, description="frontier growth per step (additive)")


class InstitutionsConfig(Section):
    universities: int = Field(
        1, ge=0, le=10_000, description="universities and research institutes"
    )
    training_centres: int = Field(2, ge=0, le=10_000, description="training centres")
    service_centres: int = Field(
        1, ge=0, le=10_000, description="technical/management service centres"
    )
    cluster_agents: int = Field(1, ge=0, le=10_000, description="cluster agents (associations)")
    university_level: float = Field(0.8, ge=0.0, le=2.0, description="level as a share of G")
    training_level: float = Field(0.45, ge=0.0, le=2.0, description="level as a share of G")
    service_level: float = Field(0.55, ge=0.0, le=2.0, description="level as a share of G")
    agent_level: float = Field(0.4, ge=0.0, le=2.0, description="level as a share of G")
    market_level: float = Field(
        0.7, ge=0.0, le=2.0, description="technology market level, share of G"
    )
    lag: int = Field(8, ge=0, le=1000, description="steps by which institutions trail the frontier")


class InnovationConfig(Section):
    enabled: bool = Field(True, description="switch innovation on or off")
    nu: float = Field(0.01, ge=0.0, le=1.0, description="base innovation probability per step")
    chi: float = Field(0.15, ge=0.0, le=10.0, description="weight of inflow diversity")
    step: float = Field(0.25, ge=0.0, le=10.0, description="mean relative size of an innovation")
    window: int = Field(8, ge=1, le=1000, description="steps over which inflow diversity counts")
    max_age: int = Field(
        200, ge=1, description="steps after which an undiffused innovation is censored"
    )


class DynamicsConfig(Section):
    enabled: bool = Field(True, description="switch size growth, upgrading and exit on or off")
    size_growth: float = Field(
        0.02, ge=0.0, le=1.0, description="size response to relative revenue"
    )
    size_cap: float = Field(
        25.0, gt=0.0, le=10_000.0, description="size ceiling as a multiple of firms.workers_mean"
    )
    upgrade_ratio: float = Field(1.25, gt=0.0, le=10.0, description="next-stage capability needed")
    upgrade_rate: float = Field(
        0.03, ge=0.0, le=1.0, description="upgrade probability once eligible"
    )
    exit_share: float = Field(
        0.6, ge=0.0, le=1.0, description="behind = below this share of median c"
    )
    exit_patience: int = Field(12, ge=1, description="steps behind before exit")
    exit_grace: int = Field(8, ge=0, description="steps of age before a firm can exit")
    hire_rate: float = Field(
        0.25, ge=0.0, le=1.0, description="share of the labour pool hired per step"
    )


class EnvironmentConfig(Section):
    public_services: float = Field(0.5, ge=0.0, le=1.0, description="A1, A5 subsidy and reach")
    cluster_agents: float = Field(0.5, ge=0.0, le=1.0, description="A4 frequency, trust0")
    it_infrastructure: float = Field(
        0.5, ge=0.0, le=1.0, description="A3, codification, C2 explicit"
    )
    ip_protection: float = Field(0.5, ge=0.0, le=1.0, description="C5 down, appropriability up")
    openness: float = Field(0.5, ge=0.0, le=1.0, description="X1 efficiency, outward cost down")
    labour_flexibility: float = Field(0.5, ge=0.0, le=1.0, description="C3 mobility rate")
    tech_market: float = Field(0.5, ge=0.0, le=1.0, description="A5 market access and price")
    contract_enforcement: float = Field(0.5, ge=0.0, le=1.0, description="betrayal down, trust0 up")
    culture: float = Field(0.5, ge=0.0, le=1.0, description="C1, C3 and trust0")


class Intervention(Section):
    at: int = Field(ge=0, description="step at which the change starts")
    ramp: int = Field(0, ge=0, description="steps over which the change is phased in")
    set: dict[str, float | int | bool] = Field(description="dotted scenario keys and new values")


def _channels_model() -> type[BaseModel]:
    fields: dict[str, Any] = {name: (cls.Params, cls.Params()) for name, cls in REGISTRY.items()}
    return create_model("ChannelsConfig", __base__=Section, **fields)


ChannelsConfig = _channels_model()

# Sections a mid-run intervention may change; the others fix the cluster's structure.
MUTABLE_SECTIONS = (
    "environment",
    "channels",
    "trust",
    "learning",
    "decision",
    "frontier",
    "innovation",
    "dynamics",
    "institutions",
)


class Scenario(Section):
    """A frozen, validated description of a cluster and of a run.

    Build one with :meth:`preset`, :meth:`from_toml`, ``Scenario(**sections)`` or
    :meth:`with_overrides`; it is immutable, so a changed copy is a new scenario.

    Examples
    --------
    >>> s = Scenario.preset("baseline").with_overrides({"channels.cooperation.rate": 0.2})
    >>> s.channels.cooperation.rate
    0.2
    """

    name: str = Field("custom", description="short name of the scenario")
    description: str = Field("", description="what the scenario represents")
    steps: int = Field(100, ge=0, le=1_000_000, description="horizon in steps (quarters)")
    firms: FirmsConfig = FirmsConfig()
    geography: GeographyConfig = GeographyConfig()
    networks: NetworksConfig = NetworksConfig()
    trust: TrustConfig = TrustConfig()
    learning: LearningConfig = LearningConfig()
    decision: DecisionConfig = DecisionConfig()
    frontier: FrontierConfig = FrontierConfig()
    institutions: InstitutionsConfig = InstitutionsConfig()
    innovation: InnovationConfig = InnovationConfig()
    dynamics: DynamicsConfig = DynamicsConfig()
    environment: EnvironmentConfig = EnvironmentConfig()
    channels: ChannelsConfig = ChannelsConfig()  # type: ignore[valid-type]
    interventions: list[Intervention] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_interventions(self) -> Scenario:
        problems = []
        flat = _flatten(self.model_dump(mode="python", exclude={"interventions"}))
        for k, iv in enumerate(self.interventions):
            if iv.at > self.steps:
                problems.append(
                    f"interventions[{k}].at: expected a step in [0, {self.steps}] "
                    f"(the horizon), got {iv.at}"
                )
            for key in iv.set:
                if key not in flat:
                    hint = _did_you_mean(key, list(flat))
                    problems.append(f"interventions[{k}].set: unknown key {key!r}{hint}")
                elif key.split(".")[0] not in MUTABLE_SECTIONS:
                    problems.append(
                        f"interventions[{k}].set: {key!r} fixes the cluster's structure and "
                        f"cannot change mid-run; allowed sections: {', '.join(MUTABLE_SECTIONS)}"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> Scenario:
        """Validate a nested dict, raising :class:`ScenarioError` with every problem."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(_messages(exc, cls), source) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        """Read a scenario from a TOML file; file paths inside it are resolved relative to it."""
        p = Path(path)
        if not p.exists():
            raise ScenarioError(["no such file (expected a scenario TOML file)"], str(p))
        if p.is_dir():
            raise ScenarioError(["is a folder, expected a scenario TOML file"], str(p))
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError([f"cannot be read as UTF-8 text ({exc})"], str(p)) from None
        if not text.strip():
            raise ScenarioError(["the file is empty; expected a TOML scenario"], str(p))
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError([f"not valid TOML: {exc}"], str(p)) from None
        _resolve_paths(data, p.parent)
        return cls.from_dict(data, source=str(p))

    @classmethod
    def preset(cls, name: str) -> Scenario:
        """A shipped scenario from ``scenarios/`` by name (see :func:`presets`)."""
        path = PRESET_DIR / f"{name}.toml"
        if not path.exists():
            names = presets()
            raise ScenarioError(
                [
                    f"unknown preset {name!r}{_did_you_mean(name, names)}; "
                    f"available: {', '.join(names)}"
                ]
            )
        return cls.from_toml(path)

    def to_toml(self, path: str | Path | None = None) -> str:
        """The scenario as TOML text; written to ``path`` when given. Round-trips exactly."""
        text = tomli_w.dumps(self.to_dict())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dict (no None values), as written to TOML and JSON."""
        return _drop_none(self.model_dump(mode="json"))

    def flat(self) -> dict[str, Any]:
        """Every parameter under its dotted key (interventions left out)."""
        return _flatten(self.model_dump(mode="python", exclude={"interventions"}))

    def get(self, key: str) -> Any:
        """The value at a dotted key, e.g. ``s.get("channels.cooperation.rate")``."""
        obj: Any = self
        for part in key.split("."):
            if not hasattr(obj, part) or part not in type(obj).model_fields:
                raise ScenarioError([f"unknown key {key!r}{_did_you_mean(key, list(self.flat()))}"])
            obj = getattr(obj, part)
        return obj

    def with_overrides(self, overrides: dict[str, Any], source: str | None = None) -> Scenario:
        """A copy with dotted keys replaced, validated as a whole.

        >>> Scenario().with_overrides({"firms.n": 50}).firms.n
        50
        """
        data = self.model_dump(mode="python")
        for key, value in overrides.items():
            parts = key.split(".")
            node = data
            for part in parts[:-1]:
                if not isinstance(node.get(part), dict):
                    node[part] = {} if part not in node else node[part]
                    if not isinstance(node[part], dict):
                        raise ScenarioError([f"{key}: {part!r} is a value, not a section"], source)
                node = node[part]
            node[parts[-1]] = value
        return type(self).from_dict(data, source=source)

    def channel_params(self, name: str) -> Any:
        return getattr(self.channels, name)


def presets() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def preset_descriptions() -> dict[str, str]:
    """Each shipped scenario's one-line description."""
    out = {}
    for name in presets():
        data = tomllib.loads((PRESET_DIR / f"{name}.toml").read_text(encoding="utf-8"))
        out[name] = (
            str(data.get("description", "")).strip().splitlines()[0]
            if data.get("description")
            else ""
        )
    return out


# --- helpers --------------------------------------------------------------------------------
def _drop_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_drop_none(v) for v in obj]
    return obj


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and not (k == "attributes" or k == "set"):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Make file paths named inside a scenario absolute, relative to the TOML file."""
    firms = data.get("firms")
    if isinstance(firms, dict) and isinstance(firms.get("attributes"), str):
        firms["attributes"] = str((base / firms["attributes"]).resolve())
    nets = data.get("networks")
    if isinstance(nets, dict):
        for layer in ("social", "value_chain", "competitor"):
            sec = nets.get(layer)
            if isinstance(sec, dict) and isinstance(sec.get("edges"), str):
                sec["edges"] = str((base / sec["edges"]).resolve())


def _did_you_mean(word: str, options: list[str]) -> str:
    last = word.split(".")[-1]
    full = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if full:
        return f"; did you mean {full[0]!r}?"
    tails = {o.split(".")[-1]: o for o in options}
    near = difflib.get_close_matches(last, list(tails), n=1, cutoff=0.6)
    return f"; did you mean {tails[near[0]]!r}?" if near else ""


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section model found by following ``loc`` from ``model`` (None if not a model)."""
    cur: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(cur, type) and issubclass(cur, BaseModel)):
            return None
        f = cur.model_fields.get(str(part))
        if f is None:
            return None
        ann = f.annotation
        args = getattr(ann, "__args__", ())
        cand = [a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        cur = cand[0] if cand else None
    return cur if isinstance(cur, type) and issubclass(cur, BaseModel) else None


_TYPE_WORDS = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "dict_type": "a table",
    "model_type": "a table",
    "list_type": "a list",
    "missing": "a value (this key is required)",
}


def _messages(exc: ValidationError, root: type[BaseModel]) -> list[str]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        # Drop union-member tags pydantic adds to the location.
        loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("str",))))
        key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(
            ".[", "["
        )
        typ = err["type"]
        given = err.get("input")
        ctx = err.get("ctx") or {}
        if typ == "extra_forbidden":
            parent = _model_at(root, loc[:-1])
            opts = list(parent.model_fields) if parent else []
            hint = ""
            near = difflib.get_close_matches(str(loc[-1]), opts, n=1, cutoff=0.5)
            if near:
                prefix = ".".join(str(p) for p in loc[:-1] if not isinstance(p, int))
                hint = f"; did you mean {(prefix + '.' if prefix else '') + near[0]!r}?"
            out.append(f"{key}: unknown key{hint}")
        elif typ in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            f = _field_bounds(root, loc)
            out.append(f"{key}: expected {f}, got {given!r}")
        elif typ in _TYPE_WORDS:
            extra = ""
            if typ != "missing":
                extra = f", got {given!r}"
            out.append(f"{key}: expected {_TYPE_WORDS[typ]}{extra}")
        elif typ == "value_error":
            msg = str(ctx.get("error", err["msg"]))
            out.append(f"{key}: {msg}" if key else msg)
        else:
            out.append(f"{key}: {err['msg']}, got {given!r}")
    # Union types report one error per member; keep each message once.
    seen: list[str] = []
    for m in out:
        if m not in seen:
            seen.append(m)
    return seen


def field_bounds(field: Any) -> tuple[Any, bool, Any, bool]:
    """A pydantic field's numeric bounds: ``(low, low_open, high, high_open)``, None if unset."""
    lo = hi = None
    lo_open = hi_open = False
    for m in field.metadata:
        for attr, is_lo, opn in (
            ("ge", True, False),
            ("gt", True, True),
            ("le", False, False),
            ("lt", False, True),
        ):
            v = getattr(m, attr, None)
            if v is not None:
                if is_lo:
                    lo, lo_open = v, opn
                else:
                    hi, hi_open = v, opn
    return lo, lo_open, hi, hi_open


def _field_bounds(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    parent = _model_at(root, loc[:-1])
    kind = "a number"
    lo = hi = None
    lo_open = hi_open = False
    if parent is not None and str(loc[-1]) in parent.model_fields:
        f = parent.model_fields[str(loc[-1])]
        if f.annotation is int:
            kind = "a whole number"
        lo, lo_open, hi, hi_open = field_bounds(f)
    if lo is not None and hi is not None:
        return f"{kind} in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{kind} {'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f"{kind} {'<' if hi_open else '<='} {hi}"
    return kind
