"""Tensor factories: ``tensor``, ``zeros``, ``arange``, ``eye``... They make leaf tensors (no graph).

Every factory takes ``dtype=``, ``device=`` and ``requires_grad=`` like PyTorch's. Floating-point
results use the default dtype (``ember.set_default_dtype``) unless ``dtype`` is given; Python ints
give int64 and bools give bool.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _config, _dtype
from ..autograd.tensor import Tensor
from ..backend import device as _device
from ..backend.device import get_device


def _finish(arr, requires_grad: bool) -> Tensor:
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _infer_dtype(data) -> np.dtype:
    """PyTorch's inference for Python data: bools -> bool, ints -> int64, floats -> default dtype."""
    kinds = set()

    def walk(x):
        if isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, Tensor):
            kinds.add(x._data.dtype.kind)
        elif isinstance(x, bool) or isinstance(x, np.bool_):
            kinds.add("b")
        elif isinstance(x, numbers.Integral):
            kinds.add("i")
        elif isinstance(x, numbers.Real):
            kinds.add("f")
        else:
            raise TypeError(f"can't build a tensor from an element of type {type(x).__name__}")

    walk(data)
    if "f" in kinds:
        return _config.default_dtype.get()
    if "i" in kinds or "u" in kinds:
        return _dtype.INT64
    if "b" in kinds:
        return _dtype.BOOL
    return _config.default_dtype.get()  # empty list


def _to_array(data, dtype, device):
    """Build an array on ``device`` from Python data, a NumPy/CuPy array or a Tensor (always a copy
    for Python data; arrays of the right dtype/device are used as-is)."""
    dtype = _dtype.as_dtype(dtype)
    dev = get_device(device) if device is not None else None
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        arr = data
        if dtype is None and arr.dtype not in _dtype.SUPPORTED:
            arr = arr.astype(_coerce_numpy_dtype(arr.dtype))
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
        if dtype is None and arr.dtype not in _dtype.SUPPORTED:
            arr = arr.astype(_coerce_numpy_dtype(arr.dtype))
    else:
        inferred = _infer_dtype(data) if dtype is None else dtype
        if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in _flat(data)):
            data = _nested_tensors_to_numpy(data)
        arr = np.asarray(data, dtype=inferred)
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    if dev is not None:
        arr = _device.to_device(arr, dev)
    return arr


def _coerce_numpy_dtype(dt: np.dtype) -> np.dtype:
    kind = dt.kind
    if kind == "f":
        return _dtype.FLOAT64
    if kind in "iu":
        return _dtype.INT64
    raise TypeError(f"can't convert an array of dtype {dt} to a tensor; supported: float, int, uint8, bool")


def _flat(data):
    for v in data:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _nested_tensors_to_numpy(data):
    if isinstance(data, (list, tuple)):
        return [_nested_tensors_to_numpy(v) for v in data]
    return _device.to_numpy(data._data) if isinstance(data, Tensor) else data


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors)."""
    arr = _to_array(data, dtype, device)
    if isinstance(data, (np.ndarray, Tensor, np.generic)) or hasattr(data, "__cuda_array_interface__"):
        if arr is (data._data if isinstance(data, Tensor) else data):
            arr = arr.copy()
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when dtype and device allow."""
    if isinstance(data, Tensor):
        if (dtype is None or data.dtype == _dtype.as_dtype(dtype)) and (device is None or data.device == get_device(device)):
            return data
        return data.to(device=device, dtype=dtype)
    return _finish(_to_array(data, dtype, device), False)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (writes to one are seen by the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if array.dtype not in _dtype.SUPPORTED:
        raise TypeError(f"can't convert np.ndarray of type {array.dtype}; supported: "
                        f"{[d.name for d in _dtype.SUPPORTED]}")
    return Tensor._make(array)


def from_dlpack(ext) -> Tensor:
    """A tensor sharing memory with any object implementing ``__dlpack__`` (NumPy, CuPy, PyTorch...)."""
    if isinstance(ext, Tensor):
        return ext
    dev_type, dev_id = ext.__dlpack_device__()
    if int(dev_type) == 1:  # kDLCPU
        return Tensor._make(np.from_dlpack(ext))
    return Tensor._make(get_device(f"cuda:{dev_id}").xp.from_dlpack(ext))


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _float_or(dtype):
    return _dtype.as_dtype(dtype) or _config.default_dtype.get()


def _xp(device):
    return get_device(device).xp


def _make_filled(xp_fn, size, dtype, device, requires_grad):
    dev = get_device(device)
    with dev:
        arr = xp_fn(dev.xp)(_size(size), dtype=_float_or(dtype))
    return _finish(arr, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make_filled(lambda xp: xp.zeros, size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make_filled(lambda xp: xp.ones, size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make_filled(lambda xp: xp.empty, size, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = _dtype.default_for_category(_dtype.scalar_category(fill_value))
    dev = get_device(device)
    with dev:
        arr = dev.xp.full(_size((size,)), fill_value, dtype=_dtype.as_dtype(dtype))
    return _finish(arr, requires_grad)


def _like(t: Tensor, dtype, device):
    return (_dtype.as_dtype(dtype) or t.dtype), (device if device is not None else t.device)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    d, dev = _like(t, dtype, device)
    return zeros(t.shape, dtype=d, device=dev, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    d, dev = _like(t, dtype, device)
    return ones(t.shape, dtype=d, device=dev, requires_grad=requires_grad)


def empty_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    d, dev = _like(t, dtype, device)
    return empty(t.shape, dtype=d, device=dev, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    d, dev = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=d, device=dev, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values in [start, end) spaced by ``step``; int64 when all arguments are integers."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = _dtype.INT64 if is_int else _config.default_dtype.get()
    dtype = _dtype.as_dtype(dtype)
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound ({end}) and lower bound ({start}) inconsistent with step "
                           f"sign ({step})")
    dev = get_device(device)
    with dev:
        if dtype.kind == "f":
            # Values computed in float64 then rounded once (as PyTorch): a float32 accumulation drifts.
            arr = dev.xp.arange(start, end, step, dtype=np.float64).astype(dtype)
        else:
            arr = dev.xp.arange(start, end, step, dtype=dtype)
    return _finish(arr, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dev = get_device(device)
    with dev:
        arr = dev.xp.linspace(start, end, int(steps), dtype=np.float64).astype(_float_or(dtype))
    return _finish(arr, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    dev = get_device(device)
    with dev:
        arr = dev.xp.logspace(start, end, int(steps), base=base, dtype=np.float64).astype(_float_or(dtype))
    return _finish(arr, requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dev = get_device(device)
    with dev:
        arr = dev.xp.eye(int(n), None if m is None else int(m), dtype=_float_or(dtype))
    return _finish(arr, requires_grad)
