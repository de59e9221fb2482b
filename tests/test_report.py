"""The HTML run report: every figure embedded and saved, readable for fresh, loaded, partial
and zero-step results; and the model core does not depend on the report code."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from clusterlearn import Result, Scenario, simulate
from clusterlearn.model.channels import REGISTRY
from clusterlearn.model.engine import Simulation
from clusterlearn.report import FIGURES, build_report, figures

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Collects the <img> tags and figure ids of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.figures: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img":
            self.images.append(a)
        if tag == "figure" and a.get("id"):
            self.figures.append(str(a["id"]))
        for key in ("src", "href"):
            v = a.get(key) or ""
            if tag in ("img", "script", "link") and v.startswith(("http:", "https:", "//")):
                self.external.append(v)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def small_result() -> Result:
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 60, "steps": 12})
    return simulate(sc, rng=5)


def test_every_figure_is_embedded_and_saved(small_result: Result, tmp_path: Path) -> None:
    path = build_report(small_result, tmp_path)
    assert path == tmp_path / "report.html"
    page = _parse(path)
    assert page.figures == [f"fig-{spec.name}" for spec in FIGURES]
    assert len(page.images) == len(FIGURES)
    assert not page.external, "the report must not load anything from the network"
    for spec, img in zip(FIGURES, page.images, strict=True):
        src = str(img["src"])
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png.startswith(PNG_MAGIC)
        assert png == (tmp_path / "figures" / f"{spec.name}.png").read_bytes()
        svg = ET.parse(tmp_path / "figures" / f"{spec.name}.svg").getroot()
        assert svg.tag.endswith("svg")
        assert img["alt"] == spec.title
    _numbers_of_the_run(small_result, tmp_path)


def _numbers_of_the_run(small_result: Result, report_dir: Path) -> None:
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert f"<code>{small_result.seed}</code>" in html
    assert 'id="partial"' not in html
    for cls in REGISTRY.values():
        assert f"<td>{cls.code}</td><td>{cls.name}</td>" in html
    end = small_result.metrics["catch_up"].iloc[-1]
    assert f"{end:.3f}" in html
    assert "[firms]" in html  # the scenario as TOML


def test_loaded_and_partial_results(tmp_path: Path) -> None:
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 50, "steps": 30})
    sim = Simulation(sc, rng=8)
    for _ in range(4):
        sim.step()
    fresh = sim.result(partial=True)
    fresh.save(tmp_path / "res")
    loaded = Result.load(tmp_path / "res")
    html = build_report(loaded, tmp_path / "res").read_text(encoding="utf-8")
    assert 'id="partial"' in html
    assert "after\nstep 4 of 30" in html
    assert len(_parse(tmp_path / "res" / "report.html").images) == len(FIGURES)
    # The report depends on the saved tables only: the fresh result gives the same files.
    build_report(fresh, tmp_path / "fresh")
    for name in ["report.html"] + [f"figures/{f.name}.svg" for f in FIGURES]:
        assert (tmp_path / "fresh" / name).read_bytes() == (tmp_path / "res" / name).read_bytes(), (
            name
        )


def test_zero_step_result_draws_every_figure() -> None:
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 20, "steps": 0})
    result = simulate(sc, rng=1)
    assert len(result.metrics) == 1
    for spec in FIGURES:
        buf = io.BytesIO()
        spec.draw(result).savefig(buf, format="png", dpi=30)
        assert buf.getvalue().startswith(PNG_MAGIC), spec.name


def test_large_cluster_network_is_subsampled(
    small_result: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cap is a module constant; lower it so a small cluster counts as large.
    monkeypatch.setattr(figures, "MAX_DRAWN_FIRMS", 40)
    fig = figures.network(small_result)
    ax = fig.axes[0]
    assert f"40 of {len(small_result.firms)} firms" in ax.get_title()
    assert "random sample" in ax.get_title()
    points = [c for c in ax.collections if hasattr(c, "get_sizes") and len(c.get_sizes())]
    assert len(points[0].get_offsets()) == 40


def test_model_core_does_not_import_report_or_plotting() -> None:
    code = (
        "import sys\n"
        "from clusterlearn import Scenario, simulate\n"
        "simulate(Scenario.preset('baseline').with_overrides({'firms.n': 30}), steps=2, rng=1)\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('clusterlearn.report', "
        "'matplotlib', 'jinja2')))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
