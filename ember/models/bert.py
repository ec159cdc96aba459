"""BERT (Devlin et al., 2019) with HuggingFace ``transformers``' module tree, so that a HF
``BertModel`` checkpoint (``model.safetensors``) loads with ``load_state_dict`` unchanged.

Parameter names (N = layer index, H = hidden_size, I = intermediate_size):
    embeddings.word_embeddings.weight (vocab_size, H), embeddings.position_embeddings.weight
    (max_position_embeddings, H), embeddings.token_type_embeddings.weight (type_vocab_size, H),
    embeddings.LayerNorm.{weight,bias}
    encoder.layer.N.attention.self.{query,key,value}.{weight,bias}   (H, H)
    encoder.layer.N.attention.output.dense.{weight,bias}, encoder.layer.N.attention.output.LayerNorm.*
    encoder.layer.N.intermediate.dense.{weight,bias}                 (I, H)
    encoder.layer.N.output.dense.{weight,bias} (H, I), encoder.layer.N.output.LayerNorm.*
    pooler.dense.{weight,bias}                                        (with add_pooling_layer)

Shapes: input_ids (N, L) int -> last_hidden_state (N, L, H), pooler_output (N, H).
The attention mask (N, L) of 1 (attend) / 0 (padding) becomes an additive mask of
``finfo(dtype).min`` on padded keys, as HF does, so padded positions get (numerically) zero weight.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

import numpy as np

from ..autograd.tensor import Tensor
from ..nn import Dropout, Embedding, LayerNorm, Linear, Module, ModuleList
from ..nn import init
from ..ops import activation as A
from ..ops import shape as S
from ..ops.attention import scaled_dot_product_attention
from ..ops.creation import arange, zeros

__all__ = ["BertConfig", "BertModel", "BertForSequenceClassification", "BertModelOutput", "mean_pooling"]


@dataclass
class BertConfig:
    """The hyper-parameters of a BERT model, with HF ``config.json`` key names and defaults
    (bert-base-uncased). ``from_json_file`` / ``from_dict`` ignore keys that do not shape the network
    (``architectures``, ``transformers_version``, ...)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"
    num_labels: int = 2
    classifier_dropout: float | None = None
    model_type: str = "bert"

    def __post_init__(self):
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"BertConfig: hidden_size ({self.hidden_size}) is not a multiple of "
                             f"num_attention_heads ({self.num_attention_heads})")
        if self.position_embedding_type != "absolute":
            raise NotImplementedError(f"BertConfig: position_embedding_type={self.position_embedding_type!r} is "
                                      "not supported (only 'absolute')")
        _activation(self.hidden_act)  # fail at construction on an unknown activation

    @classmethod
    def from_dict(cls, d: dict) -> "BertConfig":
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if "num_labels" not in kw and isinstance(d.get("id2label"), dict):
            kw["num_labels"] = len(d["id2label"])
        return cls(**kw)

    @classmethod
    def from_json_file(cls, path) -> "BertConfig":
        with open(os.fspath(path), encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def to_dict(self) -> dict:
        return asdict(self)


def _activation(name: str):
    """HF ``ACT2FN`` names used by BERT checkpoints -> ember functions."""
    table = {
        "gelu": lambda x: A.gelu(x),                       # exact erf form (HF "gelu")
        "gelu_new": lambda x: A.gelu(x, approximate="tanh"),
        "gelu_pytorch_tanh": lambda x: A.gelu(x, approximate="tanh"),
        "relu": A.relu,
        "silu": A.silu,
        "swish": A.silu,
        "tanh": A.tanh,
    }
    if name not in table:
        raise ValueError(f"BertConfig: unsupported hidden_act {name!r}; expected one of {sorted(table)}")
    return table[name]


class BertModelOutput(NamedTuple):
    """``last_hidden_state`` (N, L, H) and ``pooler_output`` (N, H) (None without a pooler);
    indexable like HF's tuple outputs (``out[0]``)."""

    last_hidden_state: Tensor
    pooler_output: Tensor | None


class BertEmbeddings(Module):
    """word + position + token-type embeddings, then LayerNorm and dropout: (N, L) -> (N, L, H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)
        self.max_position_embeddings = config.max_position_embeddings
        # HF checkpoints (transformers < 4.31) store the constant buffer ``embeddings.position_ids``;
        # Ember computes positions on the fly, so the key is dropped on load instead of reported.
        self.register_load_state_dict_pre_hook(_drop_position_ids)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None,
                position_ids: Tensor | None = None) -> Tensor:
        L = input_ids.shape[-1]
        if L > self.max_position_embeddings:
            raise ValueError(f"BertEmbeddings: sequence length {L} exceeds max_position_embeddings "
                             f"{self.max_position_embeddings}; truncate the input")
        dev = input_ids.device
        if position_ids is None:
            position_ids = arange(L, device=dev)
        if token_type_ids is None:
            token_type_ids = zeros(tuple(input_ids.shape), dtype="int64", device=dev)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(x))


def _drop_position_ids(module, state_dict, prefix, *args) -> None:
    state_dict.pop(prefix + "position_ids", None)


class BertSelfAttention(Module):
    """Multi-head scaled dot-product attention with separate query/key/value projections (H -> H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = config.hidden_size
        self.query = Linear(config.hidden_size, config.hidden_size)
        self.key = Linear(config.hidden_size, config.hidden_size)
        self.value = Linear(config.hidden_size, config.hidden_size)
        self.dropout = Dropout(config.attention_probs_dropout_prob)

    def _heads(self, x: Tensor) -> Tensor:
        """(N, L, H) -> (N, heads, L, head_size), a view."""
        n, length = x.shape[0], x.shape[1]
        x = S.reshape(x, (n, length, self.num_attention_heads, self.attention_head_size))
        return S.permute(x, (0, 2, 1, 3))

    def forward(self, hidden_states: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        q = self._heads(self.query(hidden_states))
        k = self._heads(self.key(hidden_states))
        v = self._heads(self.value(hidden_states))
        p = self.dropout.p if self.training else 0.0
        ctx = scaled_dot_product_attention(q, k, v, attn_mask=attention_mask, dropout_p=p,
                                           scale=1.0 / math.sqrt(self.attention_head_size))
        n, length = hidden_states.shape[0], hidden_states.shape[1]
        return S.reshape(S.permute(ctx, (0, 2, 1, 3)), (n, length, self.all_head_size))


class BertSelfOutput(Module):
    """LayerNorm(dropout(dense(h)) + input)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: Tensor, input_tensor: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertAttention(Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, hidden_states: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        return self.output(self.self(hidden_states, attention_mask), hidden_states)


class BertIntermediate(Module):
    """act(dense(h)): (N, L, H) -> (N, L, I)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = _activation(config.hidden_act)

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(Module):
    """LayerNorm(dropout(dense(h)) + input): (N, L, I) -> (N, L, H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: Tensor, input_tensor: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertLayer(Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden_states: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        a = self.attention(hidden_states, attention_mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden_states: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        for layer in self.layer:
            hidden_states = layer(hidden_states, attention_mask)
        return hidden_states


class BertPooler(Module):
    """tanh(dense(first token's hidden state)): (N, L, H) -> (N, H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden_states: Tensor) -> Tensor:
        return A.tanh(self.dense(hidden_states[:, 0]))


class BertPreTrainedModel(Module):
    """Shared init (HF ``_init_weights``): Linear and Embedding weights ~ N(0, initializer_range),
    biases 0, the padding row 0, LayerNorm weight 1 / bias 0."""

    def _init_weights(self, config: BertConfig) -> None:
        std = config.initializer_range
        for m in self.modules():
            if isinstance(m, Linear):
                init.normal_(m.weight, 0.0, std)
                if m.bias is not None:
                    init.zeros_(m.bias)
            elif isinstance(m, Embedding):
                init.normal_(m.weight, 0.0, std)
                m._fill_padding_idx_with_zero()
            elif isinstance(m, LayerNorm):
                init.ones_(m.weight)
                init.zeros_(m.bias)


def extended_attention_mask(attention_mask: Tensor, dtype) -> Tensor:
    """(N, S) of 1/0 (or bool) -> additive (N, 1, 1, S): 0 where attended, finfo(dtype).min on padding
    (a large finite value rather than -inf, so an all-padding row gives uniform weights, not NaN)."""
    if attention_mask.ndim != 2:
        raise ValueError(f"BertModel: attention_mask must be (batch, seq_len), got shape "
                         f"{tuple(attention_mask.shape)}")
    m = attention_mask.to(dtype)
    m = (1.0 - m) * float(np.finfo(dtype).min)
    return S.reshape(m, (m.shape[0], 1, 1, m.shape[1]))


class BertModel(BertPreTrainedModel):
    """The BERT encoder: forward(input_ids (N, L), attention_mask (N, L) = None, token_type_ids (N, L)
    = None, position_ids (L,) or (N, L) = None) -> BertModelOutput(last_hidden_state (N, L, H),
    pooler_output (N, H) or None). ``init_weights=False`` keeps the layers' default init (faster when a
    checkpoint is loaded next)."""

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True, *, init_weights: bool = True):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        if init_weights:  # HF's init; skipped when a checkpoint overwrites every weight anyway
            self._init_weights(config)

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None) -> BertModelOutput:
        if input_ids.ndim != 2:
            raise ValueError(f"BertModel: input_ids must be (batch, seq_len), got shape {tuple(input_ids.shape)}")
        if input_ids.dtype.kind not in "iu":
            raise TypeError(f"BertModel: input_ids must be an integer tensor, got {input_ids.dtype}")
        for name, t in (("attention_mask", attention_mask), ("token_type_ids", token_type_ids)):
            if t is not None and tuple(t.shape) != tuple(input_ids.shape):
                raise ValueError(f"BertModel: {name} of shape {tuple(t.shape)} does not match input_ids of "
                                 f"shape {tuple(input_ids.shape)}")
        x = self.embeddings(input_ids, token_type_ids, position_ids)
        mask = extended_attention_mask(attention_mask, x.dtype) if attention_mask is not None else None
        h = self.encoder(x, mask)
        pooled = self.pooler(h) if self.pooler is not None else None
        return BertModelOutput(h, pooled)

    def extra_repr(self) -> str:
        c = self.config
        return (f"layers={c.num_hidden_layers}, hidden={c.hidden_size}, heads={c.num_attention_heads}, "
                f"intermediate={c.intermediate_size}, vocab={c.vocab_size}")


class BertForSequenceClassification(BertPreTrainedModel):
    """``bert`` (a BertModel with pooler), dropout and ``classifier`` (H -> num_labels), as HF's class of
    the same name: forward(input_ids, attention_mask, token_type_ids) -> logits (N, num_labels)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.num_labels = config.num_labels
        self.bert = BertModel(config, init_weights=False)   # initialized once, below, with the head
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = Dropout(p)
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self._init_weights(config)

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None) -> Tensor:
        pooled = self.bert(input_ids, attention_mask, token_type_ids, position_ids).pooler_output
        return self.classifier(self.dropout(pooled))


def mean_pooling(last_hidden_state: Tensor, attention_mask: Tensor | None = None) -> Tensor:
    """Average of the token vectors where ``attention_mask`` is 1 (sentence-transformers' mean
    pooling): (N, L, H), (N, L) -> (N, H). Without a mask, the plain mean over L."""
    if attention_mask is None:
        return last_hidden_state.mean(dim=1)
    m = S.unsqueeze(attention_mask.to(last_hidden_state.dtype), -1)            # (N, L, 1)
    summed = (last_hidden_state * m).sum(dim=1)
    counts = m.sum(dim=1).clamp(min=1e-9)
    return summed / counts
