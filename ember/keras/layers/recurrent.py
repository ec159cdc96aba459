"""Keras recurrent layers (SimpleRNN, LSTM, GRU, Bidirectional) over ``ember.nn`` RNN / LSTM / GRU.

Inputs are (batch, timesteps, features). Weights are initialized as Keras does: kernels
glorot_uniform, recurrent kernels orthogonal, biases zero with the LSTM forget-gate bias at 1
(``unit_forget_bias``); PyTorch's second bias (``bias_hh``) starts at zero. GRU uses the
``reset_after=True`` formulation (Keras' default, the same as PyTorch/cuDNN).

A mask (from ``Embedding(mask_zero=True)``) must mark a prefix of each sequence (post-padding); the
padded steps are skipped through a packed sequence, so the final state is the state after the last
real step (``go_backwards``: after the first one, reading the real steps backwards) and
``return_sequences`` outputs are zero at padded steps.
"""

from __future__ import annotations

import numpy as np

from ... import nn
from ...autograd.grad_mode import no_grad
from ...nn.utils import rnn as rnn_utils
from ...ops import shape as S
from ...ops.creation import from_numpy
from ...ops.indexing import take_along_dim
from ...train.metrics import as_numpy
from .. import initializers
from .base import Layer

__all__ = ["GRU", "LSTM", "SimpleRNN", "Bidirectional"]


class _RNN(Layer):
    _nn_cls = None
    _gates = 1
    _state_count = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        for what, v in (("kernel_regularizer", kernel_regularizer), ("recurrent_regularizer", recurrent_regularizer),
                        ("bias_regularizer", bias_regularizer), ("activity_regularizer", activity_regularizer),
                        ("kernel_constraint", kernel_constraint), ("recurrent_constraint", recurrent_constraint),
                        ("bias_constraint", bias_constraint)):
            if v is not None:
                raise NotImplementedError(f"{cls}: {what} is not supported by ember.keras")
        if dropout or recurrent_dropout:
            raise NotImplementedError(f"{cls}: dropout/recurrent_dropout are not supported; add a Dropout layer")
        if stateful:
            raise NotImplementedError(f"{cls}: stateful=True is not supported")
        self._check_activations(activation, recurrent_activation)
        self.units = int(units)
        self.activation, self.recurrent_activation = activation, recurrent_activation
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.return_sequences, self.return_state, self.go_backwards = return_sequences, return_state, go_backwards
        self.unroll = unroll

    def _check_activations(self, activation, recurrent_activation):
        if activation != "tanh" or recurrent_activation != "sigmoid":
            raise NotImplementedError(f"{type(self).__name__}: only activation='tanh' and "
                                      "recurrent_activation='sigmoid' are supported")

    def _make(self, features):
        return self._nn_cls(features, self.units, bias=self.use_bias, batch_first=True)

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected input (batch, timesteps, features) with "
                             f"known features, got shape {tuple(input_shape)}")
        self.cell = self._make(int(input_shape[-1]))
        self.kernel_initializer.fill_(self.cell.weight_ih_l0)
        self._fill_recurrent(self.cell.weight_hh_l0)
        if self.use_bias:
            self.bias_initializer.fill_(self.cell.bias_ih_l0)
            initializers.Zeros().fill_(self.cell.bias_hh_l0)
            self._bias_extra(self.cell.bias_ih_l0)

    def _fill_recurrent(self, w):
        # Keras initializes the whole (units, gates*units) recurrent kernel at once
        self.recurrent_initializer.fill_(w)

    def _bias_extra(self, b):
        pass

    def call(self, inputs, mask=None, initial_state=None, training=None):
        n, t = inputs.shape[0], inputs.shape[1]
        lengths = None
        if mask is not None:
            m = np.asarray(as_numpy(mask)).astype(bool)
            lengths = m.sum(1)
            if not (m == (np.arange(t)[None, :] < lengths[:, None])).all():
                raise NotImplementedError(f"{type(self).__name__} {self.name!r}: masks must mark a prefix of each "
                                          "sequence (post-padding)")
            if (lengths == t).all():
                lengths = None
        order = None
        if self.go_backwards and lengths is not None:
            # reverse each sequence's real steps only: [a b c pad pad] -> [c b a pad pad]
            pos = np.arange(t)[None, :]
            order = np.where(pos < lengths[:, None], lengths[:, None] - 1 - pos, pos)
            x = take_along_dim(inputs, from_numpy(np.ascontiguousarray(
                np.broadcast_to(order[..., None], tuple(inputs.shape)))), 1)
        elif self.go_backwards:
            x = S.flip(inputs, [1])
        else:
            x = inputs
        if lengths is not None:
            x = rnn_utils.pack_padded_sequence(x, np.maximum(lengths, 1), batch_first=True, enforce_sorted=False)
        hx = None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            states = [S.unsqueeze(s, 0) for s in states]
            hx = (states[0], states[1]) if self._state_count == 2 else states[0]
        out, state = self.cell(x, hx)
        if lengths is not None:
            out, _ = rnn_utils.pad_packed_sequence(out, batch_first=True, total_length=t)
        if order is not None and self.return_sequences:
            # back to original time positions, then Keras' go_backwards order (the reversed sequence,
            # padded steps first)
            idx = from_numpy(np.ascontiguousarray(np.broadcast_to(order[..., None], tuple(out.shape))))
            out = S.flip(take_along_dim(out, idx, 1), [1])
        states = list(state) if isinstance(state, tuple) else [state]
        states = [s[-1] for s in states]            # (num_layers, N, H) -> (N, H)
        result = out if self.return_sequences else states[0]     # the last real step's output == h_n
        if self.return_state:
            return [result] + states
        return result

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def get_config(self):
        ser = initializers.serialize
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "recurrent_activation": self.recurrent_activation, "use_bias": self.use_bias,
                "kernel_initializer": ser(self.kernel_initializer),
                "recurrent_initializer": ser(self.recurrent_initializer),
                "bias_initializer": ser(self.bias_initializer), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards}


class SimpleRNN(_RNN):
    """h_t = activation(x_t W + h_{t-1} U + b), activation 'tanh' or 'relu'."""

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, recurrent_activation="sigmoid", **kwargs)

    def _check_activations(self, activation, recurrent_activation):
        if activation not in ("tanh", "relu"):
            raise NotImplementedError("SimpleRNN: only activation='tanh' or 'relu' is supported")

    def _make(self, features):
        return nn.RNN(features, self.units, nonlinearity=self.activation, bias=self.use_bias, batch_first=True)

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("recurrent_activation", None)
        return cfg


class LSTM(_RNN):
    """Long short-term memory; ``return_state`` gives [output, h, c]."""
    _state_count = 2

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _make(self, features):
        return nn.LSTM(features, self.units, bias=self.use_bias, batch_first=True)

    def _bias_extra(self, b):
        if self.unit_forget_bias:
            with no_grad():
                b[self.units:2 * self.units] = 1.0

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_RNN):
    """Gated recurrent unit (reset_after=True form); ``return_state`` gives [output, h]."""

    def __init__(self, units, reset_after=True, **kwargs):
        if not reset_after:
            raise NotImplementedError("GRU(reset_after=False) is not supported (ember's GRU is the reset_after form)")
        super().__init__(units, **kwargs)

    def _make(self, features):
        return nn.GRU(features, self.units, bias=self.use_bias, batch_first=True)


class Bidirectional(Layer):
    """Runs ``layer`` forwards and a copy backwards over time and merges their outputs
    (``merge_mode``: 'concat' (default), 'sum', 'mul', 'ave' or None for a list)."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, _RNN):
            raise ValueError(f"Bidirectional: expected a SimpleRNN, LSTM or GRU layer, got {type(layer).__name__}")
        if merge_mode not in ("concat", "sum", "mul", "ave", None):
            raise ValueError(f"Bidirectional: invalid merge_mode {merge_mode!r}")
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        cfg = layer.get_config()
        cfg.pop("input_shape", None)
        self.forward_layer = type(layer).from_config({**cfg, "name": "forward_" + layer.name})
        if backward_layer is None:
            backward_layer = type(layer).from_config({**cfg, "name": "backward_" + layer.name,
                                                      "go_backwards": not layer.go_backwards})
        self.backward_layer = backward_layer
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state

    def call(self, inputs, mask=None, training=None):
        f = self.forward_layer(inputs, mask=mask)
        b = self.backward_layer(inputs, mask=mask)
        if self.return_state:
            f, f_states = f[0], f[1:]
            b, b_states = b[0], b[1:]
        if self.return_sequences:
            b = S.flip(b, [1])           # align the backward outputs with the forward time order
        if self.merge_mode == "concat":
            out = S.cat([f, b], dim=-1)
        elif self.merge_mode == "sum":
            out = f + b
        elif self.merge_mode == "mul":
            out = f * b
        elif self.merge_mode == "ave":
            out = (f + b) / 2.0
        else:
            out = [f, b]
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + list(f_states) + list(b_states)
        return out

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def get_config(self):
        cfg = self.forward_layer.get_config()
        cfg["name"] = cfg["name"][len("forward_"):]
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": {"class_name": type(self.forward_layer).__name__, "config": cfg}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving import deserialize_layer
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        return cls(**config)
