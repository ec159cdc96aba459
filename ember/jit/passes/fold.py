"""Constant folding: nodes computable at compile time become constants.

A node folds when every value it reads is a constant, or when its result depends only on the shapes
of its inputs (``full_like``: shapes are static in a traced graph, so this is the shape arithmetic).
Random ops and control flow never fold; shape-only results larger than ``MAX_SHAPE_FOLD`` elements
stay nodes so graph files stay small.
"""

from __future__ import annotations

import numpy as np

from ...autograd.function import OP_REGISTRY
from ..executor import ExecCtx, _as_array
from ..ir import Graph, Lit
from .cse import is_random

SHAPE_ONLY = {"full_like"}
NEVER = {"cond", "while_loop"}
MAX_SHAPE_FOLD = 1 << 16
MAX_FOLD = 1 << 20      # never materialize a constant larger than this (e.g. an expand of a scalar)


def constant_fold(graph: Graph) -> Graph:
    g = graph.copy()
    const_ids = {v: name for name, v in g.constants.items()}
    kept = []
    folded = 0
    for n in g.nodes:
        vins = n.value_inputs()
        shape_only = n.op in SHAPE_ONLY and all(
            int(np.prod(g.values[o].shape)) <= MAX_SHAPE_FOLD for o in n.outputs)
        too_big = any(int(np.prod(g.values[o].shape)) > MAX_FOLD for o in n.outputs)
        if n.op in NEVER or is_random(n.op) or too_big or not (shape_only or all(v in const_ids for v in vins)):
            kept.append(n)
            continue
        cls = OP_REGISTRY[n.op]
        args = []
        for i in n.inputs:
            if isinstance(i, Lit):
                args.append(i.value)
            elif i in const_ids:
                args.append(g.constant_values[const_ids[i]])
            else:  # shape-only: a stand-in with the right shape and dtype
                info = g.values[i]
                args.append(np.broadcast_to(np.zeros((), info.dtype), info.shape))
        res = cls.forward(ExecCtx(n.attrs, np, n.needs), *args, **n.attrs)
        res = res if isinstance(res, tuple) else (res,)
        for o, r in zip(n.outputs, res):
            arr = np.array(_as_array(r, np), order="C")
            const_ids[o] = g.name_constant(o, arr, "folded")
        folded += 1
    g.nodes = kept
    g.prune_values()
    g.last_pass_note = f"folded {folded} nodes into constants" if folded else ""
    return g
