"""Keras activation functions by name (``keras.activations``): thin aliases of ``ember.ops`` activations."""

from __future__ import annotations

from ..ops import activation as A
from ..ops import elementwise as E

__all__ = ["elu", "exponential", "gelu", "get", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu", "linear",
           "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid", "silu", "softmax", "softplus",
           "softsign", "swish", "tanh", "deserialize"]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), with Keras' optional slope below ``threshold`` and cap ``max_value``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return A.relu(x)
    if threshold != 0.0:
        y = E.where(x > threshold, x, (x - threshold) * negative_slope)
    else:
        y = A.leaky_relu(x, negative_slope) if negative_slope else A.relu(x)
    return E.clamp(y, max=max_value) if max_value is not None else y


def sigmoid(x):
    return A.sigmoid(x)


def tanh(x):
    return A.tanh(x)


def softmax(x, axis=-1):
    return A.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    return A.log_softmax(x, dim=axis)


def elu(x, alpha=1.0):
    return A.elu(x, alpha)


def selu(x):
    return A.selu(x)


def softplus(x):
    return A.softplus(x)


def softsign(x):
    return A.softsign(x)


def silu(x):
    return A.silu(x)


swish = silu


def gelu(x, approximate=False):
    return A.gelu(x, approximate="tanh" if approximate else "none")


def leaky_relu(x, negative_slope=0.2):
    return A.leaky_relu(x, negative_slope)


def relu6(x):
    return A.relu6(x)


def hard_sigmoid(x):
    """Keras 3: relu6(x + 3) / 6."""
    return A.hardsigmoid(x)


def hard_silu(x):
    return A.hardswish(x)


hard_swish = hard_silu


def mish(x):
    return A.mish(x)


def exponential(x):
    return E.exp(x)


def linear(x):
    return x


_BY_NAME = {f.__name__: f for f in (relu, sigmoid, tanh, softmax, log_softmax, elu, selu, softplus, softsign, silu,
                                     gelu, leaky_relu, relu6, hard_sigmoid, hard_silu, mish, exponential, linear)}
_BY_NAME.update(swish=silu, hard_swish=hard_silu)


def get(identifier):
    """An activation function from a name, a callable or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier)
        if fn is None:
            raise ValueError(f"Unknown activation function: {identifier!r}; known: {sorted(_BY_NAME)}")
        return fn
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(fn):
    """The name of a built-in activation (for configs); a registered custom callable gives its name."""
    for name, f in _BY_NAME.items():
        if f is fn:
            return name
    from .saving import get_registered_name
    return get_registered_name(fn)


def deserialize(config):
    if isinstance(config, str):
        if config in _BY_NAME:
            return _BY_NAME[config]
        from .saving import get_registered_object
        return get_registered_object(config)
    return get(config.get("config", config.get("class_name")))
