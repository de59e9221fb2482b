"""End-to-end tests of the ``clusterlearn`` command through the installed entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from clusterlearn import Result, Scenario, simulate
from clusterlearn.cli import main
from clusterlearn.model.channels import REGISTRY
from clusterlearn.report import FIGURES
from clusterlearn.scenario import presets

EXE = Path(sys.executable).parent / "clusterlearn"
SMALL = ["--preset", "baseline", "--set", "firms.n=40", "--steps", "6"]


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_entry_point_installed() -> None:
    assert EXE.exists(), f"console script missing at {EXE}"


def test_run_saves_result_report_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = cli("run", *SMALL, "--seed", "11", "--out", out)
    assert proc.returncode == 0, proc.stderr
    result = Result.load(out)
    assert result.seed == 11
    assert not result.partial
    assert result.scenario.firms.n == 40 and result.scenario.steps == 6
    assert list(result.metrics["step"]) == list(range(7))
    # The summary table: final capability, catch-up, flows by channel, where the report is.
    stdout = proc.stdout
    assert "mean capability" in stdout and "catch-up index" in stdout
    for cls in REGISTRY.values():
        assert re.search(rf"\b{cls.code}\b.*{cls.name}", stdout), cls.code
    assert f"report: {out / 'report.html'}" in stdout
    end = result.metrics["mean_capability"].iloc[-1]
    assert f"{end:.3f}" in stdout
    # Progress went to stderr, ending at the last step.
    assert "step 6/6" in proc.stderr
    # The run's scenario is saved as TOML and reproduces the run's scenario.
    assert Scenario.from_toml(out / "scenario.toml") == result.scenario
    for spec in FIGURES:
        assert (out / "figures" / f"{spec.name}.png").stat().st_size > 0
        assert (out / "figures" / f"{spec.name}.svg").stat().st_size > 0


def test_fresh_seed_is_printed_and_replays(tmp_path: Path) -> None:
    fresh = cli("run", *SMALL, "--out", tmp_path / "fresh", "--no-report", "--quiet")
    assert fresh.returncode == 0, fresh.stderr
    m = re.search(r"replay with --seed (\d+)", fresh.stdout)
    assert m, fresh.stdout
    seed = int(m.group(1))
    assert Result.load(tmp_path / "fresh").seed == seed
    manifest = json.loads((tmp_path / "fresh" / "manifest.json").read_text())
    assert manifest["seed"]["entropy"] == str(seed)
    replay = cli(
        "run", *SMALL, "--seed", str(seed), "--out", tmp_path / "replay", "--no-report", "-q"
    )
    assert replay.returncode == 0, replay.stderr
    pd.testing.assert_frame_equal(
        Result.load(tmp_path / "fresh").metrics, Result.load(tmp_path / "replay").metrics
    )
    pd.testing.assert_frame_equal(
        Result.load(tmp_path / "fresh").flows, Result.load(tmp_path / "replay").flows
    )


def test_set_values_are_parsed_as_toml(tmp_path: Path) -> None:
    proc = cli(
        "run",
        "--preset",
        "baseline",
        "--steps",
        "2",
        "--seed",
        "1",
        "--no-report",
        "-q",
        "--set",
        "firms.n=33",
        "--set",
        "environment.openness=0.9",
        "--set",
        "innovation.enabled=false",
        "--set",
        "name=set test",
        "--out",
        tmp_path / "r",
    )
    assert proc.returncode == 0, proc.stderr
    r = Result.load(tmp_path / "r")
    assert r.metrics["population"].iloc[0] == 33
    assert r.scenario.environment.openness == 0.9
    assert r.scenario.innovation.enabled is False
    assert r.scenario.name == "set test"
    assert r.metrics["innovations"].sum() == 0


def test_scenario_file_and_force(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    Scenario.preset("baseline").with_overrides({"firms.n": 30, "steps": 3, "name": "mine"}).to_toml(
        path
    )
    out = tmp_path / "r"
    first = cli("run", path, "--seed", "2", "--out", out, "--no-report", "-q")
    assert first.returncode == 0, first.stderr
    assert Result.load(out).scenario.name == "mine"
    # An existing result is never replaced without --force ...
    refused = cli("run", path, "--seed", "3", "--out", out, "--no-report", "-q")
    assert refused.returncode == 2
    assert "--force" in refused.stderr
    assert Result.load(out).seed == 2
    # ... and is replaced with it, leftovers of the old run included.
    (out / "panel.parquet").write_bytes(b"stale")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["tables"].append("panel")
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "report.html").write_text("old report", encoding="utf-8")
    forced = cli(
        "run", path, "--seed", "3", "--steps", "2", "--out", out, "-q", "--force", "--no-report"
    )
    assert forced.returncode == 0, forced.stderr
    r = Result.load(out)
    assert r.seed == 3 and len(r.metrics) == 3 and r.panel is None
    assert not (out / "panel.parquet").exists()
    assert not (out / "report.html").exists()


def test_report_rebuilds(tmp_path: Path) -> None:
    out = tmp_path / "saved"
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 30, "steps": 4})
    simulate(sc, rng=2).save(out)
    target = tmp_path / "elsewhere"
    proc = cli("report", out, "--out", target)
    assert proc.returncode == 0, proc.stderr
    html = (target / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(FIGURES)
    assert str(target / "report.html") in proc.stdout


def test_validate_ok_and_presets() -> None:
    proc = cli("validate", Path(__file__).parents[1] / "scenarios" / "baseline.toml")
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout and "baseline" in proc.stdout
    listing = cli("presets")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    for name in presets():
        assert any(line.startswith(name + " ") for line in lines), name


def test_validate_reports_every_problem_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[firms]\nn = -3\ndomian = 5\n[trust]\ntrust0 = "high"\n', encoding="utf-8")
    proc = cli("validate", bad)
    assert proc.returncode == 2
    assert "3 problems" in proc.stderr
    for text in ("firms.n", "did you mean 'firms.domains'", "trust.trust0"):
        assert text in proc.stderr
    assert "Traceback" not in proc.stderr


def test_odd_lists_every_channel_and_parameter(tmp_path: Path) -> None:
    out = tmp_path / "ODD.md"
    proc = cli("odd", "--preset", "baseline", "--out", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    for cls in REGISTRY.values():
        assert f"#### {cls.code} {cls.name}" in text
    for key in Scenario().flat():
        assert f"`{key}`" in text, key


def test_odd_prints_without_out(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from clusterlearn.report import odd_markdown

    monkeypatch.setattr(sys, "argv", ["clusterlearn", "odd"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 0
    assert capsys.readouterr().out == odd_markdown()


@pytest.mark.parametrize("command", ["run", "validate", "presets", "report", "odd"])
def test_every_command_has_help_with_examples(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["clusterlearn", command, "--help"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "Usage" in out and "Example" in out and f"clusterlearn {command}" in out
