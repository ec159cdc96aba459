"""Saving Keras models: one safetensors file with the weights and, in its JSON metadata, the model's
config (architecture, build shape, compile arguments). No pickle: loading never runs stored code.

- ``model.save(path)`` / ``keras.models.load_model(path)``: the whole model. Built-in layers are
  rebuilt from their ``get_config()``; custom layers and models are found through
  ``@register_keras_serializable()`` (or ``custom_objects={"Name": cls}``).
- ``model.save_weights(path)`` / ``model.load_weights(path)``: weights only, by ``state_dict`` name;
  loading reports missing, unexpected and mismatched names.

All writes are atomic (temporary file, fsync, rename).
"""

from __future__ import annotations

import os

import numpy as np

from ..train.state_io import load_state, read_metadata, save_state

__all__ = ["deserialize_layer", "get_registered_name", "get_registered_object", "load_model", "load_weights",
           "register_keras_serializable", "save_model", "save_weights", "serialize_layer"]

FORMAT = "ember.keras/1"
_CUSTOM: dict[str, object] = {}


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Class/function decorator: make a custom layer, model or function loadable by name
    (``"package>Name"``)."""

    def deco(obj):
        key = f"{package}>{name or obj.__name__}"
        if key in _CUSTOM and _CUSTOM[key] is not obj:
            raise ValueError(f"{key!r} is already registered to {_CUSTOM[key]!r}")
        _CUSTOM[key] = obj
        try:
            obj._registered_name = key
        except (AttributeError, TypeError):
            pass
        return obj

    return deco


def get_registered_name(obj) -> str:
    key = getattr(obj, "_registered_name", None)
    if key is not None and _CUSTOM.get(key) is obj:
        return key
    return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name: str, custom_objects: dict | None = None):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _CUSTOM:
        return _CUSTOM[name]
    short = name.split(">")[-1]
    if custom_objects and short in custom_objects:
        return custom_objects[short]
    from . import layers as L
    from . import models as M
    builtin = {**{k: getattr(L, k) for k in L.__all__}, "Sequential": M.Sequential, "Model": M.Model,
               "Functional": M.Model}
    if short in builtin and ">" not in name:
        return builtin[short]
    raise ValueError(f"Could not locate class or function {name!r}. Make sure custom classes and functions are "
                     "decorated with @keras.saving.register_keras_serializable() or passed in custom_objects.")


def serialize_layer(layer) -> dict:
    cls = type(layer)
    key = getattr(cls, "_registered_name", None)
    name = key if key is not None and _CUSTOM.get(key) is cls else cls.__name__
    return {"class_name": name, "config": layer.get_config()}


def deserialize_layer(cfg: dict, custom_objects: dict | None = None):
    cls = get_registered_object(cfg["class_name"], custom_objects)
    from_config = cls.from_config
    try:
        return from_config(cfg["config"], custom_objects=custom_objects)
    except TypeError as e:
        if "custom_objects" not in str(e):
            raise
        return from_config(cfg["config"])


# -- functional graphs ------------------------------------------------------------------------------
def _ref_map(model):
    """KerasTensor id -> [layer name, node index within this model, output index]."""
    refs, per_layer = {}, {}
    from .layers.base import KerasTensor, flatten_structure
    for node in model._nodes:
        k = per_layer.get(node.layer.name, 0)
        per_layer[node.layer.name] = k + 1
        flat = [t for t in flatten_structure(node.outputs) if isinstance(t, KerasTensor)]
        for i, t in enumerate(flat):
            refs[id(t)] = [node.layer.name, k, i]
    return refs


def _encode(x, refs):
    from .layers.base import KerasTensor
    if isinstance(x, KerasTensor):
        return {"__keras_tensor__": refs[id(x)]}
    if isinstance(x, dict):
        return {"__dict__": {k: _encode(v, refs) for k, v in x.items()}}
    if isinstance(x, (list, tuple)):
        return {"__list__": [_encode(v, refs) for v in x], "tuple": isinstance(x, tuple)}
    return x


def _decode(x, tensors):
    if isinstance(x, dict):
        if "__keras_tensor__" in x:
            return tensors[tuple(x["__keras_tensor__"])]
        if "__dict__" in x:
            return {k: _decode(v, tensors) for k, v in x["__dict__"].items()}
        if "__list__" in x:
            items = [_decode(v, tensors) for v in x["__list__"]]
            return tuple(items) if x.get("tuple") else items
    return x


def functional_config(model) -> dict:
    from .layers.base import InputLayer
    refs = _ref_map(model)
    nodes = []
    for node in model._nodes:
        if isinstance(node.layer, InputLayer):
            continue
        nodes.append({"layer": node.layer.name, "args": _encode(list(node.args), refs),
                      "kwargs": _encode(dict(node.kwargs), refs)})
    return {"name": model.name, "trainable": model._trainable,
            "layers": [serialize_layer(layer) for layer in model._graph_layers],
            "input_layers": _encode(model._inputs, refs), "output_layers": _encode(model._outputs, refs),
            "nodes": nodes}


def functional_from_config(config: dict, custom_objects=None):
    from .layers.base import InputLayer, KerasTensor, flatten_structure
    from .models import Model
    layers = {}
    tensors = {}
    for lc in config["layers"]:
        layer = deserialize_layer(lc, custom_objects)
        layers[layer.name] = layer
        if isinstance(layer, InputLayer):
            tensors[(layer.name, 0, 0)] = layer.output
    counts = {}
    for n in config["nodes"]:
        layer = layers[n["layer"]]
        args = _decode(n["args"], tensors)
        kwargs = _decode(n["kwargs"], tensors)
        out = layer(*args, **kwargs)
        k = counts.get(layer.name, 0)
        counts[layer.name] = k + 1
        for i, t in enumerate(t for t in flatten_structure(out) if isinstance(t, KerasTensor)):
            tensors[(layer.name, k, i)] = t
    return Model(_decode(config["input_layers"], tensors), _decode(config["output_layers"], tensors),
                 name=config.get("name"), trainable=config.get("trainable", True))


# -- files -------------------------------------------------------------------------------------------
def _check_overwrite(path, overwrite):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False")


def save_model(model, filepath, overwrite: bool = True) -> None:
    """Write ``model`` (config + weights) to ``filepath``."""
    filepath = os.fspath(filepath)
    _check_overwrite(filepath, overwrite)
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built yet; call it on data (or build it) before saving")
    meta = {"format": FORMAT, "model": serialize_layer(model),
            "build_input_shape": _jsonable(model._build_input_shape),
            "build_input_dtype": _jsonable(model._build_input_dtype),
            "compile": model._compile_config}
    save_state(filepath, model.state_dict(), meta)


def _jsonable(x):
    if isinstance(x, tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, list):
        return [_jsonable(v) for v in x]
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, np.integer):
        return int(x)
    return x


def _shape_from_json(x):
    if isinstance(x, dict):
        return {k: _shape_from_json(v) for k, v in x.items()}
    if isinstance(x, list) and all(v is None or isinstance(v, int) for v in x):
        return tuple(x)
    if isinstance(x, list):
        return [_shape_from_json(v) for v in x]
    return x


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """Rebuild a model saved with ``model.save``: architecture, weights and (with ``compile=True``) the
    compile arguments that were serializable."""
    filepath = os.fspath(filepath)
    meta = read_metadata(filepath)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{filepath} is not an ember.keras model file (format {meta.get('format')!r}); weights-only "
                         "files load with model.load_weights")
    model = deserialize_layer(meta["model"], custom_objects)
    if not model.built or not _all_built(model):
        shape = _shape_from_json(meta.get("build_input_shape"))
        if shape is None:
            raise ValueError(f"{filepath}: the saved model has no build shape")
        model.__dict__["_build_input_dtype"] = meta.get("build_input_dtype")
        model.build(shape)
    _load_into(model, load_state(filepath), filepath)
    cc = meta.get("compile")
    if compile and cc is not None and cc.get("loss") is not None:
        from . import losses as losses_mod
        loss = cc["loss"]
        loss = _decode_loss(loss, losses_mod)
        model.compile(optimizer=cc["optimizer"] if isinstance(cc["optimizer"], str) else
                      __import__("ember.keras.optimizers", fromlist=["deserialize"]).deserialize(cc["optimizer"]),
                      loss=loss, metrics=cc.get("metrics"), loss_weights=cc.get("loss_weights"))
    return model


def _decode_loss(loss, losses_mod):
    if isinstance(loss, dict) and "class_name" in loss:
        return losses_mod.deserialize(loss)
    if isinstance(loss, dict):
        return {k: _decode_loss(v, losses_mod) for k, v in loss.items()}
    if isinstance(loss, list):
        return [_decode_loss(v, losses_mod) for v in loss]
    return loss


def _all_built(model) -> bool:
    from .layers.base import Layer
    return all(m.built for m in model.modules() if isinstance(m, Layer))


def _load_into(model, arrays: dict, filepath: str) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in arrays]
    unexpected = [k for k in arrays if k not in own]
    mismatched = [f"{k}: file {tuple(arrays[k].shape)} vs model {tuple(own[k].shape)}" for k in own
                  if k in arrays and tuple(arrays[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or mismatched:
        raise ValueError(f"Weights in {filepath} do not match model {model.name!r}: missing {missing}, unexpected "
                         f"{unexpected}, shape mismatches {mismatched}")
    model.load_state_dict(arrays)


def save_weights(model, filepath, overwrite: bool = True) -> None:
    filepath = os.fspath(filepath)
    _check_overwrite(filepath, overwrite)
    save_state(filepath, model.state_dict(), {"format": FORMAT + "/weights"})


def load_weights(model, filepath) -> None:
    filepath = os.fspath(filepath)
    arrays = load_state(filepath)
    if not model.built or not _all_built(model):
        meta = read_metadata(filepath)
        shape = _shape_from_json(meta.get("build_input_shape")) if "build_input_shape" in meta else None
        if shape is None:
            raise ValueError(f"load_weights: model {model.name!r} is not built; call it on data (or build it) first")
        model.build(shape)
    _load_into(model, arrays, filepath)
