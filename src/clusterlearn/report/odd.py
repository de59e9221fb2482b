"""The model's ODD description (Grimm et al. 2020), generated from the code itself.

Nothing here restates the model by hand where the code already says it: the channels come
from the registry (:data:`clusterlearn.model.channels.REGISTRY`, each with its docstring,
network, SECI tag and parameters), the parameters from the pydantic scenario models (type,
range, default and description of every field), the schedule from the engine's docstring,
the outcomes from :data:`clusterlearn.model.metrics.DESCRIPTIONS` and the environment levers
from :data:`clusterlearn.model.environment.LEVER_EFFECTS`. docs/ODD.md can then be checked
against this output, and it cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

import clusterlearn
from clusterlearn.model import engine, environment, init, kernel, layers, metrics, state
from clusterlearn.model.channels import REGISTRY, Channel
from clusterlearn.model.processes import decision, dynamics, innovation, network, seci, trust
from clusterlearn.result import LAYERS
from clusterlearn.scenario import Intervention, Scenario, field_bounds

_SECI_WORDS = {"S": "socialisation", "C": "combination", "S+C": "socialisation and combination"}


@dataclass(frozen=True)
class Parameter:
    """One scenario parameter as the ODD lists it."""

    key: str
    type: str
    range: str
    default: str
    description: str


_ROLE = re.compile(r":(?:class|meth|func|data|mod|attr|obj):`(~?)([^`]+)`")


def _md(text: str) -> str:
    """reStructuredText habits of docstrings turned into Markdown."""

    def role(m: re.Match[str]) -> str:
        target = m.group(2).split(".")[-1] if m.group(1) else m.group(2)
        return f"`{target}`"

    text = _ROLE.sub(role, text)
    text = text.replace("``", "`")
    return re.sub(r"::\n\n", ":\n\n", text)


# A NumPy-style section header ("Parameters" over a line of dashes) ends the prose part.
_SECTION = re.compile(r"^\S[^\n]*\n-{3,}\s*$", re.M)


def _doc(obj: Any) -> str:
    """The prose of ``obj``'s docstring (NumPy sections such as Parameters left out)."""
    text = inspect.cleandoc(obj.__doc__ or "")
    m = _SECTION.search(text)
    return _md((text[: m.start()] if m else text).strip())


def _type_name(ann: Any) -> str:
    if isinstance(ann, type) and not get_args(ann):
        return ann.__name__
    text = str(ann).replace("typing.", "")
    for mod in ("clusterlearn.scenario.", "builtins."):
        text = text.replace(mod, "")
    return text


def _range(field: Any) -> str:
    lo, lo_open, hi, hi_open = field_bounds(field)
    if field.annotation is bool:
        return "true / false"
    if lo is not None and hi is not None:
        return f"{'(' if lo_open else '['}{_num(lo)}, {_num(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {_num(lo)}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {_num(hi)}"
    return "any"


def _num(v: Any) -> str:
    return f"{v:,}".replace(",", "_") if isinstance(v, int) and abs(v) >= 10_000 else str(v)


def _value(v: Any) -> str:
    if v is None:
        return "(none)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, BaseModel):
        return "(table)"
    return _num(v)


def _section_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    return None


def _is_list_of_models(ann: Any) -> type[BaseModel] | None:
    if get_origin(ann) is list:
        (item,) = get_args(ann) or (None,)
        return _section_model(item)
    return None


def parameters(model: type[BaseModel] = Scenario, prefix: str = "") -> Iterator[Parameter]:
    """Every parameter of ``model`` (recursing into sections), under its dotted key."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = field.annotation
        sub = _section_model(ann)
        if sub is not None:
            yield from parameters(sub, key + ".")
            continue
        item = _is_list_of_models(ann)
        if item is not None:
            yield Parameter(
                key,
                f"list of {item.__name__}",
                "any",
                "[]",
                field.description or "scheduled parameter changes (see section 6)",
            )
            yield from parameters(item, key + "[].")
            continue
        default = field.get_default(call_default_factory=True)
        # A required field has no default.
        shown = "(required)" if field.is_required() else _value(default)
        if isinstance(ann, types.UnionType) or get_origin(ann) is Union:
            shown = _value(default)
        yield Parameter(key, _type_name(ann), _range(field), shown, field.description or "")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _parameter_table(params: list[Parameter], scenario: Scenario | None) -> str:
    flat = scenario.flat() if scenario is not None else {}
    header = ["key", "type", "range", "default"]
    if scenario is not None:
        header.append(f"in `{scenario.name}`")
    header.append("meaning")
    rows = []
    for p in params:
        row = [f"`{p.key}`", p.type, p.range, p.default]
        if scenario is not None:
            given = flat.get(p.key, None) if "[]" not in p.key else None
            text = _value(given) if p.key in flat else ""
            row.append(f"**{text}**" if text and text != p.default else text)
        row.append(p.description)
        rows.append(row)
    return _table(header, rows)


def _channel_section(cls: type[Channel]) -> str:
    params = list(parameters(cls.Params, f"channels.{cls.name}."))
    facts = [
        f"- network: **{cls.network}**; SECI conversion: **{cls.seci}** "
        f"({_SECI_WORDS.get(cls.seci, cls.seci)})",
        f"- in-cluster channel: {'yes' if cls.in_cluster else 'no'}; "
        f"the source loses knowledge: {'yes' if cls.source_loses else 'no'}; "
        f"motive effect: {cls.motive}",
        f"- scenario section: `[channels.{cls.name}]`; code: `{cls.__module__}.{cls.__name__}`",
    ]
    doc = _doc(inspect.getmodule(cls)) or _doc(cls)
    return "\n\n".join(
        [f"#### {cls.code} {cls.name}", "\n".join(facts), doc, _parameter_table(params, None)]
    )


def _state_table() -> str:
    rows = []
    per_firm = set(state.FIRM_FIELDS_1D) | set(state.FIRM_FIELDS_2D)
    for f in dataclasses.fields(state.State):
        if f.name in ("pending_births", "pending_ties", "counters"):
            continue  # bookkeeping within a step
        if f.name in ("median_hints", "structure_memo"):
            continue  # caches for speed: they never change a result
        scope = "firm" if f.name in per_firm else "cluster / world"
        if f.name in ("social", "value_chain", "competitor", "auxiliary", "exterior"):
            scope = "tie layer"
        rows.append([f"`{f.name}`", _cell(str(f.type)), scope])
    return _table(["variable", "type", "belongs to"], rows)


def _levers_table() -> str:
    rows = []
    for lever, effects in environment.LEVER_EFFECTS.items():
        for effect, direction, k, where in effects:
            rows.append(
                [
                    f"`environment.{lever}`",
                    effect,
                    "raises" if direction == "up" else "lowers",
                    f"{k:g}",
                    where,
                ]
            )
    return _table(["lever", "effect", "direction", "strength k", "acts on"], rows)


def _metrics_table() -> str:
    rows = [[f"`{name}`", metrics.DESCRIPTIONS.get(name, "")] for name in metrics.METRICS]
    return _table(["outcome", "meaning"], rows)


def odd_markdown(scenario: Scenario | None = None) -> str:
    """The ODD description of the model as Markdown, generated from the code.

    Parameters
    ----------
    scenario : Scenario, optional
        When given, the parameter tables also show this scenario's values (those that differ
        from the default in bold) and section 2 its scales.

    Returns
    -------
    str
        A Markdown document following the ODD protocol's seven elements.

    Examples
    --------
    >>> from clusterlearn.report import odd_markdown
    >>> text = odd_markdown()
    >>> "C1 informal" in text and "`firms.n`" in text
    True
    """
    sc = scenario if scenario is not None else Scenario()
    params = list(parameters())
    chans = list(REGISTRY.values())
    out: list[str] = []
    add = out.append
    add("# ODD description of clusterlearn (generated)")
    add(
        f"Generated by `clusterlearn odd` from clusterlearn {clusterlearn.__version__} "
        "following the ODD protocol (Grimm et al. 2020). Every table and quoted text below is "
        "read from the code (channel registry, scenario schema, engine, metrics and "
        "environment modules), so it describes exactly the model that runs."
        + (f" Scenario shown: `{scenario.name}`." if scenario is not None else "")
    )

    add("## 1. Purpose and patterns")
    add(_doc(clusterlearn).split("\n\n")[0])
    add(
        "The model formalises the thesis *Research on the Mechanism of Collective Technological "
        "Learning of Industrial Clusters* (Liaoning University, 2007): why cluster firms learn "
        "(motives: a cost-benefit choice of learning mode), why they can (conditions: trust, "
        "proximity, absorptive capacity, network position, social capital, division of labour, "
        "IT, technology market), how (pathways: SECI conversions inside firms and "
        f"{len(chans)} channels across the core, auxiliary and exterior networks), in what "
        "environment (policy levers and interventions) and with what result (capability, "
        "catch-up, upgrading, innovation)."
    )
    if scenario is not None and scenario.description:
        add(f"Scenario `{scenario.name}`: {scenario.description}")

    add("## 2. Entities, state variables and scales")
    add(
        "Entities: **firms** (the core network), **institutions** of types "
        + ", ".join(f"`{t}`" for t in state.INSTITUTION_TYPES)
        + " (the auxiliary network, plus the technology market), the **outside world** (a "
        "global technology frontier `G` and outside partners, the exterior network) and "
        "**ties** in the layers "
        + ", ".join(f"`{x}`" for x in LAYERS)
        + " (`knowledge` is the social and value-chain layers together)."
    )
    add(_doc(state))
    add(_state_table())
    add(
        f"Scales: one step is one quarter of a year; the horizon is `steps` = {sc.steps} steps. "
        f"Space is the unit square with {sc.geography.centres} agglomeration centres; "
        f"proximity is `exp(-distance / ell)` with `ell` = {sc.geography.ell}. "
        f"The cluster starts with `firms.n` = {sc.firms.n} firms, "
        f"{sc.firms.domains} knowledge domains and {sc.firms.stages} value-chain stages."
    )
    add(_doc(layers))

    add("## 3. Process overview and scheduling")
    add(_doc(engine))
    add("The channels, in the order a step applies them (registry order):")
    add(
        _table(
            ["order", "code", "channel", "network", "SECI"],
            [[str(k + 1), c.code, c.name, c.network, c.seci] for k, c in enumerate(chans)],
        )
    )

    add("## 4. Design concepts")
    add(
        "**Basic principles.** One learning kernel moves knowledge in every channel "
        f"(`{kernel.absorb.__module__}.absorb`):"
    )
    add("\n\n".join(_doc(kernel.absorb).split("\n\n")[:2]))
    add("**Adaptation and objectives.** " + _doc(decision))
    add(
        "**Interaction.** Firms interact through the channels of section 7 on the tie layers "
        "of section 2; trust on firm-firm ties changes with each interaction. " + _doc(trust)
    )
    add(
        "**Stochasticity.** All randomness comes from one seed: a "
        "`numpy.random.SeedSequence` spawns one independent stream per process and channel, "
        "in this order: "
        + ", ".join(f"`{s}`" for s in engine.stream_names())
        + ". Switching a channel off leaves the other streams' draws unchanged (common random "
        "numbers)."
    )
    add("**Environment.** " + _doc(environment))
    add(_levers_table())
    add(
        "**Observation.** These outcomes are recorded every step (columns of "
        "`Result.metrics`, in this order); knowledge absorbed per channel and per SECI "
        "conversion goes to `Result.flows`, the firm table to `Result.firms`."
    )
    add(_metrics_table())

    add("## 5. Initialization")
    add(_doc(init))
    add(
        "Every scenario parameter, with its type, allowed range, default and meaning "
        "(dotted keys as used in TOML sections, `--set key=value` and "
        "`Scenario.with_overrides`):"
    )
    add(_parameter_table(params, scenario))

    add("## 6. Input data")
    add(
        "The model runs without external input. Optionally a scenario gives a per-firm table "
        "(`firms.attributes`) and tie lists (`networks.social.edges`, "
        "`networks.value_chain.edges`, `networks.competitor.edges`) instead of generating them, "
        "and a schedule of interventions that changes parameters mid-run:"
    )
    add(
        _doc(Intervention)
        or "An intervention sets dotted scenario keys (`set`) from step `at`, "
        "phased in over `ramp` steps:"
    )
    add(_doc(engine.apply_interventions))

    add("## 7. Submodels")
    add("### The learning kernel")
    add(_doc(kernel.absorb))
    add("### Channels")
    for cls in chans:
        add(_channel_section(cls))
    add("### Processes")
    for title, mod in (
        ("Learning-mode decision", decision),
        ("SECI conversions inside firms", seci),
        ("Innovation and diffusion", innovation),
        ("Trust dynamics", trust),
        ("Network dynamics", network),
        ("Firm dynamics", dynamics),
    ):
        add(f"#### {title}")
        add(_doc(mod))
        add(f"Code: `{mod.__name__}`.")
    return "\n\n".join(out).rstrip() + "\n"


def coverage_gaps(text: str) -> list[str]:
    """What a hand-written ODD ``text`` leaves out of the model as the code defines it.

    A channel counts as covered when its code and its name appear; a parameter when its
    dotted key appears (for ``interventions[].at`` and the like: ``interventions`` and the
    field name). Outcomes and levers count when their names appear; a numbered family of
    outcomes (``inside_q1`` .. ``inside_q5``) when one of its members does.

    Returns
    -------
    list of str
        One line per missing item; empty when the text covers everything.
    """
    gaps = []
    for cls in REGISTRY.values():
        if cls.code not in text or cls.name not in text:
            gaps.append(f"channel {cls.code} {cls.name}")
    for p in parameters():
        if "[]." in p.key:
            head, _, leaf = p.key.partition("[].")
            found = head in text and re.search(rf"\b{re.escape(leaf)}\b", text) is not None
        else:
            found = p.key in text
        if not found:
            gaps.append(f"parameter {p.key}")
    for name in metrics.METRICS:
        # A numbered family (inside_q1 .. inside_q5) may be written as a range.
        family = re.fullmatch(r"(.*\D)\d+", name)
        if name not in text and not (family and re.search(rf"{family.group(1)}\d", text)):
            gaps.append(f"outcome {name}")
    for lever in environment.LEVER_EFFECTS:
        if lever not in text:
            gaps.append(f"environment lever {lever}")
    return gaps
