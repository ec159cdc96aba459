"""Higher-level derivatives built on ``grad``: vjp, jvp (double-vjp trick), hvp, jacobian, hessian."""

from __future__ import annotations

from .engine import grad
from .grad_mode import enable_grad
from .tensor import Tensor


def _tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _prepare(inputs, create_graph):
    """Inputs as graph leaves; with create_graph, tensors that already require grad stay connected."""
    return tuple(t if create_graph and t.requires_grad else t.detach().requires_grad_(True)
                 for t in _tuple(inputs))


def vjp(func, inputs, v=None, create_graph: bool = False):
    """(func(inputs), v^T J)."""
    single = isinstance(inputs, Tensor)
    xs = _prepare(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
        g = grad(out, xs, grad_outputs=v, create_graph=create_graph, allow_unused=True)
    g = tuple(gi if gi is not None else xi.new_zeros(xi.shape) for gi, xi in zip(g, xs))
    return (out if create_graph else out.detach()), (g[0] if single else g)


def hvp(func, inputs, v, create_graph: bool = False):
    """(func(inputs), H v) for a scalar function: the gradient of <grad f, v>."""
    single = isinstance(inputs, Tensor)
    xs = _prepare(inputs, True)
    vs = _tuple(v)
    with enable_grad():
        out = func(*xs)
        g = grad(out, xs, create_graph=True)
        dot = sum((gi * vi).sum() for gi, vi in zip(g, vs))
        h = grad(dot, xs, create_graph=create_graph, allow_unused=True)
    h = tuple(hi if hi is not None else xi.new_zeros(xi.shape) for hi, xi in zip(h, xs))
    return out.detach(), (h[0] if single else h)


def jacobian(func, inputs, create_graph: bool = False):
    """Full Jacobian of a single-output function: shape out.shape + input.shape (per input)."""
    from ..ops import shape as S
    single = isinstance(inputs, Tensor)
    xs = _prepare(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
        flat = S.reshape(out, (-1,))
        rows = [[] for _ in xs]
        for i in range(flat.shape[0]):
            gs = grad(flat[i], xs, retain_graph=True, create_graph=create_graph, allow_unused=True)
            for k, (g, x) in enumerate(zip(gs, xs)):
                rows[k].append(g if g is not None else x.new_zeros(x.shape))
    from ..ops.shape import stack
    jac = tuple(S.reshape(stack(r), tuple(out.shape) + tuple(x.shape)) for r, x in zip(rows, xs))
    return jac[0] if single else jac


def hessian(func, inputs, create_graph: bool = False):
    """Hessian of a scalar function w.r.t. a single tensor input: shape input.shape * 2."""
    def grad_fn(x):
        (g,) = grad(func(x), (x,), create_graph=True)
        return g
    return jacobian(grad_fn, inputs, create_graph=create_graph)
