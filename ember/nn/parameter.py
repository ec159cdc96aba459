"""``Parameter``: a Tensor that a ``Module`` registers as a learnable weight when assigned to it."""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that ``Module.__setattr__`` registers in ``_parameters`` (PyTorch's ``nn.Parameter``).

    ``Parameter(data, requires_grad=True)`` shares ``data``'s storage (no copy). ``data`` may be a
    Tensor, a NumPy array or a nested list; ``None`` gives an empty float tensor.
    """

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        elif not isinstance(data, Tensor):
            from ..ops.creation import tensor
            data = tensor(data)
        p = object.__new__(cls)
        Tensor._init(p, data._data)
        if requires_grad:
            p.requires_grad = True
        return p

    def __init__(self, data=None, requires_grad: bool = True):  # all work is done in __new__
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        from ..backend import device as _device
        return (_rebuild_parameter, (_device.to_numpy(self._data), self._requires_grad))


def _rebuild_parameter(arr: np.ndarray, requires_grad: bool) -> Parameter:
    return Parameter(Tensor._make(arr), requires_grad=requires_grad)


def is_parameter(obj) -> bool:
    return isinstance(obj, Parameter)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute
    (PyTorch's ``nn.Buffer``): ``self.running = Buffer(ember.zeros(3), persistent=False)``.
    The module stores a plain Tensor sharing the data."""

    def __new__(cls, data=None, *, persistent: bool = True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        elif not isinstance(data, Tensor):
            from ..ops.creation import tensor
            data = tensor(data)
        b = object.__new__(cls)
        Tensor._init(b, data._data)
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent: bool = True):
        pass
