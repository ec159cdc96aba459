"""Stateful metrics with Keras names and semantics.

A metric accumulates over batches (``update_state(y_true, y_pred, sample_weight=None)``), reports
``result()`` (a Python float) and starts over with ``reset_state()``. Values are computed on NumPy
copies of the (detached) tensors: metrics never build graphs and never touch the device twice.

Shapes follow Keras: ``y_pred`` is ``(N, ...)``; sparse labels are ``(N,)`` or ``(N, 1)`` integers;
one-hot / probability targets have ``y_pred``'s shape. ``sample_weight`` is ``(N,)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
           "MeanSquaredError", "MeanAbsoluteError", "Precision", "Recall", "AUC", "get", "as_numpy",
           "resolve_accuracy"]


def as_numpy(x) -> np.ndarray:
    """A NumPy array from a Tensor (any device), an array or a Python number."""
    if x is None:
        return None
    if hasattr(x, "_data") and hasattr(x, "detach"):          # ember Tensor
        data = x._data
        if type(data) is not np.ndarray:                      # CuPy
            data = data.get()
        return data
    return np.asarray(x)


def _weights(sample_weight, values):
    """Broadcast per-sample weights to ``values`` (N, ...) -> flattened weights."""
    if sample_weight is None:
        return None
    w = as_numpy(sample_weight).astype(np.float64)
    if w.ndim < values.ndim:
        w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
    return np.broadcast_to(w, values.shape)


class Metric:
    """Base class: subclasses implement ``update_state``, ``result`` and ``reset_state``."""

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype
        self.reset_state()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def reset_state(self) -> None:
        raise NotImplementedError

    # Keras 2 spelling
    def reset_states(self) -> None:
        self.reset_state()

    def __call__(self, *args, **kwargs) -> float:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.4g}>"


def _snake(name: str) -> str:
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(c.lower())
    return "".join(out)


class Mean(Metric):
    """Weighted mean of every value given to ``update_state(values, sample_weight=None)``."""

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name, dtype)

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        v = as_numpy(values).astype(np.float64)
        w = _weights(sample_weight, v)
        if w is None:
            self.total += float(v.sum())
            self.count += float(v.size)
        else:
            self.total += float((v * w).sum())
            self.count += float(w.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class Sum(Metric):
    """Weighted sum of every value seen."""

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(name, dtype)

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        v = as_numpy(values).astype(np.float64)
        w = _weights(sample_weight, v)
        self.total += float(v.sum() if w is None else (v * w).sum())

    def result(self) -> float:
        return self.total


class MeanMetricWrapper(Mean):
    """Mean of ``fn(y_true, y_pred)`` (one value per sample) over everything seen."""

    def __init__(self, fn, name: str | None = None, dtype=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name or getattr(fn, "__name__", "mean"), dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(as_numpy(y_true), as_numpy(y_pred), **self._fn_kwargs)
        super().update_state(values, sample_weight)


def _sparse_labels(y_true, y_pred):
    y = y_true
    if y.ndim == y_pred.ndim and y.shape[-1] == 1:
        y = y[..., 0]
    return y.astype(np.int64)


def accuracy(y_true, y_pred):
    return (y_true.reshape(y_pred.shape) == y_pred).astype(np.float64) if y_true.size == y_pred.size \
        else (y_true == y_pred).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    pred = (y_pred > threshold)
    return (pred == (y_true.reshape(pred.shape) > 0.5)).astype(np.float64).reshape(len(pred), -1).mean(-1)


def categorical_accuracy(y_true, y_pred):
    return (y_true.argmax(-1) == y_pred.argmax(-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    return (_sparse_labels(y_true, y_pred) == y_pred.argmax(-1)).astype(np.float64)


def _in_top_k(labels, y_pred, k):
    k = min(k, y_pred.shape[-1])
    # the label is in the top k when fewer than k classes score strictly higher than it
    score = np.take_along_axis(y_pred, labels[..., None], axis=-1)
    return ((y_pred > score).sum(-1) < k).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return _in_top_k(y_true.argmax(-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    return _in_top_k(_sparse_labels(y_true, y_pred), y_pred, k)


def mean_squared_error(y_true, y_pred):
    d = y_pred.astype(np.float64) - y_true.reshape(y_pred.shape)
    return (d * d).reshape(len(d), -1).mean(-1) if d.ndim > 1 else d * d


def mean_absolute_error(y_true, y_pred):
    d = np.abs(y_pred.astype(np.float64) - y_true.reshape(y_pred.shape))
    return d.reshape(len(d), -1).mean(-1) if d.ndim > 1 else d


class Accuracy(MeanMetricWrapper):
    """Fraction of predictions exactly equal to the labels."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """Fraction of ``y_pred > threshold`` matching binary labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """argmax of one-hot labels == argmax of predictions."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Integer labels == argmax of predictions."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """The one-hot label's class is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """The integer label is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype)


class _Confusion(Metric):
    """Counts of true/false positives/negatives at one or more thresholds (binary or per class)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        single = thresholds is None or np.isscalar(thresholds)
        self._single = single
        self.thresholds = np.atleast_1d(np.asarray(0.5 if thresholds is None else thresholds, dtype=np.float64))
        self.top_k = top_k
        self.class_id = class_id
        super().__init__(name, dtype)

    def reset_state(self):
        n = len(self.thresholds)
        self.tp, self.fp, self.fn, self.tn = (np.zeros(n) for _ in range(4))

    def _prepare(self, y_true, y_pred):
        y_true, y_pred = as_numpy(y_true), as_numpy(y_pred).astype(np.float64)
        y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
        if self.top_k is not None:
            kth = -np.sort(-y_pred, axis=-1)[..., self.top_k - 1:self.top_k]
            y_pred = np.where(y_pred >= kth, y_pred, -np.inf)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        return y_true.astype(bool), y_pred

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = self._prepare(y_true, y_pred)
        w = _weights(sample_weight, p)
        w = np.ones(p.shape) if w is None else w
        t, p, w = t.ravel(), p.ravel(), w.ravel()
        pred = p[None, :] > self.thresholds[:, None]          # (thresholds, values)
        self.tp += (pred & t) @ w
        self.fp += (pred & ~t) @ w
        self.fn += (~pred & t) @ w
        self.tn += (~pred & ~t) @ w

    def _out(self, v):
        return float(v[0]) if self._single else v.tolist()


def _div(a, b):
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b != 0)


class Precision(_Confusion):
    """tp / (tp + fp) of ``y_pred > thresholds`` (default 0.5)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        return self._out(_div(self.tp, self.tp + self.fp))


class Recall(_Confusion):
    """tp / (tp + fn) of ``y_pred > thresholds`` (default 0.5)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        return self._out(_div(self.tp, self.tp + self.fn))


class AUC(_Confusion):
    """Area under the ROC or PR curve, from confusion counts at ``num_thresholds`` evenly spaced
    thresholds in [0, 1] (Keras' bucketed approximation; ``from_logits`` applies a sigmoid first)."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name="auc",
                 dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None,
                 from_logits=False):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: unknown summation_method {summation_method!r}")
        if multi_label:
            raise NotImplementedError("AUC(multi_label=True) is not supported; use one AUC per label")
        if thresholds is None:
            eps = 1e-7
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            thresholds = [0.0 - eps] + inner + [1.0 + eps]
        else:
            thresholds = [0.0 - 1e-7] + sorted(thresholds) + [1.0 + 1e-7]
        self.num_thresholds = len(thresholds)
        self.curve, self.summation_method, self.from_logits = curve, summation_method, from_logits
        super().__init__(list(thresholds), None, None, name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-as_numpy(y_pred).astype(np.float64)))
        super().update_state(y_true, y_pred, sample_weight)

    def result(self):
        tp, fp, fn, tn = self.tp, self.fp, self.fn, self.tn
        if self.curve == "PR" and self.summation_method == "interpolation":
            # Davis & Goadrich interpolation between thresholds (what Keras does for PR)
            dtp = tp[:-1] - tp[1:]
            p = tp + fp
            dp = p[:-1] - p[1:]
            slope = _div(dtp, np.maximum(dp, 0))
            intercept = tp[1:] - slope * p[1:]
            ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _div(p[:-1], np.maximum(p[1:], 0)), 1.0)
            inc = _div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
            return float(inc.sum())
        recall = _div(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _div(fp, fp + tn), recall
        else:
            x, y = recall, _div(tp, tp + fp)
        if self.summation_method == "interpolation":
            h = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            h = np.minimum(y[:-1], y[1:])
        else:
            h = np.maximum(y[:-1], y[1:])
        return float(((x[:-1] - x[1:]) * h).sum())


_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "precision": Precision, "recall": Recall, "auc": AUC,
}


def resolve_accuracy(loss_name: str | None, y_true_shape, y_pred_shape, from_logits: bool = False) -> Metric:
    """The accuracy Keras picks for the string ``'accuracy'``: from the loss when it says, else from
    the shapes (one output unit: binary; labels of lower rank or width 1: sparse; else categorical)."""
    loss_name = (loss_name or "").lower()
    if "sparse_categorical" in loss_name:
        cls = SparseCategoricalAccuracy
    elif "binary" in loss_name or "bce" in loss_name:
        cls = BinaryAccuracy
    elif "categorical" in loss_name:
        cls = CategoricalAccuracy
    elif y_pred_shape[-1] == 1:
        cls = BinaryAccuracy
    elif len(y_true_shape) < len(y_pred_shape) or (len(y_true_shape) == len(y_pred_shape)
                                                    and y_true_shape[-1] == 1):
        cls = SparseCategoricalAccuracy
    else:
        cls = CategoricalAccuracy
    if cls is BinaryAccuracy:
        # logits are thresholded at 0, probabilities at 0.5
        return BinaryAccuracy(name="accuracy", threshold=0.0 if from_logits else 0.5)
    return cls(name="accuracy")


def get(identifier) -> Metric:
    """A Metric from a name ('mae', 'auc', ...), a Metric instance, or a function
    ``fn(y_true, y_pred) -> per-sample values`` on NumPy arrays."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown metric {identifier!r}; known: {sorted(_BY_NAME)}")
        return cls(name=identifier)         # logged under the name the user wrote, as Keras does
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"cannot interpret {identifier!r} as a metric")
