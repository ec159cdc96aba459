"""Higher-order gradients: derivatives of derivatives are built from differentiable ops."""

import numpy as np

import ember
from ember.autograd import grad
from ember.autograd import functional as AF


def test_third_derivative_of_x_to_the_fourth():
    x = ember.tensor([1.5, -2.0], dtype=ember.float64, requires_grad=True)
    y = (x ** 4).sum()
    (g1,) = grad(y, x, create_graph=True)
    (g2,) = grad(g1.sum(), x, create_graph=True)
    (g3,) = grad(g2.sum(), x)
    xv = x.detach().numpy()
    np.testing.assert_allclose(g1.detach().numpy(), 4 * xv ** 3)
    np.testing.assert_allclose(g2.detach().numpy(), 12 * xv ** 2)
    np.testing.assert_allclose(g3.numpy(), 24 * xv)


def test_hessian_vector_product_matches_explicit_hessian():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    A = ember.tensor(a + a.T)
    x = ember.tensor(rng.standard_normal(4), requires_grad=True)
    v = ember.tensor(rng.standard_normal(4))

    def f(z):  # 0.5 z^T A z + sum(sin z): Hessian = A + diag(-sin z)
        return 0.5 * (z @ (A @ z)) + z.sin().sum()

    _, hv = AF.hvp(f, x, v)
    hess = (a + a.T) + np.diag(-np.sin(x.detach().numpy()))
    np.testing.assert_allclose(hv.numpy(), hess @ v.numpy(), rtol=1e-6)
    np.testing.assert_allclose(AF.hessian(f, x).numpy(), hess, rtol=1e-6)


def test_gradient_penalty_trains_through_the_gradient():
    # WGAN-GP style: penalty = (||d out / d x|| - 1)^2, differentiated w.r.t. the weights.
    ember.manual_seed(0)
    w = ember.randn(3, 1, dtype=ember.float64, requires_grad=True)
    x = ember.randn(5, 3, dtype=ember.float64, requires_grad=True)
    out = (x @ w).tanh().sum()
    (gx,) = grad(out, x, create_graph=True)
    penalty = ((gx.pow(2).sum(dim=1).sqrt() - 1) ** 2).mean()
    penalty.backward()
    # Finite-difference check of d penalty / d w.
    def pen(wv):
        wt = ember.tensor(wv)
        xt = x.detach().requires_grad_()
        (g,) = grad((xt @ wt).tanh().sum(), xt)
        return float(((g.pow(2).sum(dim=1).sqrt() - 1) ** 2).mean())
    wv = w.detach().numpy().copy()
    num = np.zeros_like(wv)
    for i in range(3):
        e = np.zeros_like(wv)
        e[i, 0] = 1e-6
        num[i, 0] = (pen(wv + e) - pen(wv - e)) / 2e-6
    np.testing.assert_allclose(w.grad.numpy(), num, rtol=1e-5, atol=1e-8)


def test_create_graph_backward_makes_grad_differentiable():
    x = ember.tensor([2.0], dtype=ember.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = grad(x.grad.sum(), x)
    np.testing.assert_allclose(g2.numpy(), [12.0])


def test_jacobian_of_vector_function():
    x = ember.tensor([1.0, 2.0], dtype=ember.float64)
    jac = AF.jacobian(lambda z: ember.stack([z[0] * z[1], z[0] ** 2]), x)
    np.testing.assert_allclose(jac.numpy(), [[2.0, 1.0], [2.0, 0.0]])
