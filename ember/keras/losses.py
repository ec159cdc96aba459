"""Keras losses (``keras.losses``) over ``ember.ops.loss``.

``loss(y_true, y_pred, sample_weight=None)`` -> scalar Tensor. Each loss first computes one value
per sample (Keras reduces the last axis: MSE is the mean over it, categorical cross-entropy the sum
over classes), multiplies by ``sample_weight`` and applies ``reduction``:
'sum_over_batch_size' (default: the weighted sum divided by the number of values), 'sum', 'mean'
(weighted sum / sum of weights) or 'none'. Probabilities are clipped to [1e-7, 1 - 1e-7] like Keras.
The lower-case functions (``mean_squared_error(y_true, y_pred)``) return the per-sample values.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..ops import activation as A
from ..ops import elementwise as E
from ..ops import loss as L
from ..ops import reduction as R
from ..ops import shape as S

__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "Huber", "KLDivergence", "Loss", "MeanAbsoluteError",
           "MeanSquaredError", "SparseCategoricalCrossentropy", "binary_crossentropy", "categorical_crossentropy",
           "get", "huber", "kl_divergence", "mean_absolute_error", "mean_squared_error", "serialize",
           "sparse_categorical_crossentropy", "deserialize"]

EPSILON = 1e-7


def _as_tensor(y, like: Tensor | None = None):
    if isinstance(y, Tensor):
        return y
    from ..train.data_adapter import to_tensor
    return to_tensor(y)


def _same_rank(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Keras' squeeze-or-expand: labels (N,) against predictions (N, 1) and vice versa."""
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = S.unsqueeze(y_true, -1)
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = S.squeeze(y_true, -1)
    if y_true.dtype != y_pred.dtype:
        y_true = E.cast(y_true, y_pred.dtype)
    return y_true


def _mean_last(x: Tensor) -> Tensor:
    return R.mean(x, -1) if x.ndim > 1 else x


def mean_squared_error(y_true, y_pred):
    y_pred = _as_tensor(y_pred)
    y_true = _same_rank(_as_tensor(y_true), y_pred)
    return _mean_last(L.mse_loss(y_pred, y_true, reduction="none"))


def mean_absolute_error(y_true, y_pred):
    y_pred = _as_tensor(y_pred)
    y_true = _same_rank(_as_tensor(y_true), y_pred)
    return _mean_last(L.l1_loss(y_pred, y_true, reduction="none"))


def huber(y_true, y_pred, delta=1.0):
    y_pred = _as_tensor(y_pred)
    y_true = _same_rank(_as_tensor(y_true), y_pred)
    return _mean_last(L.huber_loss(y_pred, y_true, reduction="none", delta=delta))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_pred = _as_tensor(y_pred)
    y_true = _same_rank(_as_tensor(y_true), y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        per = L.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        per = L.binary_cross_entropy(E.clamp(y_pred, EPSILON, 1.0 - EPSILON), y_true, reduction="none")
    return R.mean(per, axis) if per.ndim > 1 else per


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_pred = _as_tensor(y_pred)
    y_true = _same_rank(_as_tensor(y_true), y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"categorical_crossentropy: y_true and y_pred must have the same shape, got "
                         f"{tuple(y_true.shape)} and {tuple(y_pred.shape)} (integer labels need "
                         "sparse_categorical_crossentropy)")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    if from_logits:
        logp = A.log_softmax(y_pred, axis)
    else:
        p = y_pred / R.sum(y_pred, axis, keepdim=True)
        logp = E.log(E.clamp(p, EPSILON, 1.0 - EPSILON))
    return -R.sum(y_true * logp, axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = S.squeeze(y_true, -1)
    if y_true.dtype.kind == "f":
        y_true = E.cast(y_true, "int64")
    ignore = -100 if ignore_class is None else int(ignore_class)
    if from_logits:
        scores = y_pred
    else:   # Keras renormalises the probabilities, clips them and takes the log
        p = y_pred / R.sum(y_pred, axis, keepdim=True)
        scores = E.log(E.clamp(p, EPSILON, 1.0 - EPSILON))
    if y_pred.ndim > 2 or axis not in (-1, y_pred.ndim - 1):
        scores = S.movedim(scores, axis, 1)
    if from_logits:
        return L.cross_entropy(scores, y_true, reduction="none", ignore_index=ignore)
    return L.nll_loss(scores, y_true, reduction="none", ignore_index=ignore)


def kl_divergence(y_true, y_pred):
    y_pred = _as_tensor(y_pred)
    y_true = _same_rank(_as_tensor(y_true), y_pred)
    yt = E.clamp(y_true, EPSILON, 1.0)
    yp = E.clamp(y_pred, EPSILON, 1.0)
    return R.sum(yt * E.log(yt / yp), -1)


class Loss:
    """Base class: ``call(y_true, y_pred)`` gives per-sample values; ``__call__`` weights and reduces."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in ("sum_over_batch_size", "sum", "mean", "none", None, "auto"):
            raise ValueError(f"{type(self).__name__}: invalid reduction {reduction!r}; expected "
                             "'sum_over_batch_size', 'sum', 'mean' or 'none'")
        self.name = name or _snake(type(self).__name__)
        self.reduction = "sum_over_batch_size" if reduction in ("auto",) else reduction

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        if sample_weight is not None:
            w = _as_tensor(sample_weight)
            if w.dtype != values.dtype:
                w = E.cast(w, values.dtype)
            while w.ndim < values.ndim:
                w = S.unsqueeze(w, -1)
            weighted = values * w
        else:
            weighted = values
        if self.reduction in ("none", None):
            return weighted
        total = R.sum(weighted)
        if self.reduction == "sum":
            return total
        if self.reduction == "mean" and sample_weight is not None:
            return total / R.sum(E.cast(_as_tensor(sample_weight), values.dtype))
        return total / max(values.numel(), 1)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _snake(name):
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(c.lower())
    return "".join(out)


class MeanSquaredError(Loss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)


class MeanAbsoluteError(Loss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return mean_absolute_error(y_true, y_pred)


class Huber(Loss):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(name, reduction)
        self.delta = float(delta)

    def call(self, y_true, y_pred):
        return huber(y_true, y_pred, self.delta)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class BinaryCrossentropy(Loss):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(name, reduction)
        self.from_logits, self.label_smoothing, self.axis = from_logits, float(label_smoothing), axis

    def call(self, y_true, y_pred):
        return binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis}


class CategoricalCrossentropy(Loss):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(name, reduction)
        self.from_logits, self.label_smoothing, self.axis = from_logits, float(label_smoothing), axis

    def call(self, y_true, y_pred):
        return categorical_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis}


class SparseCategoricalCrossentropy(Loss):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(name, reduction)
        self.from_logits, self.ignore_class = from_logits, ignore_class

    def call(self, y_true, y_pred):
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits, self.ignore_class)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "ignore_class": self.ignore_class}


class KLDivergence(Loss):
    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return kl_divergence(y_true, y_pred)


class LossFunctionWrapper(Loss):
    """A Loss from a function ``fn(y_true, y_pred) -> per-sample values``."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction)
        self.fn, self.kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.kwargs)


_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossentropy,
                                    CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence)}
_ALIASES = {"mse": MeanSquaredError, "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError,
            "mean_absolute_error": MeanAbsoluteError, "huber": Huber, "huber_loss": Huber,
            "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
            "sparse_categorical_crossentropy": SparseCategoricalCrossentropy, "kld": KLDivergence,
            "kl_divergence": KLDivergence, "kullback_leibler_divergence": KLDivergence}
mse, mae, kld = mean_squared_error, mean_absolute_error, kl_divergence


def get(identifier) -> Loss | None:
    """A Loss from a name ('mse', 'sparse_categorical_crossentropy'), a class, a config dict, an
    instance, or a function ``fn(y_true, y_pred)`` (wrapped)."""
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown loss: {identifier!r}; known: {sorted(_ALIASES)}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise TypeError(f"Could not interpret loss identifier: {identifier!r}")


def serialize(loss) -> dict:
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict) -> Loss:
    cls = _CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown loss class {config['class_name']!r}")
    return cls(**config.get("config", {}))
