"""Small helpers shared by the op families: argument normalization and input checks."""

from __future__ import annotations

import numpy as np

from .. import _config, _dtype
from ..autograd.function import op_error
from ..autograd.tensor import Tensor
from ..backend.device import CPU


def normalize_dim(dim: int, ndim: int, op: str = "op") -> int:
    """Map a possibly negative ``dim`` into ``range(ndim)`` (0-d tensors accept 0 and -1)."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def normalize_dims(dim, ndim: int, op: str = "op"):
    """``None``, ``()`` or any dim of a 0-d tensor -> None (all dims); int or sequence -> sorted tuple of
    non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        normalize_dim(int(dim), ndim, op)
        return None if ndim == 0 else (normalize_dim(int(dim), ndim, op),)
    dims = tuple(sorted(normalize_dim(int(d), ndim, op) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    # PyTorch: an empty dim list reduces over every dim; a 0-d tensor's dim 0 / -1 is the tensor itself.
    return dims if dims and ndim else None


def as_tensor_like(value, ref: Tensor) -> Tensor:
    """Wrap a NumPy array or nested list as a Tensor on ``ref``'s device (Tensors pass through)."""
    if isinstance(value, Tensor):
        return value
    from .creation import tensor
    return tensor(value, device=ref.device if ref.device != CPU else None)


def to_python_scalar(value):
    """NumPy scalars become Python numbers so that NumPy 2's weak-scalar rules apply (no float64 leaks)."""
    return value.item() if isinstance(value, np.generic) else value


def check_same_shape(op: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise op_error(op, f"input and target shapes must match, got input {tuple(a.shape)} and "
                           f"target {tuple(b.shape)}", a, b)


def check_floating(op: str, *tensors: Tensor) -> None:
    for t in tensors:
        if t._data.dtype.kind != "f":
            raise op_error(op, f"expected a floating-point tensor, got dtype {t.dtype}", t)


def default_float() -> np.dtype:
    return _config.default_dtype.get()


def promote_args(a, b):
    """PyTorch type promotion for a binary op; returns (a, b) cast as needed (Tensors or scalars)."""
    from .elementwise import cast
    a, b = to_python_scalar(a), to_python_scalar(b)
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            return a, b
        dt = _dtype.result_type(a, b)
        return (a if da == dt else cast(a, dt)), (b if db == dt else cast(b, dt))
    t, s = (a, b) if ta else (b, a)
    if not isinstance(s, (int, float, bool)):
        raise TypeError(f"unsupported operand type {type(s).__name__} for a Tensor operation")
    if t._data.dtype.kind != "f":
        # int tensor with a float scalar -> default float; bool tensor with an int scalar -> int64
        # (NumPy would pick int8 for some ufuncs, e.g. bool ** 2).
        dt = _dtype.result_type(t, s)
        if dt != t._data.dtype:
            t = cast(t, dt)
    return (t, s) if ta else (s, t)
