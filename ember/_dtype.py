"""Ember's dtypes are NumPy dtype objects; this module names them and implements PyTorch's promotion.

PyTorch promotion, which NumPy does not follow exactly:
- categories rank bool < integer < floating; the result takes the highest category present;
- inside that category, dimensioned tensors win over zero-dimensional tensors, which win over Python
  scalars: ``float32 tensor + float64 0-d tensor -> float32``, ``int64 tensor * 2.5 -> float32``
  (the default dtype), ``float16 tensor + 1.0 -> float16``.
"""

import numpy as np

from . import _config

FLOAT16 = np.dtype("float16")
FLOAT32 = np.dtype("float32")
FLOAT64 = np.dtype("float64")
INT8 = np.dtype("int8")
INT16 = np.dtype("int16")
INT32 = np.dtype("int32")
INT64 = np.dtype("int64")
UINT8 = np.dtype("uint8")
BOOL = np.dtype("bool")

SUPPORTED = (FLOAT16, FLOAT32, FLOAT64, INT8, INT16, INT32, INT64, UINT8, BOOL)
ALIASES = {
    "float16": FLOAT16, "half": FLOAT16, "float32": FLOAT32, "float": FLOAT32, "float64": FLOAT64,
    "double": FLOAT64, "int8": INT8, "int16": INT16, "short": INT16, "int32": INT32, "int": INT32,
    "int64": INT64, "long": INT64, "uint8": UINT8, "bool": BOOL,
}


def as_dtype(dtype) -> np.dtype | None:
    """Normalize a user's dtype (np.dtype, Python/NumPy type, or a name like 'float32') to np.dtype."""
    if dtype is None or type(dtype) is np.dtype and dtype in SUPPORTED:
        return dtype
    if isinstance(dtype, str):
        key = dtype.removeprefix("ember.").removeprefix("torch.")
        if key in ALIASES:
            return ALIASES[key]
        raise TypeError(f"unknown dtype {dtype!r}; expected one of {sorted(ALIASES)}")
    if dtype is float:
        return _config.default_dtype.get()
    if dtype is int:
        return INT64
    d = np.dtype(dtype)
    if d not in SUPPORTED:
        raise TypeError(f"dtype {d} is not supported by ember; supported: {[s.name for s in SUPPORTED]}")
    return d


def category(dtype: np.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating point."""
    kind = dtype.kind
    return 2 if kind == "f" else (0 if kind == "b" else 1)


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def scalar_category(value) -> int:
    t = type(value)
    if t is float:
        return 2
    if t is bool:
        return 0
    if t is int:
        return 1
    if isinstance(value, np.generic):
        return category(value.dtype)
    raise TypeError(f"expected a Tensor or a Python number, got {t.__name__}")


def default_for_category(cat: int) -> np.dtype:
    return (BOOL, INT64, _config.default_dtype.get())[cat]


def result_type(*operands) -> np.dtype:
    """The dtype PyTorch gives an elementwise op on ``operands`` (Tensors or Python scalars)."""
    dims, zero_dims, scalar_cat = [], [], -1
    for op in operands:
        if isinstance(op, (int, float, np.generic)):
            scalar_cat = max(scalar_cat, scalar_category(op))
        elif op.ndim:
            dims.append(op.dtype)
        else:
            zero_dims.append(op.dtype)
    top = max([category(d) for d in dims + zero_dims] + [scalar_cat])
    for group in (dims, zero_dims):
        members = [d for d in group if category(d) == top]
        if members:
            out = members[0]
            for d in members[1:]:
                out = np.promote_types(out, d)
            return out
    return default_for_category(top)
