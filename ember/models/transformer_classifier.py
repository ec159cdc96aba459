"""``TransformerClassifier``: token ids -> token + learned position embeddings -> a stack of
``nn.TransformerEncoderLayer`` (batch first) -> mean over non-padding tokens (or the first token) ->
LayerNorm -> Linear logits.

Shapes: input_ids (N, L) int (L <= max_len) -> logits (N, num_classes). Padding tokens
(``padding_idx``) are masked out of attention (``src_key_padding_mask``) and out of the pooling.
"""

from __future__ import annotations

import math

from ..autograd.tensor import Tensor
from ..nn import Dropout, Embedding, LayerNorm, Linear, Module, TransformerEncoder, TransformerEncoderLayer
from ..ops.creation import arange
from .bert import mean_pooling

__all__ = ["TransformerClassifier"]


class TransformerClassifier(Module):
    """TransformerClassifier(vocab_size, num_classes, d_model=128, nhead=4, num_layers=2,
    dim_feedforward=256, dropout=0.1, max_len=512, padding_idx=0, pooling="mean", norm_first=True,
    activation="gelu").

    Submodules: ``embedding``, ``pos_embedding``, ``dropout``, ``encoder`` (``encoder.layers.N.*`` as
    ``nn.TransformerEncoder``), ``norm``, ``classifier``.
    """

    def __init__(self, vocab_size: int, num_classes: int, d_model: int = 128, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int = 256, dropout: float = 0.1, max_len: int = 512, padding_idx: int | None = 0,
                 pooling: str = "mean", norm_first: bool = True, activation: str = "gelu"):
        super().__init__()
        if pooling not in ("mean", "cls"):
            raise ValueError(f"TransformerClassifier: pooling must be 'mean' or 'cls', got {pooling!r}")
        self.d_model, self.max_len, self.padding_idx, self.pooling = d_model, max_len, padding_idx, pooling
        self.embedding = Embedding(vocab_size, d_model, padding_idx=padding_idx)
        self.pos_embedding = Embedding(max_len, d_model)
        self.dropout = Dropout(dropout)
        layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation=activation,
                                        batch_first=True, norm_first=norm_first)
        self.encoder = TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = LayerNorm(d_model)
        self.classifier = Linear(d_model, num_classes)

    def forward(self, input_ids: Tensor) -> Tensor:
        if input_ids.ndim != 2:
            raise ValueError(f"TransformerClassifier: input_ids must be (batch, seq_len), got "
                             f"{tuple(input_ids.shape)}")
        L = input_ids.shape[1]
        if L > self.max_len:
            raise ValueError(f"TransformerClassifier: sequence length {L} exceeds max_len {self.max_len}")
        pad = (input_ids == self.padding_idx) if self.padding_idx is not None else None     # True = padding
        x = self.embedding(input_ids) * math.sqrt(self.d_model)
        x = self.dropout(x + self.pos_embedding(arange(L, device=input_ids.device)))
        h = self.encoder(x, src_key_padding_mask=pad)
        if self.pooling == "cls":
            pooled = h[:, 0]
        else:
            pooled = mean_pooling(h, pad.logical_not() if pad is not None else None)
        return self.classifier(self.norm(pooled))
