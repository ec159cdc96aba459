"""Keras models: ``Model`` (subclassed or functional) and ``Sequential`` (``sequential.py``), with
``compile`` / ``fit`` / ``evaluate`` / ``predict`` over ``ember.train``'s loop, ``summary``, weights and
saving.

- Subclassed: ``class M(keras.Model)`` with layers as attributes and ``call(self, x, training=None)``.
- Functional: ``Model(inputs, outputs)`` where outputs come from layers called on ``keras.Input``
  tensors; several inputs/outputs as lists or dicts.
- ``Sequential([...])`` / ``.add()``: a stack of single-input layers.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.tensor import Tensor
from ..train.data_adapter import DataAdapter, split_validation
from . import losses as losses_mod
from . import optimizers as optimizers_mod
from .layers.base import InputLayer, KerasTensor, Layer, flatten_structure
from .trainer import KerasTrainer

__all__ = ["Model", "Sequential", "Functional"]


def _map_keras(fn, x):
    if isinstance(x, KerasTensor):
        return fn(x)
    if isinstance(x, dict):
        return {k: _map_keras(fn, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_map_keras(fn, v) for v in x)
    return x


class Model(Layer):
    """Keras ``Model``: ``Model(inputs, outputs, name=None)`` (functional) or a subclass defining ``call``."""

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", None)
        outputs = kwargs.pop("outputs", None)
        if args:
            inputs = args[0]
            if len(args) > 1:
                outputs = args[1]
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        if kwargs:
            raise TypeError(f"Model: unexpected arguments {sorted(kwargs)}")
        super().__init__(name=name, trainable=trainable)
        d = self.__dict__
        d["_functional"] = False
        d["_trainer"] = None
        d["_compile_config"] = None
        d["stop_training"] = False
        d["history"] = None
        d["optimizer"] = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model: a functional model needs both inputs and outputs")
            self._init_functional(inputs, outputs)

    def __call__(self, *args, **kwargs):
        # Keras models accept NumPy arrays (and lists/dicts of them) directly
        if args and not isinstance(args[0], (Tensor, KerasTensor)):
            leaves = flatten_structure(args[0])
            if leaves and any(isinstance(a, np.ndarray) for a in leaves):
                from ..train.data_adapter import to_tensor
                args = (to_tensor(args[0]),) + args[1:]
        return super().__call__(*args, **kwargs)

    # -- functional graph ---------------------------------------------------------------------------
    def _init_functional(self, inputs, outputs) -> None:
        for t in flatten_structure(inputs) + flatten_structure(outputs):
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model(inputs, outputs): expected symbolic tensors from keras.Input and layers "
                                f"called on them, got {type(t).__name__}")
        order, seen = [], set()

        def visit(node):
            if id(node) in seen:
                return
            seen.add(id(node))
            for p in node.parents:
                visit(p.node)
            order.append(node)

        for t in flatten_structure(outputs):
            visit(t.node)
        input_nodes = {id(t.node) for t in flatten_structure(inputs)}
        for node in order:
            if isinstance(node.layer, InputLayer) and id(node) not in input_nodes:
                raise ValueError(f"Model: the outputs depend on the input {node.layer.name!r} which is not in "
                                 "`inputs`")
        d = self.__dict__
        d["_functional"] = True
        d["_inputs"] = inputs
        d["_outputs"] = outputs
        d["_nodes"] = order
        layers = []
        for node in order:
            if node.layer not in layers:
                layers.append(node.layer)
        d["_graph_layers"] = layers
        for layer in layers:
            if layer.name in self._modules:
                raise ValueError(f"Model: two different layers are named {layer.name!r}; layer names must be unique")
            self.add_module(layer.name, layer)
        d["built"] = True
        d["_build_input_shape"] = _map_keras(lambda t: t.shape, inputs)
        d["_build_input_dtype"] = _map_keras(lambda t: t.dtype.name, inputs)
        d["_output_shape"] = _map_keras(lambda t: t.shape, outputs)

    @property
    def inputs(self):
        return flatten_structure(self._inputs) if self._functional else None

    @property
    def outputs(self):
        return flatten_structure(self._outputs) if self._functional else None

    @property
    def input_names(self):
        return [t.name for t in self.inputs] if self._functional else []

    @property
    def output_names(self) -> list:
        if self._functional:
            if isinstance(self._outputs, dict):
                return list(self._outputs)
            return [t.node.layer.name for t in flatten_structure(self._outputs)]
        return ["output"]

    def _run_graph(self, inputs, training):
        values, masks = {}, {}
        spec = self._inputs
        if isinstance(spec, dict):
            if not isinstance(inputs, dict):
                raise ValueError(f"Model {self.name!r} expects a dict of inputs with keys {sorted(spec)}")
            for k, kt in spec.items():
                values[id(kt)] = inputs[k]
        else:
            flat_spec = flatten_structure(spec)
            if isinstance(inputs, dict):
                flat_x = [inputs[t.name] for t in flat_spec]
            else:
                flat_x = flatten_structure(inputs) if len(flat_spec) > 1 else [inputs]
            if len(flat_x) != len(flat_spec):
                raise ValueError(f"Model {self.name!r} expects {len(flat_spec)} inputs, got {len(flat_x)}")
            for kt, x in zip(flat_spec, flat_x):
                values[id(kt)] = x
        for node in self._nodes:
            layer = node.layer
            if isinstance(layer, InputLayer):
                continue
            args, kwargs = _map_keras(lambda t: values[id(t)], (node.args, node.kwargs))
            kwargs = dict(kwargs)
            if isinstance(layer, Layer) and layer._call_has_training and kwargs.get("training") is None:
                kwargs["training"] = training
            in_masks = _map_keras(lambda t: masks.get(id(t)), node.args[0]) if node.args else None
            if isinstance(layer, Layer) and layer._call_has_mask and "mask" not in kwargs and \
                    any(m is not None for m in flatten_structure(in_masks)):
                kwargs["mask"] = in_masks
            out = layer(*args, **kwargs)
            flat_kt = [t for t in flatten_structure(node.outputs) if isinstance(t, KerasTensor)]
            flat_out = flatten_structure(out)
            out_mask = _next_mask(layer, args[0] if args else None, in_masks) if len(flat_kt) == 1 else None
            for kt, v in zip(flat_kt, flat_out):
                values[id(kt)] = v
                if out_mask is not None:
                    masks[id(kt)] = out_mask
        return _map_keras(lambda t: values[id(t)], self._outputs)

    def call(self, inputs, training=None, mask=None):
        if self._functional:
            return self._run_graph(inputs, training)
        raise NotImplementedError(f"Model {type(self).__name__} must implement call(self, inputs, training=None) "
                                  "or be created as Model(inputs, outputs)")

    @property
    def layers(self) -> list:
        if self._functional:
            return list(self._graph_layers)
        return _tracked_layers(self)

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}")

    def build(self, input_shape) -> None:
        """Build the weights for inputs of ``input_shape`` (batch axis None or a number) by running the model
        once on zeros."""
        if getattr(self, "_building", False):
            return
        self.__dict__["_building"] = True
        try:
            from ..autograd.grad_mode import no_grad
            from ..ops.creation import zeros
            dtypes = self._build_input_dtype

            def make(shape, dtype=None):
                return zeros(tuple(2 if d is None else d for d in shape), dtype=dtype or "float32")

            if _is_shape(input_shape):
                x = make(input_shape, dtypes if isinstance(dtypes, str) else None)
            elif isinstance(input_shape, dict):
                x = {k: make(s, (dtypes or {}).get(k) if isinstance(dtypes, dict) else None)
                     for k, s in input_shape.items()}
            else:
                dts = dtypes if isinstance(dtypes, (list, tuple)) else [None] * len(input_shape)
                x = [make(s, dt) for s, dt in zip(input_shape, dts)]
            was = self.training
            self.train(False)
            try:
                with no_grad():
                    self.__dict__["built"] = True
                    self.call(x, training=False) if self._call_has_training else self.call(x)
            finally:
                self.train(was)
            self.__dict__["_build_input_shape"] = _none_batch(input_shape)
        finally:
            self.__dict__["_building"] = False

    build._keras_default_build = True

    def _maybe_build(self, args) -> None:
        if self.built:
            return
        if not getattr(type(self).build, "_keras_default_build", False):
            super()._maybe_build(args)          # a user-defined build(input_shape)
        else:                                    # sublayers build themselves during this first call
            from ..train.data_adapter import nest_map
            from ..autograd.tensor import Tensor
            d = self.__dict__
            d["_build_input_shape"] = nest_map(lambda t: tuple(t.shape) if isinstance(t, Tensor) else t, args[0])
            d["_build_input_dtype"] = nest_map(lambda t: t.dtype.name if isinstance(t, Tensor) else None, args[0])
            d["built"] = True
        self.__dict__["_build_input_shape"] = _none_batch(self._build_input_shape)

    # -- compile / fit / evaluate / predict ---------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile=False, auto_scale_loss=True):
        """Configure training: an optimizer (name or ``keras.optimizers`` object), a loss (name, Loss or
        function ``fn(y_true, y_pred)``; a list/dict for several outputs), metrics ('accuracy' resolves
        from the loss as Keras does)."""
        if jit_compile not in (False, "auto", None):
            warnings.warn("compile(jit_compile=True): ember.keras runs the training step eagerly; the model is "
                          "not compiled", stacklevel=2)
        if weighted_metrics:
            raise NotImplementedError("compile(weighted_metrics=...) is not supported; metrics use sample_weight "
                                      "when fit is given one")
        self.optimizer = optimizers_mod.get(optimizer)
        self.__dict__["_compile_config"] = {"optimizer": optimizer if isinstance(optimizer, str)
                                            else optimizers_mod.serialize(self.optimizer),
                                            "loss": _loss_spec(loss), "metrics": _metric_spec(metrics),
                                            "loss_weights": loss_weights}
        self.__dict__["_trainer"] = KerasTrainer(self, self.optimizer, loss, metrics=metrics,
                                                 loss_weights=loss_weights, output_names=self.output_names)
        self.loss = loss
        self.compiled = True

    @property
    def trainer(self) -> KerasTrainer:
        if self._trainer is None:
            raise RuntimeError("You must call `compile()` before using the model.")
        return self._trainer

    @property
    def metrics_names(self) -> list:
        t = self.trainer
        return ["loss"] + [m.name for m in (t._metrics or [])]

    @property
    def metrics(self) -> list:
        return self.trainer.metrics

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns a ``History``. ``x`` may be arrays/Tensors (with ``y``), an
        ``ember.utils.data`` Dataset or DataLoader, or a generator of ``(x, y[, sample_weight])`` batches."""
        trainer = self.trainer
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = split_validation(x, y, sample_weight, validation_split)
        train = DataAdapter(x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps_per_epoch,
                            shuffle=shuffle, class_weight=class_weight)
        val = None
        if validation_data is not None:
            vb = validation_batch_size or batch_size
            if isinstance(validation_data, tuple) and len(validation_data) in (2, 3):
                val = DataAdapter(*validation_data, batch_size=vb, steps_per_epoch=validation_steps)
            else:
                val = DataAdapter(validation_data, batch_size=vb, steps_per_epoch=validation_steps)
        history = trainer.fit(train, epochs=epochs, val_data=val, verbose=verbose, callbacks=callbacks,
                              initial_epoch=initial_epoch, validation_freq=validation_freq)
        self.history = history
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """The loss and metrics on the data: a scalar (no metrics), a list ``[loss, *metrics]`` or a dict."""
        adapter = DataAdapter(x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps)
        logs = self.trainer.evaluate(adapter, verbose=verbose, callbacks=callbacks)
        return _format_results(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for ``x`` as NumPy arrays, computed in eval mode in batches (default 32)."""
        adapter = DataAdapter(x, None, None, batch_size=batch_size, steps_per_epoch=steps)
        trainer = self._trainer or KerasTrainer(self, None, None, output_names=self.output_names)
        return trainer.predict(adapter, verbose=verbose, callbacks=callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient update on this batch; returns its loss and metrics."""
        t = self.trainer
        adapter = DataAdapter(x, y, sample_weight, batch_size=_n(x), class_weight=class_weight)
        t.reset_metrics()
        self.train(True)
        logs = t.train_step(next(iter(adapter)))
        return _format_results(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        t = self.trainer
        adapter = DataAdapter(x, y, sample_weight, batch_size=_n(x))
        t.reset_metrics()
        was = self.training
        self.train(False)
        try:
            logs = t.eval_step(next(iter(adapter)))
        finally:
            self.train(was)
        return _format_results(logs, return_dict)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=_n(x), verbose=0)

    # -- weights and saving -------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        from .utils.summary import print_summary
        print_summary(self, line_length=line_length, print_fn=print_fn, show_trainable=show_trainable)

    def save(self, filepath, overwrite=True, **kwargs):
        """One file holding the architecture config and the weights (safetensors + JSON, no pickle)."""
        from .saving import save_model
        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        from .saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        from .saving import load_weights
        load_weights(self, filepath)

    def get_config(self) -> dict:
        if self._functional:
            from .saving import functional_config
            return functional_config(self)
        return {"name": self.name, "trainable": self._trainable}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "layers" in config and "input_layers" in config:
            from .saving import functional_from_config
            return functional_from_config(config, custom_objects)
        config = dict(config)
        return cls(**config)


Functional = Model


def _tracked_layers(module) -> list:
    """The layers a subclassed model holds: attributes, and the items of lists/dicts of layers."""
    from ..nn.containers import ModuleDict, ModuleList
    out = []
    for m in module._modules.values():
        if isinstance(m, (ModuleList, ModuleDict)) and not isinstance(m, Layer):
            out.extend(_tracked_layers(m))
        elif m is not None:
            out.append(m)
    return out


def _next_mask(layer, x, mask):
    """The mask after ``layer``: its ``compute_mask`` when it has one (Embedding makes masks, RNNs keep or
    drop them), else the incoming mask for shape-preserving elementwise layers, else None."""
    fn = getattr(layer, "compute_mask", None)
    if fn is not None:
        return fn(x, mask)
    if mask is None or isinstance(mask, (list, tuple, dict)):
        return None
    from .layers.core import Activation, Dropout
    from .layers.normalization import BatchNormalization, LayerNormalization
    from .layers.core import Dense
    return mask if isinstance(layer, (Activation, Dropout, Dense, LayerNormalization, BatchNormalization)) else None


def _is_shape(s) -> bool:
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in s)


def _none_batch(shape):
    if shape is None:
        return None
    if _is_shape(shape):
        return (None,) + tuple(shape[1:]) if len(shape) else tuple(shape)
    if isinstance(shape, dict):
        return {k: _none_batch(v) for k, v in shape.items()}
    return [_none_batch(s) for s in shape]


def _n(x) -> int:
    leaf = flatten_structure(x)[0]
    return len(leaf)


def _format_results(logs: dict, return_dict: bool):
    if return_dict:
        return dict(logs)
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _loss_spec(loss):
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, losses_mod.Loss) and type(loss).__name__ in losses_mod._CLASSES:
        return losses_mod.serialize(loss)
    if isinstance(loss, (list, tuple)):
        return [_loss_spec(x) for x in loss]
    if isinstance(loss, dict):
        return {k: _loss_spec(v) for k, v in loss.items()}
    return None         # a custom function: recompile after loading


def _metric_spec(metrics):
    if metrics is None:
        return None
    if isinstance(metrics, dict):
        return {k: _metric_spec(v) for k, v in metrics.items()}
    if isinstance(metrics, (list, tuple)):
        out = [_metric_spec(m) for m in metrics]
        return None if any(o is None for o in out) else out
    return metrics if isinstance(metrics, str) else None


from .sequential import Sequential  # noqa: E402  (Sequential subclasses Model)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """``keras.models.load_model``: see ``ember.keras.saving.load_model``."""
    from .saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def clone_model(model):
    """A new model with the same architecture (fresh weights)."""
    from .saving import deserialize_layer, serialize_layer
    clone = deserialize_layer(serialize_layer(model))
    if not clone.built and model._build_input_shape is not None:
        clone.__dict__["_build_input_dtype"] = model._build_input_dtype
        clone.build(model._build_input_shape)
    return clone
