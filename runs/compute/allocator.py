"""The C allocator of a process that computes models: freed memory is kept for the next batch.

Every ``compute`` call allocates its working arrays (state, diagnostics, dynamo outputs; megabytes for a
unit) and frees them when the unit is written. glibc's malloc returns such memory to the kernel, by
munmap for blocks above its mmap threshold and by trimming the heap's top above its trim threshold, so
the next unit faults every page in again (zero-filled by the kernel). Measured on the backend
benchmark's sweep (10,000 full-history models at 0.05 Ga in units of 256, one process, issue 13): 0.21-0.28 s
of system time in 1.4 s, all page faults; with the two thresholds below, 0.01 s, and 6,900-7,160 ->
8,155-9,067 models/s (same bytes).

``keep_freed_memory`` sets M_MMAP_THRESHOLD to 32 MiB (glibc's largest on 64 bits: blocks below it come
from the heap) and M_TRIM_THRESHOLD to 1 GiB (the heap's free top is kept up to that). The cost: a
process's resident memory stays at its peak instead of shrinking between units. It is called by
``pipeline.compute``, so every backend, worker and rank gets it, and the bare-pipeline references of
the benchmarks too. Hand-written (ctypes' mallopt), because no library wraps mallopt; a no-op where the
C library is not glibc.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1        # glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 << 20
TRIM_THRESHOLD_BYTES = 1 << 30

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Apply the thresholds once per process; True when glibc accepted them (False elsewhere)."""
    global _applied
    if _applied is None:
        _applied = False
        if sys.platform.startswith("linux"):
            try:
                mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
            except (OSError, AttributeError):       # not glibc (musl has no mallopt): nothing to tune
                return False
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            _applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and \
                bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    return _applied
