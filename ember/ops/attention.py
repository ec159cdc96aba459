"""Scaled dot-product attention: the fused primitive ``sdpa`` and ``scaled_dot_product_attention``.

``sdpa`` computes, for q (..., L, E), k (..., S, E), v (..., S, Ev):

    s = q k^T * scale  (+ additive mask; -inf above the diagonal when causal)
    p = softmax(s, -1);  out = (p * keep) v

in one forward on arrays (two batched GEMMs and one in-place softmax, no intermediate copies of q, k
or v: strided views go straight to the batched GEMM). It returns ``out`` and the probabilities ``p``
(both differentiable; ``nn.MultiheadAttention`` returns the latter as its attention weights). The
backward is written in ops (matmul, mul, sum), so attention is twice differentiable.

``keep`` is an optional dropout mask already scaled by 1 / (1 - p): drawing it outside the primitive
keeps the primitive deterministic and the mask a saved input, as DESIGN section 3 asks.
"""

from __future__ import annotations

import math


from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from ..backend.parallel import matmul as gemm
from . import elementwise as E
from . import linalg as L
from . import shape as S


def _mT(t):
    return S.transpose(t, -1, -2)


@register_op("sdpa")
class Sdpa(Function):
    """(q, k, v[, mask][, keep]) -> (out (..., L, Ev), p (..., L, S)); attrs scale, is_causal,
    has_mask, has_keep say which optional inputs are present. ``p`` is differentiable: backward reads
    it, and second derivatives flow through it."""

    @staticmethod
    def forward(ctx, q, k, v, *extra, scale, is_causal=False, has_mask=False, has_keep=False):
        xp = ctx.xp
        mask = extra[0] if has_mask else None
        keep = extra[-1] if has_keep else None
        s = gemm(xp, q, xp.swapaxes(k, -1, -2))
        s *= scale
        if is_causal:
            L_, S_ = s.shape[-2], s.shape[-1]
            s[..., xp.triu(xp.ones((L_, S_), dtype=bool), 1)] = -xp.inf
        if mask is not None:
            if mask.shape == s.shape:
                s += mask
            else:
                s = s + mask
        s -= s.max(axis=-1, keepdims=True)
        xp.exp(s, out=s)
        s /= s.sum(axis=-1, keepdims=True)
        pd = s * keep if keep is not None else s
        out = gemm(xp, pd, v)
        n = len(extra)
        ctx.save_for_backward(ctx.input(0), ctx.input(1), ctx.input(2), ctx.output(1),
                              ctx.input(3 + n - 1) if has_keep else None)
        return out, s

    @staticmethod
    def backward(ctx, gout, gp):
        q, k, v, p, keep = ctx.saved_tensors
        a = ctx.attrs
        scale = a["scale"]
        needs = ctx.needs_input_grad
        pd = p * keep if keep is not None else p
        gv = L.matmul(_mT(pd), gout) if needs[2] else None
        gpt = L.matmul(gout, _mT(v))
        if keep is not None:
            gpt = gpt * keep
        gpt = gpt + gp
        gs = p * (gpt - (gpt * p).sum(dim=-1, keepdim=True))
        gq = L.matmul(gs, k) * scale if needs[0] else None
        gk = L.matmul(_mT(gs), q) * scale if needs[1] else None
        grads = [gq, gk, gv]
        if a["has_mask"]:
            grads.append(gs if needs[3] else None)
        if a["has_keep"]:
            grads.append(None)
        return tuple(grads)


def dropout_keep_mask(shape, p: float, like: Tensor) -> Tensor:
    """A (shape) tensor of 0 and 1/(1-p) in ``like``'s dtype and device.

    Drawn by the registered ``dropout`` op (on a tensor of ones), so a traced graph holds a node that
    redraws the mask on every run instead of freezing one draw as a constant.
    """
    from .dropout import Dropout
    ones = E.full_like_op(like, 1.0, shape=tuple(shape))
    return Dropout.apply(ones, p=float(p))[1]


def _float_mask(attn_mask: Tensor, like: Tensor) -> Tensor:
    """A bool mask (True = attend) becomes an additive one: 0 where True, -inf where False."""
    if attn_mask.dtype.kind == "b":
        xp = like.device.xp
        arr = xp.where(attn_mask._data, 0.0, -xp.inf).astype(like.dtype)
        return Tensor._make(arr)
    if attn_mask.dtype != like.dtype:
        return E.cast(attn_mask, like.dtype)
    return attn_mask


def attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
              keep: Tensor | None = None, is_causal: bool = False, scale: float | None = None):
    """``sdpa`` with checks: returns (out, attention probabilities). ``attn_mask`` is additive (float)
    or boolean (True = attend) and broadcasts to (..., L, S)."""
    op = "scaled_dot_product_attention"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise op_error(op, "query, key and value need at least 2 dims (..., L, E)", query, key, value)
    if query.shape[-1] != key.shape[-1]:
        raise op_error(op, f"query and key must share the last dim (embedding), got {query.shape[-1]} "
                           f"and {key.shape[-1]}", query, key)
    if key.shape[-2] != value.shape[-2]:
        raise op_error(op, f"key and value must have the same sequence length, got {key.shape[-2]} and "
                           f"{value.shape[-2]}", key, value)
    if query.dtype != key.dtype or query.dtype != value.dtype:
        raise op_error(op, "query, key and value must share one dtype", query, key, value)
    if query.dtype.kind != "f":
        raise op_error(op, f"expected floating-point inputs, got {query.dtype}", query)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    extra = []
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError(f"{op}: pass either attn_mask or is_causal=True, not both")
        m = _float_mask(attn_mask, query)
        Ls, Ss = query.shape[-2], key.shape[-2]
        try:
            S.broadcast_shapes(tuple(m.shape), tuple(query.shape[:-2]) + (Ls, Ss))
        except (ValueError, RuntimeError):
            raise op_error(op, f"attn_mask of shape {tuple(m.shape)} does not broadcast to the attention "
                               f"shape {tuple(query.shape[:-2]) + (Ls, Ss)}", query, key, m) from None
        extra.append(m)
    if keep is not None:
        extra.append(keep)
    return Sdpa.apply(query, key, value, *extra, scale=float(scale), is_causal=bool(is_causal),
                      has_mask=attn_mask is not None, has_keep=keep is not None)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q k^T * scale + mask) v, as ``torch.nn.functional.scaled_dot_product_attention``.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). A bool
    ``attn_mask`` keeps positions where it is True; a float one is added to the scores. Dropout with
    probability ``dropout_p`` is applied to the attention probabilities (always, as in PyTorch: pass
    0.0 in evaluation). With ``enable_gqa`` (grouped-query attention) key and value may have fewer
    heads (dim -3) than query, a divisor of its head count; each key/value head serves a group.
    """
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1), got {dropout_p}")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hkv = query.shape[-3], key.shape[-3]
        if hkv == 0 or hq % hkv or value.shape[-3] != hkv:
            raise op_error("scaled_dot_product_attention", f"with enable_gqa the number of query heads ({hq}) "
                                                           f"must be a multiple of the key/value heads ({hkv})",
                           query, key, value)
        key = S.repeat_interleave(key, hq // hkv, -3)
        value = S.repeat_interleave(value, hq // hkv, -3)
    keep = None
    if dropout_p > 0.0:
        shape = tuple(query.shape[:-2]) + (query.shape[-2], key.shape[-2])
        shape = S.broadcast_shapes(shape, tuple(key.shape[:-2]) + shape[-2:])
        keep = dropout_keep_mask(shape, float(dropout_p), query)
    out, _p = attention(query, key, value, attn_mask, keep, is_causal, scale)
    return out
