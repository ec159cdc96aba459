"""Keras utilities: ``plot_history``, ``plot_model``, ``to_categorical``, ``set_random_seed``."""

import numpy as np

from ..saving import get_registered_name, get_registered_object, register_keras_serializable
from .plots import model_to_dot, plot_history, plot_model

__all__ = ["get_registered_name", "get_registered_object", "register_keras_serializable", "model_to_dot", "plot_history", "plot_model", "set_random_seed", "to_categorical"]


def to_categorical(x, num_classes=None, dtype="float32"):
    """One-hot encode integer labels: (N,) -> (N, num_classes)."""
    x = np.asarray(x, dtype=np.int64)
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x[..., 0]
    n = int(x.max()) + 1 if num_classes is None else int(num_classes)
    out = np.zeros(x.shape + (n,), dtype=dtype)
    np.put_along_axis(out, x[..., None], 1, axis=-1)
    return out


def set_random_seed(seed: int) -> None:
    """Seed ember's generators (Keras' ``keras.utils.set_random_seed``)."""
    from ... import manual_seed
    manual_seed(int(seed))
