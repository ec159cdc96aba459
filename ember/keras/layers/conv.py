"""Keras convolutions (Conv1D, Conv2D, Conv2DTranspose) over ``ember.nn`` Conv modules.

Inputs are ``channels_last`` by default ((N, L, C) / (N, H, W, C)) and moved to the channels-first
layout the nn modules use, then back. ``padding='same'`` follows TensorFlow: output size
ceil(in / stride), with the odd pixel of padding on the right/bottom.
"""

from __future__ import annotations

import math

from ... import nn
from ...ops import shape as S
from .. import activations
from .base import Layer
from .core import WeightsMixin

__all__ = ["Conv1D", "Conv2D", "Conv2DTranspose", "Convolution1D", "Convolution2D", "same_padding", "to_tuple"]


def to_tuple(v, n: int, what: str) -> tuple:
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(x) for x in v)
    if len(v) != n:
        raise ValueError(f"{what} must be an int or a tuple of {n} ints, got {v}")
    return v


def same_padding(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding (before, after) for one spatial axis."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _check_format(data_format, name):
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return data_format


class _Conv(WeightsMixin, Layer):
    _nd = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        nd, cls = self._nd, type(self).__name__
        self.filters = int(filters)
        self.kernel_size = to_tuple(kernel_size, nd, f"{cls} kernel_size")
        self.strides = to_tuple(strides, nd, f"{cls} strides")
        self.dilation_rate = to_tuple(dilation_rate, nd, f"{cls} dilation_rate")
        padding = padding.lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"{cls}: padding must be 'valid' or 'same', got {padding!r}")
        self.padding = padding
        self.data_format = _check_format(data_format, cls)
        self.groups = int(groups)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self._init_weights_args(kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                                activity_regularizer, kernel_constraint, bias_constraint)

    def _channels(self, input_shape):
        if len(input_shape) != self._nd + 2:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected input of rank {self._nd + 2} "
                             f"(batch, spatial..., channels), got shape {tuple(input_shape)}")
        c = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        if c is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the channel dimension must be known")
        return int(c)

    def build(self, input_shape):
        conv_cls = nn.Conv1d if self._nd == 1 else nn.Conv2d
        self.conv = conv_cls(self._channels(input_shape), self.filters, self.kernel_size, stride=self.strides,
                             padding=0, dilation=self.dilation_rate, groups=self.groups, bias=self.use_bias)
        self._init_params(self.conv.weight, self.conv.bias)

    def _to_first(self, x):
        return S.movedim(x, -1, 1) if self.data_format == "channels_last" else x

    def _to_last(self, x):
        return S.movedim(x, 1, -1) if self.data_format == "channels_last" else x

    def call(self, inputs):
        x = self._to_first(inputs)
        if self.padding == "same":
            pads = [same_padding(x.shape[2 + i], self.kernel_size[i], self.strides[i], self.dilation_rate[i])
                    for i in range(self._nd)]
            if all(a == b for a, b in pads):
                self.conv.padding = tuple(a for a, _ in pads)
            else:
                self.conv.padding = (0,) * self._nd
                flat = []
                for a, b in reversed(pads):
                    flat += [a, b]
                x = S.pad(x, flat)
        return self.activation(self._to_last(self.conv(x)))

    def _own_losses(self):
        return self._reg_losses(self.conv.weight, self.conv.bias) if self.built else []

    @property
    def kernel(self):
        """The kernel in Keras layout (*kernel_size, in, filters) — (*kernel_size, filters, in) for
        transposed convolutions: a view of ``conv.weight``."""
        w = self.conv.weight
        return S.permute(w, tuple(range(2, w.ndim)) + (1, 0))

    @property
    def bias(self):
        return self.conv.bias

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **self._weights_config()}


class Conv1D(_Conv):
    """1-D convolution over (N, steps, channels) (``channels_last``) -> (N, new_steps, filters)."""
    _nd = 1


class Conv2D(_Conv):
    """2-D convolution over (N, H, W, C) (``channels_last``) -> (N, H', W', filters)."""
    _nd = 2


Convolution1D, Convolution2D = Conv1D, Conv2D


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution: 'valid' gives (in - 1) * stride + dilation * (k - 1) + 1, 'same' gives
    in * stride (``output_padding`` may be set explicitly)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation, use_bias,
                         **kwargs)
        self.output_padding = None if output_padding is None else to_tuple(output_padding, 2,
                                                                           "Conv2DTranspose output_padding")

    def build(self, input_shape):
        pad, out_pad = [], []
        for i in range(2):
            k, s, d = self.kernel_size[i], self.strides[i], self.dilation_rate[i]
            if self.padding == "valid":
                p, op = 0, 0
            else:
                t = d * (k - 1) + 1 - s
                p = max(math.ceil(t / 2), 0)
                op = 2 * p - t
            if self.output_padding is not None:
                op = self.output_padding[i]
            if op >= max(s, d):
                raise ValueError(f"Conv2DTranspose {self.name!r}: padding='same' with kernel {k}, stride {s} and "
                                 f"dilation {d} needs an output padding of {op}, which must be smaller than the "
                                 "stride or dilation; use padding='valid' or another kernel size")
            pad.append(p)
            out_pad.append(op)
        self.conv = nn.ConvTranspose2d(self._channels(input_shape), self.filters, self.kernel_size,
                                       stride=self.strides, padding=tuple(pad), output_padding=tuple(out_pad),
                                       dilation=self.dilation_rate, bias=self.use_bias)
        self._init_params(self.conv.weight, self.conv.bias)

    def call(self, inputs):
        return self.activation(self._to_last(self.conv(self._to_first(inputs))))

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("groups", None)
        cfg["output_padding"] = None if self.output_padding is None else list(self.output_padding)
        return cfg
