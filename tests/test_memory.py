"""A run with large arrays asks glibc's malloc to keep them in the heap (clusterlearn.model.memory).

The setting is process-wide, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from clusterlearn.model import memory

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only"
)

# Bytes glibc holds in mmapped blocks while a 48 MB numpy array is alive (mallinfo2.hblkhd).
PROBE = """
import ctypes, sys
import numpy as np
from clusterlearn.model import memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
applied = memory.for_run(int(sys.argv[1]), 6)
a = np.ones((1_000_000, 6))
print(applied, libc.mallinfo2().hblkhd >= a.nbytes)
"""


def probe(firms: int, **env: str) -> str:
    # Not inherited: Dask's nanny, for one, sets MALLOC_TRIM_THRESHOLD_ in its process.
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in (*memory._ALLOCATOR_VARIABLES, "CLUSTERLEARN_MALLOC")
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(firms)],
        capture_output=True,
        text=True,
        check=True,
        env={**base, **env},
    )
    return out.stdout.strip()


def test_a_million_firm_run_keeps_its_arrays_in_the_heap() -> None:
    # Applied: the 48 MB array comes from the heap, not from a fresh mapping.
    assert probe(1_000_000) == "True False"


def test_a_ten_thousand_firm_run_fixes_the_thresholds_too() -> None:
    # 480 kB arrays: glibc's adaptive thresholds made such steps 40% slower at times.
    assert probe(10_000) == "True False"


def test_small_runs_and_opt_outs_leave_the_allocator_alone() -> None:
    assert probe(1_000) == "False True"
    assert probe(1_000_000, CLUSTERLEARN_MALLOC="default") == "False True"
    assert probe(1_000_000, MALLOC_TRIM_THRESHOLD_="131072") == "False True"


def test_threshold_is_glibcs_initial_mmap_threshold() -> None:
    assert memory.LARGE_ARRAY_BYTES == 128 << 10
    assert not memory.for_run(100, 6)  # 4.8 kB arrays: nothing to do
    assert not memory.for_run(2_730, 6)  # just below 128 kB
