"""``Layer``: the Keras layer contract on top of ``ember.nn.Module``.

A Keras layer is an ``nn.Module`` (parameters, ``state_dict``, ``to``, ``train``/``eval`` all work)
with Keras behaviour added:

- weights are built lazily by ``build(input_shape)`` on the first call, from the input's shape
  (``input_shape=`` / ``input_dim=`` given to the constructor lets a ``Sequential`` build early);
- ``call(inputs, training=None, ...)`` is the forward. As in Keras, an explicit ``training=`` flows
  to every layer called inside (even when a subclassed ``call`` does not pass it on); without one a
  layer follows its module mode, which starts in inference (Keras' default) and is set to training
  by ``fit`` (``evaluate``/``predict`` run in inference);
- calling a layer on a symbolic ``KerasTensor`` (from ``keras.Input``) records a graph node for the
  functional API instead of computing; the output shape is found by running the layer once on a
  small zero batch (which also builds it);
- ``name``, ``trainable``, ``weights`` / ``trainable_weights`` / ``non_trainable_weights``,
  ``get_weights`` / ``set_weights``, ``count_params``, ``losses`` (regularization terms) and
  ``get_config`` / ``from_config``.

Weights keep PyTorch's layout (a Dense kernel is ``Linear.weight``, shape ``(units, in)``), so
checkpoints are interchangeable with ``ember.nn``; ``get_weights`` returns that layout.
"""

from __future__ import annotations

import contextvars
import inspect
import itertools
import re
from collections import defaultdict

import numpy as np

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...nn.module import Module
from ...train.data_adapter import nest_map
from ...train.metrics import as_numpy

__all__ = ["Input", "InputLayer", "KerasTensor", "Layer", "Node", "flatten_structure"]

_NAME_COUNTS: dict[str, itertools.count] = defaultdict(lambda: itertools.count())
# The ``training`` flag of the enclosing layer call (Keras' call context); None outside any call.
_TRAINING = contextvars.ContextVar("keras_training", default=None)
# Set once any layer used add_loss: only then do outermost calls clear the previous call's terms.
_ANY_CALL_LOSSES = False


def _snake(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
    return s.replace("2_d", "2d").replace("1_d", "1d").replace("3_d", "3d")


def unique_name(base: str) -> str:
    """``dense``, ``dense_1``, ``dense_2``... (per process, like Keras)."""
    n = next(_NAME_COUNTS[base])
    return base if n == 0 else f"{base}_{n}"


def flatten_structure(x, out=None) -> list:
    out = [] if out is None else out
    if isinstance(x, dict):
        for v in x.values():
            flatten_structure(v, out)
    elif isinstance(x, (list, tuple)):
        for v in x:
            flatten_structure(v, out)
    else:
        out.append(x)
    return out


def _shape_of(x):
    return nest_map(lambda t: tuple(t.shape) if isinstance(t, (Tensor, KerasTensor)) else t, x)


class KerasTensor:
    """A symbolic tensor of the functional API: a shape (``None`` for the batch axis), a dtype and the
    node that produces it."""

    def __init__(self, shape, dtype="float32", node=None, index=0, name=None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def _concrete(self, batch: int = 2):
        from ...ops.creation import zeros
        shape = tuple(batch if d is None else d for d in self.shape)
        return zeros(shape, dtype=self.dtype)


class Node:
    """One call of ``layer`` in a functional graph: the (structured) arguments with KerasTensors in
    them, and the KerasTensor outputs."""

    def __init__(self, layer, args, kwargs, outputs):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs

    @property
    def parents(self) -> list:
        return [t for t in flatten_structure((self.args, self.kwargs)) if isinstance(t, KerasTensor)]


def _accepts(fn, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


class Layer(Module):
    """Base class of Keras layers; subclasses implement ``build(input_shape)`` (optional) and ``call``."""

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None, input_shape=None,
                 input_dim=None, batch_input_shape=None, batch_size=None, autocast=True, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword arguments {sorted(kwargs)}")
        super().__init__()
        d = self.__dict__
        d["training"] = False            # Keras layers run in inference unless told (fit sets training)
        d["name"] = name or unique_name(_snake(type(self).__name__))
        d["built"] = False
        d["_trainable"] = bool(trainable)
        d["_build_input_shape"] = None
        d["_build_input_dtype"] = None
        d["_output_shape"] = None
        d["_call_has_training"] = _accepts(self.call, "training")
        d["_call_has_mask"] = _accepts(self.call, "mask")
        d["_inbound_nodes"] = []
        d["_layer_dtype"] = dtype
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        d["_input_shape_arg"] = tuple(input_shape) if input_shape is not None else None

    # -- Keras contract ---------------------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Create weights for inputs of ``input_shape`` (batch axis included)."""

    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement call()")

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape`` (batch axis may be None; a list of shapes for several
        inputs), found by running the layer once on zeros."""
        def is_shape(s):
            return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)
        x = KerasTensor(input_shape) if is_shape(input_shape) else [KerasTensor(s) for s in input_shape]
        out = self._symbolic_outputs((x,), {})
        return nest_map(lambda t: t.shape if isinstance(t, KerasTensor) else t, out)

    def _maybe_build(self, args) -> None:
        if self.built:
            return
        shape = _shape_of(args[0]) if args else None
        self.__dict__["_build_input_shape"] = shape
        self.__dict__["_build_input_dtype"] = nest_map(
            lambda t: t.dtype.name if isinstance(t, (Tensor, KerasTensor)) else None, args[0]) if args else None
        self.build(shape)
        self.__dict__["built"] = True
        if not self._trainable:
            for p in self.parameters():
                p.requires_grad_(False)

    def forward(self, *args, **kwargs):
        self._maybe_build(args)
        training = kwargs.get("training")
        if training is None:
            training = _TRAINING.get()
            if training is None:
                training = self.training
        training = bool(training)
        if self._call_has_training:
            kwargs["training"] = training
        else:
            kwargs.pop("training", None)
        if not self._call_has_mask:
            kwargs.pop("mask", None)
        if _ANY_CALL_LOSSES and _TRAINING.get() is None:     # outermost call: forget the last call's terms
            for m in self.modules():
                if m.__dict__.get("_call_losses"):
                    m.__dict__["_call_losses"] = []
        token = _TRAINING.set(training)
        try:
            out = self.call(*args, **kwargs)
        finally:
            _TRAINING.reset(token)
        self.__dict__["_output_shape"] = nest_map(
            lambda t: (None,) + tuple(t.shape[1:]) if isinstance(t, Tensor) and t.ndim else t, out)
        return out

    def __call__(self, *args, **kwargs):
        if any(isinstance(t, KerasTensor) for t in flatten_structure((args, kwargs))):
            return self._symbolic_call(args, kwargs)
        return super().__call__(*args, **kwargs)

    # -- functional API ---------------------------------------------------------------------------
    def _symbolic_outputs(self, args, kwargs):
        concrete = nest_map(lambda t: t._concrete() if isinstance(t, KerasTensor) else t, (args, kwargs))
        was_training = self.training
        self.train(False)
        try:
            with no_grad():
                out = Module.__call__(self, *concrete[0], **concrete[1])
        finally:
            self.train(was_training)
        return nest_map(lambda t: KerasTensor((None,) + tuple(t.shape[1:]), t.dtype) if isinstance(t, Tensor)
                        else t, out)

    def _symbolic_call(self, args, kwargs):
        out = self._symbolic_outputs(args, kwargs)
        flat = [t for t in flatten_structure(out) if isinstance(t, KerasTensor)]
        node = Node(self, args, kwargs, out)
        for i, t in enumerate(flat):
            t.node, t.index = node, i
            t.name = self.name if len(flat) == 1 else f"{self.name}_{i}"
        self._inbound_nodes.append(node)
        return out

    # -- weights ----------------------------------------------------------------------------------
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True,
                   constraint=None, **kwargs):
        """Create a weight of ``shape`` (Keras layout: used as is by the layer's own ``call``), initialized
        by ``initializer`` (default: glorot_uniform for matrices and larger, zeros for vectors), registered
        as a parameter named ``name`` (frozen when ``trainable=False``); returns it."""
        from ...nn.parameter import Parameter
        from .. import initializers, regularizers
        if constraint is not None:
            raise NotImplementedError(f"{type(self).__name__}.add_weight: constraint is not supported")
        shape = tuple(int(d) for d in (shape or ()))
        init = initializers.get(initializer if initializer is not None else
                                ("glorot_uniform" if len(shape) >= 2 else "zeros"))
        value = init(shape, dtype=dtype or "float32")
        param = Parameter(value.detach(), requires_grad=bool(trainable))
        name = name or f"weight_{len(self._parameters)}"
        if name in self._parameters or name in self._modules or name in self.__dict__:
            raise ValueError(f"{type(self).__name__}.add_weight: the name {name!r} is already used in layer "
                             f"{self.name!r}")
        self.register_parameter(name, param)
        reg = regularizers.get(regularizer)
        if reg is not None:
            self.__dict__.setdefault("_weight_regularizers", []).append((param, reg))
        return param

    add_variable = add_weight

    def add_loss(self, loss) -> None:
        """Add a scalar loss term computed in ``call`` (e.g. an activity regularizer); ``fit`` adds the
        terms of the latest call to the training loss."""
        global _ANY_CALL_LOSSES
        _ANY_CALL_LOSSES = True
        self.__dict__.setdefault("_call_losses", []).append(loss)

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.__dict__["_trainable"] = bool(value)
        for m in self.modules():
            if isinstance(m, Layer):
                m.__dict__["_trainable"] = bool(value)
        for p in self.parameters():
            p.requires_grad_(bool(value))

    def _weight_items(self):
        """(name, tensor) of every parameter and floating-point buffer, in ``state_dict`` order."""
        return [(k, v) for k, v in self.state_dict(keep_vars=True).items() if v.dtype.kind == "f"]

    @property
    def weights(self) -> list:
        return [v for _, v in self._weight_items()]

    @property
    def trainable_weights(self) -> list:
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def non_trainable_weights(self) -> list:
        trainable = {id(p) for p in self.trainable_weights}
        return [v for v in self.weights if id(v) not in trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def get_weights(self) -> list:
        """Copies of ``weights`` as NumPy arrays."""
        return [np.array(as_numpy(v)) for v in self.weights]

    def set_weights(self, weights) -> None:
        """Copy a list of arrays (as returned by ``get_weights``) into ``weights``."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"Layer {self.name!r} expects {len(own)} weight arrays, got {len(weights)}")
        from ...ops.creation import from_numpy
        with no_grad():
            for i, (v, w) in enumerate(zip(own, weights)):
                arr = np.asarray(as_numpy(w))
                if tuple(arr.shape) != tuple(v.shape):
                    raise ValueError(f"Layer {self.name!r}: weight {i} has shape {tuple(v.shape)}, got an array "
                                     f"of shape {arr.shape}")
                v.copy_(from_numpy(np.ascontiguousarray(arr.astype(v.dtype, copy=False))))

    def count_params(self) -> int:
        """Number of scalars in ``weights`` (parameters and floating-point state such as running means)."""
        if not self.built and not list(self.parameters()):
            raise ValueError(f"You tried to call count_params on layer {self.name!r}, but the layer isn't built. "
                             "Build it by calling it on data first.")
        return int(sum(v.numel() for v in self.weights))

    @property
    def losses(self) -> list:
        """Regularization terms of this layer and its sublayers (scalar Tensors, recomputed each access)."""
        out = []
        for m in self.modules():
            if isinstance(m, Layer):
                out.extend(m._all_own_losses())
        return out

    def _own_losses(self) -> list:
        return []

    def _all_own_losses(self) -> list:
        out = list(self._own_losses())
        for param, reg in self.__dict__.get("_weight_regularizers", ()):
            out.append(reg(param))
        out.extend(self.__dict__.get("_call_losses", ()))
        return out

    @property
    def output_shape(self):
        if self._output_shape is None:
            raise AttributeError(f"The layer {self.name!r} has never been called and thus has no defined output "
                                 "shape.")
        return self._output_shape

    @property
    def input_shape(self):
        return self._build_input_shape

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Constructor arguments that rebuild this layer (subclasses extend it)."""
        cfg = {"name": self.name, "trainable": self._trainable}
        if self._input_shape_arg is not None:
            cfg["input_shape"] = list(self._input_shape_arg)
        return cfg

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # Module attribute assignment: keep Keras' habit of lists of layers working
    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if params and isinstance(value, Tensor) and name not in params and any(v is value for v in params.values()):
            # ``self.kernel = self.add_weight(name="kernel", ...)`` under another attribute name: an alias,
            # not a second registration (state_dict and count_params see the weight once)
            self.__dict__[name] = value
            return
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, Module) for v in value) \
                and name not in ("_inbound_nodes",):
            from ...nn.containers import ModuleList
            value = ModuleList(value)
        super().__setattr__(name, value)

    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


class InputLayer(Layer):
    """The layer behind ``keras.Input``: holds the input's shape and dtype; passes its input through."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
                 input_tensor=None, input_shape=None, **kwargs):
        if shape is None and input_shape is not None:
            shape = input_shape
        if batch_shape is not None:
            shape = tuple(batch_shape)[1:]
        if shape is None:
            raise ValueError("InputLayer: shape is required")
        super().__init__(name=name or unique_name("input_layer"), **kwargs)
        self.__dict__["_input_shape_arg"] = tuple(shape)
        self.__dict__["built"] = True
        self.input_dtype = np.dtype(dtype or "float32").name
        self.output = KerasTensor((None,) + tuple(shape), self.input_dtype)
        self.__dict__["_output_shape"] = self.output.shape
        node = Node(self, (), {}, self.output)
        self.output.node, self.output.name = node, self.name
        self._inbound_nodes.append(node)

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"name": self.name, "shape": list(self._input_shape_arg), "dtype": self.input_dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None):
    """A symbolic input of the functional API: ``keras.Input(shape=(28, 28, 1))`` (no batch axis)."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name).output
