"""Op-table rows for ``sdpa`` (ember/ops/attention.py): plain, additive float mask (differentiated),
causal, custom scale and a fixed dropout keep-mask; forward against a NumPy softmax-attention."""

import math

import numpy as np

from ember.ops import attention as At

from .opcase import Const, OpCase


def sdpa_ref(q, k, v, mask=None, keep=None, causal=False, scale=None):
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        s = np.where(np.triu(np.ones(s.shape[-2:], bool), 1), -np.inf, s)
    if mask is not None:
        s = s + mask
    e = np.exp(s - s.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    return ((p * keep if keep is not None else p) @ v).astype(q.dtype), p.astype(q.dtype)


KEEP = (np.random.default_rng(1).random((2, 3, 4)) > 0.3) / 0.7

CASES = [
    OpCase("sdpa", lambda q, k, v: At.attention(q, k, v), sdpa_ref,
           [(2, 3, 2), (2, 4, 2), (2, 4, 3)], covers=("sdpa",)),
    OpCase("sdpa_float_mask", lambda q, k, v, m: At.attention(q, k, v, m),
           lambda q, k, v, m: sdpa_ref(q, k, v, m), [(2, 3, 2), (2, 4, 2), (2, 4, 3), (3, 4)], covers=("sdpa",)),
    OpCase("sdpa_causal_scale", lambda q, k, v: At.attention(q, k, v, is_causal=True, scale=0.7),
           lambda q, k, v: sdpa_ref(q, k, v, causal=True, scale=0.7),
           [(1, 2, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2)], covers=("sdpa",)),
    OpCase("sdpa_dropout_keep", lambda q, k, v, keep: At.attention(q, k, v, keep=keep),
           lambda q, k, v, keep: sdpa_ref(q, k, v, keep=keep),
           [(2, 3, 2), (2, 4, 2), (2, 4, 3), Const(KEEP, grad=False)], covers=("sdpa",)),
]
