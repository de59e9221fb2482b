"""Bad invocations and bad files: each gives one clear message and exit code 2, no traceback;
an internal error gives exit code 1 and its traceback in a log file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from clusterlearn import Scenario, simulate
from clusterlearn.cli import ERROR_LOG, main

EXE = Path(sys.executable).parent / "clusterlearn"
TINY = ["--set", "firms.n=20", "--steps", "1", "--seed", "1", "--no-report", "-q"]


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A small saved result."""
    sc = Scenario.preset("baseline").with_overrides({"firms.n": 20, "steps": 1})
    return simulate(sc, rng=1).save(tmp_path / "saved-result")


def _write(name: str, text: str) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        (d / name).write_text(text, encoding="utf-8")

    return make


def _not_result(d: Path) -> None:
    (d / "out").mkdir()
    (d / "out" / "notes.txt").write_text("mine", encoding="utf-8")


def _a_file(d: Path) -> None:
    (d / "out").write_text("", encoding="utf-8")


def _nothing(d: Path) -> None:
    pass


# (id, set-up, arguments, text the message must contain)
CASES: list[tuple[str, Callable[[Path], None], list[str], str]] = [
    ("no scenario", _nothing, ["run", "--out", "out"], "no scenario"),
    (
        "file and preset",
        _write("s.toml", "steps = 1\n"),
        ["run", "s.toml", "--preset", "baseline", "--out", "out"],
        "not both",
    ),
    (
        "unknown preset",
        _nothing,
        ["run", "--preset", "basline", "--out", "out"],
        "did you mean 'baseline'",
    ),
    (
        "missing file",
        _nothing,
        ["run", "nowhere.toml", "--out", "out"],
        "nowhere.toml: no such file",
    ),
    (
        "folder as scenario",
        lambda d: (d / "sc").mkdir(),
        ["run", "sc", "--out", "out"],
        "is a folder",
    ),
    (
        "broken toml",
        _write("b.toml", "[firms\nn = 3\n"),
        ["run", "b.toml", "--out", "out"],
        "b.toml: not valid TOML",
    ),
    ("empty toml", _write("e.toml", "  \n"), ["validate", "e.toml"], "the file is empty"),
    (
        "unknown key in file",
        _write("k.toml", "[firms]\nnn = 3\n"),
        ["validate", "k.toml"],
        "firms.nn: unknown key; did you mean 'firms.n'?",
    ),
    (
        "out of range in file",
        _write("r.toml", "[trust]\ntrust0 = 1.5\n"),
        ["validate", "r.toml"],
        "trust.trust0: expected a number in [0.0, 1.0], got 1.5",
    ),
    (
        "wrong type in file",
        _write("t.toml", 'steps = "many"\n'),
        ["validate", "t.toml"],
        "steps: expected a whole number, got 'many'",
    ),
    (
        "unknown section",
        _write("u.toml", "[firmz]\nn = 3\n"),
        ["validate", "u.toml"],
        "firmz: unknown key; did you mean 'firms'?",
    ),
    (
        "missing input file",
        _write("a.toml", 'steps = 2\n[firms]\nattributes = "gone.csv"\n'),
        ["validate", "a.toml"],
        "firms.attributes: file not found",
    ),
    (
        "set without value",
        _nothing,
        ["run", "--preset", "baseline", "--set", "firms.n", "--out", "out"],
        "expected KEY=VALUE",
    ),
    (
        "set unknown key",
        _nothing,
        ["run", "--preset", "baseline", "--set", "firms.size=3", "--out", "out"],
        "--set: firms.size: unknown key",
    ),
    (
        "set bad value",
        _nothing,
        ["run", "--preset", "baseline", "--set", "firms.n=many", "--out", "out"],
        "firms.n: expected a whole number, got 'many'",
    ),
    (
        "set out of range",
        _nothing,
        ["run", "--preset", "baseline", "--set", "environment.openness=2", "--out", "out"],
        "environment.openness: expected a number in [0.0, 1.0], got 2",
    ),
    (
        "set into a value",
        _nothing,
        ["run", "--preset", "baseline", "--set", "steps.x=2", "--out", "out"],
        "'steps' is a value, not a section",
    ),
    (
        "out exists, not a result",
        _not_result,
        ["run", "--preset", "baseline", *TINY, "--out", "out"],
        "exists and is not a clusterlearn result",
    ),
    (
        "out is a file",
        _a_file,
        ["run", "--preset", "baseline", *TINY, "--out", "out"],
        "is a file, expected a folder",
    ),
    (
        "out under a file",
        _a_file,
        ["run", "--preset", "baseline", *TINY, "--out", "out/sub"],
        "cannot write there",
    ),
    ("missing --out", _nothing, ["run", "--preset", "baseline"], "Missing option '--out'"),
    (
        "negative steps",
        _nothing,
        ["run", "--preset", "baseline", "--steps", "-1", "--out", "o"],
        "--steps",
    ),
    (
        "negative seed",
        _nothing,
        ["run", "--preset", "baseline", "--seed", "-5", "--out", "o"],
        "--seed",
    ),
    (
        "unknown option",
        _nothing,
        ["run", "--preset", "baseline", "--color", "--out", "o"],
        "No such option: --color",
    ),
    ("unknown command", _nothing, ["runn"], "No such command 'runn'"),
    ("report of nothing", _nothing, ["report", "nowhere"], "nowhere: no such folder"),
    ("report of a non-result", _not_result, ["report", "out"], "not a clusterlearn result"),
    ("odd into a folder", lambda d: (d / "o").mkdir(), ["odd", "--out", "o"], "is a folder"),
    (
        "odd check of nothing",
        _nothing,
        ["odd", "--check", "none.md"],
        "--check none.md: no such file",
    ),
    (
        "odd check finds gaps",
        _write("mine.md", "C1 informal\n"),
        ["odd", "--check", "mine.md"],
        "mine.md does not mention",
    ),
]


def _flat(text: str) -> str:
    # Rich wraps usage errors in a box; compare with line breaks and borders taken out.
    return " ".join(text.replace("│", " ").split())


@pytest.mark.parametrize(
    ("setup", "args", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_exits_2_with_message(
    tmp_path: Path,
    setup: Callable[[Path], None],
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In-process through main(), the function the console script calls (fast); the cases
    # below repeat a sample through the installed entry point.
    setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["clusterlearn", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    captured = capsys.readouterr()
    assert exc.value.code == 2, (captured.out, captured.err)
    assert message in _flat(captured.err), captured.err
    assert "Traceback" not in captured.err + captured.out


ENTRY_POINT_SAMPLE = [
    "broken toml",
    "set unknown key",
    "out exists, not a result",
    "unknown option",
    "missing input file",
]


@pytest.mark.parametrize("case", ENTRY_POINT_SAMPLE)
def test_bad_input_through_entry_point(tmp_path: Path, case: str) -> None:
    _, setup, args, message = next(c for c in CASES if c[0] == case)
    setup(tmp_path)
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in _flat(proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_existing_result_is_kept_without_force(saved: Path) -> None:
    before = (saved / "manifest.json").read_bytes()
    proc = cli("run", "--preset", "baseline", *TINY, "--out", saved, cwd=saved.parent)
    assert proc.returncode == 2
    assert "already holds a clusterlearn result" in proc.stderr and "--force" in proc.stderr
    assert (saved / "manifest.json").read_bytes() == before


def test_no_write_permission(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes through file modes; sysfs refuses new entries even to root.
        target = Path("/sys/clusterlearn-test-out")
        try:
            target.mkdir()
        except OSError:
            pass
        else:
            target.rmdir()
            pytest.skip("no location that refuses writes to root")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "out"
    proc = cli("run", "--preset", "baseline", *TINY, "--out", target, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "cannot write there" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_damaged_result_is_a_user_error(saved: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "damaged"
    shutil.copytree(saved, copy)
    (copy / "metrics.parquet").write_bytes(b"not parquet")
    proc = cli("report", copy, cwd=tmp_path)
    assert proc.returncode == 2
    assert "cannot read the saved result" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_internal_error_exits_1_and_logs_traceback(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    import clusterlearn.report

    target = tmp_path / "res"
    shutil.copytree(saved, target)

    def broken(*args: object, **kwargs: object) -> Path:
        raise RuntimeError("figure machinery exploded")

    # Inject a fault where a bug would be: the report builder itself.
    monkeypatch.setattr(clusterlearn.report, "build_report", broken)
    monkeypatch.setattr(sys, "argv", ["clusterlearn", "report", str(target)])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 1
    err = capsys.readouterr().err
    log = target / ERROR_LOG
    assert "internal error: RuntimeError: figure machinery exploded" in err
    assert str(log) in err
    assert "Traceback" not in err
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "figure machinery exploded" in text
