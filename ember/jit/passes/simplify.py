"""Algebraic simplifications: permute of permute, reshape chains, identity reshapes/permutes/casts,
multiplication/division by one, addition/subtraction of zero, double negation.

A value is replaced only by one of identical shape and dtype, so no broadcasting or promotion is lost.
"""

from __future__ import annotations

from ..ir import Graph, Lit


def _is_lit(x, value) -> bool:
    return isinstance(x, Lit) and type(x.value) in (int, float) and x.value == value


def simplify(graph: Graph) -> Graph:
    g = graph.copy()
    producer = {}
    subst: dict = {}
    changes = 0

    def same(a, b):
        return (not isinstance(a, Lit)) and g.values[a] == g.values[b]

    for n in g.nodes:
        n.inputs = [i if isinstance(i, Lit) else subst.get(i, i) for i in n.inputs]
        out = n.outputs[0] if n.outputs else None
        ins = n.inputs
        repl = None
        if n.op in ("reshape", "permute", "contiguous") and same(ins[0], out) and (
                n.op != "permute" or n.attrs["dims"] == sorted(n.attrs["dims"])):
            repl = ins[0]
        elif n.op == "reshape":
            p = producer.get(ins[0])
            if p is not None and p.op == "reshape":
                n.inputs = [p.inputs[0]]
                changes += 1
        elif n.op == "permute":
            p = producer.get(ins[0])
            if p is not None and p.op == "permute":
                inner, outer = p.attrs["dims"], n.attrs["dims"]
                dims = [inner[d] for d in outer]
                if dims == list(range(len(dims))) and same(p.inputs[0], out):
                    repl = p.inputs[0]
                else:
                    n.inputs, n.attrs = [p.inputs[0]], {**n.attrs, "dims": dims}
                    changes += 1
        elif n.op == "cast" and same(ins[0], out):
            repl = ins[0]
        elif n.op == "mul":
            if _is_lit(ins[1], 1) and same(ins[0], out):
                repl = ins[0]
            elif _is_lit(ins[0], 1) and same(ins[1], out):
                repl = ins[1]
        elif n.op == "div" and _is_lit(ins[1], 1) and same(ins[0], out):
            repl = ins[0]
        elif n.op in ("add", "sub") and _is_lit(ins[1], 0) and same(ins[0], out):
            repl = ins[0]
        elif n.op == "add" and _is_lit(ins[0], 0) and same(ins[1], out):
            repl = ins[1]
        elif n.op == "neg":
            p = producer.get(ins[0])
            if p is not None and p.op == "neg" and same(p.inputs[0], out):
                repl = p.inputs[0]
        if repl is not None:
            subst[out] = repl
            changes += 1
        for o in n.outputs:
            producer[o] = n
    for old, new in subst.items():
        g.outputs = [new if v == old else v for v in g.outputs]
        g.updates = {k: (new if v == old else v) for k, v in g.updates.items()}
        g.grads = {k: (new if v == old else v) for k, v in g.grads.items()}
    # nodes whose output was replaced are now dead; drop them here so the count shows the effect
    from .dce import dce
    g = dce(g)
    g.last_pass_note = f"{changes} rewrites" if changes else ""
    return g
