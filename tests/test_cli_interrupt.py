"""Ctrl-C (SIGINT) during ``clusterlearn run`` keeps what was computed: a loadable partial
result, marked partial, with its report."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from clusterlearn import Result

EXE = Path(sys.executable).parent / "clusterlearn"


def test_sigint_leaves_loadable_partial_result(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # A horizon far longer than the test waits, so the run is surely still going.
    proc = subprocess.Popen(
        [
            str(EXE),
            "run",
            "--preset",
            "baseline",
            "--set",
            "firms.n=200",
            "--steps",
            "1000000",
            "--seed",
            "9",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        # The first progress line means the simulation is stepping (skip any warnings).
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if line.startswith("step 1/1000000"):
                break
        else:
            raise AssertionError(f"the run ended before stepping: {''.join(seen)}")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "partial result is saved" in stderr
    assert "Traceback" not in stderr
    result = Result.load(out)
    assert result.partial
    assert result.seed == 9
    done = int(result.meta["steps_done"])
    assert 1 <= done < 1_000_000
    assert list(result.metrics["step"]) == list(range(done + 1))
    assert len(result.flows) == done + 1
    assert len(result.firms) == result.metrics["population"].iloc[-1]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="partial"' in html
    assert f"steps run: {done} of 1000000" in stdout
