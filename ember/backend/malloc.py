"""glibc malloc tuning for array workloads, applied once when Ember is imported.

A training step allocates and frees the same large arrays (activations, gradients, im2col columns)
every step. glibc serves allocations above its mmap threshold with fresh ``mmap`` pages and returns
heap memory above its trim threshold to the OS, so those arrays are page-faulted in again on every
step. glibc raises both thresholds by itself after the first large free, but not reliably: measured
on the LeNet benchmark step, 850-2400 page faults and 3-7 ms of system time per 10 ms step, and
none with the thresholds below. They are the values glibc's own heuristic ends at (mmap threshold
at its 32 MiB maximum, trim threshold twice that), set from the start.

Skipped when not on glibc, when the user set ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_``,
or with ``EMBER_MALLOC_TUNING=0``.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20

applied = False


def tune() -> bool:
    """Set the thresholds (once); returns whether they are in effect."""
    global applied
    if applied:
        return True
    if (not sys.platform.startswith("linux") or os.environ.get("EMBER_MALLOC_TUNING", "1") == "0"
            or "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ):
        return False
    try:   # the process's own symbols: libc is loaded already (find_library would spawn ldconfig: ~17 ms)
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):   # not glibc (e.g. musl has no mallopt)
        return False
    applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return applied
