"""Dropout: the ``dropout`` primitive (element-wise or whole channels) and its composites
(``dropout1d/2d/3d``, ``alpha_dropout``, ``feature_alpha_dropout``).

The mask is drawn inside the primitive's forward from the device's default generator
(``ember.backend.random``) and returned as a second output marked non-differentiable; backward reads
it as a saved output. A traced training step therefore redraws it at every run instead of freezing
one mask as a constant.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from ..backend.device import device_of
from ..backend.random import default_generator


def _draw_keep(xp, x, p: float, mask_shape):
    """A float mask of ``mask_shape`` with 1/(1-p) where kept (prob 1-p) and 0 where dropped."""
    gen = default_generator(device_of(x))
    draw_dtype = x.dtype if x.dtype != np.float16 else np.float32
    with gen.device:
        u = gen.rng.random(mask_shape, dtype=draw_dtype)
    keep = u >= p
    return keep.astype(x.dtype) * (1.0 / (1.0 - p))


@register_op("dropout")
class Dropout(Function):
    """y = x * mask, mask = bernoulli(1 - p) / (1 - p) of x's shape, or with size 1 along dims >= 2 when
    ``channelwise`` (whole channels of (N, C, *) input are dropped). Outputs: y and the mask
    (non-differentiable). dx = gy * mask."""

    @staticmethod
    def forward(ctx, x, *, p, channelwise=False):
        mask_shape = x.shape if not channelwise else x.shape[:2] + (1,) * (x.ndim - 2)
        mask = _draw_keep(ctx.xp, x, p, mask_shape)
        ctx.mark_non_differentiable(1)
        ctx.save_for_backward(ctx.output(1))
        return x * mask, mask

    @staticmethod
    def backward(ctx, gy, _gmask):
        (mask,) = ctx.saved_tensors
        return gy * mask


def _check_p(op: str, p: float) -> float:
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return p


def _apply(op: str, input: Tensor, p: float, training: bool, inplace: bool, channelwise: bool) -> Tensor:
    p = _check_p(op, p)
    if not training or p == 0.0:
        return input
    if input._data.dtype.kind != "f":
        raise op_error(op, f"expected a floating-point input, got dtype {input.dtype}", input)
    if p == 1.0:
        out = input * 0.0
    else:
        out = Dropout.apply(input, p=p, channelwise=channelwise)[0]
    return input.copy_(out) if inplace else out


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p); identity when not training."""
    return _apply("dropout", input, p, training, inplace, False)


def _feature_dropout(op: str, ndim_ok: tuple, input: Tensor, p, training, inplace) -> Tensor:
    if input.ndim not in ndim_ok:
        raise op_error(op, f"expected a {ndim_ok[0]}-d (unbatched) or {ndim_ok[1]}-d (batched) input, got "
                           f"{input.ndim}-d", input)
    if input.ndim == ndim_ok[1]:
        return _apply(op, input, p, training, inplace, True)
    from .shape import squeeze, unsqueeze
    out = squeeze(_apply(op, unsqueeze(input, 0), p, training, False, True), 0)   # unbatched: channels at dim 0
    return input.copy_(out) if inplace and out is not input else out


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input."""
    return _feature_dropout("dropout1d", (2, 3), input, p, training, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) or (C, H, W) input."""
    return _feature_dropout("dropout2d", (3, 4), input, p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    return _feature_dropout("dropout3d", (4, 5), input, p, training, inplace)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _alpha(op: str, input: Tensor, p: float, training: bool, channelwise: bool) -> Tensor:
    """Alpha dropout keeps SELU's self-normalizing mean/variance: dropped units are set to the negative
    saturation value alpha' = -scale*alpha, then an affine map a*x + b restores mean 0 / variance 1."""
    p = _check_p(op, p)
    if not training or p == 0.0:
        return input
    alpha_p = -_SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt((alpha_p * alpha_p * p + 1) * (1 - p))
    if p == 1.0:
        return input * 0.0
    # mask = keep / (1 - p) from the primitive; recover keep in {0, 1}
    _, mask = Dropout.apply(input, p=p, channelwise=channelwise)
    keep = mask * (1.0 - p)
    # out = a * (x * keep + alpha_p * (1 - keep)) + b0 with b0 = -a * alpha_p * p
    return (input * keep + (1.0 - keep) * alpha_p) * a + (-a * alpha_p * p)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    out = _alpha("alpha_dropout", input, p, training, False)
    return input.copy_(out) if inplace and out is not input else out


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    out = _alpha("feature_alpha_dropout", input, p, training, True)
    return input.copy_(out) if inplace and out is not input else out
