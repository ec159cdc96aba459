"""Fused arithmetic that optimizers use: ``addcmul``, ``addcdiv`` and the in-place forms
``addcmul_``, ``addcdiv_``, ``lerp_`` and ``maximum_`` (attached to ``Tensor``).

Each in-place method has two paths, like ``add_``/``mul_`` in ``tensor_methods``:

- fast: no graph is recorded and nobody traces, so the update is done with NumPy/CuPy ufuncs writing
  into the tensor's own array (``out=``); the only temporary is the one product/quotient/difference
  the equation needs;
- recorded/traceable: the out-of-place composite (ember ops) is computed and written back through
  ``tensor_methods._inplace``, so autograd and the jit tracer see ordinary op nodes.

``value``/``weight`` may be Python numbers or 0-d tensors (a traced optimizer passes tensors so that
step-dependent coefficients stay in the graph).
"""

from __future__ import annotations

import numpy as np

from ..autograd import function as _function
from ..autograd.tensor import Tensor
from ..backend.device import array_module
from . import elementwise as E
from .tensor_methods import _inplace, _operand, _recording


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """input + value * tensor1 * tensor2 (broadcasting)."""
    return E.add(input, E.mul(E.mul(tensor1, tensor2), value) if _not_one(value) else E.mul(tensor1, tensor2))


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """input + value * tensor1 / tensor2 (broadcasting)."""
    q = E.div(tensor1, tensor2)
    return E.add(input, E.mul(q, value) if _not_one(value) else q)


def _not_one(v) -> bool:
    return isinstance(v, Tensor) or v != 1


def _raw(v):
    """The array or Python number behind an operand (NumPy scalars become Python numbers)."""
    if isinstance(v, Tensor):
        return v._data
    return v.item() if isinstance(v, np.generic) else v


def _fast_ok(self, *others) -> bool:
    return not _function._apply_observers and not _recording(self, *others)


def _xp(arr):
    return np if type(arr) is np.ndarray else array_module(arr)


def _finish(self, name: str, compute) -> Tensor:
    data = self._data
    try:
        compute(_xp(data), data)
    except (TypeError, ValueError) as exc:
        raise RuntimeError(f"{name}: can't update a tensor of shape {tuple(self.shape)} and dtype "
                           f"{self.dtype} in place: {exc}") from None
    self._vc.value += 1
    return self


_slow_addcmul = _inplace(lambda s, t1, t2, value=1: addcmul(s, t1, t2, value=value), "addcmul_")
_slow_addcdiv = _inplace(lambda s, t1, t2, value=1: addcdiv(s, t1, t2, value=value), "addcdiv_")
_slow_lerp = _inplace(E.lerp, "lerp_")
_slow_maximum = _inplace(E.maximum, "maximum_")


def addcmul_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """In place: self += value * tensor1 * tensor2."""
    if not _fast_ok(self, tensor1, tensor2, value):
        return _slow_addcmul(self, tensor1, tensor2, value=value)

    def compute(xp, data):
        tmp = xp.multiply(_raw(tensor1), _raw(tensor2))
        if _not_one(value):
            xp.multiply(tmp, _raw(value), out=tmp, casting="same_kind")
        xp.add(data, tmp, out=data, casting="same_kind")
    return _finish(self, "addcmul_", compute)


def addcdiv_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """In place: self += value * tensor1 / tensor2."""
    if not _fast_ok(self, tensor1, tensor2, value):
        return _slow_addcdiv(self, tensor1, tensor2, value=value)

    def compute(xp, data):
        tmp = xp.true_divide(_raw(tensor1), _raw(tensor2))
        if _not_one(value):
            xp.multiply(tmp, _raw(value), out=tmp, casting="same_kind")
        xp.add(data, tmp, out=data, casting="same_kind")
    return _finish(self, "addcdiv_", compute)


def lerp_(self: Tensor, end: Tensor, weight) -> Tensor:
    """In place: self += weight * (end - self); ``weight`` a number or a tensor."""
    end = _operand(end)
    if not _fast_ok(self, end, weight):
        return _slow_lerp(self, end, weight)

    def compute(xp, data):
        tmp = xp.subtract(_raw(end), data)
        xp.multiply(tmp, _raw(weight), out=tmp, casting="same_kind")
        xp.add(data, tmp, out=data, casting="same_kind")
    return _finish(self, "lerp_", compute)


def maximum_(self: Tensor, other: Tensor) -> Tensor:
    """In place: self = maximum(self, other) (elementwise; NaN propagates)."""
    other = _operand(other)
    if not _fast_ok(self, other):
        return _slow_maximum(self, other)
    return _finish(self, "maximum_", lambda xp, data: xp.maximum(data, _raw(other), out=data, casting="same_kind"))


Tensor.addcmul = lambda self, tensor1, tensor2, *, value=1: addcmul(self, tensor1, tensor2, value=value)
Tensor.addcdiv = lambda self, tensor1, tensor2, *, value=1: addcdiv(self, tensor1, tensor2, value=value)
Tensor.addcmul_ = addcmul_
Tensor.addcdiv_ = addcdiv_
Tensor.lerp_ = lerp_
Tensor.maximum_ = maximum_
