"""``default_collate`` (a list of samples -> one batch) and ``default_convert`` (one sample, no batching).

Rules, as in PyTorch: tensors and NumPy arrays are stacked along a new first dimension into a Tensor;
Python floats become a float64 tensor, ints an int64 tensor, bools a bool tensor; strings stay a list;
dicts collate per key; namedtuples per field; tuples and lists are transposed and collated per
position (returned as a list). Stacking works on the raw arrays, so a batch never carries a graph.
"""

from __future__ import annotations

import collections.abc

import numpy as np

from ..autograd.tensor import Tensor
from ..backend.device import array_module


def _stack_tensors(batch):
    arrays = [t._data for t in batch]
    first = arrays[0]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError("default_collate: stack expects each tensor to be equal size, but got shapes "
                           f"{sorted(shapes)}")
    xp = np if type(first) is np.ndarray else array_module(first)
    return Tensor._make(xp.stack(arrays))


def default_collate(batch):
    """Merge a list of samples into a batch (see the module docstring for the rules)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                            f"found numpy array of dtype {elem.dtype}")
        shapes = {a.shape for a in batch}
        if len(shapes) > 1:
            raise RuntimeError("default_collate: stack expects each array to be equal size, but got shapes "
                               f"{sorted(shapes)}")
        return Tensor._make(np.stack(batch))
    if isinstance(elem, np.generic):
        return Tensor._make(np.array(batch))
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        try:
            return type(elem)({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(elem)}")


def default_convert(data):
    """Without batching: NumPy arrays (and scalars) become Tensors, containers are converted inside."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OSUV" else Tensor._make(data)
    if isinstance(data, np.generic):
        return Tensor._make(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data
