"""Activation functions. Hot ones are primitives with dedicated backward kernels (relu, sigmoid,
gelu, silu, softplus, elu, leaky_relu, hardtanh, softmax, log_softmax); the rest are composites of ops."""

from __future__ import annotations

import math

from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from ..backend import kernels
from ..backend import parallel as P
from . import elementwise as E
from ._util import normalize_dim

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@register_op("threshold_backward")
class ThresholdBackward(Function):
    """gx = 0 where y <= threshold else gy: relu's gradient kernel (itself linear in gy). A NaN y passes
    the gradient, as PyTorch's does."""

    @staticmethod
    def forward(ctx, gy, y, *, threshold=0.0):
        ctx.save_for_backward(ctx.input(1))
        xp = ctx.xp

        def kernel(gy, y, out):
            keep = ~(y <= threshold)              # a NaN y keeps its gradient
            if bool(xp.isfinite(gy).all()):       # inf * False would give NaN where 0 is due
                xp.multiply(gy, keep, out=out)    # branchless: np.where mispredicts on random masks (~20x slower)
            else:
                out[...] = xp.where(keep, gy, 0)

        dtype = xp.result_type(gy.dtype, y.dtype)
        if gy.shape == y.shape and gy.dtype == dtype:
            return P.elementwise(xp, kernel, gy, y)      # split across the workers when large
        out = xp.empty(xp.broadcast_shapes(gy.shape, y.shape), dtype)
        kernel(gy, y, out)
        return out

    @staticmethod
    def backward(ctx, ggx):
        (y,) = ctx.saved_tensors
        return ThresholdBackward.apply(ggx, y, **ctx.attrs), None


@register_op("relu")
class Relu(Function):
    """y = max(x, 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(ctx.output(0))
        return P.elementwise(ctx.xp, lambda x, out: ctx.xp.maximum(x, 0, out=out), x)

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return ThresholdBackward.apply(gy, y, threshold=0.0)


@register_op("leaky_relu")
class LeakyRelu(Function):
    """y = x if x > 0 else negative_slope * x."""

    @staticmethod
    def forward(ctx, x, *, negative_slope=0.01):
        ctx.save_for_backward(ctx.input(0))
        return ctx.xp.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return E.where(x > 0, gy, gy * ctx.attrs["negative_slope"])


@register_op("elu")
class Elu(Function):
    """y = x if x > 0 else alpha * (exp(x) - 1); scale multiplies both branches (selu)."""

    @staticmethod
    def forward(ctx, x, *, alpha=1.0, scale=1.0):
        ctx.save_for_backward(ctx.input(0))
        xp = ctx.xp
        y = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
        return y * scale if scale != 1.0 else y

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        a, s = ctx.attrs["alpha"], ctx.attrs["scale"]
        return E.where(x > 0, gy * s, gy * (s * a) * E.exp(E.minimum(x, E.full_like_op(x, 0.0))))


@register_op("sigmoid")
class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)), computed without overflow; dy/dx = y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(ctx.output(0))
        xp = ctx.xp
        z = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y * (1.0 - y)


@register_op("softplus")
class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, linear (y = x) where beta x > threshold."""

    @staticmethod
    def forward(ctx, x, *, beta=1.0, threshold=20.0):
        ctx.save_for_backward(ctx.input(0))
        xp = ctx.xp
        bx = x * beta
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        return xp.where(bx > threshold, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.attrs["beta"], ctx.attrs["threshold"]
        bx = x * beta
        return E.where(bx > threshold, gy, gy * sigmoid(bx))


@register_op("gelu")
class Gelu(Function):
    """y = x * Phi(x) (exact, approximate='none') or its tanh approximation (approximate='tanh')."""

    @staticmethod
    def forward(ctx, x, *, approximate="none"):
        ctx.save_for_backward(ctx.input(0))
        return kernels.gelu(ctx.xp, x, approximate)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return GeluBackward.apply(gy, x, **ctx.attrs)


@register_op("gelu_backward")
class GeluBackward(Function):
    """gx = gy * gelu'(x): GELU's gradient kernel (one pass over cache-sized blocks for float32).

    Linear in gy: d/d gy = gelu'(x); d/dx = gy * gelu''(x), written in ops (twice differentiable):
    exact: gelu'' = pdf(x) (2 - x^2); tanh: (1 - t^2) (u' - x t u'^2 + x u'' / 2) with
    u = c (x + a x^3), t = tanh(u).
    """

    @staticmethod
    def forward(ctx, gy, x, *, approximate="none"):
        ctx.save_for_backward(ctx.input(0), ctx.input(1))
        return kernels.gelu_grad(ctx.xp, gy, x, approximate)

    @staticmethod
    def backward(ctx, gg):
        gy, x = ctx.saved_tensors
        needs = ctx.needs_input_grad
        d_gy = GeluBackward.apply(gg, x, **ctx.attrs) if needs[0] else None
        if not needs[1]:
            return d_gy, None
        if ctx.attrs["approximate"] == "tanh":
            a = 0.044715
            u1 = _SQRT_2_OVER_PI * (1.0 + 3 * a * x * x)
            t = E.tanh(_SQRT_2_OVER_PI * (x + a * x * x * x))
            second = (1.0 - t * t) * (u1 - x * t * u1 * u1 + x * (3 * a * _SQRT_2_OVER_PI) * x)
        else:
            second = E.exp(-0.5 * x * x) * _INV_SQRT_2PI * (2.0 - x * x)
        return d_gy, gg * gy * second


@register_op("silu")
class Silu(Function):
    """y = x * sigmoid(x); dy/dx = s (1 + x (1 - s))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(ctx.input(0))
        xp = ctx.xp
        z = xp.exp(-xp.abs(x))
        s = xp.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
        return (x * s).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)
        return gy * s * (1.0 + x * (1.0 - s))


@register_op("softmax")
class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) along ``dim``; dx = y (gy - sum(gy y))."""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.save_for_backward(ctx.output(0))
        xp = ctx.xp
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        e /= e.sum(axis=dim, keepdims=True)
        return e

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        gyy = gy * y
        return gyy - y * gyy.sum(dim=ctx.attrs["dim"], keepdim=True)


@register_op("log_softmax")
class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``dim``; dx = gy - exp(y) sum(gy)."""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.save_for_backward(ctx.output(0))
        xp = ctx.xp
        shifted = x - x.max(axis=dim, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy - E.exp(y) * gy.sum(dim=ctx.attrs["dim"], keepdim=True)


# -- public functions ----------------------------------------------------------------------------

def _float(x: Tensor, op: str) -> Tensor:
    if x._data.dtype.kind != "f":
        x = E.cast(x, E.default_float())
    return x


def relu(input: Tensor) -> Tensor:
    return Relu.apply(input)


def relu6(input: Tensor) -> Tensor:
    """min(max(x, 0), 6); zero gradient at 0 and 6 (as PyTorch)."""
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyRelu.apply(input, negative_slope=float(negative_slope))


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    return Elu.apply(input, alpha=float(alpha), scale=1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor) -> Tensor:
    return Elu.apply(input, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)) = alpha * elu(x / alpha)."""
    return elu(input / alpha) * alpha


def sigmoid(input: Tensor) -> Tensor:
    return Sigmoid.apply(_float(input, "sigmoid"))


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)); with ``eps`` the input is clamped to [eps, 1 - eps] first.

    Written as log(p) - log1p(-p) so that the gradient 1/p + 1/(1-p) is inf (not NaN) at 0 and 1."""
    input = _float(input, "logit")
    if eps is not None:
        input = E.clamp(input, eps, 1.0 - eps)
    return E.log(input) - E.log1p(-input)


def tanh(input: Tensor) -> Tensor:
    return E.tanh(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Softplus.apply(input, beta=float(beta), threshold=float(threshold))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate=approximate)


def silu(input: Tensor) -> Tensor:
    return Silu.apply(input)


swish = silu


def mish(input: Tensor) -> Tensor:
    """x * tanh(softplus(x))."""
    return input * E.tanh(softplus(input))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (E.abs(input) + 1.0)


@register_op("hardtanh")
class Hardtanh(Function):
    """y = clamp(x, min_val, max_val); unlike clamp, the gradient is 0 at the bounds themselves (as
    PyTorch's hardtanh, relu6, hardsigmoid, hardswish)."""

    @staticmethod
    def forward(ctx, x, *, min_val=-1.0, max_val=1.0):
        ctx.save_for_backward(ctx.input(0))
        return ctx.xp.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return E.where(E.logical_and(x > ctx.attrs["min_val"], x < ctx.attrs["max_val"]), gy, 0.0)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    if min_val > max_val:
        raise op_error("hardtanh", f"min_val ({min_val}) cannot be greater than max_val ({max_val})", input)
    return Hardtanh.apply(input, min_val=float(min_val), max_val=float(max_val))


def hardsigmoid(input: Tensor) -> Tensor:
    """clamp(x / 6 + 1/2, 0, 1); zero gradient outside (-3, 3)."""
    return hardtanh(input / 6.0 + 0.5, 0.0, 1.0)


def hardswish(input: Tensor) -> Tensor:
    """x * hardsigmoid(x)."""
    return input * hardsigmoid(input)


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (stable)."""
    if dtype is not None:
        input = E.cast(input, dtype)
    input = _float(input, "softmax")
    dim = _softmax_dim(input, dim, "softmax")
    return Softmax.apply(input, dim=dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (stable)."""
    if dtype is not None:
        input = E.cast(input, dtype)
    input = _float(input, "log_softmax")
    dim = _softmax_dim(input, dim, "log_softmax")
    return LogSoftmax.apply(input, dim=dim)


def softmin(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    return softmax(-input, dim, dtype)


def _softmax_dim(x: Tensor, dim, op: str) -> int:
    if dim is None:
        # PyTorch's legacy implicit choice: dim 0 for 0-, 1- and 3-d input, else 1.
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return normalize_dim(dim, x.ndim, op)
