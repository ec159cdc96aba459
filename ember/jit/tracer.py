"""Tracing: run a function once while observing every ``Function.apply`` and in-place write.

The tracer keys graph values by the identity of the array a Tensor holds (``id(tensor._data)``),
because tensor methods re-wrap arrays (``Tensor._make(self._data)``) and in-place writes keep the array
but change its value. A tensor whose array the tracer has never seen is, in this order: a module
parameter/buffer (matched by identity against ``state_dict``), or a captured outside tensor: it becomes
``state`` when the function writes it in place or sets its ``.grad`` (optimizer state, raw weights), a
``constant`` otherwise (unless it requires grad: then it stays bound, so gradients reach it).

Tracers nest (``ember.cond`` traces its branches with a child tracer); one dispatcher is installed in
``_apply_observers`` and forwards events to the innermost tracer only.
"""

from __future__ import annotations

import json

import numpy as np

from ..autograd import function as _function
from ..autograd.tensor import Tensor
from .ir import Graph, Lit, Node, flatten_tree

_STACK: list = []


class TraceError(RuntimeError):
    """Something in the traced function cannot be represented in a static graph."""


class _Dispatch:
    """The single observer installed while any tracer is active."""

    def __call__(self, cls, args, attrs, outs, ctx):
        if _STACK:
            _STACK[-1].on_apply(cls, args, attrs, outs, ctx)

    def on_concrete_read(self, tensor, what):
        if _STACK:
            _STACK[-1].on_concrete_read(tensor, what)

    def on_inplace_write(self, target, key, value):
        if _STACK:
            _STACK[-1].on_inplace_write(target, key, value)


_DISPATCH = _Dispatch()


def current_tracer():
    return _STACK[-1] if _STACK else None


def json_attr(op: str, value):
    """``value`` made JSON-shaped (tuples -> lists, NumPy scalars -> numbers); raises if impossible."""
    def norm(v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.dtype):
            return v.name
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in v.items()}
        raise TraceError(f"ember.jit: op {op!r} got an argument of type {type(v).__name__} ({v!r:.60}) "
                         "that cannot be stored in a graph (only JSON values: numbers, strings, lists)")
    return norm(value)


class Tracer:
    """Builds one ``Graph`` from the events of one run.

    ``names``: id(array) -> (kind, name) for module parameters/buffers. ``parent``: the enclosing tracer
    when tracing a control-flow branch; outside values then become extra inputs (``captured``).
    """

    def __init__(self, names: dict | None = None, parent: "Tracer | None" = None):
        self.graph = Graph()
        self.names = names or {}
        self.parent = parent
        self.known: dict = {}          # id(array) -> (array, value id)
        self.by_node: dict = {}        # (id(ctx), output index) -> value id
        self._keep: list = []          # ctx objects kept alive so their ids stay unique
        self.externals: list = []      # (tensor, value id) captured from outside (not params/buffers)
        self.named: list = []          # (tensor, kind, name, value id) for params/buffers
        self.written: set = set()      # id(array) of outside arrays written in place
        self.captured: list = []       # child tracer: outer Tensors that became extra inputs
        self._input_ids: set = set()

    # -- activation --------------------------------------------------------------------------------
    def __enter__(self):
        if not _STACK:
            _function._apply_observers.append(_DISPATCH)
        _STACK.append(self)
        return self

    def __exit__(self, *exc):
        _STACK.pop()
        if not _STACK and _DISPATCH in _function._apply_observers:
            _function._apply_observers.remove(_DISPATCH)
        return False

    # -- values ------------------------------------------------------------------------------------
    def add_input(self, t: Tensor) -> int:
        e = self.known.get(id(t._data))
        if e is not None:
            vid = e[1]
        else:
            vid = self.graph.new_value(t._data.shape, t._data.dtype)
            self.known[id(t._data)] = (t._data, vid)
            self._input_ids.add(id(t._data))
        self.graph.inputs.append(vid)
        return vid

    def value_of(self, t: Tensor) -> int:
        arr = t._data
        e = self.known.get(id(arr))
        if e is not None and e[0] is arr:
            return e[1]
        fn = t._grad_fn
        if fn is not None:
            # A snapshot made by an in-place op keeps the producing node but copies the array.
            vid = self.by_node.get((id(fn), t._output_nr))
            if vid is not None:
                return vid
        return self._capture(t)

    def _capture(self, t: Tensor) -> int:
        arr = t._data
        vid = self.graph.new_value(arr.shape, arr.dtype)
        self.known[id(arr)] = (arr, vid)
        if self.parent is not None:
            self.parent.value_of(t)      # make sure the outer graph knows it
            self.graph.inputs.append(vid)
            self.captured.append(t)
            return vid
        named = self.names.get(id(arr))
        if named is not None:
            kind, name = named
            (self.graph.params if kind == "param" else self.graph.buffers)[name] = vid
            self.named.append((t, kind, name, vid))
        else:
            self.externals.append((t, vid))
        return vid

    def _ref(self, op: str, a):
        if isinstance(a, Tensor):
            return self.value_of(a)
        if isinstance(a, np.ndarray) or hasattr(a, "__cuda_array_interface__"):
            return self.value_of(Tensor._make(a))
        return Lit(json_attr(op, a))

    # -- events ------------------------------------------------------------------------------------
    def on_apply(self, cls, args, attrs, outs, ctx):
        op = cls.op_name
        if op is None:
            raise TraceError(
                f"ember.jit: cannot trace the custom Function {cls.__qualname__}: only registered ops "
                "(@ember.autograd.function.register_op) can appear in a graph")
        inputs = [self._ref(op, a) for a in args]
        attrs = json.loads(json.dumps(json_attr(op, attrs)))
        outputs = []
        for i, t in enumerate(outs):
            vid = self.graph.new_value(t._data.shape, t._data.dtype)
            self.known[id(t._data)] = (t._data, vid)
            self.by_node[(id(ctx), i)] = vid
            outputs.append(vid)
        self._keep.append(ctx)
        needs = [bool(n) for n in ctx.needs_input_grad]
        self.graph.nodes.append(Node(op, inputs, outputs, attrs, needs))

    def on_concrete_read(self, tensor: Tensor, what: str):
        arr = tensor._data
        e = self.known.get(id(arr))
        traced = e is not None and e[0] is arr and e[1] not in self.graph.constants.values()
        if traced and self.parent is None and not any(v == e[1] for _, v in self.externals):
            pass
        elif not traced and id(arr) not in self.names:
            if tensor._grad_fn is None or (id(tensor._grad_fn), tensor._output_nr) not in self.by_node:
                return                   # an outside tensor never used by the graph: a plain constant
        raise TraceError(
            f"ember.jit: {what} reads the value of a traced tensor (shape {tuple(tensor.shape)}, dtype "
            f"{tensor.dtype}) while tracing; the graph would freeze this value. Branch on tensor values "
            "with ember.cond(pred, true_fn, false_fn, operands) and loop with ember.while_loop(cond_fn, "
            "body_fn, init_vals), or read values outside the traced function.")

    def on_inplace_write(self, target: Tensor, key, value):
        arr = target._data
        old = self.value_of(target)
        if self.parent is not None and target in self.captured:
            raise TraceError("ember.jit: a control-flow branch may not write in place to a tensor from "
                             "outside the branch; return the new value instead")
        op = "index_put"
        if isinstance(value, Tensor):
            value = value._data
        is_array = isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__")
        if key is Ellipsis and is_array and value.shape == arr.shape and value.dtype == arr.dtype \
                and id(value) in self.known and self.known[id(value)][0] is value:
            new = self.known[id(value)][1]
        else:
            spec, idx = self._encode_key(key)
            val = self.value_of(Tensor._make(value)) if is_array else Lit(json_attr(op, value))
            new = self.graph.new_value(arr.shape, arr.dtype)
            self.graph.nodes.append(Node(op, [old, val] + idx, [new], {"spec": spec, "accumulate": False},
                                         [False] * (2 + len(idx))))
        self.known[id(arr)] = (arr, new)
        if id(arr) not in self._input_ids:
            self.written.add(id(arr))

    def _encode_key(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        spec, idx = [], []
        for k in key:
            if k is None:
                spec.append(["n"])
            elif k is Ellipsis:
                spec.append(["e"])
            elif isinstance(k, slice):
                spec.append(["s"] + [None if v is None else int(v) for v in (k.start, k.stop, k.step)])
            elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
                spec.append(["i", int(k)])
            else:
                arr = np.asarray(k) if not hasattr(k, "__cuda_array_interface__") else k
                idx.append(self.value_of(Tensor._make(arr)))
                spec.append(["t", len(idx) - 1])
        return spec, idx

    # -- result ------------------------------------------------------------------------------------
    def finish(self, result) -> Graph:
        """Record outputs, in-place updates of outside tensors and gradients; return the graph."""
        g = self.graph
        leaves, spec = flatten_tree(result, lambda o: isinstance(o, Tensor))
        g.outputs = [self.value_of(t) for t in leaves]
        g.output_spec = spec
        if self.parent is not None:
            return g
        for t, kind, name, vid in self.named:
            if id(t._data) in self.written:
                g.updates[name] = self.known[id(t._data)][1]
            gv = self._grad_value(t)
            if gv is not None and kind == "param":
                g.grads[name] = gv
        n_state = 0
        for t, vid in self.externals:
            gv = self._grad_value(t)
            if id(t._data) in self.written or gv is not None or t._requires_grad:
                name = f"state{n_state}"
                n_state += 1
                g.state[name] = vid
                if id(t._data) in self.written:
                    g.updates[name] = self.known[id(t._data)][1]
                if gv is not None:
                    g.grads[name] = gv
            else:
                g.name_constant(vid, t._data)
        return g

    def _grad_value(self, t: Tensor):
        grad = getattr(t, "grad", None)
        if not isinstance(grad, Tensor):
            return None
        e = self.known.get(id(grad._data))
        if e is None or e[0] is not grad._data:
            return None
        src = self.graph.sources().get(e[1])
        return e[1] if src is None else None

    def bound_tensors(self) -> dict:
        """name -> the live Tensor for every param, buffer and state value of the graph."""
        out = {name: t for t, _, name, _ in self.named}
        by_vid = {vid: t for t, vid in self.externals}
        for name, vid in self.graph.state.items():
            out[name] = by_vid[vid]
        return out
