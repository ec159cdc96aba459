"""ember.GradientTape: gradients of watched/trainable tensors, structures, persistence, nesting."""

import numpy as np
import pytest

import ember
from ember import GradientTape


def test_watch_constant_gives_gradient_and_restores_flag():
    x = ember.tensor([1.0, 2.0, 3.0])
    with GradientTape() as tape:
        tape.watch(x)
        y = (x ** 3).sum()
    g = tape.gradient(y, x)
    np.testing.assert_allclose(g.numpy(), 3 * np.array([1.0, 4.0, 9.0]))
    assert not x.requires_grad          # a constant stays a constant outside the block


def test_unwatched_constant_gets_none_and_zero_option():
    x = ember.tensor([1.0, 2.0])
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    with GradientTape(persistent=True) as tape:
        y = (x * w).sum()
    assert tape.gradient(y, x) is None
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), [1.0, 2.0])
    z = tape.gradient(y, [x, w], unconnected_gradients="zero")
    np.testing.assert_allclose(z[0].numpy(), [0.0, 0.0])


def test_structures_of_sources():
    a = ember.tensor([2.0], requires_grad=True)
    b = ember.tensor([[1.0, -1.0]], requires_grad=True)
    unused = ember.tensor([5.0], requires_grad=True)
    with GradientTape() as tape:
        loss = (a * a).sum() * 3 + (b * b * b).sum()
    g = tape.gradient(loss, {"a": a, "rest": [b, (unused,)]})
    np.testing.assert_allclose(g["a"].numpy(), [12.0])
    np.testing.assert_allclose(g["rest"][0].numpy(), [[3.0, 3.0]])
    assert isinstance(g["rest"][1], tuple) and g["rest"][1][0] is None


def test_non_persistent_tape_is_single_use():
    w = ember.tensor([1.0], requires_grad=True)
    with GradientTape() as tape:
        y = (w * 2).sum()
    tape.gradient(y, w)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used to compute one set"):
        tape.gradient(y, w)


def test_persistent_tape_allows_several_gradients():
    x = ember.tensor(3.0)
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert float(tape.gradient(z, x)) == pytest.approx(4 * 27.0)     # dz/dx = 4x^3
    assert float(tape.gradient(y, x)) == pytest.approx(6.0)


def test_nested_tapes_second_order():
    x = ember.tensor([1.0, 2.0], dtype=ember.float64)
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = (x ** 3).sum()
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    np.testing.assert_allclose(dy.detach().numpy(), [3.0, 12.0])
    np.testing.assert_allclose(d2y.numpy(), [6.0, 12.0])


def test_watch_accessed_variables_false_only_watched():
    w = ember.tensor([1.0], requires_grad=True)
    v = ember.tensor([2.0], requires_grad=True)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(v)
        y = (w * v).sum()
    gw, gv = tape.gradient(y, [w, v])
    assert gw is None
    np.testing.assert_allclose(gv.numpy(), [1.0])


def test_output_gradients_weight_the_target():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with GradientTape() as tape:
        y = x * 3.0
    g = tape.gradient(y, x, output_gradients=ember.tensor([1.0, 10.0]))
    np.testing.assert_allclose(g.numpy(), [3.0, 30.0])


def test_stop_recording_and_jacobian():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with GradientTape(persistent=True) as tape:
        y = x * x
        with tape.stop_recording():
            c = x * 5
    assert c.grad_fn is None
    jac = tape.jacobian(y, x)
    np.testing.assert_allclose(jac.numpy(), [[2.0, 0.0], [0.0, 4.0]])


def test_watch_rejects_integer_tensors():
    with GradientTape() as tape:
        with pytest.raises(TypeError, match="only floating-point tensors can be watched"):
            tape.watch(ember.tensor([1, 2]))
