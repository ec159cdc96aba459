"""Casts between dtypes and copies between devices, as differentiable primitives."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.function import Function, register_op
from ..autograd.tensor import Tensor
from ..backend.device import get_device, to_device as _move


@register_op("cast")
class Cast(Function):
    """y = x converted to ``dtype``; the gradient is cast back to x's dtype."""

    @staticmethod
    def forward(ctx, x, *, dtype):
        ctx.in_dtype = x.dtype.name
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        if np.dtype(ctx.in_dtype).kind != "f":
            return None
        return Cast.apply(gy, dtype=ctx.in_dtype)


def cast(input: Tensor, dtype) -> Tensor:
    """``input`` as ``dtype`` (a new tensor; differentiable between floating dtypes)."""
    dtype = _dtype.as_dtype(dtype)
    if input._data.dtype == dtype:
        return input
    return Cast.apply(input, dtype=dtype.name)


@register_op("to_device")
class ToDevice(Function):
    """y = x copied to ``device``; the gradient is copied back."""

    @staticmethod
    def forward(ctx, x, *, device):
        from ..backend.device import device_of
        ctx.in_device = str(device_of(x))
        return _move(x, get_device(device))

    @staticmethod
    def backward(ctx, gy):
        return ToDevice.apply(gy, device=ctx.in_device)


def to_device(input: Tensor, device) -> Tensor:
    dev = get_device(device)
    if input.device == dev:
        return input
    return ToDevice.apply(input, device=str(dev))
