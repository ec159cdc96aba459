"""Flatten parameters into one vector and back (PyTorch's ``parameters_to_vector`` /
``vector_to_parameters``)."""

from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops import shape as S

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(params) -> None:
    devices = {str(p.device) for p in params}
    if len(devices) > 1:
        raise TypeError(f"Found parameters on different devices ({', '.join(sorted(devices))}); they must all "
                        "be on the same device")


def parameters_to_vector(parameters) -> Tensor:
    """One 1-d tensor: every parameter flattened and concatenated in order (differentiable)."""
    params = list(parameters)
    _check_same_device(params)
    return S.cat([S.reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-d ``vec`` into ``parameters`` (replacing their data)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected ember.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    _check_same_device(params)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a 1-d vector of {total} elements, got shape "
                         f"{tuple(vec.shape)}")
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec._data[pointer:pointer + n].reshape(p.shape).astype(p.dtype, copy=True)
        pointer += n
