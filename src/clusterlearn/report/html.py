"""The run report: one self-contained HTML page (figures embedded as base64 PNG), plus every
figure saved as PNG and SVG next to it in ``figures/``."""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
from jinja2 import Environment, PackageLoader, select_autoescape

from clusterlearn.errors import ClusterlearnError
from clusterlearn.report import summary
from clusterlearn.report.figures import FIGURES, FigureSpec

if TYPE_CHECKING:
    from clusterlearn.result import Result

REPORT_NAME = "report.html"
FIGURE_DIR = "figures"
DPI = 110


@dataclass(frozen=True)
class RenderedFigure:
    spec: FigureSpec
    png_base64: str
    png: str
    svg: str


def _render(spec: FigureSpec, result: Result, fig_dir: Path) -> RenderedFigure:
    # A fixed salt for SVG element ids and no date in the metadata: the same result gives
    # byte-identical files.
    with matplotlib.rc_context({"svg.hashsalt": "clusterlearn"}):
        fig = spec.draw(result)
        fig.suptitle(spec.title, fontsize=12, fontweight="bold")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
        png = buf.getvalue()
        (fig_dir / f"{spec.name}.png").write_bytes(png)
        fig.savefig(fig_dir / f"{spec.name}.svg", format="svg", metadata={"Date": None})
    return RenderedFigure(
        spec=spec,
        png_base64=base64.b64encode(png).decode("ascii"),
        png=f"{FIGURE_DIR}/{spec.name}.png",
        svg=f"{FIGURE_DIR}/{spec.name}.svg",
    )


def build_report(result: Result, out: str | os.PathLike[str]) -> Path:
    """Write ``report.html`` and ``figures/*.png|svg`` for ``result`` into the folder ``out``.

    Parameters
    ----------
    result : Result
        A finished or partial run (fresh or loaded with :meth:`Result.load`).
    out : path
        Folder to write into (created if missing); usually the result's own folder.

    Returns
    -------
    Path
        The path of the HTML report.

    Examples
    --------
    >>> from clusterlearn import Scenario, simulate
    >>> from clusterlearn.report import build_report
    >>> r = simulate(Scenario.preset("baseline").with_overrides({"firms.n": 40}), steps=3, rng=1)
    >>> build_report(r, "my-report").name  # doctest: +SKIP
    'report.html'
    """
    folder = Path(out)
    fig_dir = folder / FIGURE_DIR
    try:
        fig_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ClusterlearnError(
            f"{folder}: cannot write the report here ({exc.strerror})"
        ) from None
    figures = [_render(spec, result, fig_dir) for spec in FIGURES]
    env = Environment(
        loader=PackageLoader("clusterlearn.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = summary.fmt
    env.filters["flow"] = summary.fmt_flow
    scenario = result.scenario
    steps_done = int(result.metrics["step"].iloc[-1])
    versions = result.meta.get("versions", {})
    html = env.get_template("report.html.j2").render(
        scenario=scenario,
        scenario_toml=scenario.to_toml(),
        seed=result.seed,
        partial=result.partial,
        steps_done=steps_done,
        horizon=scenario.steps,
        firms_start=int(result.metrics["population"].iloc[0]),
        firms_end=int(result.metrics["population"].iloc[-1]),
        headline=summary.headline(result),
        totals=summary.totals(result),
        flows=summary.flows(result),
        seci=summary.seci_totals(result),
        figures=figures,
        versions=versions,
    )
    path = folder / REPORT_NAME
    tmp = folder / f".{REPORT_NAME}.tmp"
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
