"""Module backward hooks (``register_full_backward_hook`` / ``register_full_backward_pre_hook``).

A hooked module's tensor inputs and outputs pass through identity Functions: the one on the outputs
sees the gradients w.r.t. the outputs (``grad_output``, handed to pre-hooks, which may replace
them), the one on the inputs sees the gradients w.r.t. the inputs (``grad_input``) and calls
``hook(module, grad_input, grad_output)``, which may return replacements for ``grad_input``.
Nothing of this runs for modules without backward hooks.
"""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor


class _State:
    __slots__ = ("module", "grad_output", "n_inputs")

    def __init__(self, module, n_inputs):
        self.module, self.grad_output, self.n_inputs = module, None, n_inputs


class _OutputHook(Function):
    """Identity on the module's outputs; its backward records (and pre-hooks may replace) grad_output."""

    @staticmethod
    def forward(ctx, *arrays, state):
        return arrays if len(arrays) > 1 else arrays[0]

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.attrs["state"]
        grads = tuple(grads)
        for hook in list(state.module._backward_pre_hooks.values()):
            res = hook(state.module, grads)
            if res is not None:
                grads = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        state.grad_output = grads
        if state.n_inputs == 0:  # no input needs a gradient: the hooks run here, with grad_input None
            _call_hooks(state, (None,), replace=False)
        return grads if len(grads) > 1 else grads[0]


class _InputHook(Function):
    """Identity on the module's inputs that need gradients; its backward calls the full hooks."""

    @staticmethod
    def forward(ctx, *arrays, state):
        return arrays if len(arrays) > 1 else arrays[0]

    @staticmethod
    def backward(ctx, *grads):
        grads = _call_hooks(ctx.attrs["state"], tuple(grads))
        return grads if len(grads) > 1 else grads[0]


def _call_hooks(state, grad_input, replace: bool = True):
    for hook in list(state.module._backward_hooks.values()):
        res = hook(state.module, grad_input, state.grad_output)
        if res is not None and replace:
            res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            if len(res) != len(grad_input):
                raise RuntimeError(f"backward hook returned {len(res)} gradients, expected {len(grad_input)}")
            grad_input = res
    return grad_input


def wrap_inputs(module, args: tuple):
    """(new args with hooked tensors, state) for a forward call of ``module``."""
    idx = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    state = _State(module, len(idx))
    if not idx:
        return args, state
    out = _InputHook.apply(*[args[i] for i in idx], state=state)
    out = out if isinstance(out, tuple) else (out,)
    args = list(args)
    for i, t in zip(idx, out):
        args[i] = t
    return tuple(args), state


def wrap_outputs(out, state):
    """The module's output with its tensors passed through the output hook."""
    if isinstance(out, Tensor):
        return _OutputHook.apply(out, state=state) if out.requires_grad else out
    if isinstance(out, tuple) and out and all(isinstance(o, Tensor) for o in out):
        diff = [i for i, o in enumerate(out) if o.requires_grad]
        if not diff:
            return out
        wrapped = _OutputHook.apply(*[out[i] for i in diff], state=state)
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        res = list(out)
        for i, t in zip(diff, wrapped):
            res[i] = t
        return type(out)(res) if type(out) is tuple else type(out)(*res)
    return out
