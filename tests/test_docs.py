"""Every user guide's examples run: each ```python block of docs/*.md and README.md (blocks of
one page share a namespace, in order) and each ```bash block (run with bash -e).

Examples run in a scratch folder laid out like a checkout (``scenarios/``, ``experiments/`` and
``../shared`` are linked in), so a page can use the same paths a user types at the repo root.
A block whose first line is ``# no-run`` is shown to users but not executed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
BLOCK = re.compile(r"^```(python|bash)\n(.*?)^```", re.S | re.M)


def _blocks(page: Path) -> list[tuple[str, str]]:
    return [
        (lang, code)
        for lang, code in BLOCK.findall(page.read_text(encoding="utf-8"))
        if not code.startswith("# no-run")
    ]


def _workdir(tmp: Path) -> Path:
    work = tmp / "work"
    work.mkdir()
    for name in ("scenarios", "experiments", "benchmarks"):
        if (ROOT / name).exists():
            (work / name).symlink_to(ROOT / name)
    shared = ROOT.parent / "shared"
    if shared.exists():
        (tmp / "shared").symlink_to(shared)
    return work


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: p.name)
def test_doc_examples_run(page: Path, tmp_path: Path) -> None:
    work = _workdir(tmp_path)
    ns: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    old = Path.cwd()
    os.chdir(work)
    try:
        for k, (lang, code) in enumerate(_blocks(page)):
            where = f"{page.name}[block {k}]"
            if lang == "python":
                exec(compile(code, where, "exec"), ns)
            else:
                proc = subprocess.run(
                    ["bash", "-e", "-c", code],
                    cwd=work,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=900,
                )
                assert proc.returncode == 0, f"{where} failed:\n{proc.stdout}\n{proc.stderr}"
    finally:
        os.chdir(old)
