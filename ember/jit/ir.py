"""The static-graph IR: ``Graph``, ``Node``, ``Lit`` and the output tree spec.

A graph is in SSA form. Every value is an integer id with a ``ValueInfo`` (shape, dtype name). Values
come from exactly one place:

- ``inputs``: the traced function's tensor arguments, in order (flattened);
- ``params`` / ``buffers``: a module's weights, by ``state_dict`` name;
- ``state``: other tensors captured from outside the function that it writes in place (optimizer
  state); bound by name like parameters;
- ``constants``: arrays frozen into the graph (owned by the graph, saved with it);
- the outputs of a node.

``nodes`` is a flat, topologically ordered list of ``Node(op, inputs, outputs, attrs)`` where ``op`` is
a registered op name (``ember.autograd.function.OP_REGISTRY``) and each input is a value id or a
``Lit`` (a JSON literal passed positionally, e.g. the ``2.0`` of ``x * 2.0``).

``updates`` maps a param/buffer/state name to the value it holds after the graph ran (in-place writes
made during tracing: optimizer steps, running statistics); ``grads`` maps a parameter name to the value
that becomes its ``.grad``. ``output_spec`` rebuilds the returned Python structure from ``outputs``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ValueInfo:
    shape: tuple
    dtype: str


@dataclass(frozen=True)
class Lit:
    """A literal positional argument of a node (number, bool, None, string or list of those)."""

    value: object

    def __repr__(self):
        return repr(self.value)


@dataclass
class Node:
    op: str
    inputs: list            # value ids (int) or Lit
    outputs: list           # value ids
    attrs: dict = field(default_factory=dict)
    needs: list = field(default_factory=list)   # needs_input_grad seen while tracing (forward may use it)

    def value_inputs(self):
        return [i for i in self.inputs if not isinstance(i, Lit)]


@dataclass
class Graph:
    values: dict = field(default_factory=dict)      # id -> ValueInfo
    inputs: list = field(default_factory=list)
    params: dict = field(default_factory=dict)      # name -> id
    buffers: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)   # name -> id
    constant_values: dict = field(default_factory=dict)  # name -> array (NumPy or CuPy)
    nodes: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    output_spec: object = None
    updates: dict = field(default_factory=dict)     # name (param/buffer/state) -> id
    grads: dict = field(default_factory=dict)       # param name -> id
    _next: int = 0

    # -- construction ------------------------------------------------------------------------------
    def new_value(self, shape, dtype) -> int:
        vid = self._next
        self._next += 1
        self.values[vid] = ValueInfo(tuple(int(s) for s in shape), np.dtype(dtype).name)
        return vid

    def add_constant(self, array, prefix: str = "const") -> int:
        vid = self.new_value(array.shape, array.dtype)
        self.name_constant(vid, array, prefix)
        return vid

    def name_constant(self, vid: int, array, prefix: str = "const") -> str:
        k = len(self.constant_values)
        while f"{prefix}{k}" in self.constant_values:
            k += 1
        name = f"{prefix}{k}"
        self.constants[name] = vid
        self.constant_values[name] = array
        return name

    def copy(self) -> "Graph":
        """A structural copy (nodes and dicts are new; constant arrays are shared, never mutated)."""
        g = copy.copy(self)
        g.values = dict(self.values)
        g.inputs = list(self.inputs)
        g.params, g.buffers, g.state = dict(self.params), dict(self.buffers), dict(self.state)
        g.constants, g.constant_values = dict(self.constants), dict(self.constant_values)
        g.nodes = [Node(n.op, list(n.inputs), list(n.outputs), copy.deepcopy(n.attrs), list(n.needs))
                   for n in self.nodes]
        g.outputs = list(self.outputs)
        g.output_spec = copy.deepcopy(self.output_spec)
        g.updates, g.grads = dict(self.updates), dict(self.grads)
        return g

    # -- queries -----------------------------------------------------------------------------------
    def sources(self) -> dict:
        """id -> ("input", i) / ("param", name) / ("buffer", name) / ("state", name) / ("const", name)."""
        src = {v: ("input", i) for i, v in enumerate(self.inputs)}
        for kind, table in (("param", self.params), ("buffer", self.buffers), ("state", self.state),
                            ("const", self.constants)):
            for name, v in table.items():
                src[v] = (kind, name)
        return src

    def live_roots(self) -> list:
        """Values the caller observes: outputs, state updates and gradients."""
        return list(self.outputs) + list(self.updates.values()) + list(self.grads.values())

    def use_counts(self) -> dict:
        counts: dict = {}
        for n in self.nodes:
            for i in n.value_inputs():
                counts[i] = counts.get(i, 0) + 1
        for v in self.live_roots():
            counts[v] = counts.get(v, 0) + 1
        return counts

    def replace_uses(self, old: int, new: int) -> None:
        """Make every use of value ``old`` (in nodes, outputs, updates, grads) use ``new``."""
        for n in self.nodes:
            n.inputs = [new if (not isinstance(i, Lit) and i == old) else i for i in n.inputs]
        self.outputs = [new if v == old else v for v in self.outputs]
        self.updates = {k: (new if v == old else v) for k, v in self.updates.items()}
        self.grads = {k: (new if v == old else v) for k, v in self.grads.items()}

    def prune_values(self) -> None:
        """Forget ValueInfo of ids no longer defined anywhere (after passes removed nodes)."""
        keep = set(self.sources())
        for n in self.nodes:
            keep.update(n.outputs)
        self.values = {k: v for k, v in self.values.items() if k in keep}

    # -- printing ----------------------------------------------------------------------------------
    def _fmt(self, v) -> str:
        if isinstance(v, Lit):
            return repr(v.value)
        return f"%{v}"

    def __str__(self) -> str:
        def sig(v):
            info = self.values.get(v)
            return f"%{v}: {info.dtype}{list(info.shape)}" if info else f"%{v}"

        lines = ["graph("]
        for i, v in enumerate(self.inputs):
            lines.append(f"    input {i}  {sig(v)}")
        for kind, table in (("param", self.params), ("buffer", self.buffers), ("state", self.state),
                            ("const", self.constants)):
            for name, v in table.items():
                lines.append(f"    {kind} {name!r}  {sig(v)}")
        lines.append(") {")
        for n in self.nodes:
            outs = ", ".join(sig(o) for o in n.outputs)
            args = ", ".join(self._fmt(i) for i in n.inputs)
            attrs = "" if not n.attrs else " " + ", ".join(f"{k}={_short(v)}" for k, v in n.attrs.items())
            lines.append(f"    {outs} = {n.op}({args}){attrs}")
        lines.append(f"    return {', '.join(self._fmt(o) for o in self.outputs)}")
        for name, v in self.updates.items():
            lines.append(f"    update {name!r} <- %{v}")
        for name, v in self.grads.items():
            lines.append(f"    grad {name!r} <- %{v}")
        lines.append("}")
        return "\n".join(lines)

    __repr__ = __str__


def _short(v) -> str:
    if isinstance(v, dict) and v.get("format") == "ember.jit":
        return f"<graph: {len(v.get('inputs', []))} inputs, {len(v.get('nodes', []))} nodes>"
    if isinstance(v, list) and v and all(isinstance(x, dict) and x.get("format") == "ember.jit" for x in v):
        return "[" + ", ".join(_short(x) for x in v) + "]"
    if isinstance(v, list) and v and all(isinstance(x, list) and x and isinstance(x[0], str) for x in v):
        return "[" + ", ".join(x[0] for x in v) + "]"      # a fused program: its op names
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


# -- output structure ------------------------------------------------------------------------------
def flatten_tree(obj, is_leaf):
    """(leaves, spec): the tensors inside nested tuples/lists/dicts and a JSON spec to rebuild them."""
    leaves = []

    def go(o):
        if is_leaf(o):
            leaves.append(o)
            return {"t": len(leaves) - 1}
        if isinstance(o, tuple):
            return {"tuple": [go(x) for x in o]}
        if isinstance(o, list):
            return {"list": [go(x) for x in o]}
        if isinstance(o, dict):
            return {"dict": [[k, go(v)] for k, v in o.items()]}
        if o is None or isinstance(o, (bool, int, float, str)):
            return {"lit": o}
        if isinstance(o, np.generic):
            return {"lit": o.item()}
        raise TypeError(f"ember.jit: cannot put a {type(o).__name__} into a graph's inputs or outputs; "
                        "use tensors, numbers and tuples/lists/dicts of them")

    return leaves, go(obj)


def unflatten_tree(spec, leaves):
    if "t" in spec:
        return leaves[spec["t"]]
    if "tuple" in spec:
        return tuple(unflatten_tree(s, leaves) for s in spec["tuple"])
    if "list" in spec:
        return [unflatten_tree(s, leaves) for s in spec["list"]]
    if "dict" in spec:
        return {k: unflatten_tree(s, leaves) for k, s in spec["dict"]}
    return spec["lit"]
