"""Core Keras layers: Dense, Activation, Flatten, Reshape, Dropout, merging layers (Add, Concatenate,
...), each wrapping the ``ember.nn`` module or ``ember.ops`` op that does the work."""

from __future__ import annotations

import math

from ... import nn
from ...ops import elementwise as E
from ...ops import shape as S
from .. import activations, initializers, regularizers
from .base import Layer

__all__ = ["Activation", "Add", "Average", "Concatenate", "Dense", "Dropout", "Flatten", "Identity", "Lambda",
           "Maximum", "Minimum", "Multiply", "Reshape", "Subtract", "WeightsMixin"]


def _no_constraint(name, value, layer):
    if value is not None:
        raise NotImplementedError(f"{layer}: {name} is not supported by ember.keras")


class WeightsMixin:
    """Shared handling of initializers and regularizers for layers with a kernel and a bias."""

    def _init_weights_args(self, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                           activity_regularizer, kernel_constraint, bias_constraint):
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        _no_constraint("activity_regularizer", activity_regularizer, type(self).__name__)
        _no_constraint("kernel_constraint", kernel_constraint, type(self).__name__)
        _no_constraint("bias_constraint", bias_constraint, type(self).__name__)

    def _init_params(self, kernel, bias):
        self.kernel_initializer.fill_(kernel)
        if bias is not None:
            self.bias_initializer.fill_(bias)

    def _reg_losses(self, kernel, bias):
        out = []
        if self.kernel_regularizer is not None and kernel is not None:
            out.append(self.kernel_regularizer(kernel))
        if self.bias_regularizer is not None and bias is not None:
            out.append(self.bias_regularizer(bias))
        return out

    def _weights_config(self):
        ser = initializers.serialize
        rser = regularizers.serialize
        return {"kernel_initializer": ser(self.kernel_initializer), "bias_initializer": ser(self.bias_initializer),
                "kernel_regularizer": None if self.kernel_regularizer is None else rser(self.kernel_regularizer),
                "bias_regularizer": None if self.bias_regularizer is None else rser(self.bias_regularizer)}


class Dense(WeightsMixin, Layer):
    """``activation(inputs @ kernel + bias)`` over the last axis: (..., in) -> (..., units).
    Holds an ``nn.Linear`` (``self.linear``) built from the first input's last dimension."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self._init_weights_args(kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                                activity_regularizer, kernel_constraint, bias_constraint)

    def build(self, input_shape):
        if len(input_shape) < 1 or input_shape[-1] is None:
            raise ValueError(f"Dense {self.name!r}: the last dimension of the inputs must be known, got input shape "
                             f"{input_shape}")
        self.linear = nn.Linear(int(input_shape[-1]), self.units, bias=self.use_bias)
        self._init_params(self.linear.weight, self.linear.bias)

    def call(self, inputs):
        return self.activation(self.linear(inputs))

    @property
    def kernel(self):
        """The kernel in Keras layout (in, units): a view of ``linear.weight`` (units, in)."""
        return S.transpose(self.linear.weight, 0, 1)

    @property
    def bias(self):
        return self.linear.bias

    def _own_losses(self):
        return self._reg_losses(self.linear.weight, self.linear.bias) if self.built else []

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias, **self._weights_config()}


class Activation(Layer):
    """Applies an activation function (by name or callable)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    def call(self, inputs):
        return inputs


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...). ``data_format='channels_first'`` flattens in (C, H, W) order."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.flatten = nn.Flatten()

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = S.movedim(inputs, -1, 1)
        return self.flatten(inputs)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """(N, ...) -> (N, *target_shape); one entry may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def call(self, inputs):
        n = inputs.shape[0]
        known = math.prod(d for d in self.target_shape if d != -1)
        size = math.prod(inputs.shape[1:])
        if (-1 not in self.target_shape and known != size) or (-1 in self.target_shape and size % known):
            raise ValueError(f"Reshape {self.name!r}: cannot reshape input of shape {tuple(inputs.shape)} to "
                             f"(batch, {', '.join(map(str, self.target_shape))})")
        return S.reshape(inputs, (n,) + self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs during training (scaling the rest by 1/(1-rate)).
    ``noise_shape`` (broadcast masks) is not supported."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1], got {rate}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout(noise_shape=...) is not supported by ember.keras")
        self.rate, self.seed = float(rate), seed
        self.dropout = nn.Dropout(self.rate)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        self.dropout.train(True)
        return self.dropout(inputs)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class Lambda(Layer):
    """Wraps a function of tensors (``Lambda(lambda x: x * 2)``); not serializable unless the function is
    registered with ``register_keras_serializable``."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function, self.arguments = function, dict(arguments or {})

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def get_config(self):
        from ..saving import get_registered_name
        return {**super().get_config(), "function": get_registered_name(self.function), "arguments": self.arguments}

    @classmethod
    def from_config(cls, config):
        from ..saving import get_registered_object
        config = dict(config)
        config["function"] = get_registered_object(config["function"])
        return cls(**config)


class _Merge(Layer):
    """Base of layers that combine a list of same-shaped inputs elementwise."""

    def _merge(self, a, b):
        raise NotImplementedError

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"{type(self).__name__} {self.name!r} must be called on a list of at least 2 inputs")
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return out


class Add(_Merge):
    def _merge(self, a, b):
        return a + b


class Subtract(Layer):
    def call(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"Subtract {self.name!r} must be called on exactly 2 inputs, got {len(inputs)}")
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    def _merge(self, a, b):
        return a * b


class Maximum(_Merge):
    def _merge(self, a, b):
        return E.maximum(a, b)


class Minimum(_Merge):
    def _merge(self, a, b):
        return E.minimum(a, b)


class Average(_Merge):
    def call(self, inputs):
        return super().call(inputs) / float(len(inputs))

    def _merge(self, a, b):
        return a + b


class Concatenate(Layer):
    """Concatenates a list of inputs along ``axis`` (default the last)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 1:
            raise ValueError(f"Concatenate {self.name!r} must be called on a list of inputs")
        return S.cat(list(inputs), dim=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
