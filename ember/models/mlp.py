"""``MLP``: a stack of Linear layers with an activation (and optional dropout) between them.

Shapes: (N, *, in_features) -> (N, *, out_features); with ``flatten=True`` the input (N, ...) is first
flattened to (N, in_features) (e.g. images (N, 1, 28, 28) with in_features=784).
Submodule names are a ``Sequential``'s ("0", "1", ...), so ``layers.0.weight`` etc. in a state_dict.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..nn import Dropout, Flatten, GELU, Linear, Module, ReLU, Sequential, SiLU, Tanh, Sigmoid
from ..nn import LeakyReLU

__all__ = ["MLP"]

_ACTIVATIONS = {"relu": ReLU, "gelu": GELU, "tanh": Tanh, "sigmoid": Sigmoid, "silu": SiLU,
                "leaky_relu": LeakyReLU}


class MLP(Module):
    """MLP(in_features, hidden_features, out_features, activation="relu", dropout=0.0, bias=True,
    flatten=False): Linear(in, h0), act, [Dropout], Linear(h0, h1), act, ..., Linear(h_last, out).

    ``hidden_features`` is a list of widths (empty for a single Linear); ``activation`` is a name
    (relu, gelu, tanh, sigmoid, silu, leaky_relu) or a Module class.
    """

    def __init__(self, in_features: int, hidden_features: list[int] | tuple[int, ...], out_features: int,
                 activation="relu", dropout: float = 0.0, bias: bool = True, flatten: bool = False):
        super().__init__()
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"MLP: unknown activation {activation!r}; expected one of {sorted(_ACTIVATIONS)}")
            activation = _ACTIVATIONS[activation]
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        self.in_features, self.out_features = in_features, out_features
        self.flatten = Flatten() if flatten else None
        layers: list[Module] = []
        width = in_features
        for h in hidden_features:
            layers += [Linear(width, h, bias=bias), activation()]
            if dropout > 0:
                layers.append(Dropout(dropout))
            width = h
        layers.append(Linear(width, out_features, bias=bias))
        self.layers = Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.flatten is not None:
            x = self.flatten(x)
        return self.layers(x)
