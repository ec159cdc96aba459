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


def _gelu_ref(x):
    x = x.astype(np.float64)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return x * cdf, cdf + x * pdf


@pytest.mark.parametrize("threads", [1, 3])
def test_gelu_and_its_gradient_in_float32_blocks(monkeypatch, threads):
    """Several blocks (some on worker threads), a partial last block; values against float64."""
    from ember.backend import parallel as P
    monkeypatch.setattr(P, "workers", lambda xp: 1 if getattr(P._state, "in_worker", False) else threads)
    monkeypatch.setattr(P, "PARALLEL_FLOPS", 0)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, kernels.BLOCK + 123)) * 3).astype(np.float32)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    y_ref, dy_ref = _gelu_ref(x)
    y, gx = kernels.gelu(np, x), kernels.gelu_grad(np, gy, x)
    assert y.dtype == gx.dtype == np.float32 and y.shape == gx.shape == x.shape
    np.testing.assert_allclose(y, y_ref, rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(gx, gy * dy_ref, rtol=2e-6, atol=2e-6)


def test_gelu_gradient_broadcasts_outside_the_fast_path():
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    gx = kernels.gelu_grad(np, np.float32(2.0) * np.ones((2, 1), np.float32), x)
    np.testing.assert_allclose(gx, np.broadcast_to(2 * _gelu_ref(x)[1], (2, 7)), rtol=2e-6, atol=2e-6)
