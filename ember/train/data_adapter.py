"""Turn what users pass to ``fit``/``evaluate``/``predict`` into an iterator of batches.

Accepted inputs (Keras' list):

- NumPy arrays or Tensors (or a list/tuple/dict of them, for several inputs/outputs) with ``y`` and
  ``sample_weight`` alike: batched by ``batch_size`` (default 32), shuffled each epoch with ember's
  generator (so ``ember.manual_seed`` makes runs repeatable), ``validation_split`` taking the last
  fraction before shuffling;
- a loader (``ember.utils.data.DataLoader`` or any re-iterable with ``__len__`` yielding batches):
  each item is ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``;
- a map-style dataset (``__getitem__`` + ``__len__``, items ``(x, y)``): batched here by ``batch_size``;
- a Python generator / iterator yielding batches: read on demand across epochs;
  ``steps_per_epoch`` bounds each epoch (without it, one epoch runs until the generator ends).

Every batch comes out as ``(x, y, sample_weight)`` of Tensors (``y``/``sample_weight`` may be None);
float64 arrays become float32 (the default dtype), as Keras casts to ``floatx``.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from .metrics import as_numpy

__all__ = ["DataAdapter", "to_tensor", "unpack", "split_validation", "class_weights_to_sample_weights", "nest_map"]


def nest_map(fn, x):
    """Apply ``fn`` to every leaf of a list/tuple/dict structure."""
    if isinstance(x, dict):
        return {k: nest_map(fn, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(nest_map(fn, v) for v in x)
    return fn(x)


def _leaves(x, out=None):
    out = [] if out is None else out
    if isinstance(x, dict):
        for v in x.values():
            _leaves(v, out)
    elif isinstance(x, (list, tuple)):
        for v in x:
            _leaves(v, out)
    elif x is not None:
        out.append(x)
    return out


def _to_tensor_leaf(a):
    if a is None or isinstance(a, Tensor):
        return a
    from ..ops.creation import from_numpy
    arr = np.asarray(a)
    if arr.dtype == np.float64:
        from .. import _config
        arr = arr.astype(_config.default_dtype.get())
    elif arr.dtype.kind in "iu" and arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "fb" and arr.dtype.kind not in "iu":
        raise TypeError(f"fit/evaluate/predict: cannot convert an array of dtype {arr.dtype} to a Tensor")
    return from_numpy(np.ascontiguousarray(arr))


def to_tensor(x):
    """Arrays (or structures of arrays) to Tensors; Tensors pass through."""
    return nest_map(_to_tensor_leaf, x)


def unpack(batch):
    """``(x, y, sample_weight)`` from a batch given as x, (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(batch, tuple) and len(batch) in (1, 2, 3):
        batch = batch + (None,) * (3 - len(batch))
        return batch
    if isinstance(batch, list) and len(batch) in (2, 3) and not all(isinstance(b, Tensor) for b in batch):
        return tuple(batch) + (None,) * (3 - len(batch))
    if isinstance(batch, list) and len(batch) == 2:
        # a DataLoader's default collate gives [x, y] lists
        return batch[0], batch[1], None
    return batch, None, None


def _num_samples(x) -> int:
    leaves = _leaves(x)
    if not leaves:
        raise ValueError("fit/evaluate/predict: got no input data")
    sizes = {len(a) for a in leaves}
    if len(sizes) != 1:
        raise ValueError(f"fit/evaluate/predict: all arrays must have the same number of samples, got sizes "
                         f"{sorted(sizes)}")
    return sizes.pop()


def _take(x, idx):
    def leaf(a):
        if a is None:
            return None
        if isinstance(a, Tensor):
            return a[idx] if not isinstance(idx, slice) else a[idx]
        return a[idx]
    return nest_map(leaf, x)


def _as_arrays(x):
    """Lists of numbers become arrays; Tensors and arrays stay (structure kept)."""
    def leaf(a):
        if a is None or isinstance(a, (Tensor, np.ndarray)):
            return a
        return np.asarray(a)
    if isinstance(x, (list, tuple)) and x and not isinstance(x[0], (np.ndarray, Tensor, list, tuple, dict)):
        return np.asarray(x)
    return nest_map(leaf, x)


def _is_array_like(x) -> bool:
    leaves = _leaves(x)
    return bool(leaves) and all(isinstance(a, (np.ndarray, Tensor)) for a in leaves)


def split_validation(x, y, sample_weight, validation_split: float):
    """Keras' ``validation_split``: the last ``validation_split`` fraction of the samples, unshuffled."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    x = _as_arrays(x)
    if not _is_array_like(x):
        raise ValueError("validation_split is only supported for NumPy arrays and Tensors, not for datasets, "
                         "loaders or generators; pass validation_data instead")
    n = _num_samples(x)
    cut = int(math.floor(n * (1.0 - validation_split)))
    if cut <= 0 or cut >= n:
        raise ValueError(f"validation_split={validation_split} leaves an empty training or validation set "
                         f"({n} samples)")
    head, tail = slice(0, cut), slice(cut, n)
    y = _as_arrays(y) if y is not None else None
    return ((_take(x, head), None if y is None else _take(y, head), _take(sample_weight, head)),
            (_take(x, tail), None if y is None else _take(y, tail), _take(sample_weight, tail)))


def class_weights_to_sample_weights(y, class_weight: dict) -> np.ndarray:
    """Per-sample weights ``class_weight[label]`` from integer or one-hot labels ``y``."""
    y = as_numpy(y)
    labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y)).round().astype(np.int64)
    table = np.ones(int(max(max(class_weight), labels.max())) + 1, dtype=np.float32)
    for k, v in class_weight.items():
        table[int(k)] = v
    return table[labels]


class DataAdapter:
    """Iterates epochs of ``(x, y, sample_weight)`` batches; ``steps`` is the batches per epoch (None:
    unknown, a generator without ``steps_per_epoch``)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size: int | None = None,
                 steps_per_epoch: int | None = None, shuffle: bool = False, class_weight: dict | None = None):
        self.class_weight = class_weight
        self.shuffle = shuffle
        self._gen = None
        self._loader = None
        self._arrays = None
        if isinstance(x, (list, tuple)) and x and not any(isinstance(a, (np.ndarray, Tensor, dict)) for a in x) \
                and not hasattr(x[0], "__array__") and isinstance(x[0], (int, float, list, tuple)):
            x = np.asarray(x)              # plain Python numbers / nested lists: one array
        if _is_array_like(x):
            y = _as_arrays(y) if y is not None else None
            if sample_weight is not None:
                sample_weight = np.asarray(as_numpy(sample_weight))
            self._arrays = (x, y, sample_weight)
            self.num_samples = _num_samples(x)
            if y is not None and _num_samples(y) != self.num_samples:
                raise ValueError(f"x and y have different numbers of samples: {self.num_samples} and "
                                 f"{_num_samples(y)}")
            self.batch_size = int(batch_size or 32)
            full = math.ceil(self.num_samples / self.batch_size)
            self.steps = min(full, steps_per_epoch) if steps_per_epoch else full
        else:
            if y is not None:
                raise ValueError("y must not be given when x is a dataset, loader or generator (the batches "
                                 "carry the targets)")
            if sample_weight is not None:
                raise ValueError("sample_weight must not be given when x is a dataset, loader or generator; "
                                 "yield (x, y, sample_weight) batches instead")
            if hasattr(x, "__len__") and hasattr(x, "__getitem__") and not _is_loader(x):
                x = _DatasetBatches(x, int(batch_size or 32), shuffle)
            if hasattr(x, "__len__") and hasattr(x, "__iter__") and iter(x) is not x:
                self._loader = x
                n = len(x)
                self.steps = min(n, steps_per_epoch) if steps_per_epoch else n
            elif hasattr(x, "__next__") or hasattr(x, "__iter__"):
                self._gen = iter(x)
                self.steps = steps_per_epoch
            else:
                raise TypeError(f"fit/evaluate/predict: unsupported data of type {type(x).__name__}; pass NumPy "
                                "arrays, Tensors, a Dataset, a DataLoader or a generator")
            self.num_samples = None

    def _weights(self, y, sw):
        if self.class_weight is None or y is None:
            return sw
        if isinstance(y, (list, tuple, dict)):
            raise ValueError("class_weight is only supported for models with a single output")
        cw = class_weights_to_sample_weights(y, self.class_weight)
        return cw if sw is None else as_numpy(sw) * cw

    def __iter__(self):
        """One epoch of batches."""
        if self._arrays is not None:
            x, y, sw = self._arrays
            n, bs = self.num_samples, self.batch_size
            if self.shuffle:
                from ..ops.random import randperm
                order = randperm(n).numpy()
            else:
                order = None
            for i in range(self.steps):
                idx = slice(i * bs, min((i + 1) * bs, n)) if order is None else order[i * bs:(i + 1) * bs]
                bx, by, bw = _take(x, idx), None if y is None else _take(y, idx), None if sw is None else sw[idx]
                yield to_tensor(bx), to_tensor(by), to_tensor(self._weights(by, bw))
            return
        source = iter(self._loader) if self._loader is not None else self._gen
        count = 0
        while self.steps is None or count < self.steps:
            try:
                batch = next(source)
            except StopIteration:
                break
            bx, by, bw = unpack(batch)
            yield to_tensor(bx), to_tensor(by), to_tensor(self._weights(by, bw))
            count += 1


def _is_loader(x) -> bool:
    # an ember/torch DataLoader has a dataset and a batch_size; a Dataset does not
    return hasattr(x, "dataset") and hasattr(x, "batch_size")


class _DatasetBatches:
    """Batches of a map-style dataset: items ``(x, y)`` (or ``x``) stacked along a new first axis."""

    def __init__(self, dataset, batch_size: int, shuffle: bool):
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            from ..ops.random import randperm
            order = randperm(n).numpy()
        else:
            order = np.arange(n)
        for i in range(len(self)):
            items = [self.dataset[int(j)] for j in order[i * self.batch_size:(i + 1) * self.batch_size]]
            yield _collate(items)


def _collate(items):
    first = items[0]
    if isinstance(first, (tuple, list)):
        return tuple(_collate([it[k] for it in items]) for k in range(len(first)))
    if isinstance(first, dict):
        return {k: _collate([it[k] for it in items]) for k in first}
    return np.stack([as_numpy(it) for it in items])
