"""glibc malloc tuning at import (backend.malloc): freed arrays are reused without new page faults."""

import ctypes.util
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or "musl" in (ctypes.util.find_library("c") or ""),
                                reason="glibc tuning is Linux/glibc-only")

# Allocate, touch and free a 24 MiB array twice; print whether tuning is on and the page faults of
# the second round (glibc's default thresholds give the memory back to the OS after the first).
_PROBE = """
import resource, numpy as np, ember
from ember.backend import malloc
def touch():
    a = np.empty(24 << 20, np.uint8)
    a[::4096] = 1
    del a
touch()
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
touch()
print(malloc.applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
"""


def _probe(**env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | env
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    applied, faults = out.stdout.split()
    return applied == "True", int(faults)


def test_freed_memory_is_reused_without_page_faults():
    applied, faults = _probe()
    assert applied and faults <= 2


def test_the_user_can_opt_out_and_their_own_settings_win():
    applied, faults = _probe(EMBER_MALLOC_TUNING="0")
    assert not applied and faults >= 10        # the untuned default: the pages come back from the OS
    assert _probe(MALLOC_TRIM_THRESHOLD_="131072")[0] is False
