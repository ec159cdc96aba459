"""Comparisons, logical and bitwise ops, and NaN/Inf tests: bool (or integer) results, no gradient.

Arguments promote like the arithmetic ops (``ops._util.promote_args``); either may be a Python number.
"""

from __future__ import annotations

from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from ._util import promote_args
from .elementwise import _apply


def _predicate(name: str, compute, n_inputs: int):
    def forward(ctx, *arrays):
        return compute(ctx.xp, *arrays)

    cls = type("".join(p.capitalize() for p in name.split("_")), (Function,), {
        "__doc__": f"Elementwise {name}; the result carries no gradient.",
        "forward": staticmethod(forward),
        "backward": staticmethod(lambda ctx, *g: (None,) * n_inputs),
        "__module__": __name__,
    })
    return register_op(name)(cls)


Eq = _predicate("eq", lambda xp, a, b: xp.equal(a, b), 2)
Ne = _predicate("ne", lambda xp, a, b: xp.not_equal(a, b), 2)
Lt = _predicate("lt", lambda xp, a, b: xp.less(a, b), 2)
Le = _predicate("le", lambda xp, a, b: xp.less_equal(a, b), 2)
Gt = _predicate("gt", lambda xp, a, b: xp.greater(a, b), 2)
Ge = _predicate("ge", lambda xp, a, b: xp.greater_equal(a, b), 2)
LogicalAnd = _predicate("logical_and", lambda xp, a, b: xp.logical_and(a, b), 2)
LogicalOr = _predicate("logical_or", lambda xp, a, b: xp.logical_or(a, b), 2)
LogicalXor = _predicate("logical_xor", lambda xp, a, b: xp.logical_xor(a, b), 2)
LogicalNot = _predicate("logical_not", lambda xp, a: xp.logical_not(a), 1)
BitwiseAnd = _predicate("bitwise_and", lambda xp, a, b: xp.bitwise_and(a, b), 2)
BitwiseOr = _predicate("bitwise_or", lambda xp, a, b: xp.bitwise_or(a, b), 2)
BitwiseXor = _predicate("bitwise_xor", lambda xp, a, b: xp.bitwise_xor(a, b), 2)
BitwiseNot = _predicate("bitwise_not", lambda xp, a: xp.invert(a), 1)
IsNan = _predicate("isnan", lambda xp, a: xp.isnan(a), 1)
IsInf = _predicate("isinf", lambda xp, a: xp.isinf(a), 1)
IsFinite = _predicate("isfinite", lambda xp, a: xp.isfinite(a), 1)


def _compare(cls):
    def fn(input, other) -> Tensor:
        a, b = promote_args(input, other)
        return _apply(cls, a, b)

    fn.__name__ = cls.op_name
    return fn


eq, ne, lt, le, gt, ge = (_compare(c) for c in (Eq, Ne, Lt, Le, Gt, Ge))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def logical_and(input, other) -> Tensor:
    return _apply(LogicalAnd, input, other)


def logical_or(input, other) -> Tensor:
    return _apply(LogicalOr, input, other)


def logical_xor(input, other) -> Tensor:
    return _apply(LogicalXor, input, other)


def logical_not(input) -> Tensor:
    return LogicalNot.apply(input)


def _check_bitwise(op, *vals):
    for v in vals:
        if isinstance(v, Tensor) and v._data.dtype.kind == "f" or isinstance(v, float):
            raise op_error(op, "only integer and bool tensors are supported",
                           *[x for x in vals if isinstance(x, Tensor)])


def bitwise_and(input, other) -> Tensor:
    _check_bitwise("bitwise_and", input, other)
    return _apply(BitwiseAnd, *promote_args(input, other))


def bitwise_or(input, other) -> Tensor:
    _check_bitwise("bitwise_or", input, other)
    return _apply(BitwiseOr, *promote_args(input, other))


def bitwise_xor(input, other) -> Tensor:
    _check_bitwise("bitwise_xor", input, other)
    return _apply(BitwiseXor, *promote_args(input, other))


def bitwise_not(input) -> Tensor:
    _check_bitwise("bitwise_not", input)
    return BitwiseNot.apply(input)


def isnan(input) -> Tensor:
    return IsNan.apply(input)


def isinf(input) -> Tensor:
    return IsInf.apply(input)


def isfinite(input) -> Tensor:
    return IsFinite.apply(input)


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    return Tensor._make(input.device.xp.isclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return bool(input.device.xp.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    """True when shapes and all values are equal."""
    return input.shape == other.shape and bool((input._data == other._data).all())


