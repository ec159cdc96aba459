"""Keras attention layers: ``MultiHeadAttention`` (projections as ``nn.Linear`` modules around
``ember.ops`` scaled-dot-product attention) and ``Attention`` (Luong dot-product attention).

Shapes are batch-first: query (N, T, dq), value (N, S, dv), key (N, S, dk) (key defaults to value).
Masks: ``attention_mask`` (N, T, S) bool, True = may attend (Keras convention); ``query_mask`` /
``value_mask`` come from ``Embedding(mask_zero=True)``; ``use_causal_mask`` blocks future positions.
"""

from __future__ import annotations

import math

from ... import nn
from ...ops import activation as A
from ...ops import elementwise as E
from ...ops import linalg as LA
from ...ops import shape as S
from ...ops.attention import scaled_dot_product_attention
from ...ops.creation import ones
from ...nn.parameter import Parameter
from .. import initializers
from .base import Layer

__all__ = ["Attention", "MultiHeadAttention"]


def _combine_masks(n, t, s, attention_mask=None, query_mask=None, value_mask=None, causal=False, device_like=None):
    """One bool mask (N, T, S), True = may attend, or None."""
    mask = None
    if attention_mask is not None:
        mask = attention_mask if attention_mask.dtype.kind == "b" else E.ne(attention_mask, 0)
    if value_mask is not None:
        vm = S.unsqueeze(value_mask if value_mask.dtype.kind == "b" else E.ne(value_mask, 0), 1)   # (N, 1, S)
        mask = vm if mask is None else E.logical_and(mask, vm)
    if query_mask is not None:
        qm = S.unsqueeze(query_mask if query_mask.dtype.kind == "b" else E.ne(query_mask, 0), -1)  # (N, T, 1)
        mask = qm if mask is None else E.logical_and(mask, qm)
    if causal:
        from ...ops.shape import tril
        cm = E.ne(tril(ones((t, s), dtype="float32")), 0)
        mask = cm if mask is None else E.logical_and(mask, cm)
    if mask is not None:
        mask = S.broadcast_to(mask, (n, t, s))
    return mask


class MultiHeadAttention(Layer):
    """Keras ``MultiHeadAttention``: query/key/value projected to ``num_heads`` heads of ``key_dim`` (values:
    ``value_dim``), scaled dot-product attention per head, heads concatenated and projected to the query's
    last dimension (or ``output_shape``). Call: ``mha(query, value, key=None, attention_mask=None,
    return_attention_scores=False, use_causal_mask=False)``."""

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if attention_axes is not None:
            raise NotImplementedError("MultiHeadAttention: attention_axes is not supported (attention runs over "
                                      "axis 1)")
        for what, v in (("kernel_regularizer", kernel_regularizer), ("bias_regularizer", bias_regularizer),
                        ("activity_regularizer", activity_regularizer), ("kernel_constraint", kernel_constraint),
                        ("bias_constraint", bias_constraint)):
            if v is not None:
                raise NotImplementedError(f"MultiHeadAttention: {what} is not supported")
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout, self.use_bias = float(dropout), use_bias
        self._output_dim = output_shape if output_shape is None or isinstance(output_shape, int) \
            else int(tuple(output_shape)[-1])
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def _linear(self, fin, fout):
        lin = nn.Linear(fin, fout, bias=self.use_bias)
        self.kernel_initializer.fill_(lin.weight)
        if lin.bias is not None:
            self.bias_initializer.fill_(lin.bias)
        return lin

    def build(self, query_shape):
        self._built_dims = None

    def _build_proj(self, dq, dk, dv):
        h = self.num_heads
        self.query_dense = self._linear(dq, h * self.key_dim)
        self.key_dense = self._linear(dk, h * self.key_dim)
        self.value_dense = self._linear(dv, h * self.value_dim)
        self.output_dense = self._linear(h * self.value_dim, self._output_dim or dq)
        self._built_dims = (dq, dk, dv)

    def _heads(self, x, d):
        n, t = x.shape[0], x.shape[1]
        return S.permute(S.reshape(x, (n, t, self.num_heads, d)), (0, 2, 1, 3))    # (N, H, T, d)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        key = value if key is None else key
        if self._built_dims is None:
            self._build_proj(query.shape[-1], key.shape[-1], value.shape[-1])
        n, t, s = query.shape[0], query.shape[1], value.shape[1]
        q = self._heads(self.query_dense(query), self.key_dim)
        k = self._heads(self.key_dense(key), self.key_dim)
        v = self._heads(self.value_dense(value), self.value_dim)
        mask = _combine_masks(n, t, s, attention_mask, query_mask, value_mask if key_mask is None else key_mask,
                              use_causal_mask)
        if mask is not None:
            mask = S.unsqueeze(mask, 1)                                    # (N, 1, T, S) over heads
        p = self.dropout if training else 0.0
        if return_attention_scores:
            scores = LA.matmul(q, S.transpose(k, -1, -2)) * (1.0 / math.sqrt(self.key_dim))
            if mask is not None:
                scores = E.where(mask, scores, -1e9)
            weights = A.softmax(scores, dim=-1)
            ctx = LA.matmul(weights, v)
        else:
            ctx = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        ctx = S.reshape(S.permute(ctx, (0, 2, 1, 3)), (n, t, self.num_heads * self.value_dim))
        out = self.output_dense(ctx)
        return (out, weights) if return_attention_scores else out

    def get_config(self):
        ser = initializers.serialize
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": self._output_dim, "kernel_initializer": ser(self.kernel_initializer),
                "bias_initializer": ser(self.bias_initializer)}


class Attention(Layer):
    """Dot-product attention: ``Attention()([query, value])`` or ``([query, value, key])``;
    scores = query @ key^T (times a learned scalar with ``use_scale``), softmax over the value steps.
    ``mask=[query_mask, value_mask]``."""

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode != "dot":
            raise NotImplementedError("Attention: only score_mode='dot' is supported")
        self.use_scale, self.score_mode, self.dropout = use_scale, score_mode, float(dropout)
        if use_scale:
            self.scale = Parameter(ones((), dtype="float32"))

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError("Attention must be called on a list [query, value] or [query, value, key]")
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) == 3 else v
        qm, vm = (mask if mask is not None else [None, None])[:2] if isinstance(mask, (list, tuple)) else (None, None)
        scores = LA.matmul(q, S.transpose(k, -1, -2))
        if self.use_scale:
            scores = scores * self.scale
        m = _combine_masks(q.shape[0], q.shape[1], k.shape[1], None, None, vm, use_causal_mask)
        if m is not None:
            scores = E.where(m, scores, -1e9)
        weights = A.softmax(scores, dim=-1)
        if training and self.dropout:
            from ...ops.dropout import dropout
            weights = dropout(weights, self.dropout, True)
        out = LA.matmul(weights, v)
        if qm is not None:
            out = out * S.unsqueeze(E.cast(qm, out.dtype), -1)
        return (out, weights) if return_attention_scores else out

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout}
