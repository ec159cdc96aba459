"""Run a ``Graph``: straight on arrays (the fast path) or op by op on Tensors (differentiable).

``Plan`` turns the node list into a list of steps ``(forward, ctx, input slots, output slots, attrs,
slots to free)`` over one flat list of arrays. Running a step is one call of the op's ``forward`` on
arrays: no Tensor objects, no autograd bookkeeping. Each node keeps one small ``ExecCtx`` (the ``ctx``
a forward expects; saving for backward is a no-op). Values are dropped right after their last use so
NumPy can reuse the memory; fused nodes may also write into a dead input (see ``passes.memory``).

``run_tensors`` replays the graph with ``Function.apply`` on Tensors; it records autograd like eager
code, so gradients of a traced forward graph equal eager gradients.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import OP_REGISTRY
from ..autograd.tensor import Tensor
from ..backend.device import array_module
from .ir import Graph, Lit


class ExecCtx:
    """The ``ctx`` given to ``forward`` by the executor: same helpers as ``BackwardNode``, no autograd."""

    executor = True   # lets fused kernels write into a dead input (never done under autograd)

    def __init__(self, attrs, xp, needs):
        self.attrs = attrs
        self.xp = xp
        self.needs_input_grad = tuple(needs)

    def input(self, i):
        return None

    def output(self, i):
        return None

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *outputs):
        pass


def unknown_op_error(op: str) -> Exception:
    return ValueError(f"ember.jit: the graph uses the op {op!r}, which is not registered in this process "
                      "(import the package that defines it, or check the graph file)")


class Plan:
    """A graph compiled into flat steps. ``run(sources)`` takes arrays for every graph source."""

    def __init__(self, graph: Graph):
        self.graph = graph
        slots: dict = {}
        literals = []

        def slot(v):
            if isinstance(v, Lit):
                literals.append(v.value)
                return ("lit", len(literals) - 1)
            if v not in slots:
                slots[v] = len(slots)
            return slots[v]

        src = graph.sources()
        self.source_slots = {v: slot(v) for v in src}
        self.sources = src
        last_use: dict = {}
        for k, n in enumerate(graph.nodes):
            for i in n.value_inputs():
                last_use[i] = k
        roots = set(graph.live_roots())
        raw_steps = []
        for k, n in enumerate(graph.nodes):
            cls = OP_REGISTRY.get(n.op)
            if cls is None:
                raise unknown_op_error(n.op)
            ins = [slot(i) for i in n.inputs]
            outs = [slot(o) for o in n.outputs]
            dead = [slots[i] for i in dict.fromkeys(n.value_inputs())
                    if last_use.get(i) == k and i not in roots and i not in src]
            # outputs nobody reads are dropped at once
            dead += [slots[o] for o in n.outputs if o not in last_use and o not in roots]
            raw_steps.append((cls.forward, ExecCtx(n.attrs, np, n.needs), ins, outs, n.attrs, dead))
        n_slots = len(slots) + len(literals)
        base = len(slots)
        self.steps = []
        for fwd, ctx, ins, outs, attrs, dead in raw_steps:
            ins = [base + i[1] if isinstance(i, tuple) else i for i in ins]
            self.steps.append((fwd, ctx, ins, outs, attrs, dead, len(outs) > 1))
        self.template = [None] * len(slots) + literals
        self.n_slots = n_slots
        self.output_slots = [slots[v] if v in slots else slot(v) for v in graph.outputs]
        self.constant_slots = {self.source_slots[v] for v in graph.constants.values()}
        self.update_slots = {k: slots[v] for k, v in graph.updates.items()}
        self.grad_slots = {k: slots[v] for k, v in graph.grads.items()}
        self._xp = np

    def run(self, source_arrays: dict):
        """``source_arrays``: value id -> array for every source. Returns the env list."""
        env = list(self.template)
        first = None
        for v, s in self.source_slots.items():
            a = source_arrays[v]
            env[s] = a
            if first is None:
                first = a
        xp = np if first is None or type(first) is np.ndarray else array_module(first)
        if xp is not self._xp:
            for step in self.steps:
                step[1].xp = xp
            self._xp = xp
        for fwd, ctx, ins, outs, attrs, dead, multi in self.steps:
            res = fwd(ctx, *[env[i] for i in ins], **attrs)
            if multi:
                for o, r in zip(outs, res):
                    env[o] = _as_array(r, xp)
            else:
                env[outs[0]] = res if type(res) is np.ndarray else _as_array(res, xp)
            for d in dead:
                env[d] = None
        return env


def _as_array(r, xp):
    if isinstance(r, Tensor):
        return r._data
    if type(r) is np.ndarray or hasattr(r, "__cuda_array_interface__"):
        return r
    return xp.asarray(r)


def run_tensors(graph: Graph, source_tensors: dict) -> dict:
    """Replay ``graph`` with ``Function.apply`` on Tensors; returns value id -> Tensor for all values."""
    env = dict(source_tensors)
    for n in graph.nodes:
        cls = OP_REGISTRY.get(n.op)
        if cls is None:
            raise unknown_op_error(n.op)
        args = [i.value if isinstance(i, Lit) else env[i] for i in n.inputs]
        res = cls.apply(*args, **n.attrs)
        if len(n.outputs) == 1:
            env[n.outputs[0]] = res if not isinstance(res, tuple) else res[0]
        else:
            for o, r in zip(n.outputs, res):
                env[o] = r
    return env
