"""``LeNet5`` (LeCun et al., 1998) in its common modern form for 28x28 digits.

features: Conv2d(in, 6, 5, padding=2) -> act -> pool 2 -> Conv2d(6, 16, 5) -> act -> pool 2
classifier: Linear(16*5*5, 120) -> act -> Linear(120, 84) -> act -> Linear(84, num_classes)

Shapes: (N, in_channels, 28, 28) -> (N, num_classes) (32x32 inputs work with ``padding=0``).
61,706 parameters with the defaults. ``activation`` "tanh" with ``pool="avg"`` is the original;
"relu" with ``pool="max"`` (the default) trains faster.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..nn import AvgPool2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential, Tanh
from ..ops import shape as S

__all__ = ["LeNet5"]


class LeNet5(Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "relu", pool: str = "max",
                 padding: int = 2):
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise ValueError(f"LeNet5: activation must be 'relu' or 'tanh', got {activation!r}")
        if pool not in ("max", "avg"):
            raise ValueError(f"LeNet5: pool must be 'max' or 'avg', got {pool!r}")
        act = ReLU if activation == "relu" else Tanh
        pl = MaxPool2d if pool == "max" else AvgPool2d
        self.features = Sequential(
            Conv2d(in_channels, 6, kernel_size=5, padding=padding), act(), pl(2, 2),
            Conv2d(6, 16, kernel_size=5), act(), pl(2, 2),
        )
        self.classifier = Sequential(
            Linear(16 * 5 * 5, 120), act(),
            Linear(120, 84), act(),
            Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"LeNet5: expected input of shape (N, C, 28, 28), got {tuple(x.shape)}")
        x = self.features(x)
        if tuple(x.shape[1:]) != (16, 5, 5):
            raise ValueError(f"LeNet5: input spatial size gives feature maps {tuple(x.shape[1:])}, expected "
                             "(16, 5, 5): use 28x28 inputs with padding=2 or 32x32 with padding=0")
        return self.classifier(S.flatten(x, 1))
