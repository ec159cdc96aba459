"""Common-subexpression elimination: a node equal to an earlier one (same op, inputs, attrs) reuses
its outputs. Ops that draw random numbers are never merged."""

from __future__ import annotations

import json

from ...autograd.function import OP_REGISTRY
from ..ir import Graph, Lit


def is_random(op: str) -> bool:
    cls = OP_REGISTRY.get(op)
    return bool(getattr(cls, "random", False)) or any(w in op for w in ("rand", "dropout", "bernoulli"))


def cse(graph: Graph) -> Graph:
    g = graph.copy()
    seen: dict = {}
    subst: dict = {}
    kept = []
    for n in g.nodes:
        n.inputs = [i if isinstance(i, Lit) else subst.get(i, i) for i in n.inputs]
        if is_random(n.op):
            kept.append(n)
            continue
        key = json.dumps([n.op, [["l", i.value] if isinstance(i, Lit) else i for i in n.inputs], n.attrs],
                         sort_keys=True, default=str)
        prev = seen.get(key)
        if prev is not None and len(prev.outputs) == len(n.outputs):
            for a, b in zip(n.outputs, prev.outputs):
                subst[a] = b
            continue
        seen[key] = n
        kept.append(n)
    removed = len(g.nodes) - len(kept)
    g.nodes = kept
    for old, new in subst.items():
        g.outputs = [new if v == old else v for v in g.outputs]
        g.updates = {k: (new if v == old else v) for k, v in g.updates.items()}
        g.grads = {k: (new if v == old else v) for k, v in g.grads.items()}
    g.prune_values()
    g.last_pass_note = f"merged {removed} duplicate nodes" if removed else ""
    return g
