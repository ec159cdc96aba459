"""``ember.keras``: a Keras 3-compatible facade (``import ember.keras as keras``).

Models (``Sequential``, functional ``Model(inputs, outputs)``, subclassed ``Model``) train through
``ember.train``'s loop; layers are ``ember.nn`` modules with Keras names and lazily built weights.
"""

from . import (activations, backend, callbacks, initializers, layers, losses, metrics, models, optimizers, regularizers,
               saving, utils)
from .layers import Input, Layer
from .models import Model, Sequential
from .saving import register_keras_serializable

__all__ = ["Input", "Layer", "Model", "Sequential", "activations", "backend", "callbacks", "initializers", "layers", "losses",
           "metrics", "models", "optimizers", "regularizers", "register_keras_serializable", "saving", "utils"]
