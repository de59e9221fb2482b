"""How a run asks the C allocator to keep its big arrays' memory for reuse.

A step allocates and frees many temporary ``firms x domains`` arrays. glibc's ``malloc`` maps
blocks above 32 MB afresh from the operating system and unmaps them when freed, so at a million
firms every such temporary page-faults its way in again: 5.5 ms to allocate and fill 48 MB,
2.2 ms when the memory is reused (measured on the benchmark machine). Raising the allocator's
mmap threshold and its trim threshold keeps freed blocks in the heap, where the next step finds
them: a full step at 1,000,000 firms took 5-12% less time (docs/benchmarks.md).

Smaller runs suffer the other way: glibc adapts its thresholds to the blocks it has freed,
so from one step to the next the 480 kB arrays of a 10,000-firm run were served now from the
heap, now from fresh mappings, and the heap's top was returned to the system and faulted in
again. Steps of the reduced model at 10,000 firms flipped between 1.65 and 2.35 ms for whole
runs at a time; with the thresholds fixed every step took 1.65 ms.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: ``mallopt`` parameters (glibc's ``malloc.h``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Blocks up to this size come from the heap; up to this much free memory stays in it.
MMAP_THRESHOLD = 1 << 30
TRIM_THRESHOLD = 1 << 30

#: A run keeps freed memory when its ``firms x domains`` arrays are at least this large:
#: glibc's initial mmap threshold, below which blocks always come from the heap (a run of
#: 1,000 firms stepped as fast either way).
LARGE_ARRAY_BYTES = 128 << 10

_ALLOCATOR_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")
_done = False


def keep_freed_memory() -> bool:
    """Ask glibc to serve large blocks from the heap and keep freed memory for reuse.

    Process-wide and idempotent. Does nothing (and returns False) off Linux, with another C
    library, when the user set the allocator's own variables (``MALLOC_MMAP_THRESHOLD_``,
    ``MALLOC_TRIM_THRESHOLD_``, ``GLIBC_TUNABLES``), or when ``CLUSTERLEARN_MALLOC=default``.
    The price: memory freed by a run is kept by the process (up to 1 GiB) for the next one.
    """
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("CLUSTERLEARN_MALLOC") == "default":
        return False
    if any(
        v in os.environ
        for v in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")
    ):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    _done = bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return _done


def for_run(firms: int, domains: int) -> bool:
    """:func:`keep_freed_memory` when a run of this size allocates large arrays."""
    if firms * max(domains, 1) * 8 >= LARGE_ARRAY_BYTES:
        return keep_freed_memory()
    return False
