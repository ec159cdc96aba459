"""``Sequential``: a linear stack of single-input layers (``keras.Sequential``)."""

from __future__ import annotations

from ..nn.module import Module
from .layers.base import InputLayer, KerasTensor, Layer
from .models import Model, _next_mask

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers: ``Sequential([Dense(64, activation="relu"), Dense(10)])``. Built as soon as
    the input shape is known (``keras.Input`` first, or ``input_shape=`` on the first layer)."""

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(name=name, trainable=trainable)
        self.__dict__["_seq_layers"] = []
        self.__dict__["_input_spec"] = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer, rebuild=True) -> None:
        if isinstance(layer, KerasTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._seq_layers or self._input_spec is not None:
                raise ValueError("Sequential: an Input must be the first layer")
            self.__dict__["_input_spec"] = layer
            return
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.add: expected a Layer (an ember.nn.Module), got {type(layer).__name__}")
        name = getattr(layer, "name", None) or f"module_{len(self._seq_layers)}"
        if name in self._modules:
            raise ValueError(f"Sequential: all layers must have unique names; {name!r} is already used")
        self._seq_layers.append(layer)
        self.add_module(name, layer)
        self.__dict__["built"] = False
        shape = self._known_input_shape()
        if rebuild and shape is not None:
            self.build((None,) + tuple(shape))

    def pop(self, rebuild=True):
        if not self._seq_layers:
            raise IndexError("Sequential.pop: the model has no layers")
        layer = self._seq_layers.pop()
        for k, v in list(self._modules.items()):
            if v is layer:
                del self._modules[k]
        return layer

    def _known_input_shape(self):
        if self._input_spec is not None:
            return self._input_spec._input_shape_arg
        if self._seq_layers and isinstance(self._seq_layers[0], Layer):
            return self._seq_layers[0]._input_shape_arg
        return None

    @property
    def layers(self) -> list:
        return list(self._seq_layers)

    def build(self, input_shape=None) -> None:
        if input_shape is None:
            shape = self._known_input_shape()
            if shape is None:
                raise ValueError("You must provide an `input_shape` argument to build a Sequential model.")
            input_shape = (None,) + tuple(shape)
        if self._input_spec is not None:
            self.__dict__["_build_input_dtype"] = self._input_spec.input_dtype
        Model.build(self, tuple(input_shape))
        self.__dict__["built"] = True

    build._keras_default_build = True

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._seq_layers:
            if isinstance(layer, Layer):
                kwargs = {"training": training}
                if mask is not None and layer._call_has_mask:
                    kwargs["mask"] = mask
                out = layer(x, **kwargs)
                mask = _next_mask(layer, x, mask)
                x = out
            else:
                x = layer(x)
                mask = None
        return x

    @property
    def output_names(self) -> list:
        return [self._seq_layers[-1].name] if self._seq_layers and isinstance(self._seq_layers[-1], Layer) \
            else ["output"]

    def get_config(self) -> dict:
        from .saving import serialize_layer
        cfg = {"name": self.name, "trainable": self._trainable,
               "layers": [serialize_layer(layer) for layer in self._seq_layers]}
        if self._input_spec is not None:
            cfg["input"] = self._input_spec.get_config()
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .saving import deserialize_layer
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        if config.get("input") is not None:
            model.add(InputLayer(**config["input"]), rebuild=False)
        for lc in config["layers"]:
            model.add(deserialize_layer(lc, custom_objects), rebuild=False)
        return model
