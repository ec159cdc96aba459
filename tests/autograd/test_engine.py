"""The backward engine: accumulation, broadcasting, multiple roots, autograd.grad, retain_graph."""

import gc

import numpy as np
import pytest

import ember
from ember.autograd import grad


def t(values, **kw):
    return ember.tensor(values, dtype=ember.float64, **kw)


def test_backward_accumulates_across_calls():
    x = t([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def test_gradient_reaching_a_tensor_twice_is_summed():
    x = t([2.0], requires_grad=True)
    y = x * x + x          # dy/dx = 2x + 1
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0])


def test_broadcasting_is_undone_by_the_engine():
    a = t(np.ones((2, 3)), requires_grad=True)
    b = t(np.ones((3,)), requires_grad=True)
    c = t(np.ones((2, 1)), requires_grad=True)
    (a * b * c).sum().backward()
    assert a.grad.shape == (2, 3) and b.grad.shape == (3,) and c.grad.shape == (2, 1)
    np.testing.assert_allclose(b.grad.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(c.grad.numpy(), [[3.0], [3.0]])


def test_non_scalar_backward_needs_gradient_argument():
    x = t([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(t([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_gradient_shape_mismatch_is_reported():
    x = t([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\(3,\).*\(2,\)"):
        (x * 2).backward(t([1.0, 1.0, 1.0]))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        t([1.0]).sum().backward()


def test_second_backward_through_freed_graph_raises():
    x = t([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph .* a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = t([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_autograd_grad_returns_tuple_and_leaves_grad_untouched():
    x = t([1.0, 2.0], requires_grad=True)
    w = t([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = grad(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_autograd_grad_wrt_intermediate_tensor():
    x = t([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    (gh,) = grad(y, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())


def test_autograd_grad_unused_input():
    x = t([1.0], requires_grad=True)
    z = t([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        grad(y, [x, z], retain_graph=True)
    gx, gz = grad(y, [x, z], allow_unused=True)
    assert gz is None
    np.testing.assert_allclose(gx.numpy(), [2.0])


def test_autograd_grad_with_grad_outputs_and_multiple_outputs():
    x = t([1.0, 2.0], requires_grad=True)
    y1, y2 = x * 2, x * x
    (g,) = grad([y1, y2], x, grad_outputs=[t([1.0, 1.0]), t([1.0, 0.5])])
    np.testing.assert_allclose(g.numpy(), [2 + 2 * 1.0, 2 + 2 * 2 * 0.5])


def test_backward_inputs_argument_limits_accumulation():
    x = t([1.0], requires_grad=True)
    w = t([2.0], requires_grad=True)
    (x * w).sum().backward(inputs=[x])
    np.testing.assert_allclose(x.grad.numpy(), [2.0])
    assert w.grad is None


def test_multi_output_op_with_unused_output_gets_zero_gradient():
    x = t([[3.0, 1.0], [0.0, 5.0]], requires_grad=True)
    values, indices = ember.max(x, dim=1)
    values.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 0.0], [0.0, 1.0]])
    assert indices.requires_grad is False


def test_shared_gradient_array_is_not_aliased_between_leaves():
    a = t([1.0, 2.0], requires_grad=True)
    b = t([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(10)
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_leaf_grad_from_broadcast_view_is_writable():
    x = t([1.0, 2.0], requires_grad=True)
    x.sum().backward()               # sum's backward expands: a read-only broadcast view
    x.grad.add_(1.0)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_integer_and_bool_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        ember.tensor([1, 2], requires_grad=True)
    assert (ember.tensor([1.0], requires_grad=True) > 0).requires_grad is False


def test_non_leaf_requires_grad_cannot_be_cleared():
    x = t([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        (x * 2).requires_grad = False


def test_memory_is_flat_over_many_steps():
    import tracemalloc
    w = ember.randn(8, 8, requires_grad=True)
    x = ember.randn(4, 8)

    def step():
        loss = ((x @ w).relu() * 2).sum()
        loss.backward()
        w.grad = None

    for _ in range(200):
        step()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(2000):
        step()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 200_000, f"memory grew by {grown} bytes over 2000 steps"


def test_graph_is_freed_by_reference_counting_without_backward():
    import weakref
    x = ember.randn(3, requires_grad=True)
    y = x.sigmoid()            # saves its own output: must not form a reference cycle
    node = weakref.ref(y.grad_fn)
    del y
    assert node() is None


def test_saved_tensors_are_released_after_backward():
    import weakref
    x = ember.randn(3, requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    ref = weakref.ref(h)
    del h
    assert ref() is not None      # kept alive by the graph (saved for backward)
    y.backward()
    gc.collect()
    assert ref() is None
