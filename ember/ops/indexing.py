"""Indexing: ``x[key]`` and ``x[key] = v`` (basic slices, None, ..., integer and boolean tensors),
gather/scatter, index_select, masked ops, nonzero and one_hot.

An index ``key`` is encoded as a JSON ``spec`` (so it can live in a graph file) plus the index
tensors as op inputs: ``["i", 3]`` an integer, ``["s", start, stop, step]`` a slice, ``["n"]`` None,
``["e"]`` Ellipsis, ``["t", k]`` the k-th index tensor.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from ..backend import kernels
from ..backend.device import CPU
from . import elementwise as E
from . import shape as S
from ._util import normalize_dim


def encode_index(key, ref: Tensor):
    """Turn a Python index into (spec, index tensors)."""
    if not isinstance(key, tuple):
        key = (key,)
    spec, tensors = [], []
    for k in key:
        if k is None:
            spec.append(["n"])
        elif k is Ellipsis:
            spec.append(["e"])
        elif isinstance(k, slice):
            spec.append(["s", _int_or_none(k.start), _int_or_none(k.stop), _int_or_none(k.step)])
        elif isinstance(k, (bool, np.bool_)):
            tensors.append(_index_tensor(np.asarray(k), ref))
            spec.append(["t", len(tensors) - 1])
        elif isinstance(k, (int, np.integer)) or (isinstance(k, Tensor) and k.ndim == 0 and k.dtype.kind in "iu"
                                                  and not k._requires_grad and _is_plain_int(k)):
            spec.append(["i", int(k)])
        elif isinstance(k, (Tensor, np.ndarray, list, tuple)) or hasattr(k, "__cuda_array_interface__"):
            t = _index_tensor(k, ref)
            if t.dtype.kind not in "iub":
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {t.dtype}")
            tensors.append(t)
            spec.append(["t", len(tensors) - 1])
        else:
            raise IndexError(f"unsupported index of type {type(k).__name__}: {k!r}")
    return spec, tensors


def _is_plain_int(k: Tensor) -> bool:
    # Under tracing a 0-d index tensor must stay a graph input, not be read as a Python int.
    from ..autograd import function
    return not function._apply_observers


def _int_or_none(v):
    if v is None:
        return None
    if isinstance(v, Tensor):
        return int(v.item())
    return int(v)


def _index_tensor(k, ref: Tensor) -> Tensor:
    if isinstance(k, Tensor):
        return k
    arr = np.asarray(k)
    if arr.dtype.kind == "f" and arr.size == 0:
        arr = arr.astype(np.int64)
    from .creation import tensor
    return tensor(arr, device=None if ref.device == CPU else ref.device)


def decode_index(spec, arrays):
    out = []
    for item in spec:
        tag = item[0]
        if tag == "i":
            out.append(item[1])
        elif tag == "s":
            out.append(slice(item[1], item[2], item[3]))
        elif tag == "n":
            out.append(None)
        elif tag == "e":
            out.append(Ellipsis)
        else:
            out.append(arrays[item[1]])
    return tuple(out)


def _has_int_arrays(spec, arrays) -> bool:
    return any(item[0] == "t" and arrays[item[1]].dtype.kind != "b" for item in spec)


@register_op("getitem")
class GetItem(Function):
    """y = x[key] for basic keys (ints, slices, None, ...): a view of x."""

    view_of_input = 0

    @staticmethod
    def forward(ctx, x, *, spec):
        ctx.in_shape = x.shape
        return x[decode_index(spec, ())]

    @staticmethod
    def backward(ctx, gy):
        zeros = E.full_like_op(gy, 0.0, shape=ctx.in_shape)
        return IndexPut.apply(zeros, gy, spec=ctx.attrs["spec"], accumulate=False)


@register_op("index")
class Index(Function):
    """y = x[key] where key holds integer or boolean tensors (advanced indexing: a copy).

    The gradient is scattered back with accumulation, so repeated indices add up.
    """

    @staticmethod
    def forward(ctx, x, *idx, spec):
        ctx.in_shape = x.shape
        ctx.save_for_backward(*[ctx.input(i + 1) for i in range(len(idx))])
        return x[decode_index(spec, idx)]

    @staticmethod
    def backward(ctx, gy):
        idx = ctx.saved_tensors
        zeros = E.full_like_op(gy, 0.0, shape=ctx.in_shape)
        accumulate = _has_int_arrays(ctx.attrs["spec"], [t._data for t in idx])
        return (IndexPut.apply(zeros, gy, *idx, spec=ctx.attrs["spec"], accumulate=accumulate),) + (None,) * len(idx)


@register_op("index_put")
class IndexPut(Function):
    """y = copy of base with y[key] = values (or += values when ``accumulate``).

    d base = gy (with zeros at key unless accumulate); d values = gy[key] (summed to values' shape).
    """

    @staticmethod
    def forward(ctx, base, values, *idx, spec, accumulate=False):
        ctx.save_for_backward(*[ctx.input(i + 2) for i in range(len(idx))])
        out = base.copy()
        key = decode_index(spec, idx)
        if accumulate:
            target_shape = out[key].shape
            vals = ctx.xp.broadcast_to(ctx.xp.asarray(values, dtype=out.dtype), target_shape)
            kernels.scatter_add(ctx.xp, out, key, vals)
        else:
            out[key] = values
        return out

    @staticmethod
    def backward(ctx, gy):
        idx = ctx.saved_tensors
        spec, accumulate = ctx.attrs["spec"], ctx.attrs["accumulate"]
        g_base = None
        if ctx.needs_input_grad[0]:
            g_base = gy if accumulate else IndexPut.apply(gy, 0.0, *idx, spec=spec, accumulate=False)
        g_values = None
        if ctx.needs_input_grad[1]:
            g_values = Index.apply(gy, *idx, spec=spec) if idx else GetItem.apply(gy, spec=spec)
        return (g_base, g_values) + (None,) * len(idx)


def getitem(input: Tensor, key) -> Tensor:
    """``input[key]`` with PyTorch semantics (ints, slices, None, ..., integer/bool tensors)."""
    spec, tensors = encode_index(key, input)
    _check_bounds(input, spec, tensors)
    if not tensors:
        return GetItem.apply(input, spec=spec)
    return Index.apply(input, *tensors, spec=spec)


def _check_bounds(x: Tensor, spec, tensors) -> None:
    dim = 0
    n_consumed = sum(1 if it[0] in ("i", "s") else (tensors[it[1]].ndim if it[0] == "t" and tensors[it[1]].dtype.kind == "b" else 1 if it[0] == "t" else 0) for it in spec)
    if n_consumed > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim} (got {n_consumed})")
    for item in spec:
        if item[0] == "e":
            dim += x.ndim - n_consumed
            continue
        if item[0] == "n":
            continue
        if item[0] == "i":
            size = x.shape[dim]
            if not -size <= item[1] < size:
                raise IndexError(f"index {item[1]} is out of bounds for dimension {dim} with size {size}")
            dim += 1
        elif item[0] == "t":
            t = tensors[item[1]]
            if t.dtype.kind == "b":
                if tuple(t.shape) != tuple(x.shape[dim:dim + t.ndim]):
                    raise IndexError(f"The shape of the mask {tuple(t.shape)} at index {dim} does not match "
                                     f"the shape of the indexed tensor {tuple(x.shape)}")
                dim += t.ndim
            else:
                size = x.shape[dim]
                if t.numel() and (int(t._data.max()) >= size or int(t._data.min()) < -size):
                    raise IndexError(f"index {int(t._data.max()) if int(t._data.max()) >= size else int(t._data.min())} "
                                     f"is out of bounds for dimension {dim} with size {size}")
                dim += 1
        else:
            dim += 1


def index_put_values(base: Tensor, key, values, accumulate: bool = False) -> Tensor:
    """Out-of-place ``base[key] = values`` (``index_put``); values may be a number or a tensor."""
    spec, tensors = encode_index(key, base)
    if isinstance(values, Tensor) and values.dtype != base.dtype:
        values = E.cast(values, base.dtype)
    return IndexPut.apply(base, values, *tensors, spec=spec, accumulate=bool(accumulate))


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    return index_put_values(input, tuple(indices), values, accumulate)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Entries of ``input`` at ``index`` (1-d integer tensor) along ``dim``."""
    d = normalize_dim(dim, input.ndim, "index_select")
    if index.ndim > 1:
        raise op_error("index_select", "index must be a 1-d tensor", index)
    return getitem(input, (slice(None),) * d + (index,))


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    d = normalize_dim(dim, input.ndim, "index_add")
    if alpha != 1:
        source = source * alpha
    return index_put_values(input, (slice(None),) * d + (index,), source, accumulate=True)


def _gather_key(xp, index, dim):
    """The advanced-indexing key ``x[key]`` of gather/scatter along ``dim``: ``index`` at ``dim`` and an
    open grid (like ``np.indices(sparse=True)``, which CuPy lacks) at the other dims."""
    n = index.ndim
    key = [xp.arange(s).reshape((1,) * i + (s,) + (1,) * (n - i - 1)) for i, s in enumerate(index.shape)]
    key[dim] = index
    return tuple(key)


@register_op("gather")
class Gather(Function):
    """y[i][j][k] = x[i][index[i][j][k]][k] (for dim=1); d x = scatter_add of gy at index."""

    @staticmethod
    def forward(ctx, x, index, *, dim):
        ctx.in_shape = x.shape
        ctx.save_for_backward(ctx.input(1))
        return x[_gather_key(ctx.xp, index, dim)]

    @staticmethod
    def backward(ctx, gy):
        (index,) = ctx.saved_tensors
        zeros = E.full_like_op(gy, 0.0, shape=ctx.in_shape)
        return ScatterAdd.apply(zeros, index, gy, dim=ctx.attrs["dim"]), None


@register_op("scatter")
class Scatter(Function):
    """y = copy of x with y[i][index[i][j]] = src[i][j] (dim=1); src may be a number.

    d x = gy with zeros where written; d src = gather(gy, index).
    """

    @staticmethod
    def forward(ctx, x, index, src, *, dim):
        ctx.save_for_backward(ctx.input(1))
        ctx.src_shape = getattr(src, "shape", None)
        out = x.copy()
        key = _gather_key(ctx.xp, index, dim)
        out[key] = src if not hasattr(src, "shape") else src[tuple(slice(0, s) for s in index.shape)]
        return out

    @staticmethod
    def backward(ctx, gy):
        (index,) = ctx.saved_tensors
        d = ctx.attrs["dim"]
        gx = Scatter.apply(gy, index, 0.0, dim=d) if ctx.needs_input_grad[0] else None
        gsrc = _pad_to(Gather.apply(gy, index, dim=d), ctx.src_shape) if ctx.needs_input_grad[2] else None
        return gx, None, gsrc


@register_op("scatter_add")
class ScatterAdd(Function):
    """y = copy of x with y[i][index[i][j]] += src[i][j] (dim=1), duplicates accumulated."""

    @staticmethod
    def forward(ctx, x, index, src, *, dim):
        ctx.save_for_backward(ctx.input(1))
        ctx.src_shape = src.shape
        out = x.copy()
        sub = src[tuple(slice(0, s) for s in index.shape)]
        kernels.scatter_add(ctx.xp, out, _gather_key(ctx.xp, index, dim), sub)
        return out

    @staticmethod
    def backward(ctx, gy):
        (index,) = ctx.saved_tensors
        gsrc = _pad_to(Gather.apply(gy, index, dim=ctx.attrs["dim"]), ctx.src_shape) if ctx.needs_input_grad[2] else None
        return gy, None, gsrc


def _pad_to(g: Tensor, shape) -> Tensor:
    """Zero-pad ``g`` (index-shaped) at the end of each dim up to ``shape``: the entries of a larger
    ``src`` that scatter never read get a zero gradient."""
    if tuple(g.shape) == tuple(shape):
        return g
    return S.ConstantPad.apply(g, pad_width=[[0, s - n] for n, s in zip(g.shape, shape)], value=0.0)


def _check_index_op(op, x, dim, index, src=None):
    if index.dtype.kind not in "iu":
        raise op_error(op, f"index must be an integer tensor, got {index.dtype}", index)
    if index.ndim != x.ndim:
        raise op_error(op, f"index tensor must have the same number of dimensions as input "
                           f"({index.ndim} vs {x.ndim})", x, index)
    for i in range(x.ndim):
        if i != dim and index.shape[i] > x.shape[i]:
            raise op_error(op, f"size of index ({tuple(index.shape)}) exceeds the input's "
                               f"({tuple(x.shape)}) at dim {i}", x, index)
    if index.numel():
        hi, lo = int(index._data.max()), int(index._data.min())
        if hi >= x.shape[dim] or lo < 0:  # PyTorch refuses negative indices here (NumPy would wrap them)
            raise op_error(op, f"index {hi if hi >= x.shape[dim] else lo} is out of bounds for dimension "
                               f"{dim} with size {x.shape[dim]}", x, index)


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    d = normalize_dim(dim, input.ndim, "gather")
    _check_index_op("gather", input, d, index)
    return Gather.apply(input, index, dim=d)


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
    """Out-of-place ``scatter_``: write ``src`` (tensor) or ``value`` (number) at ``index`` along ``dim``."""
    if reduce is not None:
        if reduce == "add":
            return scatter_add(input, dim, index, src)
        raise ValueError(f"scatter: unsupported reduce {reduce!r}")
    d = normalize_dim(dim, input.ndim, "scatter")
    _check_index_op("scatter", input, d, index)
    s = value if src is None else src
    if isinstance(s, Tensor) and s.dtype != input.dtype:
        s = E.cast(s, input.dtype)
    return Scatter.apply(input, index, s, dim=d)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    d = normalize_dim(dim, input.ndim, "scatter_add")
    _check_index_op("scatter_add", input, d, index)
    if src.dtype != input.dtype:
        src = E.cast(src, input.dtype)
    return ScatterAdd.apply(input, index, src, dim=d)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Like NumPy's take_along_axis: ``indices`` broadcasts against ``input`` except along ``dim``."""
    if dim is None:
        return gather(S.reshape(input, (-1,)), 0, S.reshape(indices, (-1,)))
    d = normalize_dim(dim, input.ndim, "take_along_dim")
    shape_i = list(input.shape)
    shape_x = list(indices.shape)
    shape_i[d] = 1
    shape_x[d] = 1
    b = list(np.broadcast_shapes(tuple(shape_i), tuple(shape_x)))
    x_shape, i_shape = b.copy(), b.copy()
    x_shape[d], i_shape[d] = input.shape[d], indices.shape[d]
    return gather(S.expand(input, x_shape), d, S.expand(indices, i_shape))


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` where ``mask`` is True, ``input`` elsewhere (mask broadcasts)."""
    if mask.dtype.kind != "b":
        raise op_error("masked_fill", f"mask must be a bool tensor, got {mask.dtype}", input, mask)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise op_error("masked_fill", "only supports a 0-dimensional value tensor", value)
        value = E.cast(value, input.dtype)
    elif input.dtype.kind != "f" and isinstance(value, float):
        value = int(value) if input.dtype.kind != "b" else bool(value)
    return E._apply(E.Where, mask, value, input)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """1-d tensor of the entries where ``mask`` (broadcast with input) is True."""
    x, m = S.broadcast_tensors(input, mask)
    return getitem(x, m)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    x, m = S.broadcast_tensors(input, mask)
    n = int(m._data.sum())
    return index_put_values(x, m, S.reshape(source, (-1,))[:n])


@register_op("nonzero")
class Nonzero(Function):
    """(n, ndim) int64 coordinates of the nonzero entries; no gradient."""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.argwhere(x).astype(np.int64)

    @staticmethod
    def backward(ctx, gy):
        return None


def nonzero(input: Tensor, *, as_tuple: bool = False):
    out = Nonzero.apply(input)
    if as_tuple:
        return tuple(out[:, i] for i in range(input.ndim)) if input.ndim else (out[:, 0],)
    return out


argwhere = nonzero


@register_op("one_hot")
class OneHot(Function):
    """(..., num_classes) int64 one-hot encoding of integer class indices; no gradient."""

    @staticmethod
    def forward(ctx, x, *, num_classes):
        xp = ctx.xp
        return (x[..., None] == xp.arange(num_classes)).astype(np.int64)

    @staticmethod
    def backward(ctx, gy):
        return None


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    if tensor.dtype.kind not in "iu":
        raise op_error("one_hot", f"expects an integer (class index) tensor, got {tensor.dtype}", tensor)
    if num_classes == -1:
        num_classes = int(tensor._data.max()) + 1 if tensor.numel() else 0
    if tensor.numel() and (int(tensor._data.min()) < 0 or int(tensor._data.max()) >= num_classes):
        raise op_error("one_hot", f"class values must be in [0, {num_classes})", tensor)
    return OneHot.apply(tensor, num_classes=int(num_classes))
