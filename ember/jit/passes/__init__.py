"""Graph passes: pure ``Graph -> Graph`` functions, listed by name and run in order.

``PASSES`` maps a name to its function; ``DEFAULT_PASSES`` is the order ``compile`` uses. Each pass
copies the graph it gets and never mutates it, so passes can be compared, reordered and switched off
(``ember.jit.compile(fn, passes=["dce", "cse"])``).
"""

from __future__ import annotations

from ..ir import Graph
from .cse import cse
from .dce import dce
from .fold import constant_fold
from .fusion import fuse_elementwise
from .memory import plan_memory
from .simplify import simplify

PASSES = {
    "dce": dce,
    "cse": cse,
    "constant_fold": constant_fold,
    "simplify": simplify,
    "fuse_elementwise": fuse_elementwise,
    "plan_memory": plan_memory,
}

DEFAULT_PASSES = ["simplify", "constant_fold", "cse", "dce", "fuse_elementwise", "plan_memory"]


def resolve_passes(passes) -> list:
    """Names, functions and/or (name, function) pairs -> list of (name, function). None: the default
    pipeline."""
    if passes is None:
        passes = DEFAULT_PASSES
    out = []
    for p in passes:
        if isinstance(p, tuple) and len(p) == 2 and callable(p[1]):
            out.append(p)
        elif callable(p):
            out.append((getattr(p, "__name__", repr(p)), p))
        elif p in PASSES:
            out.append((p, PASSES[p]))
        else:
            raise ValueError(f"ember.jit: unknown pass {p!r}; known passes: {sorted(PASSES)}")
    return out


def run_passes(graph: Graph, passes=None):
    """Apply ``passes`` in order; returns (graph, report) where report lists
    (name, nodes before, nodes after, what the pass changed)."""
    report = []
    for name, fn in resolve_passes(passes):
        before = len(graph.nodes)
        graph = fn(graph)
        report.append((name, before, len(graph.nodes), getattr(graph, "last_pass_note", "")))
    return graph, report


def format_report(report) -> str:
    lines = [f"{'pass':<18}{'fired':<7}{'nodes':>14}{'removed':>9}  note"]
    for name, before, after, note in report:
        fired = "yes" if (before != after or note) else "no"
        lines.append(f"{name:<18}{fired:<7}{before:>6} -> {after:<5}{before - after:>9}  {note}")
    return "\n".join(lines)
