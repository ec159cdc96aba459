"""Gradient clipping (PyTorch's ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``).

Computed with ember ops under ``no_grad``, so a traced training step records the clipping too.
"""

from __future__ import annotations

import math

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...ops import elementwise as E
from ...ops import reduction as R
from ...ops import shape as S

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _params(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated into one vector)."""
    tensors = [t for t in _params(tensors) if t is not None]
    norm_type = float(norm_type)
    from ...ops.creation import tensor as _tensor
    if not tensors:
        return _tensor(0.0)
    with no_grad():
        if norm_type == math.inf:
            norms = [R.amax(E.abs(t.detach())) for t in tensors]
            total = R.amax(S.stack([n.to(norms[0].device) for n in norms]))
        else:
            norms = [R.norm(t.detach().reshape(-1), norm_type) for t in tensors]
            total = R.norm(S.stack([n.to(norms[0].device) for n in norms]), norm_type)
        if error_if_nonfinite and not bool(E.isfinite(total)):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
                "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
                "`error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    """Scale every gradient in place by min(1, max_norm / (total_norm + 1e-6))."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return
    with no_grad():
        coef = E.clamp_max(float(max_norm) / (total_norm + 1e-6), 1.0)
        for g in grads:
            g.mul_(E.cast(coef.to(g.device), g.dtype))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Rescale the gradients of ``parameters`` in place so that their joint ``norm_type``-norm (``inf``
    for the max-abs norm) is at most ``max_norm``; returns the total norm before clipping."""
    parameters = _params(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_``."""
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient in place to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _params(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)
