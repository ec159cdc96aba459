"""Devices: where a tensor's array lives, and which array module (NumPy or CuPy) computes on it.

This package is the only place that imports CuPy. A Tensor's device is derived from its array, so it
can never disagree with where the data actually is.
"""

from __future__ import annotations

import numpy as np

_cupy = None          # the cupy module once imported successfully
_cupy_error = None    # why importing it failed, reported when a user asks for CUDA
cuda_used = False     # set when the first CUDA device is created: device checks are skipped until then


def _load_cupy():
    global _cupy, _cupy_error
    if _cupy is None and _cupy_error is None:
        try:
            import cupy
            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception as exc:  # ImportError, or CUDA present but unusable
            _cupy_error = exc
    return _cupy


def cuda_available() -> bool:
    """True when CuPy imports and at least one CUDA device is visible."""
    cp = _load_cupy()
    return cp is not None and cp.cuda.runtime.getDeviceCount() > 0


def cuda_device_count() -> int:
    return _load_cupy().cuda.runtime.getDeviceCount() if cuda_available() else 0


class Device:
    """A compute device: ``kind`` is 'cpu' or 'cuda'; ``index`` selects among CUDA devices.

    ``xp`` is the array module for the device: ``numpy`` for CPU, ``cupy`` for CUDA.
    Compare with ``==`` against another Device or a string such as ``"cuda:0"``.
    """

    __slots__ = ("type", "index", "xp")

    def __init__(self, kind: str, index: int | None = None):
        global cuda_used
        if kind == "cpu":
            self.type, self.index, self.xp = "cpu", None, np
        elif kind in ("cuda", "gpu"):
            cp = _load_cupy()
            if cp is None:
                raise RuntimeError(
                    "CUDA device requested but CuPy is not usable "
                    f"({_cupy_error!r}); install the extra: pip install 'ember[cuda]'")
            count = cp.cuda.runtime.getDeviceCount()
            index = 0 if index is None else int(index)
            if not 0 <= index < count:
                raise RuntimeError(f"CUDA device index {index} out of range: {count} device(s) visible")
            self.type, self.index, self.xp = "cuda", index, cp
            cuda_used = True
        else:
            raise ValueError(f"unknown device kind {kind!r}; expected 'cpu' or 'cuda[:index]'")

    @property
    def kind(self) -> str:
        return self.type

    def __eq__(self, other):
        if isinstance(other, str):
            other = get_device(other)
        return isinstance(other, Device) and self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __enter__(self):
        if self.type == "cuda":
            self._ctx = self.xp.cuda.Device(self.index)
            self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        if self.type == "cuda":
            self._ctx.__exit__(*exc)


CPU = Device("cpu")
_cache: dict = {"cpu": CPU, None: CPU}


def get_device(spec=None) -> Device:
    """Turn ``None``, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a Device into a Device."""
    if isinstance(spec, Device):
        return spec
    dev = _cache.get(spec)
    if dev is not None:
        return dev
    if isinstance(spec, int):
        text = f"cuda:{spec}"
    elif isinstance(spec, str):
        text = spec.strip().lower()
    else:
        raise TypeError(f"expected a device string like 'cpu' or 'cuda:0', got {type(spec).__name__}")
    kind, _, index = text.partition(":")
    dev = Device(kind, int(index) if index else None)
    _cache[spec] = dev
    return dev


def device_of(array) -> Device:
    """The Device holding ``array`` (NumPy arrays are on the CPU)."""
    if type(array) is np.ndarray or _cupy is None:
        return CPU
    if isinstance(array, _cupy.ndarray):
        return get_device(f"cuda:{array.device.id}")
    return CPU


def array_module(array):
    """numpy or cupy, whichever owns ``array``."""
    if type(array) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(array)


def to_device(array, device: Device):
    """Copy ``array`` to ``device`` (returned unchanged when already there)."""
    if device_of(array) == device:
        return array
    if device.type == "cpu":
        return _cupy.asnumpy(array)
    with device:
        return device.xp.asarray(array)


def to_numpy(array) -> np.ndarray:
    return array if type(array) is np.ndarray else (_cupy.asnumpy(array) if _cupy is not None and isinstance(array, _cupy.ndarray) else np.asarray(array))
