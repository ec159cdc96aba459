"""Normalization: fused ``layer_norm`` and ``batch_norm`` primitives, and the composites
``batch_norm`` (eval form), ``group_norm``, ``instance_norm``, ``rms_norm`` and ``normalize``.

The fused primitives return their statistics (mean and rstd / biased var) as extra outputs marked
non-differentiable: backward reuses them instead of recomputing, and a traced step gets them from
the forward node. Backward is written in ops. When it is itself being recorded (``create_graph``),
it recomputes the statistics from the input with ops so that second derivatives see how they
depend on the input.
"""

from __future__ import annotations

from .. import _config
from ..autograd.function import Function, op_error, register_op
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from . import elementwise as E
from . import reduction as R
from . import shape as S


# -- layer norm ------------------------------------------------------------------------------------

@register_op("layer_norm")
class LayerNorm(Function):
    """y = (x - mean) * rstd * w + b over the last ``normalized_ndim`` dims; rstd = 1/sqrt(var + eps).

    Inputs: x (*, *normalized_shape), w and b of ``normalized_shape`` or None. Outputs: y (x's shape),
    mean and rstd (x's shape with the normalized dims kept as size 1; non-differentiable).
    """

    @staticmethod
    def forward(ctx, x, w, b, *, normalized_ndim, eps):
        xp = ctx.xp
        axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = xp.square(xc).mean(axis=axes, keepdims=True)
        var += eps
        rstd = xp.sqrt(var)
        xp.reciprocal(rstd, out=rstd)
        xc *= rstd
        if w is not None:
            xc *= w
        if b is not None:
            xc += b
        ctx.mark_non_differentiable(1, 2)
        ctx.save_for_backward(ctx.input(0), ctx.input(1), ctx.output(1), ctx.output(2))
        return xc, mean, rstd

    @staticmethod
    def backward(ctx, gy, _gmean, _grstd):
        x, w, mean, rstd = ctx.saved_tensors
        k = ctx.attrs["normalized_ndim"]
        axes = list(range(x.ndim - k, x.ndim))
        lead = list(range(x.ndim - k))
        if _config.grad_enabled.get():  # recorded backward: make the statistics functions of x
            mean = R.mean(x, axes, keepdim=True)
            xc = x - mean
            rstd = E.rsqrt(R.mean(xc * xc, axes, keepdim=True) + ctx.attrs["eps"])
        xhat = (x - mean) * rstd
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gxhat = gy * w if w is not None else gy
            gx = rstd * (gxhat - R.mean(gxhat, axes, keepdim=True)
                         - xhat * R.mean(gxhat * xhat, axes, keepdim=True))
        if needs[1]:
            gw = R.sum(gy * xhat, lead) if lead else gy * xhat
        if needs[2]:
            gb = R.sum(gy, lead) if lead else gy
        return gx, gw, gb


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing dims ``normalized_shape`` (PyTorch's ``F.layer_norm``)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise op_error("layer_norm", f"normalized_shape {list(shape)} must match the trailing dims of the input "
                                     f"(shape {tuple(input.shape)})", input)
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise op_error("layer_norm", f"{name} shape {tuple(p.shape)} must equal normalized_shape "
                                         f"{shape}", input, p)
    _check_float("layer_norm", input)
    return LayerNorm.apply(input, weight, bias, normalized_ndim=k, eps=float(eps))[0]


# -- batch norm ------------------------------------------------------------------------------------

def _channel_shape(x, c: int) -> tuple:
    return (1, c) + (1,) * (x.ndim - 2)


@register_op("batch_norm")
class BatchNorm(Function):
    """Training-mode batch norm: statistics over every dim but the channel dim 1.

    Inputs: x (N, C, *), w and b (C,) or None. Outputs: y (x's shape), the batch mean (C,) and the
    biased batch variance (C,) (both non-differentiable; the caller updates running statistics).
    """

    @staticmethod
    def forward(ctx, x, w, b, *, eps):
        xp = ctx.xp
        c = x.shape[1]
        axes = (0,) + tuple(range(2, x.ndim))
        mean = x.mean(axis=axes)
        var = xp.square(x - mean.reshape(_channel_shape(x, c))).mean(axis=axes)
        scale = 1.0 / xp.sqrt(var + eps)
        if w is not None:
            scale = scale * w
        shift = -mean * scale
        if b is not None:
            shift = shift + b
        y = x * scale.reshape(_channel_shape(x, c))
        y += shift.reshape(_channel_shape(x, c))
        ctx.mark_non_differentiable(1, 2)
        ctx.save_for_backward(ctx.input(0), ctx.input(1), ctx.output(1), ctx.output(2))
        return y, mean, var

    @staticmethod
    def backward(ctx, gy, _gmean, _gvar):
        x, w, mean, var = ctx.saved_tensors
        c = x.shape[1]
        cs = _channel_shape(x, c)
        axes = [0] + list(range(2, x.ndim))
        m = x.numel() // c
        if _config.grad_enabled.get():  # recorded backward: make the statistics functions of x
            mean = R.mean(x, axes)
            var = R.mean(E.square(x - S.reshape(mean, cs)), axes)
        rstd = E.rsqrt(var + ctx.attrs["eps"])
        xhat = (x - S.reshape(mean, cs)) * S.reshape(rstd, cs)
        gb = R.sum(gy, axes)
        gw = R.sum(gy * xhat, axes)
        gx = None
        if ctx.needs_input_grad[0]:
            scale = rstd * w if w is not None else rstd
            gx = S.reshape(scale, cs) * (gy - S.reshape(gb * (1.0 / m), cs) - xhat * S.reshape(gw * (1.0 / m), cs))
        return gx, (gw if ctx.needs_input_grad[1] else None), (gb if ctx.needs_input_grad[2] else None)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over dim 1 of (N, C, *) input (PyTorch's ``F.batch_norm``).

    Training: normalize with the batch statistics and, when given, update the running statistics in
    place: running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance.
    Eval: normalize with the running statistics.
    """
    if input.ndim < 2:
        raise op_error("batch_norm", f"expected input with at least 2 dims (N, C, *), got {input.ndim}", input)
    _check_float("batch_norm", input)
    c = input.shape[1]
    for name, p in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if p is not None and tuple(p.shape) != (c,):
            raise op_error("batch_norm", f"{name} should have shape ({c},) for {c} channels, got "
                                         f"{tuple(p.shape)}", input, p)
    if training:
        m = input.numel() // c if c else 0
        if m <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{list(input.shape)}")
        y, mean, var = BatchNorm.apply(input, weight, bias, eps=float(eps))
        if running_mean is not None or running_var is not None:
            momentum = float(momentum)
            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1.0 - momentum).add_(E.cast(mean, running_mean.dtype) * momentum)
                if running_var is not None:
                    unbiased = var * (m / (m - 1))
                    running_var.mul_(1.0 - momentum).add_(E.cast(unbiased, running_var.dtype) * momentum)
        return y
    if running_mean is None or running_var is None:
        raise op_error("batch_norm", "running_mean and running_var are required when training=False", input)
    cs = _channel_shape(input, c)
    scale = E.rsqrt(running_var + float(eps))
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * S.reshape(scale, cs) + S.reshape(shift, cs)


# -- composites ------------------------------------------------------------------------------------

def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize each of ``num_groups`` channel groups of (N, C, *) input over its channels and spatial
    dims, then scale/shift per channel. Uses the fused layer_norm on an (N, G, -1) view."""
    if input.ndim < 2:
        raise op_error("group_norm", f"expected input with at least 2 dims (N, C, *), got {input.ndim}", input)
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise op_error("group_norm", f"Expected number of channels in input ({c}) to be divisible by "
                                     f"num_groups ({num_groups})", input)
    _check_float("group_norm", input)
    grouped = S.reshape(input, (n, num_groups, -1))
    y = S.reshape(LayerNorm.apply(grouped, None, None, normalized_ndim=1, eps=float(eps))[0], tuple(input.shape))
    return _affine_channels(y, weight, bias)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each (sample, channel) plane of (N, C, *) input over its spatial dims.

    With ``use_input_stats=False`` the running statistics are used (eval mode of a tracking layer);
    with running statistics given and ``use_input_stats=True`` they are updated from the batch.
    """
    if input.ndim < 3:
        raise op_error("instance_norm", f"expected input with at least 3 dims (N, C, *), got {input.ndim}", input)
    _check_float("instance_norm", input)
    n, c = input.shape[0], input.shape[1]
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    flat = S.reshape(input, (n, c, -1))
    y, mean, rstd = LayerNorm.apply(flat, None, None, normalized_ndim=1, eps=float(eps))
    if running_mean is not None or running_var is not None:
        m = flat.shape[2]
        with no_grad():
            var = R.mean(E.reciprocal(rstd * rstd) - float(eps), 0)           # (C, 1): mean over the batch
            if running_mean is not None:
                running_mean.mul_(1.0 - momentum).add_(S.reshape(R.mean(mean, 0), (c,)) * float(momentum))
            if running_var is not None:
                unbiased = S.reshape(var, (c,)) * (m / max(m - 1, 1))
                running_var.mul_(1.0 - momentum).add_(unbiased * float(momentum))
    return _affine_channels(S.reshape(y, tuple(input.shape)), weight, bias)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """y = x / sqrt(mean(x**2) + eps) * weight over the trailing ``normalized_shape`` dims; eps defaults
    to the dtype's machine epsilon (PyTorch's ``F.rms_norm``)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise op_error("rms_norm", f"normalized_shape {list(shape)} must match the trailing dims of the input "
                                   f"(shape {tuple(input.shape)})", input)
    _check_float("rms_norm", input)
    if eps is None:
        import numpy as np
        eps = float(np.finfo(input.dtype).eps)
    axes = list(range(input.ndim - k, input.ndim))
    y = input * E.rsqrt(R.mean(input * input, axes, keepdim=True) + float(eps))
    return y * weight if weight is not None else y


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """x / max(||x||_p, eps) along ``dim`` (PyTorch's ``F.normalize``)."""
    norm = R.norm(input, p, dim, keepdim=True)
    y = input / E.clamp_min(norm, float(eps))
    if out is not None:
        out.copy_(y)
        return out
    return y


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """b_c = a_c / (k + alpha/size * sum_{c' in window(c)} a_c'^2) ** beta, window of ``size`` channels."""
    if input.ndim < 3:
        raise op_error("local_response_norm", f"expected input with at least 3 dims, got {input.ndim}", input)
    sq = input * input
    pad = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    padded = S.pad(sq, pad)
    c = input.shape[1]
    window = padded[:, 0:c]
    for i in range(1, size):  # loop over the window width only (size is small), vectorized over data
        window = window + padded[:, i:i + c]
    div = E.pow(window * (alpha / size) + k, beta)
    return input / div


def _affine_channels(y: Tensor, weight, bias) -> Tensor:
    cs = _channel_shape(y, y.shape[1])
    if weight is not None:
        y = y * S.reshape(weight, cs)
    if bias is not None:
        y = y + S.reshape(bias, cs)
    return y


def _check_float(op: str, x: Tensor) -> None:
    if x._data.dtype.kind != "f":
        raise op_error(op, f"expected a floating-point input, got dtype {x.dtype}", x)
