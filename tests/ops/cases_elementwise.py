"""Op-table rows for elementwise arithmetic, math functions, selection, comparisons and casts."""

import numpy as np
from scipy import special

import ember
from ember.ops import elementwise as E

from .opcase import Bool, Const, Int, OpCase

S = (2, 3)


def positive(x):
    return np.abs(x) + 0.5


def nonzero(x):
    """Away from 0 (and from the kinks of abs/sign-like functions)."""
    return np.sign(x) * (np.abs(x) + 0.5)


def unit(x):
    """Inside (-0.9, 0.9): the domain of asin/acos."""
    return 0.9 * np.tanh(x)


def off_integers(x):
    """Away from integers, where floor/ceil/round/trunc/remainder jump."""
    return np.floor(x * 2) / 2 + 0.25 + 0.1 * np.tanh(x)


def case(name, fn, ref, inputs, covers, **kw):
    return OpCase(name, fn, ref, inputs, covers=tuple(covers.split()), **kw)


_special_values = np.array([[1.0, np.nan, -2.0], [np.inf, -np.inf, 0.5]])

CASES = [
    # -- arithmetic ---------------------------------------------------------------------------------
    case("add", lambda a, b: a + b, np.add, [S, (3,)], "add"),
    case("add_alpha", lambda a, b: ember.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b, [S, S], "add mul"),
    case("add_scalar", lambda a: a + 2.5, lambda a: a + 2.5, [S], "add"),
    case("radd_scalar", lambda a: 2 + a, lambda a: 2 + a, [S], "add"),
    case("sub", lambda a, b: a - b, np.subtract, [S, (2, 1)], "sub"),
    case("sub_alpha", lambda a, b: ember.sub(a, b, alpha=3), lambda a, b: a - 3 * b, [S, S], "sub mul"),
    case("rsub_scalar", lambda a: 1.5 - a, lambda a: 1.5 - a, [S], "sub"),
    case("mul", lambda a, b: a * b, np.multiply, [S, (2, 1)], "mul"),
    case("mul_same_tensor", lambda a: a * a, lambda a: a * a, [S], "mul"),
    case("rmul_scalar", lambda a: 3 * a, lambda a: 3 * a, [S], "mul"),
    case("div", lambda a, b: a / b, np.divide, [S, (3,)], "div", domain=nonzero),
    case("rdiv_scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, [S], "div", domain=nonzero),
    case("div_floor", lambda a, b: ember.div(a, b, rounding_mode="floor"), np.floor_divide, [S, S],
         "floor_divide", domain=nonzero),
    case("floordiv_operator", lambda a, b: a // b, np.floor_divide, [S, S], "floor_divide", domain=nonzero),
    case("div_trunc", lambda a, b: ember.div(a, b, rounding_mode="trunc"), lambda a, b: np.trunc(a / b),
         [S, S], "div trunc", domain=nonzero),
    case("remainder", lambda a, b: a % b, np.remainder, [S, S], "remainder floor div", domain=nonzero),
    case("remainder_scalar", lambda a: ember.remainder(a, 1.5), lambda a: np.remainder(a, 1.5), [S],
         "remainder"),
    case("neg", lambda a: -a, np.negative, [S], "neg"),
    case("pow_tensor_tensor", lambda a, b: a ** b, np.power, [S, S], "pow log where", domain=positive),
    case("pow_scalar_exponent", lambda a: a ** 3, lambda a: a ** 3, [S], "pow"),
    case("pow_square", lambda a: ember.pow(a, 2), lambda a: a ** 2, [S], "pow"),
    case("pow_fractional", lambda a: a ** 0.5, np.sqrt, [S], "pow", domain=positive),
    case("pow_negative", lambda a: a ** -1.5, lambda a: a ** -1.5, [S], "pow", domain=positive),
    case("pow_zero_exponent", lambda a: a ** 0, lambda a: a ** 0, [S], "pow full_like"),
    case("rpow_scalar_base", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [S], "pow"),
    case("pow_int_tensor_exponent", lambda a, n: a ** n, lambda a, n: a ** n, [S, Int(S, 0, 4)], "pow"),
    case("square", ember.square, np.square, [S], "mul"),
    case("reciprocal", ember.reciprocal, np.reciprocal, [S], "reciprocal", domain=nonzero),
    case("maximum", ember.maximum, np.maximum, [S, (3,)], "maximum"),
    case("minimum", ember.minimum, np.minimum, [S, (2, 1)], "minimum"),
    case("atan2", ember.atan2, np.arctan2, [S, S], "atan2", domain=nonzero),
    case("lerp_scalar", lambda a, b: ember.lerp(a, b, 0.3), lambda a, b: a + 0.3 * (b - a), [S, S], "add sub mul"),
    case("lerp_tensor", ember.lerp, lambda a, b, w: a + w * (b - a), [S, S, (3,)], "add sub mul"),
    # -- unary math ---------------------------------------------------------------------------------
    case("exp", ember.exp, np.exp, [S], "exp"),
    case("exp2", ember.exp2, np.exp2, [S], "exp2"),
    case("expm1", ember.expm1, np.expm1, [S], "expm1"),
    case("log", ember.log, np.log, [S], "log", domain=positive),
    case("log2", ember.log2, np.log2, [S], "log2", domain=positive),
    case("log10", ember.log10, np.log10, [S], "log10", domain=positive),
    case("log1p", ember.log1p, np.log1p, [S], "log1p", domain=lambda x: np.abs(x) - 0.5),
    case("sqrt", ember.sqrt, np.sqrt, [S], "sqrt", domain=positive),
    case("rsqrt", ember.rsqrt, lambda a: 1 / np.sqrt(a), [S], "rsqrt", domain=positive),
    case("abs", ember.abs, np.abs, [S], "abs sign", domain=nonzero),
    case("sign_with_zeros", ember.sign, np.sign, [Const([[-2.0, 0.0, 3.0], [0.5, -0.1, 0.0]])], "sign", grad=False),
    case("sign", ember.sign, np.sign, [S], "sign", domain=nonzero),
    case("sin", ember.sin, np.sin, [S], "sin cos"),
    case("cos", ember.cos, np.cos, [S], "cos sin neg"),
    case("tan", ember.tan, np.tan, [S], "tan", domain=unit),
    case("atan", ember.atan, np.arctan, [S], "atan"),
    case("asin", ember.asin, np.arcsin, [S], "asin rsqrt", domain=unit),
    case("acos", ember.acos, np.arccos, [S], "acos rsqrt", domain=unit),
    case("sinh", ember.sinh, np.sinh, [S], "sinh cosh"),
    case("cosh", ember.cosh, np.cosh, [S], "cosh sinh"),
    case("tanh", ember.tanh, np.tanh, [S], "tanh"),
    case("erf", ember.erf, special.erf, [S], "erf exp"),
    case("floor", ember.floor, np.floor, [S], "floor", domain=off_integers),
    case("ceil", ember.ceil, np.ceil, [S], "ceil", domain=off_integers),
    case("trunc", ember.trunc, np.trunc, [S], "trunc", domain=off_integers),
    case("round", ember.round, np.round, [S], "round", domain=off_integers),
    case("round_decimals", lambda a: ember.round(a, decimals=1), lambda a: np.round(a, 1), [S], "round",
         domain=lambda x: np.floor(x * 20) / 20 + 0.02),
    case("float_unary_of_int", lambda n: ember.exp(n), lambda n: np.exp(n).astype(np.float32),
         [Int(S, -2, 3)], "exp cast", grad=False),
    # -- selection, clamping ------------------------------------------------------------------------
    case("where", ember.where, np.where, [Bool(S), S, (3,)], "where"),
    case("where_scalar_other", lambda c, a: ember.where(c, a, 0.0), lambda c, a: np.where(c, a, 0.0),
         [Bool(S), S], "where"),
    case("where_scalars", lambda c: ember.where(c, 1.0, -1.0),
         lambda c: np.where(c, 1.0, -1.0).astype(np.float32), [Bool(S)], "where full_like", grad=False),
    case("clamp_scalars", lambda a: ember.clamp(a, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), [S], "clamp"),
    case("clamp_min_only", lambda a: ember.clamp(a, min=0.1), lambda a: np.maximum(a, 0.1), [S], "clamp"),
    case("clamp_max_only", lambda a: a.clamp(max=0.1), lambda a: np.minimum(a, 0.1), [S], "clamp"),
    case("clamp_tensors", lambda a, lo, hi: ember.clamp(a, lo, hi),
         lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi), [S, (3,), (2, 1)], "clamp",
         domain=lambda x: x * 2, seed=3),
    case("nan_to_num", lambda a: ember.nan_to_num(a, nan=0.5, posinf=9.0, neginf=-9.0),
         lambda a: np.nan_to_num(a, nan=0.5, posinf=9.0, neginf=-9.0), [Const(_special_values)], "nan_to_num"),
    case("isnan", ember.isnan, np.isnan, [Const(_special_values)], "isnan", grad=False),
    case("isinf", ember.isinf, np.isinf, [Const(_special_values)], "isinf", grad=False),
    case("isfinite", ember.isfinite, np.isfinite, [Const(_special_values)], "isfinite", grad=False),
    # -- comparisons and logic ----------------------------------------------------------------------
    case("eq", lambda a, b: a == b, np.equal, [Int(S), Int((3,))], "eq", grad=False),
    case("ne", lambda a, b: a != b, np.not_equal, [Int(S), Int(S)], "ne", grad=False),
    case("lt", lambda a, b: a < b, np.less, [S, S], "lt", grad=False),
    case("le", lambda a, b: a <= b, np.less_equal, [Int(S), Int(S)], "le", grad=False),
    case("gt", lambda a: a > 0.2, lambda a: a > 0.2, [S], "gt", grad=False),
    case("ge", ember.ge, np.greater_equal, [Int(S), Int(S)], "ge", grad=False),
    case("logical_and", ember.logical_and, np.logical_and, [Bool(S), Bool(S)], "logical_and", grad=False),
    case("logical_or", ember.logical_or, np.logical_or, [Bool(S), Int(S, 0, 2)], "logical_or", grad=False),
    case("logical_xor", ember.logical_xor, np.logical_xor, [Bool(S), Bool(S)], "logical_xor", grad=False),
    case("logical_not", ember.logical_not, np.logical_not, [S], "logical_not", grad=False),
    case("invert_bool", lambda m: ~m, np.logical_not, [Bool(S)], "logical_not", grad=False),
    case("bitwise_and", lambda a, b: a & b, np.bitwise_and, [Int(S, 0, 8), Int(S, 0, 8)], "bitwise_and", grad=False),
    case("bitwise_or", lambda a, b: a | b, np.bitwise_or, [Bool(S), Bool(S)], "bitwise_or", grad=False),
    case("bitwise_xor", lambda a, b: a ^ b, np.bitwise_xor, [Int(S, 0, 8), Int(S, 0, 8)], "bitwise_xor", grad=False),
    case("bitwise_not", lambda a: ~a, np.invert, [Int(S, -4, 4)], "bitwise_not", grad=False),
    # -- dtype / device -----------------------------------------------------------------------------
    case("cast_to_int", lambda a: a.to(ember.int64), lambda a: a.astype(np.int64), [S], "cast",
         domain=lambda x: x * 5, grad=False),
    case("cast_roundtrip", lambda a: a.float().double() if a.dtype == np.float64 else a.double().float(),
         lambda a: a, [S], "cast", grad=False),
    case("to_device_cpu", lambda a: E.ToDevice.apply(a, device="cpu") * 2.0, lambda a: a * 2, [S], "to_device mul"),
    case("full_like_op", lambda a: a * E.full_like_op(a, 2.0, shape=(3,)), lambda a: a * 2, [S], "full_like mul"),
]
