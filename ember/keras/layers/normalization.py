"""Keras BatchNormalization and LayerNormalization over ``ember.nn`` BatchNorm / LayerNorm.

Keras' ``momentum`` is the weight of the old moving statistic (0.99); PyTorch's is the weight of the
new batch (so 1 - 0.99). The features axis (``axis=-1``, channels_last) is moved to axis 1 for the nn
module and back.
"""

from __future__ import annotations

from ... import nn
from ...ops import shape as S
from .. import initializers
from .base import Layer

__all__ = ["BatchNormalization", "LayerNormalization"]


class BatchNormalization(Layer):
    """Normalize over every axis but ``axis`` with the batch statistics while training, the moving ones in
    inference. Non-trainable weights: ``moving_mean``, ``moving_variance`` (nn: running_mean/var)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int):
            raise NotImplementedError("BatchNormalization: only a single int axis is supported")
        if not center or not scale:
            if center != scale:
                raise NotImplementedError("BatchNormalization: center and scale must both be True or both False")
        if beta_regularizer is not None or gamma_regularizer is not None:
            raise NotImplementedError("BatchNormalization: beta/gamma regularizers are not supported")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        rank = len(input_shape)
        axis = self.axis % rank
        if axis == 0:
            raise ValueError(f"BatchNormalization {self.name!r}: axis cannot be the batch axis")
        c = input_shape[axis]
        if c is None:
            raise ValueError(f"BatchNormalization {self.name!r}: the features axis {self.axis} must be known")
        cls = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}.get(rank)
        if cls is None:
            raise ValueError(f"BatchNormalization {self.name!r}: inputs of rank {rank} are not supported")
        self._axis = axis
        self.bn = cls(int(c), eps=self.epsilon, momentum=1.0 - self.momentum, affine=self.center)
        if self.center:
            self.gamma_initializer.fill_(self.bn.weight)
            self.beta_initializer.fill_(self.bn.bias)
        self.moving_mean_initializer.fill_(self.bn.running_mean)
        self.moving_variance_initializer.fill_(self.bn.running_var)

    def call(self, inputs, training=None):
        if self.bn.training != bool(training):
            self.bn.train(bool(training))
        moved = self._axis != 1
        x = S.movedim(inputs, self._axis, 1) if moved else inputs
        y = self.bn(x)
        return S.movedim(y, 1, self._axis) if moved else y

    def get_config(self):
        ser = initializers.serialize
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "beta_initializer": ser(self.beta_initializer),
                "gamma_initializer": ser(self.gamma_initializer),
                "moving_mean_initializer": ser(self.moving_mean_initializer),
                "moving_variance_initializer": ser(self.moving_variance_initializer)}


class LayerNormalization(Layer):
    """Normalize each sample over the last axis (``axis=-1``), then scale (gamma) and shift (beta)."""

    def __init__(self, axis=-1, epsilon=0.001, center=True, scale=True, rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        axes = [axis] if isinstance(axis, int) else list(axis)
        self.axis = axis
        self._axes = axes
        if center and not scale:
            raise NotImplementedError("LayerNormalization(center=True, scale=False) is not supported")
        if rms_scaling:
            raise NotImplementedError("LayerNormalization(rms_scaling=True) is not supported; use nn.RMSNorm")
        self.epsilon, self.center, self.scale = float(epsilon), center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)

    def build(self, input_shape):
        rank = len(input_shape)
        axes = sorted(a % rank for a in self._axes)
        if axes != list(range(rank - len(axes), rank)):
            raise NotImplementedError(f"LayerNormalization {self.name!r}: only trailing axes are supported, got "
                                      f"axis={self.axis} for rank {rank}")
        shape = tuple(int(input_shape[a]) for a in axes)
        self.ln = nn.LayerNorm(shape, eps=self.epsilon, elementwise_affine=self.scale, bias=self.center)
        if self.scale:
            self.gamma_initializer.fill_(self.ln.weight)
        if self.center:
            self.beta_initializer.fill_(self.ln.bias)

    def call(self, inputs):
        return self.ln(inputs)

    def get_config(self):
        ser = initializers.serialize
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "beta_initializer": ser(self.beta_initializer),
                "gamma_initializer": ser(self.gamma_initializer)}
