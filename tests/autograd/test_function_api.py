"""Custom Functions, hooks, grad modes, in-place safety and anomaly detection."""

import numpy as np
import pytest

import ember
from ember.autograd import Function, grad


class Exp(Function):
    """A user-defined op written exactly like a built-in one."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(ctx.output(0))
        return ctx.xp.exp(x)

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y


class ScaleAndOffset(Function):
    """Two inputs, a Python constant, needs_input_grad and a non-differentiable second output."""

    @staticmethod
    def forward(ctx, x, w, k):
        ctx.save_for_backward(ctx.input(0), ctx.input(1))
        ctx.k = k
        ctx.mark_non_differentiable(1)
        return x * w + k, (x > 0)

    @staticmethod
    def backward(ctx, gy, gmask):
        x, w = ctx.saved_tensors
        assert ctx.needs_input_grad[2] is False
        gx = gy * w if ctx.needs_input_grad[0] else None
        gw = gy * x if ctx.needs_input_grad[1] else None
        return gx, gw, None


def test_custom_function_first_and_second_order():
    x = ember.tensor([0.5, -1.0], dtype=ember.float64, requires_grad=True)
    y = Exp.apply(x)
    (g,) = grad(y.sum(), x, create_graph=True)
    (gg,) = grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), np.exp([0.5, -1.0]))
    np.testing.assert_allclose(gg.numpy(), np.exp([0.5, -1.0]))
    assert ember.autograd.gradcheck(Exp.apply, [x])


def test_custom_function_needs_input_grad_and_non_differentiable_output():
    x = ember.tensor([1.0, -2.0], dtype=ember.float64, requires_grad=True)
    w = ember.tensor([3.0, 4.0], dtype=ember.float64)
    out, mask = ScaleAndOffset.apply(x, w, 5.0)
    assert mask.dtype == ember.bool and not mask.requires_grad
    np.testing.assert_allclose(out.detach().numpy(), [8.0, -3.0])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    assert w.grad is None


def test_grad_fn_names_and_next_functions():
    x = ember.tensor([1.0], requires_grad=True)
    y = (x * 2).exp()
    assert y.grad_fn.name() == "ExpBackward"
    (mul_fn, _), = y.grad_fn.next_functions
    assert mul_fn.name() == "MulBackward"
    acc = mul_fn.next_functions[0][0]
    assert acc.name() == "AccumulateGrad" and acc.variable is x
    assert x.is_leaf and not y.is_leaf


def test_no_grad_enable_grad_set_grad_enabled_inference_mode():
    x = ember.tensor([1.0], requires_grad=True)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()
    with ember.inference_mode():
        assert not (x * 2).requires_grad
        assert ember.is_inference_mode_enabled()

    @ember.no_grad()
    def f(z):
        return z * 2

    assert not f(x).requires_grad


def test_detach_shares_storage_and_version():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad
    with ember.no_grad():
        d.add_(1.0)
    np.testing.assert_allclose(x.detach().numpy(), [2.0, 3.0])
    assert x._version == d._version == 1


def test_retain_grad_and_tensor_hooks():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = x.register_hook(lambda g: g * 10)    # replaces the leaf's gradient
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.detach().numpy())
    np.testing.assert_allclose(seen[0], [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), 10 * 3 * np.array([6.0, 12.0]))
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_modifying_a_saved_tensor_in_place_raises():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = h.sigmoid()          # saves its output y
    y.mul_(2)                # ... which is then modified
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_modifying_an_input_saved_by_mul_raises():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x + 0
    y = h * h
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation.*version"):
        y.sum().backward()


def test_in_place_on_non_leaf_keeps_correct_gradients():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.mul_(x)                # h = 2x^2: the old value of h is kept for backward, d/dx = 4x
    h.add_(1)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    # As in PyTorch, multiplying a tensor in place by itself invalidates the saved operand.
    h2 = x * 2
    h2.mul_(h2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        h2.sum().backward()


def test_in_place_on_leaf_requiring_grad_raises():
    w = ember.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.mul_(2)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 3.0


def test_setitem_records_gradients_for_base_and_value():
    base = ember.zeros(4, dtype=ember.float64)
    v = ember.tensor([2.0, 3.0], dtype=ember.float64, requires_grad=True)
    x = ember.tensor([1.0, 1.0, 1.0, 1.0], dtype=ember.float64, requires_grad=True)
    y = x * 1
    y[1:3] = v * v
    (y * ember.tensor([1.0, 2.0, 3.0, 4.0], dtype=ember.float64)).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), [1.0, 4.0, 9.0, 1.0])
    np.testing.assert_allclose(v.grad.numpy(), [2 * 2 * 2.0, 3 * 2 * 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 0.0, 4.0])
    base[ember.tensor([0, 3])] = 7.0
    np.testing.assert_allclose(base.numpy(), [7.0, 0.0, 0.0, 7.0])


def test_detect_anomaly_names_the_op_and_forward_line():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with ember.autograd.detect_anomaly():
        y = x.sqrt()                      # d sqrt/dx at 0 is inf
        with pytest.raises(RuntimeError, match=r"(?s)SqrtBackward.*inf.*y = x.sqrt\(\)"):
            y.sum().backward()


def test_gradcheck_detects_a_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, gy):
            return gy            # should be 2x gy

    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    with pytest.raises(ember.autograd.GradcheckError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(Wrong.apply, [x])
    assert ember.autograd.gradcheck(Wrong.apply, [x], raise_exception=False) is False


def test_op_errors_name_the_op_and_shapes():
    a, b = ember.ones(2, 3), ember.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"matmul: shapes cannot be multiplied \(2x3 and 4x5\)"):
        a @ b
    with pytest.raises(ValueError, match=r"add: .*\(2, 3\).*\(4, 5\)"):
        a + b
