"""Memory planning: in-place results where safe.

Buffer reuse across nodes comes from two mechanisms: the executor drops every value right after its
last use (so NumPy's allocator hands the memory to the next node), and this pass lets a fused
elementwise node write its result straight into one of its inputs (``inplace=k``) when that input

- has the same shape and dtype as the result,
- is read by no later node and is not an output, update or gradient of the graph,
- owns its memory: it was made by an op known to allocate a fresh array and every op that reads it
  is known not to return a view of it (so no alias can observe the write);

or, for a parameter/buffer/state input, when the result is exactly that tensor's new value and every
other reader comes earlier (the optimizer update writes into the parameter itself, no copy back).
"""

from __future__ import annotations

from ..fused import KERNELS
from ..ir import Graph

FRESH = set(KERNELS) | {"fused_elementwise", "clone", "matmul", "linear", "sum"}
NON_ALIASING_READERS = set(KERNELS) | {"fused_elementwise", "clone", "matmul", "linear", "sum",
                                       "cast", "softmax", "log_softmax", "amax", "logsumexp"}


def _as_fused(g: Graph, n):
    from .fusion import _fuse
    f = _fuse(g, [n])
    f.attrs["original"] = n
    return f


VIEW_OPS = {"reshape", "permute", "expand", "getitem", "contiguous", "split"}


def _aliases_dead(g: Graph, v: int, k: int, readers: dict, roots: set, depth: int = 0) -> bool:
    """True when no value that may share memory with ``v`` is read at or after node ``k`` (other than
    node k reading v itself) or escapes the graph."""
    for r in readers.get(v, ()):
        node = g.nodes[r]
        if node.op in NON_ALIASING_READERS:
            continue
        if node.op not in VIEW_OPS or r >= k or depth > 8:
            return False
        for o in node.outputs:
            if o in roots or any(rr >= k for rr in readers.get(o, ())):
                return False
            if not _aliases_dead(g, o, k, readers, roots, depth + 1):
                return False
    return True


def plan_memory(graph: Graph) -> Graph:
    g = graph.copy()
    producer = {}
    readers: dict = {}
    for k, n in enumerate(g.nodes):
        for o in n.outputs:
            producer[o] = n
        for i in n.value_inputs():
            readers.setdefault(i, []).append(k)
    src = g.sources()
    roots = set(g.outputs) | set(g.grads.values())
    update_of = {v: name for name, v in g.updates.items()}
    all_roots = set(g.live_roots())
    source_names = {v: name for v, (kind, name) in src.items() if kind in ("param", "buffer", "state")}
    count = 0
    for k, n in enumerate(g.nodes):
        if n.op in KERNELS and len(n.outputs) == 1:
            n = g.nodes[k] = _as_fused(g, n)   # a lone elementwise op can write in place too
        if n.op != "fused_elementwise":
            continue
        out = n.outputs[0]
        info = g.values[out]
        for idx, v in enumerate(n.inputs):
            if g.values.get(v) != info or v in roots or v in update_of:
                continue
            if readers[v][-1] != k or not _aliases_dead(g, v, k, readers, all_roots):
                continue
            if v in src:
                name = source_names.get(v)
                if name is None or update_of.get(out) != name or out in roots:
                    continue
            elif producer[v].op not in FRESH:
                continue
            n.attrs = {**n.attrs, "inplace": idx}
            count += 1
            break
        if n.attrs.get("inplace", -1) < 0 and len(n.attrs["program"]) == 1:
            g.nodes[k] = n.attrs["original"] if "original" in n.attrs else n
    for n in g.nodes:
        n.attrs.pop("original", None)
    g.last_pass_note = f"{count} nodes write in place" if count else ""
    return g
