"""Keras ``Embedding`` over ``ember.nn.Embedding``: integer indices (N, ...) -> (N, ..., output_dim).
With ``mask_zero=True`` index 0 is padding: ``compute_mask`` marks the other positions and models
pass that mask to the layers after it that take one (RNNs, GlobalAveragePooling1D, attention)."""

from __future__ import annotations

from ... import nn
from ...ops import elementwise as E
from .. import initializers, regularizers
from .base import Layer

__all__ = ["Embedding"]


class Embedding(Layer):
    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, sparse=False, lora_rank=None,
                 **kwargs):
        super().__init__(**kwargs)
        if embeddings_constraint is not None:
            raise NotImplementedError("Embedding: embeddings_constraint is not supported")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.mask_zero = bool(mask_zero)
        self.embeddings_initializer = initializers.get(
            "random_uniform" if embeddings_initializer == "uniform" else embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embedding = nn.Embedding(self.input_dim, self.output_dim)
        self.embeddings_initializer.fill_(self.embedding.weight)

    def build(self, input_shape):
        pass

    def call(self, inputs):
        if inputs.dtype.kind == "f":
            inputs = E.cast(inputs, "int64")
        return self.embedding(inputs)

    def compute_mask(self, inputs, mask=None):
        return None if not self.mask_zero else E.ne(inputs, 0)

    def _own_losses(self):
        return [self.embeddings_regularizer(self.embedding.weight)] if self.embeddings_regularizer else []

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "mask_zero": self.mask_zero,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer)}
