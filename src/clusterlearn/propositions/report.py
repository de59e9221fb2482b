"""Writing the propositions report: ``propositions.json`` (schema in docs/propositions.md),
``propositions.md`` and ``propositions.html`` (figures embedded), plus ``figures/P*.png``.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from clusterlearn.propositions.verdict import RULE_TEXT

SCHEMA = "clusterlearn-propositions/1"
_SIGNS = {1: "+", -1: "-", 0: "+/-"}

# Fields every proposition object carries (docs/propositions.md documents each).
FIELDS = (
    "id",
    "title",
    "claim",
    "thesis",
    "measured",
    "experiment",
    "statistic",
    "effect",
    "ci_low",
    "ci_high",
    "p_value",
    "verdict",
    "rule",
    "parts",
    "coefficients",
    "figure",
    "notes",
    "seconds",
)


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def coefficients_records(table: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    """A coefficient table as JSON records (``term``, ``coef``, ``se``, ``ci_low``,
    ``ci_high``, ``p_value``)."""
    if table is None:
        return None
    out = []
    for term, row in table.iterrows():
        out.append({"term": str(term), **{k: _num(row[k]) for k in table.columns}})
    return out


def write_json(path: Path, meta: dict[str, Any], entries: list[dict[str, Any]]) -> Path:
    from clusterlearn.propositions.schema import validate

    doc = {"schema": SCHEMA, **meta, "rule": RULE_TEXT, "propositions": entries}
    validate(doc)  # never write a report that breaks its documented schema
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, allow_nan=False), encoding="utf-8")
    tmp.replace(path)
    return path


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
            return f"{x:.{digits - 1}e}"
        return f"{x:.{digits}g}"
    return str(x)


def _ci(e: dict[str, Any]) -> str:
    return f"[{_fmt(e['ci_low'])}, {_fmt(e['ci_high'])}]"


def _experiment_line(exp: dict[str, Any]) -> str:
    facs = "; ".join(f"{k} in {v}" for k, v in exp["factors"].items()) or "none"
    arms = ", ".join(a["name"] for a in exp["arms"])
    base = ", ".join(f"{k}={v}" for k, v in exp["base_overrides"].items()) or "as shipped"
    return (
        f"scenario `{exp['scenario']}` ({base}); arms: {arms}; factors: {facs}; "
        f"{exp['replications']} replications x {exp['steps']} steps = {exp['runs']} runs"
    )


def write_markdown(path: Path, meta: dict[str, Any], entries: list[dict[str, Any]]) -> Path:
    lines = [
        "# The thesis's propositions, tested in the model",
        "",
        f"Variant: **{meta['variant']}**; seed {meta['seed']}; clusterlearn "
        f"{meta['versions'].get('clusterlearn', '?')}; {meta['runs']} runs ({meta['ran']} run "
        f"now, {meta['runs'] - meta['ran']} read back from the stores) in {meta['seconds']:.0f} s; "
        f"budget stated before the run: {meta['budget_seconds']:.0f} s.",
        "",
        f"Verdict rule: {RULE_TEXT}",
        "",
        "| id | proposition | statistic | effect | 95% CI | p | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        lines.append(
            f"| {e['id']} | {e['title']} | {e['parts'][0]['name'] if e['parts'] else ''} | "
            f"{_fmt(e['effect'])} | {_ci(e)} | {_fmt(e['p_value'])} | **{e['verdict']}** |"
        )
    for e in entries:
        lines += [
            "",
            f"## {e['id']}: {e['title']} -- {e['verdict']}",
            "",
            f"**Claim.** {e['claim']}",
            "",
            f"> {e['thesis']}",
            "",
            f"**Measured as** (MODEL.md section 8): {e['measured']}.",
            "",
            f"**Experiment.** {_experiment_line(e['experiment'])}.",
            "",
            f"**Statistic.** {e['statistic']}.",
            "",
            "| part | effect | 95% CI | p | n | claimed sign | rope | verdict |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for p in e["parts"]:
            lines.append(
                f"| {p['name']} | {_fmt(p['effect'])} | {_ci(p)} | {_fmt(p['p_value'])} | "
                f"{p['n']} | {_SIGNS[p['sign']]} | {p['rope']} | {p['verdict']} |"
            )
        for p in e["parts"]:
            ex = {k: v for k, v in p["extra"].items() if not isinstance(v, dict)}
            if ex:
                lines.append("")
                lines.append(
                    f"*{p['name']}*: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in ex.items())
                )
        if e.get("coefficients"):
            lines += ["", "| term | coef | se | 95% CI | p |", "|---|---|---|---|---|"]
            for c in e["coefficients"]:
                lines.append(
                    f"| {c['term']} | {_fmt(c['coef'])} | {_fmt(c['se'])} | {_ci(c)} | "
                    f"{_fmt(c['p_value'])} |"
                )
        for n in e.get("notes") or []:
            lines += ["", f"Note: {n}"]
        if e.get("figure"):
            lines += ["", f"![{e['id']}]({e['figure']})"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .5em;
font-size:.9em}th{background:#f4f4f4}.supported{color:#1a7f37;font-weight:bold}
.not-supported{color:#c62828;font-weight:bold}.inconclusive{color:#666;font-weight:bold}
blockquote{color:#555;border-left:3px solid #ccc;margin-left:0;padding-left:1em}
img{max-width:100%}
"""


def write_html(path: Path, meta: dict[str, Any], entries: list[dict[str, Any]], root: Path) -> Path:
    esc = html.escape

    def verdict(v: str) -> str:
        return f'<span class="{v.replace(" ", "-")}">{esc(v)}</span>'

    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<title>clusterlearn: the thesis's propositions</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>The thesis's propositions, tested in the model</h1>",
        f"<p>Variant <b>{esc(meta['variant'])}</b>; seed {meta['seed']}; "
        f"{meta['runs']} runs ({meta['ran']} run now, {meta['runs'] - meta['ran']} read back "
        f"from the stores) in {meta['seconds']:.0f} s.</p>",
        f"<p>Verdict rule: {esc(RULE_TEXT)}</p>",
        "<table><tr><th>id</th><th>proposition</th><th>effect</th><th>95% CI</th>"
        "<th>p</th><th>verdict</th></tr>",
    ]
    for e in entries:
        out.append(
            f"<tr><td><a href='#{e['id']}'>{e['id']}</a></td><td>{esc(e['title'])}</td>"
            f"<td>{_fmt(e['effect'])}</td><td>{_ci(e)}</td><td>{_fmt(e['p_value'])}</td>"
            f"<td>{verdict(e['verdict'])}</td></tr>"
        )
    out.append("</table>")
    for e in entries:
        out += [
            f"<h2 id='{e['id']}'>{e['id']}: {esc(e['title'])} &mdash; {verdict(e['verdict'])}</h2>",
            f"<p><b>Claim.</b> {esc(e['claim'])}</p>",
            f"<blockquote>{esc(e['thesis'])}</blockquote>",
            f"<p><b>Measured as.</b> {esc(e['measured'])}</p>",
            f"<p><b>Experiment.</b> {esc(_experiment_line(e['experiment']))}</p>",
            f"<p><b>Statistic.</b> {esc(e['statistic'])}</p>",
            "<table><tr><th>part</th><th>effect</th><th>95% CI</th><th>p</th><th>n</th>"
            "<th>sign</th><th>rope</th><th>verdict</th></tr>",
        ]
        for p in e["parts"]:
            out.append(
                f"<tr><td>{esc(p['name'])}</td><td>{_fmt(p['effect'])}</td><td>{_ci(p)}</td>"
                f"<td>{_fmt(p['p_value'])}</td><td>{p['n']}</td>"
                f"<td>{_SIGNS[p['sign']]}</td><td>{p['rope']}</td>"
                f"<td>{verdict(p['verdict'])}</td></tr>"
            )
        out.append("</table>")
        if e.get("coefficients"):
            out.append(
                "<table><tr><th>term</th><th>coef</th><th>se</th><th>95% CI</th><th>p</th></tr>"
            )
            for c in e["coefficients"]:
                out.append(
                    f"<tr><td>{esc(c['term'])}</td><td>{_fmt(c['coef'])}</td>"
                    f"<td>{_fmt(c['se'])}</td><td>{_ci(c)}</td><td>{_fmt(c['p_value'])}</td></tr>"
                )
            out.append("</table>")
        for n in e.get("notes") or []:
            out.append(f"<p><i>Note:</i> {esc(n)}</p>")
        if e.get("figure"):
            data = base64.b64encode((root / e["figure"]).read_bytes()).decode()
            out.append(f"<img alt='{e['id']} figure' src='data:image/png;base64,{data}'>")
    out.append("</body></html>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path
