"""Weights files for the training loop: safetensors with JSON metadata, written atomically.

``save_state(path, arrays, metadata)`` writes a dict of NumPy arrays (plus JSON metadata) through
``ember.io``'s atomic write (temporary file, fsync, rename): a crash mid-save never destroys the
previous file. No pickle: loading a file can never run code.
"""

from __future__ import annotations

import json
import os

import numpy as np

from ..io.atomic import atomic_write_bytes
from .metrics import as_numpy

__all__ = ["atomic_write_bytes", "save_state", "load_state", "read_metadata", "state_to_numpy"]


def state_to_numpy(state: dict) -> dict:
    """A ``state_dict`` as contiguous NumPy arrays (copied off the device)."""
    out = {}
    for k, v in state.items():
        a = np.asarray(as_numpy(v))
        out[k] = a if a.flags.c_contiguous else np.ascontiguousarray(a)   # (ascontiguousarray makes 0-d 1-d)
    return out


def save_state(path: str, arrays: dict, metadata: dict | None = None) -> None:
    """Write ``arrays`` (name -> array/Tensor) and ``metadata`` (name -> JSON-able) as safetensors."""
    from safetensors.numpy import save
    meta = {k: json.dumps(v) for k, v in (metadata or {}).items()}
    atomic_write_bytes(path, save(state_to_numpy(arrays), metadata=meta or None))


def load_state(path: str) -> dict:
    """The arrays of a safetensors file, by name."""
    from safetensors.numpy import load_file
    return load_file(os.fspath(path))


def read_metadata(path: str) -> dict:
    """The JSON metadata written by ``save_state``."""
    from safetensors import safe_open
    with safe_open(os.fspath(path), framework="np") as f:
        meta = f.metadata() or {}
    return {k: json.loads(v) for k, v in meta.items()}
