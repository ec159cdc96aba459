"""A short tour of Ember's autograd: gradients, higher-order gradients, a custom Function."""

import ember
from ember.autograd import Function

x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x ** 3).sum()
(g,) = ember.autograd.grad(y, x, create_graph=True)   # dy/dx = 3x^2
(h,) = ember.autograd.grad(g.sum(), x)                 # d2y/dx2 = 6x
print("y      =", y.item())
print("dy/dx  =", g.tolist())
print("d2y/dx2=", h.tolist())


class Cube(Function):
    """A user-defined op: forward on arrays, backward with ember ops (so it is differentiable too)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(ctx.input(0))
        return a ** 3

    @staticmethod
    def backward(ctx, gy):
        (a,) = ctx.saved_tensors
        return gy * 3 * a * a


z = Cube.apply(x).sum()
z.backward()
print("custom Function grad =", x.grad.tolist())
