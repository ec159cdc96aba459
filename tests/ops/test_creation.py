"""Tensor factories: dtype inference, dtype=/device=/requires_grad=, memory sharing, and their errors."""

import numpy as np
import pytest

import ember

ALL_DTYPES = [ember.float16, ember.float32, ember.float64, ember.int8, ember.int16, ember.int32, ember.int64,
              ember.uint8, ember.bool]


def test_tensor_infers_dtype_like_pytorch():
    assert ember.tensor([1, 2]).dtype == np.int64
    assert ember.tensor([1, 2.5]).dtype == np.float32
    assert ember.tensor([[True, False]]).dtype == np.bool_
    assert ember.tensor(3).shape == () and ember.tensor(3).dtype == np.int64
    assert ember.tensor(2.5).dtype == np.float32
    assert ember.tensor([]).dtype == np.float32 and ember.tensor([]).shape == (0,)
    assert ember.tensor(np.array([1, 2], np.int32)).dtype == np.int32      # arrays keep their dtype
    assert ember.tensor(np.array([1.0], np.float64)).dtype == np.float64
    assert ember.tensor([ember.tensor(1.0), ember.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_default_dtype_controls_float_factories():
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1.5]).dtype == np.float64
        assert ember.zeros(2).dtype == np.float64
        assert ember.arange(0.0, 1.0, 0.5).dtype == np.float64
        assert ember.get_default_dtype() == np.float64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError, match="only floating-point types"):
        ember.set_default_dtype(ember.int32)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_every_factory_honours_dtype(dtype):
    for t in (ember.tensor([1, 0], dtype=dtype), ember.zeros(2, dtype=dtype), ember.ones((2,), dtype=dtype),
              ember.empty(2, dtype=dtype), ember.full((2,), 1, dtype=dtype), ember.eye(2, dtype=dtype),
              ember.as_tensor([1, 0], dtype=dtype), ember.zeros_like(ember.ones(2), dtype=dtype)):
        assert t.dtype == dtype
    assert ember.tensor([1, 0], dtype=dtype).tolist() == np.array([1, 0]).astype(dtype).tolist()


def test_string_and_python_type_dtypes():
    assert ember.zeros(1, dtype="float64").dtype == np.float64
    assert ember.zeros(1, dtype=float).dtype == np.float32
    assert ember.zeros(1, dtype=int).dtype == np.int64
    assert ember.zeros(1, dtype=ember.long).dtype == np.int64 and ember.half == np.float16
    with pytest.raises(TypeError, match="unknown dtype 'complex64'"):
        ember.zeros(1, dtype="complex64")
    with pytest.raises(TypeError, match="can't convert an array of dtype complex128"):
        ember.tensor(np.array([1 + 2j]))


def test_shapes_values_and_like_factories():
    np.testing.assert_array_equal(ember.zeros(2, 3).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(ember.ones([2, 3]).numpy(), np.ones((2, 3)))
    assert ember.zeros((2, 3)).shape == (2, 3) and ember.empty(4, 1).shape == (4, 1)
    f = ember.full((2, 2), 7)
    assert f.dtype == np.int64 and f.tolist() == [[7, 7], [7, 7]]
    assert ember.full((1,), True).dtype == np.bool_ and ember.full((1,), 1.5).dtype == np.float32
    x = ember.tensor([[1, 2, 3]], dtype=ember.int32)
    for like, value in ((ember.zeros_like, 0), (ember.ones_like, 1)):
        y = like(x)
        assert y.shape == x.shape and y.dtype == np.int32 and (y.numpy() == value).all()
    assert ember.empty_like(x).shape == (1, 3)
    fl = ember.full_like(x, 4, dtype=ember.float64)
    assert fl.dtype == np.float64 and fl.tolist() == [[4.0, 4.0, 4.0]]
    np.testing.assert_array_equal(ember.eye(2, 3).numpy(), np.eye(2, 3))


def test_arange_matches_pytorch_rules():
    a = ember.arange(5)
    assert a.dtype == np.int64 and a.tolist() == [0, 1, 2, 3, 4]
    assert ember.arange(1, 10, 3).tolist() == [1, 4, 7]
    assert ember.arange(10, 0, -3).tolist() == [10, 7, 4, 1]
    f = ember.arange(0, 1, 0.1)
    assert f.dtype == np.float32 and f.shape == (10,)
    # computed in float64 and rounded once: exact float32 roundings of k / 10
    np.testing.assert_array_equal(f.numpy(), (np.arange(10) * 0.1).astype(np.float32))
    assert ember.arange(0, 3, dtype=ember.float64).dtype == np.float64
    with pytest.raises(RuntimeError, match="arange: step must be nonzero"):
        ember.arange(0, 3, 0)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        ember.arange(0, 3, -1)


def test_linspace_and_logspace():
    x = ember.linspace(-1, 1, 5)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x.numpy(), [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_allclose(ember.logspace(0, 2, 3).numpy(), [1, 10, 100])
    assert ember.linspace(0, 1, 3, dtype=ember.float64).dtype == np.float64


def test_requires_grad_and_device_arguments():
    for t in (ember.zeros(2, requires_grad=True), ember.ones(2, requires_grad=True),
              ember.tensor([1.0], requires_grad=True), ember.arange(3.0, requires_grad=True),
              ember.full((2,), 1.0, requires_grad=True), ember.eye(2, requires_grad=True)):
        assert t.requires_grad and t.is_leaf
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        ember.tensor([1, 2], requires_grad=True)
    for t in (ember.zeros(2, device="cpu"), ember.tensor([1], device=ember.device("cpu")),
              ember.arange(2, device="cpu")):
        assert t.device == "cpu" and t.device.type == "cpu"
    with pytest.raises((RuntimeError, ValueError), match="unknown device kind 'tpu'"):
        ember.zeros(2, device="tpu")


def test_tensor_copies_but_as_tensor_and_from_numpy_share():
    a = np.zeros(3, np.float32)
    copied, shared, wrapped = ember.tensor(a), ember.as_tensor(a), ember.from_numpy(a)
    a[0] = 5.0
    assert copied.tolist()[0] == 0.0
    assert shared.tolist()[0] == 5.0 and wrapped.tolist()[0] == 5.0
    wrapped.add_(1.0)
    np.testing.assert_array_equal(a, [6.0, 1.0, 1.0])
    t = ember.tensor([1.0, 2.0])
    assert ember.as_tensor(t) is t
    assert ember.as_tensor(t, dtype=ember.float64).dtype == np.float64
    with pytest.raises(TypeError, match="expected np.ndarray"):
        ember.from_numpy([1, 2])
    with pytest.raises(TypeError, match="can't convert np.ndarray of type complex128"):
        ember.from_numpy(np.zeros(2, np.complex128))


def test_from_dlpack_shares_memory():
    a = np.arange(4.0)
    t = ember.from_dlpack(a)
    a[1] = 9.0
    assert t.tolist() == [0.0, 9.0, 2.0, 3.0]
    back = np.from_dlpack(ember.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(back, [1.0, 2.0])
