"""Elementwise primitives: arithmetic, math functions, selection (where, clamp) and their gradients.

Binary ops broadcast like NumPy and promote dtypes like PyTorch (``ops._util.promote_args``); either
operand may be a Python number. Gradients are written as ember ops; the engine sums them back to each
input's shape, so no backward here deals with broadcasting.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from ..autograd.function import Function, _OpError, op_error, register_op
from ..autograd.tensor import Tensor
from ..backend import kernels
from ._util import default_float, promote_args, to_python_scalar


# -- creation inside graphs ------------------------------------------------------------------------

@register_op("full_like")
class FullLike(Function):
    """y = a new array shaped like x (or ``shape``) filled with ``value``; no gradient to x.

    Backward formulas use it to create zeros/ones on the right device, so traced graphs contain a
    node instead of a frozen constant.
    """

    @staticmethod
    def forward(ctx, x, *, value, shape=None, dtype=None):
        ctx.mark_non_differentiable(0)
        return ctx.xp.full(x.shape if shape is None else tuple(shape), value, dtype=dtype or x.dtype)

    @staticmethod
    def backward(ctx, gy):
        return None


def full_like_op(x: Tensor, value, shape=None, dtype=None) -> Tensor:
    """A traceable ``full_like``: ``value`` in ``x``'s shape (or ``shape``), dtype and device."""
    return FullLike.apply(x, value=value, shape=None if shape is None else list(shape),
                          dtype=None if dtype is None else np.dtype(dtype).name)


def _apply(cls, *args):
    """``cls.apply(*args)``; a broadcasting failure becomes PyTorch's RuntimeError naming op and shapes."""
    try:
        return cls.apply(*args)
    except ValueError:
        check_broadcastable(cls.op_name, *args)
        raise


class BroadcastError(_OpError, ValueError):
    """Shapes that do not broadcast: a RuntimeError as in PyTorch, and a ValueError as NumPy raises."""


def check_broadcastable(op: str, *args) -> None:
    """Raise the op's error when the shapes of the Tensor ``args`` do not broadcast together."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    shapes = [tuple(t.shape) for t in tensors]
    out = ()
    for shape in shapes:
        for i in range(1, min(len(out), len(shape)) + 1):
            a, b = out[-i], shape[-i]
            if a != b and a != 1 and b != 1:
                err = op_error(op, f"the size of tensor a ({a}) must match the size of tensor b ({b}) at "
                                   f"non-singleton dimension {max(len(out), len(shape)) - i}; shapes "
                                   f"{', '.join(str(s) for s in shapes)} do not broadcast", *tensors)
                raise BroadcastError(*err.args) from None
        out = tuple(np.broadcast_shapes(out, shape))


# -- arithmetic ------------------------------------------------------------------------------------

@register_op("add")
class Add(Function):
    """y = a + b."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, gy):
        return gy, gy


@register_op("sub")
class Sub(Function):
    """y = a - b."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, gy):
        return gy, (-gy if ctx.needs_input_grad[1] else None)


@register_op("mul")
class Mul(Function):
    """y = a * b; da = gy * b, db = gy * a."""

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        if need_a or need_b:
            ctx.save_for_backward(ctx.input(0) if need_b else None, ctx.input(1) if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (gy * b if need_a else None), (gy * a if need_b else None)


@register_op("div")
class Div(Function):
    """y = a / b (true division); da = gy / b, db = -gy * y / b."""

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.save_for_backward(ctx.input(1), ctx.output(0) if ctx.needs_input_grad[1] else None)
        return a / b

    @staticmethod
    def backward(ctx, gy):
        b, y = ctx.saved_tensors
        ga = gy / b if ctx.needs_input_grad[0] else None
        gb = -gy * y / b if ctx.needs_input_grad[1] else None
        return ga, gb


@register_op("neg")
class Neg(Function):
    """y = -x."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, gy):
        return -gy


@register_op("pow")
class Pow(Function):
    """y = a ** b for tensor/tensor, tensor/scalar and scalar/tensor.

    da = gy * b * a**(b-1);  db = gy * y * log(a), taken as 0 where a == 0 and b >= 0 (as PyTorch).
    """

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.save_for_backward(ctx.input(0), ctx.input(1), ctx.output(0) if ctx.needs_input_grad[1] else None)
        return a ** b

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if isinstance(b, Tensor):  # b == 0 gives 0, not 0 * inf at a == 0 (as PyTorch)
                ga = where(b == 0, 0.0, gy * b * a ** (b - 1))
            elif b == 0:
                ga = full_like_op(gy, 0.0)
            elif b == 2:
                ga = gy * (2.0 * a)
            else:
                ga = gy * (b * a ** (b - 1))
        if ctx.needs_input_grad[1]:
            if isinstance(a, Tensor):
                ga_zero = (a == 0) & (b >= 0)
                gb = where(ga_zero, 0.0, gy * y * log(where(ga_zero, 1.0, a)))
            else:
                gb = gy * y * math.log(a) if a > 0 else gy * y * float("nan") if a < 0 else full_like_op(gy, 0.0)
        return ga, gb


@register_op("maximum")
class Maximum(Function):
    """y = max(a, b) elementwise; the gradient is split evenly where a == b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(ctx.input(0), ctx.input(1))
        return ctx.xp.maximum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return _minmax_grads(gy, a, b, lt)


def _minmax_grads(gy, a, b, loses):
    """Gradients of maximum (loses=lt) / minimum (loses=gt), as PyTorch: an operand gets gy unless it
    loses, half of it on ties, and both get all of it where a NaN makes the pair unordered."""
    tie = cast(a == b, gy.dtype) * 0.5
    ga = gy * (1.0 - cast(loses(a, b), gy.dtype) - tie)
    gb = gy * (1.0 - cast(loses(b, a), gy.dtype) - tie)
    return ga, gb


@register_op("minimum")
class Minimum(Function):
    """y = min(a, b) elementwise; the gradient is split evenly where a == b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(ctx.input(0), ctx.input(1))
        return ctx.xp.minimum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return _minmax_grads(gy, a, b, gt)


@register_op("atan2")
class Atan2(Function):
    """y = atan2(a, b); da = gy * b / (a² + b²), db = -gy * a / (a² + b²) (0 at a = b = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(ctx.input(0), ctx.input(1))
        return ctx.xp.arctan2(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        r2 = a * a + b * b
        origin = r2 == 0
        scale = where(origin, 0.0, gy / where(origin, 1.0, r2))
        return scale * b, -scale * a


@register_op("remainder")
class Remainder(Function):
    """y = a mod b with the sign of b (Python's %); da = gy, db = -gy * floor(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(ctx.input(0), ctx.input(1))
        return ctx.xp.remainder(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return gy, (-gy * floor(a / b) if ctx.needs_input_grad[1] else None)


@register_op("floor_divide")
class FloorDivide(Function):
    """y = floor(a / b); piecewise constant, so its gradient is zero."""

    @staticmethod
    def forward(ctx, a, b):
        return ctx.xp.floor_divide(a, b)

    @staticmethod
    def backward(ctx, gy):
        return full_like_op(gy, 0.0), None


def add(input, other, *, alpha=1) -> Tensor:
    """input + alpha * other."""
    if alpha != 1:
        other = mul(other, alpha)
    a, b = promote_args(input, other)
    return _apply(Add, a, b)


def sub(input, other, *, alpha=1) -> Tensor:
    """input - alpha * other."""
    if _kind(input) == "b" or _kind(other) == "b":
        raise op_error("sub", "subtraction with a bool tensor is not supported; to invert a mask use ~ or "
                              "logical_not()", *[v for v in (input, other) if isinstance(v, Tensor)])
    if alpha != 1:
        other = mul(other, alpha)
    a, b = promote_args(input, other)
    return _apply(Sub, a, b)


subtract = sub


def rsub(input, other, *, alpha=1) -> Tensor:
    """other - alpha * input."""
    return sub(other, input, alpha=alpha)


def mul(input, other) -> Tensor:
    a, b = promote_args(input, other)
    return _apply(Mul, a, b)


multiply = mul


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """True division (integers give floats); ``rounding_mode`` 'floor' or 'trunc' rounds the result."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    a, b = promote_args(input, other)
    if _kind(a) != "f" and _kind(b) != "f":
        a = cast(a, default_float()) if isinstance(a, Tensor) else float(a)
        b = cast(b, default_float()) if isinstance(b, Tensor) else float(b)
    out = _apply(Div, a, b)
    if rounding_mode == "trunc":
        out = trunc(out)
        if _kind(input) != "f" and _kind(other) != "f":
            out = cast(out, _dtype.result_type(input, other))
    elif rounding_mode is not None:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return out


divide = true_divide = div


def _kind(v) -> str:
    if isinstance(v, Tensor):
        return v._data.dtype.kind
    return "f" if isinstance(v, float) else "b" if isinstance(v, bool) else "i"


def floor_divide(input, other) -> Tensor:
    a, b = promote_args(input, other)
    return _apply(FloorDivide, a, b)


def remainder(input, other) -> Tensor:
    a, b = promote_args(input, other)
    return _apply(Remainder, a, b)


fmod_like_python = remainder


def neg(input: Tensor) -> Tensor:
    return Neg.apply(input)


negative = neg


def pow(input, exponent) -> Tensor:
    """input ** exponent (either may be a Python number)."""
    a, b = promote_args(input, exponent)
    return _apply(Pow, a, b)


def float_power(input, exponent) -> Tensor:
    a = cast(input, _dtype.FLOAT64) if isinstance(input, Tensor) else float(input)
    b = cast(exponent, _dtype.FLOAT64) if isinstance(exponent, Tensor) else exponent
    return _apply(Pow, a, b)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    a, b = promote_args(input, other)
    return _apply(Maximum, a, b)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    a, b = promote_args(input, other)
    return _apply(Minimum, a, b)


def atan2(input: Tensor, other: Tensor) -> Tensor:
    a, b = promote_args(_floatify(input), _floatify(other))
    return _apply(Atan2, a, b)


arctan2 = atan2


def _floatify(x):
    if isinstance(x, Tensor):
        return x if x._data.dtype.kind == "f" else cast(x, default_float())
    return float(x)


# -- unary math ------------------------------------------------------------------------------------

def _unary(name: str, compute, grad=None, saves: str = "", doc: str = ""):
    """Register the elementwise primitive y = f(x).

    ``compute(xp, x)`` works on arrays. ``grad(gy, x, y)`` returns dL/dx as ember ops; it receives
    the input ``x`` and/or output ``y`` as named in ``saves`` ("x", "y" or "xy"), None otherwise.
    Without ``grad`` the op is piecewise constant: its gradient is zero.
    """

    def forward(ctx, x):
        if saves and ctx.needs_input_grad[0]:
            ctx.save_for_backward(ctx.input(0) if "x" in saves else None, ctx.output(0) if "y" in saves else None)
        return compute(ctx.xp, x)

    def backward(ctx, gy):
        if grad is None:
            return full_like_op(gy, 0.0)
        if saves:
            x, y = ctx.saved_tensors
        else:
            x = y = None
        return grad(gy, x, y)

    cls_name = "".join(part.capitalize() for part in name.split("_"))
    cls = type(cls_name, (Function,), {
        "__doc__": doc or f"y = {name}(x), elementwise.",
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
        "__module__": __name__,
    })
    return register_op(name)(cls)


def _sign(xp, x):
    y = xp.sign(x)
    return xp.nan_to_num(y, copy=False) if y.dtype.kind == "f" else y


_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

Exp = _unary("exp", lambda xp, x: xp.exp(x), lambda gy, x, y: gy * y, "y")
Exp2 = _unary("exp2", lambda xp, x: xp.exp2(x), lambda gy, x, y: gy * y * _LN2, "y")
Expm1 = _unary("expm1", lambda xp, x: xp.expm1(x), lambda gy, x, y: gy * (y + 1.0), "y")
Log = _unary("log", lambda xp, x: xp.log(x), lambda gy, x, y: gy / x, "x")
Log2 = _unary("log2", lambda xp, x: xp.log2(x), lambda gy, x, y: gy / (x * _LN2), "x")
Log10 = _unary("log10", lambda xp, x: xp.log10(x), lambda gy, x, y: gy / (x * _LN10), "x")
Log1p = _unary("log1p", lambda xp, x: xp.log1p(x), lambda gy, x, y: gy / (x + 1.0), "x")
Sqrt = _unary("sqrt", lambda xp, x: xp.sqrt(x), lambda gy, x, y: gy * 0.5 / y, "y")
Rsqrt = _unary("rsqrt", lambda xp, x: 1.0 / xp.sqrt(x), lambda gy, x, y: gy * -0.5 * y * y * y, "y",
               "y = 1 / sqrt(x).")
Reciprocal = _unary("reciprocal", lambda xp, x: 1.0 / x, lambda gy, x, y: -gy * y * y, "y")
Abs = _unary("abs", lambda xp, x: xp.abs(x), lambda gy, x, y: gy * sign(x), "x")
Sin = _unary("sin", lambda xp, x: xp.sin(x), lambda gy, x, y: gy * cos(x), "x")
Cos = _unary("cos", lambda xp, x: xp.cos(x), lambda gy, x, y: -gy * sin(x), "x")
Tan = _unary("tan", lambda xp, x: xp.tan(x), lambda gy, x, y: gy * (y * y + 1.0), "y")
Atan = _unary("atan", lambda xp, x: xp.arctan(x), lambda gy, x, y: gy / (x * x + 1.0), "x")
Asin = _unary("asin", lambda xp, x: xp.arcsin(x), lambda gy, x, y: gy * rsqrt(1.0 - x * x), "x")
Acos = _unary("acos", lambda xp, x: xp.arccos(x), lambda gy, x, y: -gy * rsqrt(1.0 - x * x), "x")
Sinh = _unary("sinh", lambda xp, x: xp.sinh(x), lambda gy, x, y: gy * cosh(x), "x")
Cosh = _unary("cosh", lambda xp, x: xp.cosh(x), lambda gy, x, y: gy * sinh(x), "x")
Tanh = _unary("tanh", lambda xp, x: xp.tanh(x), lambda gy, x, y: gy * (1.0 - y * y), "y")
Erf = _unary("erf", lambda xp, x: kernels.erf(xp, x),
             lambda gy, x, y: gy * (_TWO_OVER_SQRT_PI * exp(-(x * x))), "x")
Sign = _unary("sign", lambda xp, x: _sign(xp, x), doc="y = sign(x) in {-1, 0, 1} (0 for NaN, as PyTorch); zero gradient.")
Floor = _unary("floor", lambda xp, x: xp.floor(x), doc="y = floor(x); zero gradient.")
Ceil = _unary("ceil", lambda xp, x: xp.ceil(x), doc="y = ceil(x); zero gradient.")
Trunc = _unary("trunc", lambda xp, x: xp.trunc(x), doc="y = trunc(x) (toward zero); zero gradient.")


@register_op("round")
class Round(Function):
    """y = round(x, decimals), halves to even (like PyTorch); zero gradient."""

    @staticmethod
    def forward(ctx, x, *, decimals=0):
        return ctx.xp.round(x, decimals)

    @staticmethod
    def backward(ctx, gy):
        return full_like_op(gy, 0.0)


def _float_unary(cls):
    """Public wrapper: integer/bool inputs are promoted to the default float dtype first (as PyTorch)."""

    def fn(input: Tensor) -> Tensor:
        if input._data.dtype.kind != "f":
            input = cast(input, default_float())
        return cls.apply(input)

    fn.__name__ = cls.op_name
    fn.__doc__ = cls.__doc__
    return fn


exp, exp2, expm1 = _float_unary(Exp), _float_unary(Exp2), _float_unary(Expm1)
log, log2, log10, log1p = _float_unary(Log), _float_unary(Log2), _float_unary(Log10), _float_unary(Log1p)
sqrt, rsqrt, reciprocal = _float_unary(Sqrt), _float_unary(Rsqrt), _float_unary(Reciprocal)
sin, cos, tan, atan = _float_unary(Sin), _float_unary(Cos), _float_unary(Tan), _float_unary(Atan)
asin, acos = _float_unary(Asin), _float_unary(Acos)
sinh, cosh, tanh, erf = _float_unary(Sinh), _float_unary(Cosh), _float_unary(Tanh), _float_unary(Erf)
arctan, arcsin, arccos = atan, asin, acos


def abs(input: Tensor) -> Tensor:
    return Abs.apply(input)


absolute = abs


def sign(input: Tensor) -> Tensor:
    return Sign.apply(input)


def _keeps_int(cls):
    def fn(input: Tensor) -> Tensor:
        if input._data.dtype.kind != "f":
            return input.clone() if hasattr(input, "clone") else input
        return cls.apply(input)

    fn.__name__ = cls.op_name
    fn.__doc__ = cls.__doc__
    return fn


floor, ceil, trunc = _keeps_int(Floor), _keeps_int(Ceil), _keeps_int(Trunc)
fix = trunc


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    if input._data.dtype.kind != "f" and decimals >= 0:
        return input
    return Round.apply(input, decimals=int(decimals))


def square(input: Tensor) -> Tensor:
    """x * x."""
    return mul(input, input)


# -- selection and clamping ------------------------------------------------------------------------

@register_op("where")
class Where(Function):
    """y = a where cond else b. ``cond`` is bool and gets no gradient; a, b may be numbers."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(ctx.input(0))
        return ctx.xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, gy):
        (cond,) = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        return (None,
                where(cond, gy, 0.0) if need_a else None,
                where(cond, 0.0, gy) if need_b else None)


def where(condition: Tensor, input=None, other=None) -> Tensor:
    """Elementwise choice ``input if condition else other``; ``where(cond)`` is ``nonzero(as_tuple)``."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if condition._data.dtype.kind != "b":
        condition = cast(condition, _dtype.BOOL)
    a, b = promote_args(input, other) if isinstance(input, Tensor) or isinstance(other, Tensor) else (input, other)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        dt = _dtype.result_type(a, b)
        a = full_like_op(condition, a, dtype=dt)
    return _apply(Where, condition, a, b)


@register_op("clamp")
class Clamp(Function):
    """y = min(max(x, lo), hi); lo/hi are None, numbers or tensors.

    The gradient goes to x where lo <= x <= hi, to lo where x < lo and to hi where x > hi.
    """

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(ctx.input(0), ctx.input(1), ctx.input(2))
        y = x
        if lo is not None:
            y = ctx.xp.maximum(y, lo)
        if hi is not None:
            y = ctx.xp.minimum(y, hi)
        return y if y is not x else x.copy()

    @staticmethod
    def backward(ctx, gy):
        x, lo, hi = ctx.saved_tensors
        inside = None
        if lo is not None:
            inside = x >= lo
        if hi is not None:
            below_hi = x <= hi
            inside = below_hi if inside is None else inside & below_hi
        gx = where(inside, gy, 0.0) if inside is not None else gy
        # When lo >= hi the result is hi everywhere (min is applied last), so hi gets the gradient.
        glo = ghi = None
        if ctx.needs_input_grad[1]:
            below = x < lo
            glo = where(below if hi is None else below & (lo < hi), gy, 0.0)
        if ctx.needs_input_grad[2]:
            above = x > hi
            ghi = where(above if lo is None else above | (lo >= hi), gy, 0.0)
        return gx, glo, ghi


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Limit values to [min, max]; either bound may be None, a number or a tensor."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    min, max = to_python_scalar(min), to_python_scalar(max)
    if input._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        input = cast(input, default_float())
    dt = input._data.dtype
    if isinstance(min, Tensor) and min.dtype != dt:
        min = cast(min, dt)
    if isinstance(max, Tensor) and max.dtype != dt:
        max = cast(max, dt)
    return _apply(Clamp, input, min, max)


clip = clamp


def clamp_min(input: Tensor, min) -> Tensor:
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    return clamp(input, max=max)


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """input + weight * (end - input)."""
    return input + weight * (end - input)


@register_op("nan_to_num")
class NanToNum(Function):
    """Replace NaN, +inf and -inf by finite numbers; the gradient passes where x was finite."""

    @staticmethod
    def forward(ctx, x, *, nan=0.0, posinf=None, neginf=None):
        ctx.save_for_backward(ctx.input(0))
        return ctx.xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return where(isfinite(x), gy, 0.0)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    if input._data.dtype.kind != "f":
        return input
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


# Comparisons/logic and casts live in their own files (comparison.py, conversion.py); the op modules
# written against this one use them in backward formulas as ``E.cast``, ``E.ne``, ``E.isfinite``...
from .comparison import (allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, equal, ge,  # noqa: E402,F401
                         greater, greater_equal, gt, isclose, isfinite, isinf, isnan, le, less, less_equal,
                         logical_and, logical_not, logical_or, logical_xor, lt, ne, not_equal)
from .conversion import Cast, ToDevice, cast, to_device  # noqa: E402,F401
