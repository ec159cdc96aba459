"""Keras pooling layers over ``ember.nn`` pooling modules and ``ember.ops`` reductions.

``channels_last`` by default; ``padding='same'`` as TensorFlow (max pooling pads with -inf, average
pooling averages only the real values in each window).
"""

from __future__ import annotations

from ... import nn
from ...ops import reduction as R
from ...ops import shape as S
from ...ops.creation import ones
from .base import Layer
from .conv import _check_format, same_padding, to_tuple

__all__ = ["AveragePooling1D", "AveragePooling2D", "AvgPool1D", "AvgPool2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D", "MaxPooling1D", "MaxPooling2D"]


class _Pool(Layer):
    _nd = 2
    _max = True

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        nd, cls = self._nd, type(self).__name__
        self.pool_size = to_tuple(pool_size, nd, f"{cls} pool_size")
        self.strides = to_tuple(strides, nd, f"{cls} strides") if strides is not None else self.pool_size
        padding = padding.lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"{cls}: padding must be 'valid' or 'same', got {padding!r}")
        self.padding = padding
        self.data_format = _check_format(data_format, cls)
        if self._max:
            self.pool = (nn.MaxPool1d if nd == 1 else nn.MaxPool2d)(self.pool_size, self.strides)
        else:
            self.pool = (nn.AvgPool1d if nd == 1 else nn.AvgPool2d)(self.pool_size, self.strides)

    def call(self, inputs):
        if inputs.ndim != self._nd + 2:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected input of rank {self._nd + 2}, got shape "
                             f"{tuple(inputs.shape)}")
        x = S.movedim(inputs, -1, 1) if self.data_format == "channels_last" else inputs
        if self.padding == "same":
            pads = [same_padding(x.shape[2 + i], self.pool_size[i], self.strides[i], 1) for i in range(self._nd)]
            flat = []
            for a, b in reversed(pads):
                flat += [a, b]
            if any(flat):
                if self._max:
                    x = self.pool(S.pad(x, flat, value=float("-inf")))
                else:   # mean of the real values: pooled sums over pooled counts
                    count = self.pool(S.pad(ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype), flat))
                    x = self.pool(S.pad(x, flat)) / count
            else:
                x = self.pool(x)
        else:
            x = self.pool(x)
        return S.movedim(x, 1, -1) if self.data_format == "channels_last" else x

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(_Pool):
    _nd, _max = 1, True


class MaxPooling2D(_Pool):
    _nd, _max = 2, True


class AveragePooling1D(_Pool):
    _nd, _max = 1, False


class AveragePooling2D(_Pool):
    _nd, _max = 2, False


class _GlobalPool(Layer):
    _nd = 2
    _max = False

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _check_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def call(self, inputs, mask=None):
        if inputs.ndim != self._nd + 2:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected input of rank {self._nd + 2}, got shape "
                             f"{tuple(inputs.shape)}")
        dims = tuple(range(1, 1 + self._nd)) if self.data_format == "channels_last" \
            else tuple(range(2, 2 + self._nd))
        if mask is not None and self._nd == 1 and not self._max:
            # average over the unmasked steps only (Keras' masked GlobalAveragePooling1D)
            m = S.unsqueeze(mask, -1 if self.data_format == "channels_last" else 1).to(inputs.dtype)
            return R.sum(inputs * m, dims, keepdim=self.keepdims) / R.sum(m, dims, keepdim=self.keepdims)
        if self._max:
            return R.amax(inputs, dims, keepdim=self.keepdims)
        return R.mean(inputs, dims, keepdim=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPool):
    _nd, _max = 1, False


class GlobalAveragePooling2D(_GlobalPool):
    _nd, _max = 2, False


class GlobalMaxPooling1D(_GlobalPool):
    _nd, _max = 1, True


class GlobalMaxPooling2D(_GlobalPool):
    _nd, _max = 2, True


MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
