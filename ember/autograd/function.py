"""``Function``: the single choke point through which every differentiable computation passes.

A primitive subclasses ``Function`` and implements two static methods:

``forward(ctx, *inputs, **attrs)``
    ``inputs`` are raw arrays (NumPy or CuPy) for Tensor arguments and pass through unchanged for
    anything else (Python numbers, ``None``). ``attrs`` are keyword, JSON-serializable options; they
    are recorded in traced graphs. Returns one array or a tuple of arrays.

``backward(ctx, *grad_outputs)``
    ``grad_outputs`` are Tensors (one per output; zeros for outputs that got no gradient). Written
    with ember ops, so it is itself differentiable and traceable. Returns one gradient Tensor (or
    ``None``) per positional input.

The ``ctx`` helpers (the same object later serves as the output's ``grad_fn``):

- ``ctx.xp``: the array module of the inputs' device;  ``ctx.attrs``: the keyword attributes;
- ``ctx.input(i)``: the i-th positional input as a Tensor (valid during forward);
- ``ctx.output(i)``: a reference to the i-th output, usable in ``save_for_backward`` during forward;
- ``ctx.save_for_backward(*tensors)`` / ``ctx.saved_tensors``: values backward needs. Saved tensors are
  checked against in-place modification and released after backward (unless ``retain_graph``);
- ``ctx.needs_input_grad``: a tuple of bools, one per positional input;
- ``ctx.mark_non_differentiable(*output_indices_or_refs)``: outputs that never carry gradient.

Plain attributes set on ``ctx`` in forward (``ctx.in_shape = x.shape``) are available in backward.
Arrays stored that way are constants: a traced graph freezes them. Anything that depends on the input
data (a mask, argmax indices) must reach backward as a saved Tensor, e.g. as an extra output marked
non-differentiable, so that a traced training step recomputes it.

A primitive is registered by name with ``@register_op("name")``; the registry is what static graphs,
ONNX and the op tests enumerate.
"""

from __future__ import annotations

import traceback

import numpy as np

from .. import _config
from ..backend import device as _device
from .tensor import Tensor, _VersionCounter

OP_REGISTRY: dict[str, type] = {}

# Observers of every Function.apply call (the jit tracer installs one). Kept as a plain list so the
# hot path pays one truthiness check when nobody is tracing.
_apply_observers: list = []


def register_op(name: str):
    """Class decorator: register a Function subclass as the primitive ``name``."""

    def deco(cls):
        if name in OP_REGISTRY and OP_REGISTRY[name] is not cls:
            raise ValueError(f"op {name!r} is already registered by {OP_REGISTRY[name].__qualname__}")
        cls.op_name = name
        OP_REGISTRY[name] = cls
        return cls

    return deco


class _OutputRef:
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


_OUTPUT_REFS = [_OutputRef(i) for i in range(16)]
_NO_GRADS = [(False,) * n for n in range(8)]


class BackwardNode:
    """The ``ctx`` of one Function call and, once forward is done, the ``grad_fn`` of its outputs."""

    __slots__ = ("fn", "attrs", "xp", "next_edges", "needs_input_grad", "input_meta", "n_outputs",
                 "_saved", "_inputs", "_non_diff", "_pre_hooks", "_retained", "_forward_stack",
                 "_freed", "_out_meta", "__dict__", "__weakref__")

    def __init__(self, fn, attrs, xp):
        self.fn = fn
        self.attrs = attrs
        self.xp = xp
        self._saved = None
        self._non_diff = None
        self._pre_hooks = None
        self._retained = None
        self._forward_stack = None
        self._freed = False

    # -- helpers used inside forward ---------------------------------------------------------------
    def input(self, i: int) -> Tensor:
        return self._inputs[i]

    def output(self, i: int) -> _OutputRef:
        return _OUTPUT_REFS[i]

    def save_for_backward(self, *tensors) -> None:
        self._saved = tensors

    def mark_non_differentiable(self, *outputs) -> None:
        self._non_diff = {o.index if isinstance(o, _OutputRef) else o for o in outputs}

    # -- helpers used inside backward --------------------------------------------------------------
    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(
                f"Trying to backward through the graph of '{self.name()}' a second time (or to read its "
                "saved tensors after they were freed). Saved tensors are released after backward; pass "
                "retain_graph=True to the first backward if you need to backward twice.")
        saved = self._saved
        if saved is None:
            return ()
        out = []
        for entry in saved:
            if entry is None:
                out.append(None)
                continue
            if len(entry) == 2:
                tensor, version = entry
                if version is None:
                    out.append(tensor)
                    continue
                vc = tensor._vc
            else:  # an output of this node, kept as its array so that no reference cycle forms
                arr, version, vc, index, requires_grad = entry
                tensor = Tensor._make(arr)
                tensor._vc = vc
                if requires_grad:
                    tensor._requires_grad, tensor._grad_fn, tensor._output_nr = True, self, index
            if vc.value != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"in-place operation: a tensor of shape {tuple(tensor.shape)} saved by "
                    f"'{self.name()}' is at version {vc.value}; expected version {version}. "
                    "Use an out-of-place operation instead (e.g. x = x + 1 rather than x += 1).")
            out.append(tensor)
        return tuple(out)

    @property
    def saved_values(self) -> tuple:
        return self.saved_tensors

    # -- grad_fn interface -------------------------------------------------------------------------
    def name(self) -> str:
        return f"{self.fn.__name__}Backward"

    @property
    def next_functions(self) -> tuple:
        out = []
        for edge in self.next_edges:
            if edge is None:
                out.append((None, 0))
            elif isinstance(edge[0], Tensor):
                out.append((AccumulateGrad(edge[0]), 0))
            else:
                out.append(edge)
        return tuple(out)

    def register_hook(self, fn):
        """Not supported on nodes; use ``Tensor.register_hook``."""
        raise RuntimeError("register hooks on tensors (Tensor.register_hook), not on grad_fn nodes")

    def release(self) -> None:
        """Drop saved tensors (after a backward without retain_graph)."""
        if self._saved is not None:
            self._saved = None
            self._freed = True

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf: the node that accumulates into ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    next_functions = ()

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


class Function:
    """Base class of every differentiable primitive and of user-defined autograd functions."""

    op_name: str | None = None

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError("this Function defines no backward")

    @classmethod
    def apply(cls, *args, **attrs):
        """Run forward on arrays, wrap outputs as Tensors and, if needed, record the graph edge."""
        arrays = []
        needs = []
        requires_grad = False
        first = None
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                if first is None:
                    first = a
                if a._requires_grad:
                    requires_grad = True
                    needs.append(True)
                else:
                    needs.append(False)
            else:
                arrays.append(a)
                needs.append(False)
        if first is None:
            xp = np
        elif _device.cuda_used:
            xp = _check_devices(cls, args)
        else:
            xp = np
        record = requires_grad and _config.grad_enabled.get()
        ctx = BackwardNode(cls, attrs, xp)
        ctx._inputs = args
        ctx.needs_input_grad = tuple(needs) if record else _NO_GRADS[len(args)] if len(args) < 8 else (False,) * len(args)
        try:
            result = cls.forward(ctx, *arrays, **attrs)
        except _OpError:
            raise
        except (ValueError, TypeError, IndexError) as exc:
            raise _explain_failure(cls, args, attrs, exc) from exc
        ctx._inputs = None
        multi = type(result) is tuple
        outs = result if multi else (result,)
        non_diff = ctx._non_diff
        tensors = []
        for i, arr in enumerate(outs):
            if isinstance(arr, Tensor):
                arr = arr._data
            elif type(arr) is not np.ndarray and not hasattr(arr, "__cuda_array_interface__"):
                arr = xp.asarray(arr)
            t = Tensor._make(arr)
            if record and arr.dtype.kind == "f" and (non_diff is None or i not in non_diff):
                t._requires_grad = True
                t._grad_fn = ctx
                t._output_nr = i
            tensors.append(t)
        view_of = getattr(cls, "view_of_input", None)
        if view_of is not None and isinstance(args[view_of], Tensor):
            base = args[view_of]
            for t in tensors:
                t._vc = base._vc
                t._base = base._base if base._base is not None else base
        if record:
            ctx.n_outputs = len(tensors)
            if multi:
                ctx._out_meta = [(t._data.shape, t._data.dtype) for t in tensors]
            edges, meta = [], []
            for a, need in zip(args, needs):
                if need:
                    fn = a._grad_fn
                    edges.append((a, 0) if fn is None else (fn, a._output_nr))
                    meta.append((a._data.shape, a._data.dtype))
                else:
                    edges.append(None)
                    meta.append(None)
            ctx.next_edges = edges
            ctx.input_meta = meta
            saved = ctx._saved
            if saved is not None:
                ctx._saved = tuple(_pack_saved(s, tensors) for s in saved)
            if _config.anomaly_enabled.get():
                ctx._forward_stack = "".join(traceback.format_stack()[:-2])
        else:
            ctx._saved = None
        if _apply_observers:
            for obs in _apply_observers:
                obs(cls, args, attrs, tensors, ctx)
        return tuple(tensors) if multi else tensors[0]


def _pack_saved(item, outputs):
    if item is None:
        return None
    if isinstance(item, _OutputRef):
        out = outputs[item.index]
        return (out._data, out._vc.value, out._vc, item.index, out._requires_grad)
    if not isinstance(item, Tensor):
        return (item, None)  # a Python number passed positionally: a constant
    return (item, item._vc.value)


class _OpError(RuntimeError):
    """An error already explained by an op (names op, shapes, dtypes)."""


def _describe(a) -> str:
    if isinstance(a, Tensor):
        return f"Tensor(shape={tuple(a.shape)}, dtype={a.dtype}, device={a.device})"
    return repr(a) if not hasattr(a, "shape") else f"array(shape={a.shape}, dtype={a.dtype})"


def _explain_failure(cls, args, attrs, exc):
    name = cls.op_name or cls.__name__
    inputs = ", ".join(_describe(a) for a in args)
    extra = f" with {attrs}" if attrs else ""
    return type(exc)(f"{name}: {exc} (inputs: {inputs}{extra})")


def _check_devices(cls, args):
    devices = {_device.device_of(a._data) for a in args if isinstance(a, Tensor)}
    if len(devices) > 1:
        name = cls.op_name or cls.__name__
        shown = ", ".join(f"{tuple(a.shape)} on {a.device}" for a in args if isinstance(a, Tensor))
        raise RuntimeError(f"{name}: expected all tensors on the same device, got {shown}")
    return next(iter(devices)).xp


def op_error(op: str, message: str, *tensors) -> _OpError:
    """Build the error an op raises for bad input: names the op and every tensor's shape/dtype/device."""
    detail = "; ".join(_describe(t) for t in tensors)
    return _OpError(f"{op}: {message}" + (f" ({detail})" if detail else ""))
