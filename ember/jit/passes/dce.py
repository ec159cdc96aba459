"""Dead-code elimination: drop nodes none of whose outputs reach an output, update or gradient."""

from __future__ import annotations

from ..ir import Graph


def dce(graph: Graph) -> Graph:
    g = graph.copy()
    live = set(g.live_roots())
    kept = []
    for n in reversed(g.nodes):
        if any(o in live for o in n.outputs):
            kept.append(n)
            live.update(n.value_inputs())
    removed = len(g.nodes) - len(kept)
    g.nodes = kept[::-1]
    # constants nobody reads are dropped too
    for name, v in list(g.constants.items()):
        if v not in live:
            del g.constants[name]
            del g.constant_values[name]
    g.prune_values()
    g.last_pass_note = f"removed {removed} dead nodes" if removed else ""
    return g
