"""Keras weight initializers (``keras.initializers``) over ``ember.nn.init``.

``init(shape, dtype=None)`` returns a new Tensor for a Keras-layout shape (Dense kernel
``(in, out)``, Conv kernel ``(*kernel, in, out)``). Layers instead call ``init.fill_(param)`` on the
PyTorch-layout parameters they hold (``(out, in, *kernel)``): fan-in and fan-out are the same numbers,
read from the right axes, so both give Keras' distributions.
"""

from __future__ import annotations

import math

from ..nn import init as I

__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "Initializer",
           "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "Zeros", "get", "serialize", "deserialize"]


def _fans(shape, layout: str):
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if layout == "keras":               # (*receptive, in, out)
        rf = math.prod(shape[:-2])
        return shape[-2] * rf, shape[-1] * rf
    rf = math.prod(shape[2:])           # torch: (out, in, *receptive)
    return shape[1] * rf, shape[0] * rf


class Initializer:
    """Base class: subclasses implement ``_fill(tensor, fan_in, fan_out)`` (in place)."""

    def __call__(self, shape, dtype=None):
        from ..ops.creation import empty
        t = empty(tuple(shape), dtype=dtype)
        fi, fo = _fans(shape, "keras")
        self._fill(t, fi, fo)
        return t

    def fill_(self, tensor):
        """Initialize a PyTorch-layout parameter in place; returns it."""
        fi, fo = _fans(tensor.shape, "torch")
        self._fill(tensor, fi, fo)
        return tensor

    def _fill(self, tensor, fan_in, fan_out):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    def _fill(self, t, fi, fo):
        I.zeros_(t)


class Ones(Initializer):
    def _fill(self, t, fi, fo):
        I.ones_(t)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = float(value)

    def _fill(self, t, fi, fo):
        I.constant_(t, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def _fill(self, t, fi, fo):
        I.normal_(t, self.mean, self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def _fill(self, t, fi, fo):
        I.uniform_(t, self.minval, self.maxval)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal truncated at two standard deviations from the mean."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def _fill(self, t, fi, fo):
        I.trunc_normal_(t, self.mean, self.stddev, self.mean - 2 * self.stddev, self.mean + 2 * self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Variance ``scale / n`` with n = fan_in, fan_out or their mean; truncated normal (std corrected
    for the truncation, as Keras does), untruncated normal or uniform."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError(f"VarianceScaling: unknown distribution {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def _fill(self, t, fi, fo):
        n = {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2.0}[self.mode]
        var = self.scale / max(1.0, n)
        if self.distribution in ("truncated_normal", "normal"):
            std = math.sqrt(var) / 0.87962566103423978
            I.trunc_normal_(t, 0.0, std, -2 * std, 2 * std)
        elif self.distribution == "untruncated_normal":
            I.normal_(t, 0.0, math.sqrt(var))
        else:
            limit = math.sqrt(3.0 * var)
            I.uniform_(t, -limit, limit)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _preset(name, scale, mode, distribution):
    class _P(VarianceScaling):
        def __init__(self, seed=None):
            super().__init__(scale, mode, distribution, seed)

        def get_config(self):
            return {"seed": self.seed}
    _P.__name__ = _P.__qualname__ = name
    return _P


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")


class Orthogonal(Initializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def _fill(self, t, fi, fo):
        I.orthogonal_(t, self.gain)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def _fill(self, t, fi, fo):
        if t.ndim != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got {tuple(t.shape)}")
        I.eye_(t)
        if self.gain != 1.0:
            t.data.mul_(self.gain)

    def get_config(self):
        return {"gain": self.gain}


_CLASSES = {c.__name__: c for c in (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
                                    VarianceScaling, GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal,
                                    LecunUniform, Orthogonal, Identity)}
_ALIASES = {"zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
            "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
            "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
            "he_normal": HeNormal, "he_uniform": HeUniform, "lecun_normal": LecunNormal,
            "lecun_uniform": LecunUniform, "orthogonal": Orthogonal, "identity": Identity}


def get(identifier) -> Initializer:
    """An initializer from a name ('glorot_uniform', 'HeNormal'), a config dict or an instance."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown initializer: {identifier!r}; known: {sorted(_ALIASES)}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return _Callable(identifier)
    raise TypeError(f"Could not interpret initializer identifier: {identifier!r}")


class _Callable(Initializer):
    """A user function ``fn(shape, dtype=None) -> array/Tensor`` in Keras layout."""

    def __init__(self, fn):
        self.fn = fn

    def fill_(self, tensor):
        import numpy as np
        from ..train.metrics import as_numpy
        keras_shape = tuple(tensor.shape[2:]) + (tensor.shape[1], tensor.shape[0]) if tensor.ndim >= 2 \
            else tuple(tensor.shape)
        arr = np.asarray(as_numpy(self.fn(keras_shape, dtype=None)), dtype=tensor.dtype)
        if tensor.ndim >= 2:           # keras (*k, in, out) -> torch (out, in, *k)
            arr = np.transpose(arr, (arr.ndim - 1, arr.ndim - 2) + tuple(range(arr.ndim - 2)))
        from ..ops.creation import from_numpy
        with _no_grad():
            tensor.copy_(from_numpy(np.ascontiguousarray(arr)))
        return tensor


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()


def serialize(init) -> dict:
    return {"class_name": type(init).__name__, "config": init.get_config()}


def deserialize(config: dict) -> Initializer:
    cls = _CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown initializer class {config['class_name']!r}")
    return cls(**config.get("config", {}))
