"""Shared helpers for the jit tests: small models built from whatever layers exist, and comparisons."""

from __future__ import annotations

import numpy as np

import ember
import ember.nn as nn


def seeded(builder, seed=0):
    ember.manual_seed(seed)
    return builder()


def mlp():
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))


def mlp_bn():
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def mlp_ln_gelu():
    return nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3))


class EmbedLSTM(nn.Module):
    """Embedding -> LSTM (when ember.nn has it, else a mean over time) -> Linear on the last step."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 6)
        self.rnn = nn.LSTM(6, 5, batch_first=True) if hasattr(nn, "LSTM") else nn.Linear(6, 5)
        self.head = nn.Linear(5, 3)

    def forward(self, tokens):
        h = self.emb(tokens)
        if hasattr(nn, "LSTM"):
            h, _ = self.rnn(h)
        else:
            h = ember.tanh(self.rnn(h)).cumsum(dim=1)
        return self.head(h[:, -1])


def lenet():
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 3), nn.Tanh(),
                         nn.Flatten(), nn.Linear(4, 3))


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.enc = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, tokens):
        return self.head(self.enc(self.emb(tokens)).mean(dim=1))


def mlp_dropout():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))


MODELS = {
    "mlp": (mlp, lambda rng, n: (rng.standard_normal((n, 6)),)),
    "mlp_bn": (mlp_bn, lambda rng, n: (rng.standard_normal((n, 6)),)),
    "mlp_ln_gelu": (mlp_ln_gelu, lambda rng, n: (rng.standard_normal((n, 6)),)),
    "embed_lstm": (EmbedLSTM, lambda rng, n: (rng.integers(0, 10, (n, 4)),)),
    "mlp_dropout": (mlp_dropout, lambda rng, n: (rng.standard_normal((n, 6)),)),
}
if hasattr(nn, "Conv2d") and hasattr(nn, "MaxPool2d"):
    MODELS["lenet"] = (lenet, lambda rng, n: (rng.standard_normal((n, 1, 6, 6)),))
if hasattr(nn, "TransformerEncoderLayer"):
    MODELS["transformer"] = (TinyTransformer, lambda rng, n: (rng.integers(0, 10, (n, 4)),))


def model_inputs(name, dtype="float64", n=5, seed=1):
    rng = np.random.default_rng(seed)
    arrays = MODELS[name][1](rng, n)
    return tuple(ember.tensor(a.astype(dtype) if a.dtype.kind == "f" else a) for a in arrays)


def build(name, dtype="float64"):
    model = seeded(MODELS[name][0])
    return model.to(dtype) if hasattr(model, "to") else model


def assert_close(a, b, rtol=1e-6, atol=1e-9):
    a = a.detach().numpy() if isinstance(a, ember.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, ember.Tensor) else np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
