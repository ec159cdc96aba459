"""Op-table rows for the embedding lookup and its dense gradient kernel."""

import numpy as np

from ember.ops.embedding import embedding, EmbeddingBackward

from .opcase import Const, Int, OpCase

IDX = Const(np.array([[0, 2, 1], [2, 2, 4]]))


def _grad_ref(gy, idx, v, padding_idx=None, by_freq=False):
    gw = np.zeros((v, gy.shape[-1]), gy.dtype)
    flat = idx.reshape(-1)
    rows = gy.reshape(-1, gy.shape[-1])
    if by_freq:
        rows = rows / np.bincount(flat, minlength=v)[flat][:, None]
    np.add.at(gw, flat, rows)
    if padding_idx is not None:
        gw[padding_idx] = 0
    return gw


CASES = [
    OpCase("embedding", lambda w, i: embedding(i, w), lambda w, i: w[i], [(5, 3), IDX], covers=("embedding",)),
    OpCase("embedding_padding_idx", lambda w, i: embedding(i, w, padding_idx=2), lambda w, i: w[i],
           [(5, 3), IDX], covers=("embedding", "embedding_backward"),
           grad=False),  # the padding row deliberately gets no gradient (tested in tests/nn/test_embedding.py)
    OpCase("embedding_scale_grad_by_freq", lambda w, i: embedding(i, w, scale_grad_by_freq=True),
           lambda w, i: w[i], [(5, 3), Int((7,), 0, 5)], covers=("embedding", "embedding_backward"),
           grad=False),  # a rescaled gradient by design
    OpCase("embedding_backward", lambda g, i: EmbeddingBackward.apply(g, i, num_weights=5, padding_idx=None),
           lambda g, i: _grad_ref(g, i, 5), [(2, 3, 4), IDX], covers=("embedding_backward",)),
    OpCase("embedding_backward_padding_freq",
           lambda g, i: EmbeddingBackward.apply(g, i, num_weights=5, padding_idx=1, scale_grad_by_freq=True),
           lambda g, i: _grad_ref(g, i, 5, 1, True), [(2, 3, 4), IDX], covers=("embedding_backward",)),
]
