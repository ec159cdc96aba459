"""Op-table rows for the jit primitives: ``cond``, ``while_loop`` (control flow holding sub-graphs)
and ``fused_elementwise`` (a fused chain of elementwise ops)."""

import numpy as np

import ember
from ember.autograd.tensor import Tensor
from ember.jit.control_flow import Cond, WhileLoop, trace_function
from ember.jit.fused import FusedElementwise

from .opcase import Const, OpCase


def _graph(fn, *shapes, dtype=np.float64):
    return trace_function(fn, [Tensor._make(np.zeros(s, dtype)) for s in shapes])


# branches over (x, w): x * w + x  |  exp(x - w)
_BRANCHES = [_graph(lambda x, w: x * w + x, (3,), (3,)), _graph(lambda x, w: ember.exp(x - w), (3,), (3,))]
_COND_GRAPH = _graph(lambda v: (v.sum() > 1.0,), (3,))
_BODY_GRAPH = _graph(lambda v: (v * 0.5,), (3,))
_PROGRAM = [["relu", [["in", 0]], {}, [3, 4], "float64"],
            ["mul", [["tmp", 0], ["in", 1]], {}, [3, 4], "float64"],
            ["add", [["tmp", 1], ["lit", 1.0]], {}, [3, 4], "float64"]]


def _program_f32():
    return [[op, args, attrs, shape, "float32"] for op, args, attrs, shape, _ in _PROGRAM]


def _fused(a, b):
    program = _PROGRAM if a.dtype == np.float64 else _program_f32()
    return FusedElementwise.apply(a, b, program=program)


def _while_ref(v):
    while v.sum() > 1.0:
        v = v * 0.5
    return v


CASES = [
    OpCase("cond_true", lambda p, x, w: Cond.apply(p, x, w, branches=_BRANCHES),
           lambda p, x, w: x * w + x, [Const(np.array(True)), (3,), (3,)], covers=("cond",)),
    OpCase("cond_false", lambda p, x, w: Cond.apply(p, x, w, branches=_BRANCHES),
           lambda p, x, w: np.exp(x - w), [Const(np.array(False)), (3,), (3,)], covers=("cond",)),
    OpCase("while_loop", lambda v: WhileLoop.apply(v, cond_graph=_COND_GRAPH, body_graph=_BODY_GRAPH, n_carry=1),
           _while_ref, [(3,)], covers=("while_loop",), domain=lambda a: np.abs(a) * 4 + 1, grad=False),
    OpCase("fused_elementwise", _fused, lambda a, b: np.maximum(a, 0) * b + 1.0, [(3, 4), (4,)],
           covers=("fused_elementwise",), domain=lambda a: a + np.sign(a) * 0.1),
]
