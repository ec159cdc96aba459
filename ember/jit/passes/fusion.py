"""Elementwise fusion: chains of elementwise ops become one ``fused_elementwise`` node.

A producer joins its consumer's group when it is elementwise (``fused.KERNELS``), has one output,
and that output is read exactly once (by the consumer) and is not an output, update or gradient of
the graph. Each group therefore has one result; its other values live only in recycled scratch
buffers inside the fused kernel.
"""

from __future__ import annotations

from ..fused import KERNELS
from ..ir import Graph, Lit, Node


def fuse_elementwise(graph: Graph) -> Graph:
    g = graph.copy()
    uses = g.use_counts()
    roots = set(g.live_roots())
    producer = {}          # value id -> index of the node producing it
    group_of = {}          # node index -> group (list of node indices, final node last)
    for k, n in enumerate(g.nodes):
        for o in n.outputs:
            producer[o] = k
        if n.op not in KERNELS or len(n.outputs) != 1:
            continue
        members = []
        for v in n.value_inputs():
            p = producer.get(v)
            if p is None or p not in group_of or uses.get(v, 0) != 1 or v in roots:
                continue
            grp = group_of[p]
            if grp[-1] != p or grp in members:
                continue
            members.append(grp)
        group = [i for grp in members for i in grp] + [k]
        for i in group:
            group_of[i] = group
    fused_at = {}
    in_group = set()
    for k, group in {id(gr): gr for gr in group_of.values()}.items():
        if len(group) < 2:
            continue
        group = sorted(group)
        fused_at[group[-1]] = group
        in_group.update(group[:-1])
    new_nodes = []
    count = 0
    for k, n in enumerate(g.nodes):
        if k in in_group:
            continue
        if k not in fused_at:
            new_nodes.append(n)
            continue
        new_nodes.append(_fuse(g, [g.nodes[i] for i in fused_at[k]]))
        count += len(fused_at[k])
    g.nodes = new_nodes
    g.prune_values()
    g.last_pass_note = f"fused {count} elementwise nodes into {len(fused_at)} kernels" if fused_at else ""
    return g


def _fuse(g: Graph, nodes: list) -> Node:
    local = {}             # value id -> ["tmp", j]
    inputs: list = []
    program = []
    for j, n in enumerate(nodes):
        args = []
        for i in n.inputs:
            if isinstance(i, Lit):
                args.append(["lit", i.value])
            elif i in local:
                args.append(local[i])
            else:
                if i not in inputs:
                    inputs.append(i)
                args.append(["in", inputs.index(i)])
        out = n.outputs[0]
        info = g.values[out]
        program.append([n.op, args, dict(n.attrs), list(info.shape), info.dtype])
        local[out] = ["tmp", j]
    return Node("fused_elementwise", inputs, [nodes[-1].outputs[0]], {"program": program},
                [False] * len(inputs))
