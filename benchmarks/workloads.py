"""Benchmark workloads: one model definition run in both Ember and PyTorch.

Ember's public names match PyTorch's (``nn.Linear``, ``nn.Conv2d``, ``nn.LSTM``, ``optim.Adam``...), so
each workload is written once against a framework module ``lib`` (``ember`` or ``torch``). The runner
builds the PyTorch model, copies its initial weights as NumPy arrays into the Ember model (same
``state_dict`` names), and feeds both the same NumPy batch. Everything is float32.

Adding a workload is a few lines::

    @workload("name", batch=64, optimizer="adam")
    def name(lib):
        return lib.nn.Sequential(...)          # the model; input/target built by ``inputs=``

``inputs(rng, batch)`` returns ``(x, y)`` NumPy arrays (``y``: int64 class indices, 10 classes).
The loss is cross-entropy on the model output; the optimizer is SGD (lr 0.01, optional momentum) or
Adam (lr 1e-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class Workload:
    name: str
    model: Callable          # lib -> Module
    inputs: Callable         # (rng, batch) -> (x, y) NumPy arrays
    batch: int
    optimizer: str           # "sgd", "sgd_momentum" or "adam"
    description: str = ""
    # Forward FLOPs when ``torch.utils.flop_counter`` cannot see them (PyTorch's fused RNN kernels);
    # training is then counted as 3x forward (backward = two GEMMs per forward GEMM).
    forward_flops: int | None = None

    def make_optimizer(self, lib, params):
        if self.optimizer == "sgd":
            return lib.optim.SGD(params, lr=0.01)
        if self.optimizer == "sgd_momentum":
            return lib.optim.SGD(params, lr=0.01, momentum=0.9)
        if self.optimizer == "adam":
            return lib.optim.Adam(params, lr=1e-3)
        raise ValueError(f"unknown optimizer {self.optimizer!r}")


WORKLOADS: dict[str, Workload] = {}


def workload(name, *, batch, optimizer, inputs, description="", forward_flops=None):
    """Register ``fn(lib) -> model`` as the workload ``name``."""

    def deco(fn):
        WORKLOADS[name] = Workload(name, fn, inputs, batch, optimizer, description or (fn.__doc__ or "").strip(),
                                   forward_flops)
        return fn

    return deco


def _images(shape):
    def make(rng, batch):
        x = rng.standard_normal((batch, *shape)).astype(np.float32)
        return x, rng.integers(0, 10, batch).astype(np.int64)
    return make


# -- models ----------------------------------------------------------------------------------------

@workload("mlp", batch=128, optimizer="sgd_momentum", inputs=_images((784,)))
def mlp(lib):
    """784-512-512-10 ReLU MLP, batch 128, SGD momentum 0.9"""
    n = lib.nn
    return n.Sequential(n.Linear(784, 512), n.ReLU(), n.Linear(512, 512), n.ReLU(), n.Linear(512, 10))


@workload("mlp_big", batch=512, optimizer="sgd_momentum", inputs=_images((784,)))
def mlp_big(lib):
    """784-2048-2048-10 ReLU MLP, batch 512, SGD momentum 0.9"""
    n = lib.nn
    return n.Sequential(n.Linear(784, 2048), n.ReLU(), n.Linear(2048, 2048), n.ReLU(), n.Linear(2048, 10))


@workload("lenet", batch=64, optimizer="sgd", inputs=_images((1, 28, 28)))
def lenet(lib):
    """LeNet-5 on 1x28x28, batch 64, SGD"""
    n = lib.nn
    return n.Sequential(n.Conv2d(1, 6, 5, padding=2), n.ReLU(), n.MaxPool2d(2),
                        n.Conv2d(6, 16, 5), n.ReLU(), n.MaxPool2d(2), n.Flatten(),
                        n.Linear(16 * 5 * 5, 120), n.ReLU(), n.Linear(120, 84), n.ReLU(), n.Linear(84, 10))


@workload("convnet", batch=64, optimizer="adam", inputs=_images((3, 32, 32)))
def convnet(lib):
    """3 conv (32/64/128 @3x3) + fc on 3x32x32, batch 64, Adam"""
    n = lib.nn
    return n.Sequential(n.Conv2d(3, 32, 3, padding=1), n.ReLU(), n.Conv2d(32, 64, 3, padding=1), n.ReLU(),
                        n.MaxPool2d(2), n.Conv2d(64, 128, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
                        n.Flatten(), n.Linear(128 * 8 * 8, 10))


def _lstm_classifier(lib):
    n = lib.nn

    class LSTMClassifier(n.Module):
        def __init__(self):
            super().__init__()
            self.lstm = n.LSTM(128, 256, batch_first=True)
            self.fc = n.Linear(256, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1])

    return LSTMClassifier()


@workload("lstm", batch=32, optimizer="adam", inputs=_images((35, 128)),
          forward_flops=35 * 2 * 32 * (128 + 256) * 4 * 256 + 2 * 32 * 256 * 10)
def lstm(lib):
    """1-layer LSTM 128->256, sequence 35, batch 32, last step -> linear 10, Adam"""
    return _lstm_classifier(lib)


def _encoder_classifier(lib):
    n = lib.nn

    class EncoderClassifier(n.Module):
        def __init__(self):
            super().__init__()
            self.encoder = n.TransformerEncoderLayer(256, 4, dim_feedforward=1024, dropout=0.0,
                                                     activation="gelu", batch_first=True)
            self.fc = n.Linear(256, 10)

        def forward(self, x):
            return self.fc(self.encoder(x).mean(dim=1))

    return EncoderClassifier()


@workload("transformer", batch=32, optimizer="adam", inputs=_images((64, 256)))
def transformer(lib):
    """1 encoder layer d256 h4 ffn1024 GELU, sequence 64, batch 32, mean-pool, linear 10, Adam"""
    return _encoder_classifier(lib)
