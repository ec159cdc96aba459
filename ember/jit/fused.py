"""The ``fused_elementwise`` primitive: a chain of elementwise ops run as one node.

``program`` is a list of steps ``[op, args, attrs, shape, dtype]``; each arg is ``["in", k]`` (the
k-th input), ``["tmp", j]`` (the result of step j) or ``["lit", value]``. On arrays each step is one
ufunc call writing into a preallocated buffer (``out=``): intermediate buffers are recycled within a
call and kept on the executor's per-node context between calls, so a steady-state run allocates only
the final result. ``inplace=k`` (set by the memory planner) writes the result into input k when the
executor runs it and that input is dead afterwards.

The gradient replays the program with ember ops and differentiates it, so a fused graph is exactly as
differentiable as the ops it replaced.
"""

from __future__ import annotations

from .. import _config
from ..autograd.function import OP_REGISTRY, Function, register_op


def _ufunc(name):
    def k(xp, a, attrs, out):
        getattr(xp, name)(*a, out=out)
    return k


def _relu(xp, a, attrs, out):
    xp.maximum(a[0], 0, out=out)


def _threshold_backward(xp, a, attrs, out):
    xp.multiply(a[0], a[1] > attrs.get("threshold", 0.0), out=out)


def _where(xp, a, attrs, out):
    xp.copyto(out, a[2])
    xp.copyto(out, a[1], where=a[0])


KERNELS = {
    "add": _ufunc("add"), "sub": _ufunc("subtract"), "mul": _ufunc("multiply"), "div": _ufunc("true_divide"),
    "neg": _ufunc("negative"), "exp": _ufunc("exp"), "log": _ufunc("log"), "sqrt": _ufunc("sqrt"),
    "tanh": _ufunc("tanh"), "sin": _ufunc("sin"), "cos": _ufunc("cos"), "abs": _ufunc("absolute"),
    "maximum": _ufunc("maximum"), "minimum": _ufunc("minimum"), "relu": _relu,
    "threshold_backward": _threshold_backward, "where": _where,
}


@register_op("fused_elementwise")
class FusedElementwise(Function):
    """y = the last step of ``program`` applied to the inputs (see the module docstring)."""

    @staticmethod
    def forward(ctx, *inputs, program, inplace=-1):
        if ctx.needs_input_grad and any(ctx.needs_input_grad):
            ctx.save_for_backward(*[ctx.input(i) for i in range(len(inputs))])
        xp = ctx.xp
        executor = getattr(ctx, "executor", False)
        scratch = ctx.__dict__.setdefault("_scratch", {}) if executor else {}
        free: dict = {}
        for key, bufs in scratch.items():
            free[key] = list(bufs)
        results = [None] * len(program)
        last = len(program) - 1
        for k, (op, args, attrs, shape, dtype) in enumerate(program):
            vals = [inputs[a[1]] if a[0] == "in" else results[a[1]] if a[0] == "tmp" else a[1] for a in args]
            if k == last:
                out = inputs[inplace] if (executor and inplace >= 0) else xp.empty(shape, dtype)
            else:
                key = (tuple(shape), dtype)
                pool = free.get(key)
                if pool:
                    out = pool.pop()
                else:
                    out = xp.empty(shape, dtype)
                    if executor:
                        scratch.setdefault(key, []).append(out)
            KERNELS[op](xp, vals, attrs, out)
            results[k] = out
            for a in args:
                if a[0] == "tmp":   # each intermediate has exactly one consumer: recycle it
                    buf = results[a[1]]
                    free.setdefault((tuple(buf.shape), buf.dtype.name), []).append(buf)
        return results[last]

    @staticmethod
    def backward(ctx, gy):
        from ..autograd.engine import grad
        from ..autograd.grad_mode import enable_grad
        xs = ctx.saved_tensors
        program = ctx.attrs["program"]
        create = _config.grad_enabled.get()
        wanted = [i for i, x in enumerate(xs) if x is not None and x._requires_grad]
        if not create:
            # differentiate a private copy of the program: the engine must not walk (and free) the
            # outer graph behind the saved inputs
            xs = [x.detach().requires_grad_() if i in wanted else x for i, x in enumerate(xs)]
        with enable_grad():
            y = replay(program, xs)
        gs = grad(y, [xs[i] for i in wanted], gy, create_graph=create, allow_unused=True,
                  retain_graph=True)
        out = [None] * len(xs)
        for i, g in zip(wanted, gs):
            out[i] = g
        return tuple(out)


def replay(program, xs):
    """Run ``program`` with ember ops on Tensors (recording autograd)."""
    results = []
    for op, args, attrs, shape, dtype in program:
        vals = [xs[a[1]] if a[0] == "in" else results[a[1]] if a[0] == "tmp" else a[1] for a in args]
        results.append(OP_REGISTRY[op].apply(*vals, **attrs))
    return results[-1]
