"""PyTorch's type promotion: categories bool < int < float; dimensioned tensors outrank 0-d tensors,
which outrank Python scalars, inside a category; a Python (or NumPy) scalar never upcasts a float tensor."""

import importlib
import itertools

import numpy as np
import pytest

import ember

from .opcase import as_tuple, make_inputs

F16, F32, F64 = np.float16, np.float32, np.float64
I8, I16, I32, I64, U8, B = np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_


def t(dtype, zero_dim=False):
    return ember.tensor(1 if zero_dim else [1, 2], dtype=dtype)


@pytest.mark.parametrize("a,b,want", [
    (F32, F32, F32), (F32, F64, F64), (F16, F32, F32), (F16, F64, F64),
    (I32, I64, I64), (I8, U8, I16), (I8, I16, I16), (U8, I64, I64), (B, U8, U8), (B, I32, I32),
    (I64, F16, F16), (I64, F32, F32), (U8, F64, F64), (B, F32, F32), (B, B, B),
])
def test_tensor_tensor(a, b, want):
    for x, y in [(t(a), t(b)), (t(b), t(a))]:
        assert (x + y).dtype == want
        assert (x * y).dtype == want
        assert ember.maximum(x, y).dtype == want


@pytest.mark.parametrize("dims,zero,want", [
    (F32, F64, F32),     # same category: the dimensioned tensor wins
    (F16, F64, F16),
    (I32, I64, I32),
    (U8, I64, U8),
    (I64, F64, F64),     # higher category in the 0-d tensor: its dtype
    (I32, F16, F16),
    (B, I32, I32),
])
def test_zero_dim_tensor(dims, zero, want):
    assert (t(dims) + t(zero, zero_dim=True)).dtype == want
    assert (t(zero, zero_dim=True) * t(dims)).dtype == want


@pytest.mark.parametrize("dtype", [F16, F32, F64])
@pytest.mark.parametrize("scalar", [2, 2.5, True, np.float64(2.5), np.int64(3)])
def test_python_scalar_does_not_upcast_float(dtype, scalar):
    x = t(dtype)
    for y in (x + scalar, scalar + x, x * scalar, scalar * x, x / scalar, x ** scalar):
        assert y.dtype == dtype
    if type(scalar) is not bool:  # PyTorch refuses subtraction with a bool
        assert (x - scalar).dtype == dtype and (scalar - x).dtype == dtype


def test_int_tensor_with_float_scalar_gives_default_float():
    n = ember.tensor([1, 2, 3])
    y = n * 2.5
    assert y.dtype == F32
    np.testing.assert_allclose(y.numpy(), [2.5, 5.0, 7.5])
    assert (2.5 * n).dtype == F32 and (n + 0.5).dtype == F32 and (n ** 0.5).dtype == F32
    ember.set_default_dtype(ember.float64)
    try:
        assert (n * 2.5).dtype == F64
    finally:
        ember.set_default_dtype(ember.float32)


@pytest.mark.parametrize("dtype", [I8, I16, I32, I64, U8])
def test_int_tensor_with_int_scalar_keeps_dtype(dtype):
    x = t(dtype)
    assert (x + 3).dtype == dtype and (3 * x).dtype == dtype and (x // 2).dtype == dtype
    assert (x % 2).dtype == dtype and (x ** 2).dtype == dtype


def test_bool_tensor_with_scalars():
    m = ember.tensor([True, False])
    assert (m + 1).dtype == I64
    assert (m ** 2).dtype == I64
    assert (m * 1.5).dtype == F32
    assert (m & True).dtype == B


def test_true_division_of_integers_is_float():
    a, b = ember.tensor([7, -7]), ember.tensor([2, 2])
    q = a / b
    assert q.dtype == F32
    np.testing.assert_array_equal(q.numpy(), [3.5, -3.5])
    assert (a / 2).dtype == F32 and (7 / b).dtype == F32
    np.testing.assert_array_equal((a // b).numpy(), [3, -4])
    trunc = ember.div(a, b, rounding_mode="trunc")
    assert trunc.dtype == I64
    np.testing.assert_array_equal(trunc.numpy(), [3, -3])


def test_comparison_across_categories_compares_values():
    n = ember.tensor([1, 2, 3])
    np.testing.assert_array_equal((n < 2.5).numpy(), [True, True, False])
    np.testing.assert_array_equal((n == ember.tensor([1.0, 2.5, 3.0])).numpy(), [True, False, True])
    assert (n > 1).dtype == B


def test_where_and_clamp_promote():
    c = ember.tensor([True, False])
    assert ember.where(c, ember.tensor([1, 2]), ember.tensor([0.5, 0.5])).dtype == F32
    assert ember.where(c, ember.tensor([1, 2]), 0.5).dtype == F32
    assert ember.where(c, 1.0, 0.0).dtype == F32
    assert ember.clamp(ember.tensor([1, 5]), 0, 3).dtype == I64
    assert ember.clamp(ember.tensor([1, 5]), 0.5, 3).dtype == F32


def test_float_functions_of_int_tensors_are_float():
    n = ember.tensor([1, 4])
    for fn in (ember.exp, ember.sqrt, ember.log, ember.sin, ember.sigmoid, ember.tanh):
        assert fn(n).dtype == F32
    np.testing.assert_allclose(ember.sqrt(n).numpy(), [1.0, 2.0])
    assert ember.abs(ember.tensor([-1, 2])).dtype == I64
    assert ember.sum(ember.tensor([1, 2], dtype=ember.int8)).dtype == I64
    assert ember.cat([ember.tensor([1]), ember.tensor([0.5])]).dtype == F32


def test_gradient_has_the_input_dtype():
    x = ember.tensor([1.0, 2.0], dtype=ember.float32, requires_grad=True)
    y = ember.tensor([3.0, 4.0], dtype=ember.float64, requires_grad=True)
    (x * y).sum().backward()
    assert (x * y).dtype == F64
    assert x.grad.dtype == F32 and y.grad.dtype == F64
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_matmul_requires_equal_dtypes():
    with pytest.raises(RuntimeError, match=r"matmul: expected both inputs to have the same dtype.*float32.*float64"):
        ember.ones(2, 3) @ ember.ones(3, 2, dtype=ember.float64)


def test_subtracting_bool_tensors_is_an_error():
    with pytest.raises(RuntimeError, match="sub: subtraction with a bool tensor is not supported"):
        ember.tensor([True]) - ember.tensor([False])
    with pytest.raises(RuntimeError, match="sub: subtraction with a bool"):
        ember.tensor([1.0]) - True


def test_all_pairs_are_closed_under_supported_dtypes():
    dtypes = [F16, F32, F64, I8, I16, I32, I64, U8, B]
    for a, b in itertools.product(dtypes, dtypes):
        d = (t(a) * t(b)).dtype
        assert d in [np.dtype(x) for x in dtypes], (a, b, d)


_CORE_TABLES = ["elementwise", "activation", "reduction", "shape", "indexing", "linalg"]
_CORE_CASES = [c for m in _CORE_TABLES for c in importlib.import_module(f"tests.ops.cases_{m}").CASES
               if c.name != "cast_roundtrip"]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_core_ops_keep_the_float_dtype_of_their_inputs(dtype):
    """No float64 leaks (NumPy scalars, default-dtype constants) and no silent upcasts of float16."""
    checked = 0
    with np.errstate(all="ignore"):
        for case in _CORE_CASES:
            tensors, _ = make_inputs(case, dtype)
            if not any(isinstance(t, ember.Tensor) and t.dtype.kind == "f" for t in tensors):
                continue
            for out in as_tuple(case.fn(*tensors)):
                if out.dtype.kind == "f":
                    assert out.dtype == dtype, f"{case.name}: {dtype.__name__} input gave {out.dtype}"
                    checked += 1
    assert checked > 200
