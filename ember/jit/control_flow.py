"""Data-dependent control flow that survives tracing: ``cond``, ``while_loop``, ``scan``.

Eagerly they are plain Python (``if``/``while``/``for``), so autograd sees ordinary ops. Under a
tracer, ``cond`` and ``while_loop`` trace their functions into sub-graphs (tensors from outside the
function become extra inputs) and emit one ``cond`` / ``while_loop`` node holding the sub-graphs as
JSON; the graph then chooses or loops at run time, also after ``save``/``load``.

Gradients: ``cond`` is a registered op whose backward is another ``cond`` over the branches'
vector-Jacobian products (traced once into sub-graphs), so it is differentiable in eager replay and
inside traced training steps. ``while_loop`` nodes have no gradient; ``while_loop(...,
max_iterations=n)`` under tracing unrolls n masked steps (ordinary, differentiable nodes), and
``scan`` (fixed length) unrolls.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, register_op
from ..autograd.tensor import Tensor
from ..backend.device import to_numpy
from .executor import Plan, run_tensors
from .ir import unflatten_tree
from .tracer import TraceError, Tracer, current_tracer

_PLANS: dict = {}


def _graph_of(spec: dict):
    """Sub-graph JSON -> (Graph, Plan), cached by the identity of the JSON object."""
    hit = _PLANS.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1], hit[2]
    from .serialize import graph_from_json
    g = graph_from_json(spec)
    plan = Plan(g)
    if len(_PLANS) > 4096:
        _PLANS.clear()
    _PLANS[id(spec)] = (spec, g, plan)
    return g, plan


def _run_sub(spec, arrays):
    g, plan = _graph_of(spec)
    src = dict(zip(g.inputs, arrays))
    for name, v in g.constants.items():
        src[v] = g.constant_values[name]
    env = plan.run(src)
    return [env[s] for s in plan.output_slots]


def _to_json(graph):
    from .serialize import graph_to_json
    return graph_to_json(graph, inline_constants=True)


def _truth(pred) -> bool:
    arr = to_numpy(pred) if not isinstance(pred, np.ndarray) else pred
    if arr.size != 1:
        raise ValueError(f"cond: the predicate must have exactly one element, got shape {arr.shape}")
    return bool(arr.reshape(()))


# -- sub-graph tracing -----------------------------------------------------------------------------
def _trace_sub(parent, fn, operands):
    """Trace ``fn(*operands)`` with a child tracer: (graph, captured outer tensors, result)."""
    sub = Tracer(parent=parent)
    with sub:
        for t in operands:
            sub.add_input(t)
        result = fn(*operands)
        graph = sub.finish(result)
    return graph, sub.captured, result


def _merge_captures(parts):
    """Union the captured tensors of several sub-graphs; give each graph an input for every one."""
    union = []
    for _, caps, _ in parts:
        for t in caps:
            if not any(t._data is u._data for u in union):
                union.append(t)
    for g, caps, _ in parts:
        own = {id(t._data): v for t, v in zip(caps, g.inputs[len(g.inputs) - len(caps):])}
        base = g.inputs[:len(g.inputs) - len(caps)]
        extra = []
        for u in union:
            v = own.get(id(u._data))
            if v is None:
                v = g.new_value(u._data.shape, u._data.dtype)
            extra.append(v)
        g.inputs = base + extra
    return union


def trace_function(fn, examples):
    """Trace ``fn`` on example tensors into a stand-alone sub-graph JSON (all inputs explicit)."""
    tracer = Tracer()
    with tracer:
        for t in examples:
            tracer.add_input(t)
        result = fn(*examples)
        graph = tracer.finish(result)
    if graph.state or graph.params or graph.buffers or graph.updates:
        raise TraceError("ember.jit: a gradient sub-graph may not read or write outside state")
    return _to_json(graph)


def _signature(g):
    return [(g.values[v].shape, g.values[v].dtype) for v in g.outputs]


# -- cond --------------------------------------------------------------------------------------------
@register_op("cond")
class Cond(Function):
    """outputs = branches[0](*args) if pred else branches[1](*args); ``args`` = operands + captures."""

    @staticmethod
    def forward(ctx, pred, *args, branches):
        ctx.save_for_backward(*[ctx.input(i) for i in range(len(args) + 1)])
        outs = _run_sub(branches[0] if _truth(pred) else branches[1], args)
        outs = [o.copy() if any(o is a for a in args) else o for o in outs]   # never alias an input
        return tuple(outs) if len(outs) > 1 else outs[0]

    @staticmethod
    def backward(ctx, *gys):
        pred, *args = ctx.saved_tensors
        diff = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.dtype.kind == "f"]
        if not diff:
            return (None,) * (len(args) + 1)
        cache = ctx.__dict__.setdefault("_vjp", {})
        key = tuple(diff)
        if key not in cache:
            cache[key] = [_vjp_json(b, args, gys, diff) for b in ctx.attrs["branches"]]
        res = Cond.apply(pred, *args, *gys, branches=cache[key])
        res = res if isinstance(res, tuple) else (res,)
        out = [None] * (len(args) + 1)
        for i, g in zip(diff, res):
            out[i + 1] = g
        return tuple(out)


def _vjp_json(branch_spec, args, gys, diff):
    """Sub-graph JSON computing d(branch outputs)/d(args[diff]) . gys from (args, gys)."""
    from ..autograd.engine import grad
    from ..autograd.grad_mode import enable_grad
    from ..ops.elementwise import full_like_op
    g, _ = _graph_of(branch_spec)
    n = len(args)

    def vjp(*xs_gs):
        xs, gs = xs_gs[:n], xs_gs[n:]
        with enable_grad():
            leaves = [x.detach().requires_grad_() if i in diff else x for i, x in enumerate(xs)]
            src = {v: t for v, t in zip(g.inputs, leaves)}
            for name, v in g.constants.items():
                src[v] = Tensor._make(g.constant_values[name])
            env = run_tensors(g, src)
            outs = [env[v] for v in g.outputs]
            pairs = [(o, gy) for o, gy in zip(outs, gs) if o._requires_grad]
            wrt = [leaves[i] for i in diff]
            grads = grad([o for o, _ in pairs], wrt, [gy for _, gy in pairs], allow_unused=True) if pairs \
                else [None] * len(wrt)
        return tuple(gr if gr is not None else full_like_op(x, 0.0) for gr, x in zip(grads, wrt))

    examples = [Tensor._make(np.zeros(t._data.shape, t._data.dtype)) for t in (*args, *gys)]
    return trace_function(vjp, examples)


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands) if pred else false_fn(*operands)``, kept as a graph node under tracing.

    ``pred``: a bool or a one-element tensor. Both functions take the operands (tensors) and return
    tensors of the same shapes and dtypes (a tensor or a tuple/list of them). Functions may read other
    tensors (weights, outer values); under tracing those become extra inputs of the node.
    """
    operands = tuple(operands)
    tracer = current_tracer()
    if tracer is None or not isinstance(pred, Tensor):
        if isinstance(pred, Tensor) and tracer is None:
            pred = _truth(pred._data)
        return true_fn(*operands) if pred else false_fn(*operands)
    for k, o in enumerate(operands):
        if not isinstance(o, Tensor):
            raise TypeError(f"cond: operands must be tensors, operand {k} is a {type(o).__name__}")
    parts = [_trace_sub(tracer, fn, operands) for fn in (true_fn, false_fn)]
    if _signature(parts[0][0]) != _signature(parts[1][0]):
        raise TypeError(f"cond: the branches return different shapes/dtypes: {_signature(parts[0][0])} "
                        f"vs {_signature(parts[1][0])}")
    captures = _merge_captures(parts)
    branches = [_to_json(p[0]) for p in parts]
    out = Cond.apply(pred, *operands, *captures, branches=branches)
    outs = out if isinstance(out, tuple) else (out,)
    return unflatten_tree(parts[0][0].output_spec, list(outs))


# -- while_loop --------------------------------------------------------------------------------------
@register_op("while_loop")
class WhileLoop(Function):
    """carry = init; while cond_graph(carry, captures): carry = body_graph(carry, captures)."""

    @staticmethod
    def forward(ctx, *args, cond_graph, body_graph, n_carry):
        vals, caps = list(args[:n_carry]), list(args[n_carry:])
        while _truth(_run_sub(cond_graph, vals + caps)[0]):
            vals = _run_sub(body_graph, vals + caps)
        vals = [v.copy() if any(v is a for a in args) else v for v in vals]
        return tuple(vals) if len(vals) > 1 else vals[0]

    @staticmethod
    def backward(ctx, *gys):
        raise RuntimeError(
            "while_loop: a while_loop node has no gradient (its trip count is data-dependent); pass "
            "max_iterations=n to ember.while_loop (unrolled, differentiable) or use ember.scan")


def while_loop(cond_fn, body_fn, init_vals, max_iterations: int | None = None):
    """``vals = init_vals; while cond_fn(*vals): vals = body_fn(*vals)``; returns the final tuple.

    ``cond_fn`` returns a one-element bool tensor (or a bool); ``body_fn`` returns a tuple of tensors
    shaped like ``init_vals``. Under tracing this is a ``while_loop`` node; with ``max_iterations``
    it is instead unrolled into that many masked steps (differentiable; stops updating once
    ``cond_fn`` is false) and eagerly it stops after ``max_iterations`` steps.
    """
    vals = tuple(init_vals)
    tracer = current_tracer()
    if tracer is None:
        k = 0
        while (max_iterations is None or k < max_iterations) and _truth_any(cond_fn(*vals)):
            vals = tuple(body_fn(*vals))
            k += 1
        return vals
    if max_iterations is not None:
        return _unrolled(cond_fn, body_fn, vals, int(max_iterations))

    def cond_tuple(*v):
        c = cond_fn(*v)
        if not isinstance(c, Tensor):
            raise TypeError("while_loop: under tracing cond_fn must return a tensor")
        return (c,)

    parts = [_trace_sub(tracer, cond_tuple, vals), _trace_sub(tracer, lambda *v: tuple(body_fn(*v)), vals)]
    body = parts[1][0]
    init_sig = [(tuple(v.shape), v.dtype.name) for v in vals]
    if _signature(body) != init_sig:
        raise TypeError(f"while_loop: body_fn must return tensors shaped like init_vals {init_sig}, got "
                        f"{_signature(body)}")
    captures = _merge_captures(parts)
    out = WhileLoop.apply(*vals, *captures, cond_graph=_to_json(parts[0][0]), body_graph=_to_json(body),
                          n_carry=len(vals))
    return out if isinstance(out, tuple) else (out,)


def _truth_any(c) -> bool:
    return _truth(c._data) if isinstance(c, Tensor) else bool(c)


def _unrolled(cond_fn, body_fn, vals, n):
    from ..ops.elementwise import cast, logical_and, where
    active = None
    for _ in range(n):
        c = cond_fn(*vals)
        c = cast(c, np.bool_) if c.dtype != np.bool_ else c
        active = c if active is None else logical_and(active, c)
        new = tuple(body_fn(*vals))
        vals = tuple(where(active, b, a) for a, b in zip(vals, new))
    return vals


# -- scan --------------------------------------------------------------------------------------------
def scan(f, init, xs, length: int | None = None):
    """``carry = init; for x in xs: carry, y = f(carry, x)``; returns ``(carry, stacked ys)``.

    ``xs``: a tensor scanned along dim 0 (or None with ``length``). The loop has a fixed length, so
    under tracing it unrolls into ordinary nodes and gradients flow through it.
    """
    from ..ops.shape import stack
    n = length if xs is None else xs.shape[0]
    if n is None:
        raise TypeError("scan: give xs or length")
    carry, ys = init, []
    for i in range(n):
        carry, y = f(carry, None if xs is None else xs[i])
        ys.append(y)
    if ys and isinstance(ys[0], Tensor):
        return carry, stack(ys)
    return carry, ys
