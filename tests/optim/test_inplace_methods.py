"""addcmul_/addcdiv_/lerp_/maximum_ (ember/ops/inplace_extra.py): the allocation-free path and the
recorded (autograd) path give the same values; both bump the version counter."""

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(0)
A, B, C = (RNG.standard_normal((3, 4)) for _ in range(3))
C = np.abs(C) + 0.5


@pytest.mark.parametrize("name,args,kwargs,expect", [
    ("addcmul_", (B, C), {"value": 0.5}, A + 0.5 * B * C),
    ("addcdiv_", (B, C), {"value": -2.0}, A - 2.0 * B / C),
    ("addcmul_", (B, C), {}, A + B * C),
    ("lerp_", (B, 0.3), {}, A + 0.3 * (B - A)),
    ("lerp_", (B, C), {}, A + C * (B - A)),
    ("maximum_", (B,), {}, np.maximum(A, B)),
])
def test_fast_and_recorded_paths_agree(name, args, kwargs, expect):
    targs = [ember.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    fast = ember.tensor(A.copy())
    before = fast._data
    version = fast._version
    out = getattr(fast, name)(*targs, **kwargs)
    assert out is fast and fast._data is before and fast._version == version + 1
    np.testing.assert_allclose(fast.numpy(), expect, rtol=1e-12)
    leaf = ember.tensor(A.copy(), requires_grad=True)
    rec = leaf * 1.0
    getattr(rec, name)(*targs, **kwargs)
    np.testing.assert_allclose(rec.detach().numpy(), expect, rtol=1e-12)
    assert rec.grad_fn is not None
    rec.sum().backward()
    assert leaf.grad is not None


def test_gradient_of_recorded_addcmul():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    y.addcmul_(x, x, value=3.0)                    # y = x + 3 x^2 -> dy/dx = 1 + 6x
    y.sum().backward()
    assert x.grad.tolist() == [7.0, 13.0]


def test_out_of_place_forms_and_float32_stays_float32():
    a = ember.ones(3)
    assert a.addcmul(ember.full((3,), 2.0), ember.full((3,), 3.0), value=0.5).tolist() == [4.0] * 3
    assert a.addcdiv(ember.full((3,), 2.0), ember.full((3,), 4.0)).tolist() == [1.5] * 3
    a.addcdiv_(ember.ones(3), ember.full((3,), 3.0), value=0.1)
    assert a.dtype == ember.float32


def test_grad_leaf_in_place_refused():
    p = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="addcmul_: a leaf Variable that requires grad"):
        p.addcmul_(p, p)
