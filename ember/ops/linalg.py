"""Linear algebra: matmul (batched, broadcasting, 1-d cases), mm, bmm, mv, dot, outer, addmm,
einsum, and the fused ``linear`` (x @ W.T + b) used by ``nn.Linear``."""

from __future__ import annotations

import re

import numpy as np

from .. import _dtype
from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from ..backend.parallel import matmul as gemm
from . import elementwise as E
from . import shape as S


def _mT(t: Tensor) -> Tensor:
    return S.transpose(t, -1, -2)


@register_op("matmul")
class MatMul(Function):
    """y = a @ b for a, b with ndim >= 2 (batch dims broadcast). da = gy @ b.T, db = a.T @ gy."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(ctx.input(0) if ctx.needs_input_grad[1] else None,
                              ctx.input(1) if ctx.needs_input_grad[0] else None)
        return gemm(ctx.xp, a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = MatMul.apply(gy, _mT(b)) if ctx.needs_input_grad[0] else None
        gb = MatMul.apply(_mT(a), gy) if ctx.needs_input_grad[1] else None
        return ga, gb


def _check_matmul(op, a: Tensor, b: Tensor):
    if a.ndim == 0 or b.ndim == 0:
        raise op_error(op, "both arguments need at least 1 dimension", a, b)
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise op_error(op, f"shapes cannot be multiplied ({_mat_desc(a)} and {_mat_desc(b)})", a, b)
    if a.dtype != b.dtype:
        raise op_error(op, f"expected both inputs to have the same dtype, got {a.dtype} and {b.dtype}", a, b)


def _mat_desc(t: Tensor) -> str:
    return "x".join(str(s) for s in t.shape)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch rules: 1-d operands are promoted to matrices and the added
    dim removed after; batch dims broadcast."""
    _check_matmul("matmul", input, other)
    a, b = input, other
    if a.ndim == 1 and b.ndim == 1:
        return S.reshape(MatMul.apply(S.reshape(a, (1, -1)), S.reshape(b, (-1, 1))), ())
    if a.ndim == 1:
        return S.squeeze(MatMul.apply(S.unsqueeze(a, 0), b), -2)
    if b.ndim == 1:
        return S.squeeze(MatMul.apply(a, S.unsqueeze(b, 1)), -1)
    return MatMul.apply(a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 2 or mat2.ndim != 2:
        raise op_error("mm", "expects 2-d tensors", input, mat2)
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise op_error("bmm", "expects 3-d tensors with equal batch sizes", input, mat2)
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input.ndim != 2 or vec.ndim != 1:
        raise op_error("mv", "expects a 2-d matrix and a 1-d vector", input, vec)
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise op_error("dot", "expects 1-d tensors", input, other)
    if input.shape != other.shape:
        raise op_error("dot", f"inconsistent tensor size: {input.shape[0]} and {other.shape[0]}", input, other)
    return matmul(input, other)


inner = dot
vdot = dot


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return S.reshape(input, (-1, 1)) * S.reshape(vec2, (1, -1))


ger = outer


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2)."""
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input * beta if beta != 1 else input)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    prod = bmm(batch1, batch2)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input * beta if beta != 1 else input)


@register_op("linear")
class Linear(Function):
    """y = x @ w.T (+ b): x (..., in), w (out, in), b (out,) -> (..., out). One GEMM each way.

    dx = gy @ w;  dw = gy.T @ x (batch dims flattened);  db = gy summed over batch dims.
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        needs = ctx.needs_input_grad
        ctx.save_for_backward(ctx.input(0) if needs[1] else None, ctx.input(1) if needs[0] else None)
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x   # one GEMM, not one per batch entry
        y = gemm(ctx.xp, x2, w.T)
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim != 2 else y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        need_x, need_w, need_b = needs[0], needs[1], len(needs) > 2 and needs[2]
        g2 = S.reshape(gy, (-1, gy.shape[-1])) if gy.ndim != 2 else gy
        gx = gw = gb = None
        if need_x:
            gx = MatMul.apply(g2, w)
            if gy.ndim != 2:
                gx = S.reshape(gx, tuple(gy.shape[:-1]) + (w.shape[1],))
        if need_w:
            x2 = S.reshape(x, (-1, x.shape[-1])) if x.ndim != 2 else x
            gw = MatMul.apply(_mT(g2), x2)
        if need_b:
            from .reduction import Sum
            gb = Sum.apply(g2, dim=[0], keepdim=False, dtype=None)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise op_error("linear", f"input's last dim ({input.shape[-1] if input.ndim else '-'}) must equal "
                                 f"weight's in_features ({weight.shape[-1]})", input, weight)
    if input.dtype != weight.dtype:
        raise op_error("linear", f"input dtype {input.dtype} and weight dtype {weight.dtype} differ", input, weight)
    if bias is not None:
        out_shape = tuple(input.shape[:-1]) + ((weight.shape[0],) if weight.ndim == 2 else ())
        try:
            np.broadcast_shapes(tuple(bias.shape), out_shape)
        except ValueError:
            raise op_error("linear", f"bias of shape {tuple(bias.shape)} does not broadcast to the output shape "
                                     f"{out_shape}", input, weight, bias) from None
    if weight.ndim == 1:
        out = matmul(input, weight)
        return out + bias if bias is not None else out
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


@register_op("einsum")
class Einsum(Function):
    """y = einsum(equation, *operands) in explicit form ("ij,jk->ik"); each operand's gradient is
    another einsum of gy with the other operands. Letters may not repeat within one operand."""

    @staticmethod
    def forward(ctx, *ops, equation):
        ctx.save_for_backward(*[ctx.input(i) for i in range(len(ops))])
        ctx.shapes = [o.shape for o in ops]
        return ctx.xp.einsum(equation, *ops, optimize=len(ops) > 2)

    @staticmethod
    def backward(ctx, gy):
        ops = ctx.saved_tensors
        ins, out = ctx.attrs["equation"].split("->")
        specs = ins.split(",")
        grads = []
        for k, spec in enumerate(specs):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [(s, o) for i, (s, o) in enumerate(zip(specs, ops)) if i != k]
            available = set(out).union(*[set(s) for s, _ in others])
            kept = "".join(c for c in spec if c in available)
            eq = ",".join([out] + [s for s, _ in others]) + "->" + kept
            g = Einsum.apply(gy, *[o for _, o in others], equation=eq)
            if kept != spec:  # letters summed only inside this operand: broadcast back
                g = S.reshape(g, tuple(n if c in kept else 1 for c, n in zip(spec, ctx.shapes[k])))
                g = S.expand(g, tuple(ctx.shapes[k]))
            grads.append(g)
        return tuple(grads)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation; ``...`` and implicit output (no '->') are expanded to explicit letters."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = _explicit_equation(equation.replace(" ", ""), operands)
    specs = eq.split("->")[0].split(",")
    if len(specs) != len(operands):
        raise op_error("einsum", f"equation {equation!r} names {len(specs)} operands, got {len(operands)}", *operands)
    for s, o in zip(specs, operands):
        if len(s) != o.ndim:
            raise op_error("einsum", f"subscripts {s!r} don't match an operand with {o.ndim} dims", o)
        if len(set(s)) != len(s):
            raise op_error("einsum", f"repeated subscript in {s!r} (diagonals) is not supported; use "
                                     "ember.diagonal", o)
    sizes = {}
    for k, (s, o) in enumerate(zip(specs, operands)):
        for c, n in zip(s, o.shape):
            if sizes.setdefault(c, n) != n:
                raise op_error("einsum", f"subscript {c!r} has size {n} in operand {k} but size {sizes[c]} in an "
                                         f"earlier operand of {eq!r}", *operands)
    dt = _dtype.result_type(*operands)
    operands = [E.cast(o, dt) for o in operands]
    return Einsum.apply(*operands, equation=eq)


def _explicit_equation(eq: str, operands) -> str:
    if "->" in eq:
        ins, out = eq.split("->")
    else:
        ins, out = eq, None
    specs = ins.split(",")
    if "..." in eq:
        used = set(re.sub(r"[^a-zA-Z]", "", eq))
        free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used]
        n_ell = max((o.ndim - len(s.replace("...", "")) for s, o in zip(specs, operands) if "..." in s), default=0)
        ell = "".join(free[:n_ell])
        specs = [s.replace("...", ell[n_ell - (o.ndim - len(s.replace("...", ""))):]) if "..." in s else s
                 for s, o in zip(specs, operands)]
        if out is not None:
            out = out.replace("...", ell)
        else:
            out = ell + "".join(sorted(c for c in set("".join(specs)) - set(ell)
                                       if "".join(specs).count(c) == 1))
    if out is None:
        joined = "".join(specs)
        out = "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    return ",".join(specs) + "->" + out
