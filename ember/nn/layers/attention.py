"""``MultiheadAttention`` with PyTorch's parameter layout, and ``F.multi_head_attention_forward``.

Parameters (E = embed_dim):
    in_proj_weight (3E, E) and in_proj_bias (3E,) — q, k, v stacked — when kdim == vdim == E;
    otherwise q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim) (in_proj_weight
    is then None) with the same in_proj_bias; out_proj (a Linear E -> E); bias_k, bias_v (1, 1, E)
    with ``add_bias_kv``.

The self-attention path (query is key is value) projects q, k and v with one GEMM and splits the
result into strided views; heads are views too ((N, L, h, d) seen as (N, h, L, d)), and the batched
GEMMs of ``sdpa`` read them in place, so no copy of q, k or v is made before attention.
"""

from __future__ import annotations

import math

from ...autograd.tensor import Tensor
from ...ops import attention as At
from ...ops import shape as S
from ...ops.creation import empty, zeros
from ...ops.linalg import linear
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import Linear

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear", "multi_head_attention_forward"]


class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's class name for ``MultiheadAttention.out_proj`` (a plain ``Linear``)."""


def _additive(mask: Tensor | None, like: Tensor, name: str) -> Tensor | None:
    """MHA masks: bool True = *not* allowed -> -inf; float masks are added as they are."""
    if mask is None:
        return None
    if mask.dtype.kind == "b":
        xp = like.device.xp
        return Tensor._make(xp.where(mask._data, -xp.inf, 0.0).astype(like.dtype))
    if mask.dtype.kind != "f":
        raise RuntimeError(f"MultiheadAttention: only bool and floating types of {name} are supported, got "
                           f"{mask.dtype}")
    return mask if mask.dtype == like.dtype else mask.to(like.dtype)


def _heads(x: Tensor, n_heads: int, batch_first: bool) -> Tensor:
    """(N, L, E) or (L, N, E) -> (N, h, L, d) as a view."""
    d = x.shape[-1] // n_heads
    x = S.reshape(x, tuple(x.shape[:-1]) + (n_heads, d))
    return S.permute(x, (0, 2, 1, 3) if batch_first else (1, 2, 0, 3))


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int,
                                 num_heads: int, in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                                 training: bool = True, key_padding_mask: Tensor | None = None,
                                 need_weights: bool = True, attn_mask: Tensor | None = None,
                                 use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
                                 static_k=None, static_v=None, average_attn_weights: bool = True,
                                 is_causal: bool = False, batch_first: bool = False):
    """Multi-head attention on (L, N, E) inputs (or (N, L, E) with ``batch_first``, an Ember extension
    that avoids transposes; PyTorch's function itself is sequence-first). ``static_k`` / ``static_v``
    (N*num_heads, S, head_dim) replace the projected keys / values.

    Returns (output of query's layout, weights (N, L, S) averaged over heads / (N, h, L, S), or None).
    """
    unbatched = query.ndim == 2
    if unbatched:
        bdim = 0 if batch_first else 1
        query, key, value = (S.unsqueeze(t, bdim) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = S.unsqueeze(key_padding_mask, 0)
        if attn_mask is not None and attn_mask.ndim == 3:
            attn_mask = S.unsqueeze(attn_mask, 0)
    elif query.ndim != 3:
        raise ValueError(f"MultiheadAttention: query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")
    E = query.shape[-1]
    if E != embed_dim_to_check:
        raise RuntimeError(f"MultiheadAttention: was expecting embedding dimension of {embed_dim_to_check}, but "
                           f"got {E}")
    if E % num_heads:
        raise ValueError(f"embed_dim {E} not divisible by num_heads {num_heads}")
    N = query.shape[0] if batch_first else query.shape[1]
    L = query.shape[1] if batch_first else query.shape[0]
    if (key.shape[0] if batch_first else key.shape[1]) != N or tuple(key.shape[:-1]) != tuple(value.shape[:-1]):
        raise RuntimeError(f"MultiheadAttention: key shape {tuple(key.shape)} does not match value shape "
                           f"{tuple(value.shape)} or the batch size {N} of query {tuple(query.shape)}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")

    # -- input projections -------------------------------------------------------------------
    if not use_separate_proj_weight:
        if in_proj_weight is None or in_proj_weight.shape != (3 * E, E):
            raise RuntimeError(f"MultiheadAttention: expected in_proj_weight of shape {(3 * E, E)} for "
                               f"embedding dimension {E}")
        if query is key and key is value:
            q, k, v = S.split(linear(query, in_proj_weight, in_proj_bias), E, -1)
        else:
            w_q, w_kv = S.split(in_proj_weight, [E, 2 * E], 0)
            b_q, b_kv = S.split(in_proj_bias, [E, 2 * E], 0) if in_proj_bias is not None else (None, None)
            q = linear(query, w_q, b_q)
            if key is value:
                k, v = S.split(linear(key, w_kv, b_kv), E, -1)
            else:
                w_k, w_v = S.split(w_kv, E, 0)
                b_k, b_v = S.split(b_kv, E, 0) if b_kv is not None else (None, None)
                k, v = linear(key, w_k, b_k), linear(value, w_v, b_v)
    else:
        b_q, b_k, b_v = S.split(in_proj_bias, E, 0) if in_proj_bias is not None else (None, None, None)
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)

    q, k, v = (_heads(t, num_heads, batch_first) for t in (q, k, v))   # (N, h, L|S, d)
    d = E // num_heads
    for name, static in (("static_k", static_k), ("static_v", static_v)):
        if static is None:
            continue
        if bias_k is not None:
            raise RuntimeError(f"MultiheadAttention: bias cannot be added to {name}")
        if static.ndim != 3 or static.shape[0] != N * num_heads or static.shape[2] != d:
            raise RuntimeError(f"expecting {name} of shape ({N * num_heads}, S, {d}), but got {tuple(static.shape)}")
        st = S.reshape(static, (N, num_heads, static.shape[1], d))
        if name == "static_k":
            k = st
        else:
            v = st
    if k.shape[2] != v.shape[2]:
        raise RuntimeError(f"MultiheadAttention: keys ({k.shape[2]}) and values ({v.shape[2]}) differ in length")

    # -- masks: one additive float mask broadcastable to (N, h, L, S) --------------------------------
    mask = _additive(attn_mask, q, "attn_mask")
    if mask is not None:
        S_ = k.shape[2]
        if mask.ndim == 2:
            if tuple(mask.shape) != (L, S_):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(mask.shape)}, but should be {(L, S_)}.")
        elif mask.ndim == 3:
            if tuple(mask.shape) != (N * num_heads, L, S_):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(mask.shape)}, but should be "
                                   f"{(N * num_heads, L, S_)}.")
            mask = S.reshape(mask, (N, num_heads, L, S_))
        elif mask.ndim == 4 and unbatched:
            pass
        else:
            raise RuntimeError(f"attn_mask's dimension {mask.ndim} is not supported")
    kpm = _additive(key_padding_mask, q, "key_padding_mask")
    if kpm is not None and tuple(kpm.shape) != (N, k.shape[2]):
        raise RuntimeError(f"expecting key_padding_mask shape of {(N, k.shape[2])}, but got {tuple(kpm.shape)}")
    if bias_k is not None and bias_v is not None:
        bk = S.expand(S.reshape(bias_k, (1, num_heads, 1, d)), (N, num_heads, 1, d))
        bv = S.expand(S.reshape(bias_v, (1, num_heads, 1, d)), (N, num_heads, 1, d))
        k, v = S.cat([k, bk], 2), S.cat([v, bv], 2)
        mask = S.pad(mask, (0, 1)) if mask is not None else None
        kpm = S.pad(kpm, (0, 1)) if kpm is not None else None
    elif bias_k is not None or bias_v is not None:
        raise RuntimeError("MultiheadAttention: bias_k and bias_v must both be set or both be None")
    if add_zero_attn:
        z = zeros((N, num_heads, 1, d), dtype=q.dtype, device=q.device)
        k, v = S.cat([k, z], 2), S.cat([v, z], 2)
        mask = S.pad(mask, (0, 1)) if mask is not None else None
        kpm = S.pad(kpm, (0, 1)) if kpm is not None else None
    if kpm is not None:
        kpm = S.reshape(kpm, (N, 1, 1, kpm.shape[-1]))
        mask = kpm if mask is None else mask + kpm

    # -- attention -----------------------------------------------------------------------------
    keep = None
    if training and dropout_p > 0.0:
        keep = At.dropout_keep_mask((N, num_heads, L, k.shape[2]), float(dropout_p), q)
    out, p = At.attention(q, k, v, mask, keep, scale=1.0 / math.sqrt(d))     # (N, h, L, d), (N, h, L, S)
    out = S.permute(out, (0, 2, 1, 3) if batch_first else (2, 0, 1, 3))     # (N|L, L|N, h, d)
    out = S.reshape(out, tuple(out.shape[:2]) + (E,))
    out = linear(out, out_proj_weight, out_proj_bias)
    weights = None
    if need_weights:
        weights = p * keep if keep is not None else p
        if average_attn_weights:
            weights = weights.mean(dim=1)
    if unbatched:
        out = S.squeeze(out, 0 if batch_first else 1)
        weights = S.squeeze(weights, 0) if weights is not None else None
    return out, weights


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of size embed_dim // num_heads, as
    ``torch.nn.MultiheadAttention``: forward(query (L, N, E), key (S, N, kdim), value (S, N, vdim), ...)
    -> (attn_output (L, N, E), attn_weights (N, L, S) or None); (N, L, E) with ``batch_first``.

    Masks: ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or (N*num_heads, L, S); a bool mask
    marks positions that may *not* be attended (True = masked), a float mask is added to the scores.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError("embed_dim must be divisible by num_heads")
        fk = dict(device=device, dtype=dtype)
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **fk))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **fk))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **fk))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **fk))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty((3 * embed_dim,), **fk))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **fk)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **fk))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **fk))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False):
        if query.shape[-1] != self.embed_dim:
            raise RuntimeError(f"MultiheadAttention: was expecting embedding dimension of {self.embed_dim}, but "
                               f"got {query.shape[-1]}")
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise RuntimeError(f"MultiheadAttention: expected key dim {self.kdim} and value dim {self.vdim}, got "
                               f"{key.shape[-1]} and {value.shape[-1]}")
        return multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal, batch_first=self.batch_first)
