"""``GraphModule``: a ``Graph`` plus the tensors it reads (weights, state), callable like the function.

Calling it:

- graphs that write state (a training step) or when no gradient is needed: the fast array executor
  runs, then in-place updates are written back into the bound tensors and ``.grad`` is set;
- otherwise (grad mode on and some input or parameter requires grad): the graph is replayed op by op
  on Tensors, so ``loss.backward()`` on its output gives the same gradients as eager code.
"""

from __future__ import annotations

from .. import _config
from ..autograd.tensor import Tensor
from .executor import Plan, run_tensors
from .ir import Graph, flatten_tree, unflatten_tree


class GraphModule:
    """``graph``: the IR. ``tensors``: name -> Tensor for every param, buffer and state of the graph."""

    def __init__(self, graph: Graph, tensors: dict):
        self.graph = graph
        self.tensors = dict(tensors)
        self._plan = None

    # -- introspection -----------------------------------------------------------------------------
    def __repr__(self):
        return f"GraphModule(\n{self.graph}\n)"

    @property
    def code(self) -> str:
        return str(self.graph)

    def state_dict(self) -> dict:
        """Params, buffers and state by name (the live tensors)."""
        return dict(self.tensors)

    def named_parameters(self):
        for name in self.graph.params:
            yield name, self.tensors[name]

    def parameters(self):
        for _, t in self.named_parameters():
            yield t

    def with_graph(self, graph: Graph) -> "GraphModule":
        """The same bound tensors around another graph (e.g. the output of a pass)."""
        return GraphModule(graph, self.tensors)

    # -- running -----------------------------------------------------------------------------------
    def _sources(self, inputs, as_array: bool) -> dict:
        g = self.graph
        if len(inputs) != len(g.inputs):
            raise TypeError(f"ember.jit: the graph takes {len(g.inputs)} tensor inputs, got {len(inputs)}")
        src = {}
        for k, (v, t) in enumerate(zip(g.inputs, inputs)):
            info = g.values[v]
            if tuple(t.shape) != info.shape or t.dtype.name != info.dtype:
                raise ValueError(
                    f"ember.jit: input {k} has shape {tuple(t.shape)} and dtype {t.dtype}, but the graph was "
                    f"traced for shape {info.shape} and dtype {info.dtype}; trace again for new shapes")
            src[v] = t._data if as_array else t
        for table in (g.params, g.buffers, g.state):
            for name, v in table.items():
                t = self.tensors[name]
                src[v] = t._data if as_array else t
        for name, v in g.constants.items():
            arr = g.constant_values[name]
            src[v] = arr if as_array else Tensor._make(arr)
        return src

    def __call__(self, *args):
        leaves, _ = flatten_tree(args, lambda o: isinstance(o, Tensor))
        g = self.graph
        differentiable = (_config.grad_enabled.get() and not g.updates and not g.grads and
                          (any(t._requires_grad for t in leaves) or
                           any(t._requires_grad for t in self.tensors.values())))
        if differentiable:
            env = run_tensors(g, self._sources(leaves, as_array=False))
            outs = [env[v] for v in g.outputs]
        else:
            outs = self.run_arrays(leaves)
        return unflatten_tree(g.output_spec, outs)

    def run_arrays(self, leaves) -> list:
        """The fast path: returns output Tensors (no grad), writes updates and ``.grad``."""
        if self._plan is None:
            self._plan = Plan(self.graph)
        plan = self._plan
        env = plan.run(self._sources(leaves, as_array=True))
        for name, s in plan.update_slots.items():
            t = self.tensors[name]
            new = env[s]
            if new is not t._data:
                t._data[...] = new
            t._vc.value += 1
        for name, s in plan.grad_slots.items():
            self.tensors[name].grad = Tensor._make(env[s])
        # constants are shared by every run: hand out copies so callers may write into outputs
        return [Tensor._make(env[s].copy() if s in plan.constant_slots else env[s]) for s in plan.output_slots]
