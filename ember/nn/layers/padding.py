"""Padding layers (PyTorch's ``nn.ConstantPad2d``, ``ZeroPad2d``, ``ReflectionPad2d``, ...): thin
modules over ``ember.ops.shape.pad``. ``padding`` is an int (same on every side) or a tuple
(left, right[, top, bottom[, front, back]]), the last dim first."""

from __future__ import annotations

from ...autograd.function import op_error
from ...ops.shape import pad
from ..module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


class _PadNd(Module):
    _dims = 1
    _mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self._dims)
        padding = tuple(int(p) for p in padding)
        if len(padding) != 2 * self._dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a {2 * self._dims}-tuple, got "
                             f"{padding}")
        self.padding = padding
        self.value = value

    def forward(self, input):
        if input.ndim not in (self._dims + 1, self._dims + 2):
            raise op_error(type(self).__name__, f"expected {self._dims + 1}D (unbatched) or {self._dims + 2}D "
                                                f"(batched) input, got {input.ndim}D", input)
        if self._mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        if self._mode == "constant" and not isinstance(self, _NoValuePad):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class _NoValuePad(_PadNd):
    """Pads with zeros (ZeroPad) or by a mode (reflect, replicate, circular): no ``value`` argument."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ConstantPad1d(_PadNd):
    """Pads the last dim with ``value``: (N, C, W) -> (N, C, W + left + right)."""
    _dims = 1

    def __init__(self, padding, value: float):
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    """Pads the last two dims with ``value``."""
    _dims = 2


class ConstantPad3d(ConstantPad1d):
    """Pads the last three dims with ``value``."""
    _dims = 3


class ZeroPad1d(_NoValuePad):
    _dims = 1


class ZeroPad2d(_NoValuePad):
    _dims = 2


class ZeroPad3d(_NoValuePad):
    _dims = 3


class ReflectionPad1d(_NoValuePad):
    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_NoValuePad):
    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_NoValuePad):
    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_NoValuePad):
    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_NoValuePad):
    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_NoValuePad):
    _dims, _mode = 3, "replicate"


class CircularPad1d(_NoValuePad):
    _dims, _mode = 1, "circular"


class CircularPad2d(_NoValuePad):
    _dims, _mode = 2, "circular"


class CircularPad3d(_NoValuePad):
    _dims, _mode = 3, "circular"
