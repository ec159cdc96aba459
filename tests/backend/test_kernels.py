"""Backend kernels: both erf paths (SciPy and the math.erf fallback) and the float32 approximation."""

import math

import numpy as np
import pytest

from ember.backend import kernels

X = np.linspace(-6.0, 6.0, 241)
EXACT = np.array([math.erf(v) for v in X])


def test_erf_float64_is_exact():
    np.testing.assert_allclose(kernels.erf(np, X), EXACT, rtol=1e-15, atol=1e-16)


def test_erf_float64_fallback_without_scipy(monkeypatch):
    monkeypatch.setattr(kernels, "_exact_erf_impl", kernels._erf_scalar)
    out = kernels.erf(np, X)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, EXACT)


def test_erf_float32_within_a_few_ulps():
    out = kernels.erf(np, X.astype(np.float32))
    assert out.dtype == np.float32
    assert np.max(np.abs(out - EXACT)) < 6e-7


@pytest.mark.parametrize("shape", [(0,), (3, 0), (70000,), (2, 3, 4)])
def test_erf_float32_shapes(shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out = kernels.erf(np, x)
    assert out.shape == x.shape
    want = np.array([math.erf(v) for v in x.reshape(-1)], dtype=np.float64).reshape(shape)
    np.testing.assert_allclose(out, want, atol=6e-7)
