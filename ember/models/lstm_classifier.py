"""``LSTMClassifier``: token ids -> Embedding -> (bi)LSTM -> last hidden state -> Linear logits.

Shapes: input_ids (N, L) int, lengths (N,) optional -> logits (N, num_classes). Padded batches are
packed (``pack_padded_sequence``) so that each sequence's final state is taken at its own length,
not after the padding: results do not depend on how much padding a batch has.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..nn import LSTM, Dropout, Embedding, Linear, Module
from ..nn.utils.rnn import pack_padded_sequence
from ..ops import shape as S

__all__ = ["LSTMClassifier"]


class LSTMClassifier(Module):
    """LSTMClassifier(vocab_size, embedding_dim, hidden_size, num_classes, num_layers=1,
    bidirectional=False, dropout=0.0, padding_idx=0).

    Submodules: ``embedding``, ``lstm`` (batch_first), ``dropout``, ``fc`` (D*hidden_size -> num_classes).
    forward(input_ids, lengths=None): without ``lengths`` they are counted as the tokens different from
    ``padding_idx`` (right padding assumed), or the full length when ``padding_idx`` is None.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, num_classes: int,
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
                 padding_idx: int | None = 0):
        super().__init__()
        self.padding_idx = padding_idx
        self.embedding = Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.lstm = LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True,
                         bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = Dropout(dropout)
        self.num_directions = 2 if bidirectional else 1
        self.fc = Linear(self.num_directions * hidden_size, num_classes)

    def _lengths(self, input_ids: Tensor, lengths) -> np.ndarray:
        n, length = input_ids.shape
        if lengths is None:
            if self.padding_idx is None:
                return np.full(n, length, dtype=np.int64)
            lens = (input_ids.numpy() != self.padding_idx).sum(axis=1)
        else:
            lens = lengths.numpy() if isinstance(lengths, Tensor) else np.asarray(lengths)
        lens = np.asarray(lens, dtype=np.int64).reshape(-1)
        if lens.size != n:
            raise ValueError(f"LSTMClassifier: got {lens.size} lengths for a batch of {n} sequences")
        if lens.size and (lens.min() < 1 or lens.max() > length):
            raise ValueError(f"LSTMClassifier: lengths must be in [1, {length}], got min {lens.min()} max "
                             f"{lens.max()} (an all-padding sequence has no tokens to classify)")
        return lens

    def forward(self, input_ids: Tensor, lengths=None) -> Tensor:
        if input_ids.ndim != 2:
            raise ValueError(f"LSTMClassifier: input_ids must be (batch, seq_len), got {tuple(input_ids.shape)}")
        lens = self._lengths(input_ids, lengths)
        x = self.embedding(input_ids)                                             # (N, L, E)
        if (lens == input_ids.shape[1]).all():
            _, (h_n, _) = self.lstm(x)
        else:
            packed = pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
            _, (h_n, _) = self.lstm(packed)
        D = self.num_directions
        last = h_n[-1] if D == 1 else S.cat([h_n[-2], h_n[-1]], 1)               # (N, D*H)
        return self.fc(self.dropout(last))
