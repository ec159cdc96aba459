"""Reverse-mode engine: walks ``grad_fn`` nodes from the outputs back to the leaves.

The engine, not each op, undoes broadcasting (sums a gradient back to its input's shape), casts a
gradient to its input's dtype, sums gradients reaching one tensor from several uses, runs tensor
hooks, fills ``.grad`` of leaves (or returns gradients for ``autograd.grad``), and frees saved
tensors unless ``retain_graph``. Backward formulas run with grad mode = ``create_graph``, so the
first-order pass builds no graph and ``create_graph=True`` gives differentiable gradients.
"""

from __future__ import annotations

import numpy as np

from .. import _config
from ..backend import array_module
from . import function as _function
from .tensor import Tensor


def _as_tuple(x):
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into ``.grad`` of the leaves (``torch.autograd.backward``).

    ``grad_tensors`` defaults to ones for one-element outputs. With ``inputs``, only those leaves
    receive gradients.
    """
    roots = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(roots)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_tuple(inputs)
        results = _run(roots, grads, retain_graph, create_graph, inputs, allow_unused=True)
        for t, g in zip(inputs, results):
            if g is not None:
                _accumulate_into_leaf(t, g, create_graph)
        return
    _run(roots, grads, retain_graph, create_graph, None, allow_unused=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None, materialize_grads: bool = False):
    """Return d(outputs)/d(inputs) without touching ``.grad`` (``torch.autograd.grad``)."""
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    for i, t in enumerate(ins):
        if not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    gouts = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outs)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    result = _run(outs, gouts, retain_graph, create_graph, ins, allow_unused)
    if materialize_grads:
        from ..ops.creation import zeros_like
        result = tuple(zeros_like(t) if g is None else g for t, g in zip(ins, result))
    return result


def _root_grads(roots, grads):
    root_grads = []
    for i, (r, g) in enumerate(zip(roots, grads)):
        if not r._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if r._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (got shape {tuple(r.shape)})")
            g = Tensor._make(_xp(r._data).ones(r._data.shape, r._data.dtype))
        elif not isinstance(g, Tensor):
            g = Tensor._make(_xp(r._data).asarray(g, dtype=r._data.dtype))
        if tuple(g.shape) != tuple(r.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and output[{i}] "
                f"has a shape of {tuple(r.shape)}")
        root_grads.append(g)
    return root_grads


def _xp(arr):
    return np if type(arr) is np.ndarray else array_module(arr)


def _collect(roots, capture_nodes):
    """Nodes reachable from ``roots`` and, when capturing, whether each must run its backward."""
    order, seen = [], set()
    stack = [r._grad_fn for r in roots if r._grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        for edge in node.next_edges:
            if edge is not None and not isinstance(edge[0], Tensor) and edge[0] not in seen:
                stack.append(edge[0])
    return order


def _needed(order, leaf_ids, capture_nodes):
    """For ``autograd.grad``: the nodes whose backward leads to a requested input."""
    needed = {}
    # Reverse DFS order is not topological in general; iterate to a fixed point (graphs are small).
    changed = True
    while changed:
        changed = False
        for node in order:
            if needed.get(node):
                continue
            for edge in node.next_edges:
                if edge is None:
                    continue
                nxt = edge[0]
                if isinstance(nxt, Tensor):
                    hit = id(nxt) in leaf_ids
                else:
                    hit = needed.get(nxt, False) or nxt in capture_nodes
                if hit:
                    needed[node] = True
                    changed = True
                    break
    return needed


def _run(roots, grads, retain_graph, create_graph, inputs, allow_unused):
    root_grads = _root_grads(roots, grads)
    capturing = inputs is not None
    leaf_ids, capture_nodes = {}, {}
    if capturing:
        for k, t in enumerate(inputs):
            if t._grad_fn is None:
                leaf_ids.setdefault(id(t), []).append(k)
            else:
                capture_nodes.setdefault(t._grad_fn, []).append((t._output_nr, k))
    order = _collect(roots, capture_nodes)
    needed = _needed(order, leaf_ids, capture_nodes) if capturing else None

    deps = {}
    for node in order:
        if needed is not None and not needed.get(node):
            continue
        for edge in node.next_edges:
            if edge is not None and not isinstance(edge[0], Tensor):
                deps[edge[0]] = deps.get(edge[0], 0) + 1

    buffers: dict = {}
    leaf_grads: dict = {}      # id(leaf) -> [leaf, grad]
    results = [None] * len(inputs) if capturing else None
    for r, g in zip(roots, root_grads):
        if r._grad_fn is None:
            _add_leaf_grad(leaf_grads, r, g)
        else:
            _add_to_buffer(buffers, r._grad_fn, r._output_nr, g)

    anomaly = _config.anomaly_enabled.get()
    token = _config.grad_enabled.set(create_graph)
    try:
        ready = [n for n in dict.fromkeys(r._grad_fn for r in roots if r._grad_fn is not None) if deps.get(n, 0) == 0]
        while ready:
            node = ready.pop()
            outs = buffers.pop(node, None)
            if outs is not None:
                outs = _apply_pre_hooks(node, outs)
                if capturing and node in capture_nodes:
                    for out_nr, k in capture_nodes[node]:
                        results[k] = outs[out_nr]
            run = outs is not None and (needed is None or needed.get(node, False))
            if run:
                grads_in = _call_backward(node, outs, anomaly)
            for i, edge in enumerate(node.next_edges):
                if edge is None:
                    continue
                nxt, nr = edge
                g = grads_in[i] if run else None
                if g is not None:
                    g = _conform(node, i, g)
                if isinstance(nxt, Tensor):
                    if g is not None:
                        _add_leaf_grad(leaf_grads, nxt, g)
                    continue
                if needed is not None and not needed.get(node, False):
                    continue
                if g is not None:
                    _add_to_buffer(buffers, nxt, nr, g)
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    ready.append(nxt)
            if not retain_graph:
                node.release()
    finally:
        _config.grad_enabled.reset(token)

    handed_out = {id(g._data) for g, given in zip(root_grads, grads) if given is not None}
    for leaf, g in leaf_grads.values():
        if leaf._hooks:
            for hook in list(leaf._hooks):
                new = hook(g)
                if new is not None:
                    g = new
        if capturing:
            for k in leaf_ids.get(id(leaf), ()):
                results[k] = g
        else:
            if id(g._data) in handed_out:
                if _function._apply_observers:   # tracing: a copy the jit tracer can see
                    from ..ops.shape import clone
                    g = clone(g)
                else:
                    g = Tensor._make(g._data.copy())
            handed_out.add(id(g._data))
            _accumulate_into_leaf(leaf, g, create_graph)

    if capturing:
        for k, (t, g) in enumerate(zip(inputs, results)):
            if g is None and not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {k}, shape {tuple(t.shape)}) appears to not "
                    "have been used in the graph. Set allow_unused=True if this is the desired behavior.")
        if not create_graph:
            results = [None if g is None else _detached(g) for g in results]
        return tuple(results)
    return None


def _detached(g: Tensor) -> Tensor:
    if g._grad_fn is None and not g._requires_grad:
        return g
    return g.detach()


def _apply_pre_hooks(node, outs):
    if node._pre_hooks:
        outs = list(outs)
        for nr, hooks in node._pre_hooks.items():
            for hook in list(hooks):
                if outs[nr] is None:
                    continue
                new = hook(outs[nr])
                if new is not None:
                    outs[nr] = new
    if node._retained:
        for nr, ref in node._retained.items():
            t = ref()
            if t is not None and outs[nr] is not None:
                g = outs[nr]
                t.grad = g if _config.grad_enabled.get() else _detached(g)
    return outs


def _call_backward(node, outs, anomaly):
    if any(g is None for g in outs):
        outs = [Tensor._make(_zeros(node, i)) if g is None else g for i, g in enumerate(outs)]
    result = node.fn.backward(node, *outs)
    if type(result) is not tuple:
        result = (result,) if not isinstance(result, list) else tuple(result)
    n_in = len(node.next_edges)
    if len(result) < n_in:
        result = result + (None,) * (n_in - len(result))
    elif len(result) > n_in and any(r is not None for r in result[n_in:]):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients (expected {n_in}, got {len(result)})")
    if anomaly:
        _check_anomaly(node, result)
    return result


def _zeros(node, i):
    shape, dtype = node._out_meta[i]
    return node.xp.zeros(shape, dtype)


def _check_anomaly(node, result):
    for i, g in enumerate(result):
        if g is None:
            continue
        arr = g._data if isinstance(g, Tensor) else g
        if arr.dtype.kind == "f" and not bool(node.xp.isfinite(arr).all()):
            kind = "nan" if bool(node.xp.isnan(arr).any()) else "inf"
            stack = node._forward_stack or "(forward stack not recorded: enable detect_anomaly before the forward pass)\n"
            raise RuntimeError(
                f"Function '{node.name()}' returned {kind} values in its {i}th output.\n"
                f"The forward call that created it:\n{stack}")


def _conform(node, i, g):
    """Make gradient ``g`` of input ``i`` match the input's shape and dtype (undo broadcasting)."""
    if not isinstance(g, Tensor):
        g = Tensor._make(g)
    shape, dtype = node.input_meta[i]
    if g._data.shape != shape:
        from ..ops.shape import sum_to_shape
        try:
            g = sum_to_shape(g, shape)
        except ValueError:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got shape "
                f"{tuple(g.shape)} but expected shape compatible with {tuple(shape)}") from None
    if g._data.dtype != dtype:
        g = g.to(dtype)
    return g


def _add_to_buffer(buffers, node, nr, g):
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * node.n_outputs
    prev = slots[nr]
    slots[nr] = g if prev is None else prev + g


def _add_leaf_grad(leaf_grads, leaf, g):
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g]
    else:
        entry[1] = entry[1] + g


def _accumulate_into_leaf(leaf, g, create_graph):
    if not create_graph:
        g = _detached(g)
        arr = g._data
        if not arr.flags.c_contiguous or not getattr(arr.flags, "writeable", True):
            from ..ops.shape import clone   # an op, so that a jit trace sees the copy
            g = clone(g)
    if leaf.grad is None:
        leaf.grad = g
    elif create_graph or leaf.grad._requires_grad:
        leaf.grad = leaf.grad + g
    elif _function._apply_observers:        # tracing: an in-place add the jit tracer can see
        leaf.grad.add_(g)
    else:
        leaf.grad._data += g._data
