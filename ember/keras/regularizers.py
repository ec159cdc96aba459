"""Weight regularizers (``keras.regularizers``): ``reg(weight) -> scalar Tensor`` added to the loss.

A layer built with ``kernel_regularizer=`` reports ``reg(kernel)`` in ``layer.losses``; ``fit`` adds
the sum of ``model.losses`` to the data loss at every step (so the gradient includes it).
"""

from __future__ import annotations

__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2", "serialize", "deserialize"]


class Regularizer:
    def __call__(self, x):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x**2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        out = None
        if self.l1:
            out = self.l1 * x.abs().sum()
        if self.l2:
            term = self.l2 * (x * x).sum()
            out = term if out is None else out + term
        if out is None:
            out = (x * 0.0).sum()
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}
_ALIASES = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown regularizer: {identifier!r}; known: {sorted(_ALIASES)}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret regularizer identifier: {identifier!r}")


def serialize(reg) -> dict:
    return {"class_name": type(reg).__name__, "config": reg.get_config()}


def deserialize(config: dict):
    cls = _CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown regularizer class {config['class_name']!r}")
    return cls(**config.get("config", {}))
