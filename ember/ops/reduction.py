"""Reductions along one, several or all dims (``dim`` int, tuple or None; ``keepdim``), scans, and
sorting. ``max``/``min``/``topk``/``sort`` return (values, indices) named tuples like PyTorch."""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from .. import _dtype
from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from . import elementwise as E
from . import shape as S
from ._util import default_float, normalize_dim, normalize_dims

values_indices = namedtuple("values_indices", ["values", "indices"])


def _restore(gy: Tensor, in_shape, dims, keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back to the input shape."""
    if dims is None:
        dims = tuple(range(len(in_shape)))
    # Leading reduced dims (a full reduction, or a batch sum) broadcast back as they are: one op, not two.
    if not keepdim and tuple(dims) != tuple(range(len(dims))):
        gy = S.reshape(gy, tuple(1 if d in dims else s for d, s in enumerate(in_shape)))
    return S.expand(gy, tuple(in_shape))


@register_op("sum")
class Sum(Function):
    """y = x.sum(dim, keepdim). The gradient is gy broadcast back to x's shape."""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False, dtype=None):
        ctx.in_shape = x.shape
        return x.sum(axis=None if dim is None else tuple(dim), keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, gy):
        a = ctx.attrs
        return _restore(gy, ctx.in_shape, None if a["dim"] is None else tuple(a["dim"]), a["keepdim"])


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` (all dims when None). Integer and bool inputs sum to int64 (as PyTorch)."""
    dims = normalize_dims(dim, input.ndim, "sum")
    if dtype is None and input._data.dtype.kind in "biu":
        dtype = _dtype.INT64
    elif dtype is not None:
        dtype = _dtype.as_dtype(dtype)
    if dtype is not None and input._data.dtype.kind == "f":
        input, dtype = E.cast(input, dtype), None
    return Sum.apply(input, dim=None if dims is None else list(dims), keepdim=bool(keepdim),
                     dtype=None if dtype is None else dtype.name)


def _count(shape, dims) -> int:
    n = 1
    for d, s in enumerate(shape):
        if dims is None or d in dims:
            n *= s
    return n


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over ``dim``; floating-point inputs only (as PyTorch)."""
    if dtype is not None:
        input = E.cast(input, dtype)
    if input._data.dtype.kind != "f":
        raise op_error("mean", "could not infer output dtype: input dtype must be floating point "
                               f"(got {input.dtype}); pass dtype= or cast first", input)
    dims = normalize_dims(dim, input.ndim, "mean")
    n = _count(input.shape, dims)
    return Sum.apply(input, dim=None if dims is None else list(dims), keepdim=bool(keepdim), dtype=None) * (1.0 / n if n else float("nan"))


def nansum(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return sum(E.where(E.isnan(input), 0.0, input), dim, keepdim)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 = unbiased, 0 = population).

    Both PyTorch forms work: ``var(x, dim, correction=0, keepdim=True)`` and the older
    ``var(x, dim, unbiased, keepdim)`` (also ``var(x, False)``: all dims, biased)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = normalize_dims(dim, input.ndim, "var")
    n = _count(input.shape, dims)
    centered = input - mean(input, dims, keepdim=True)
    # builtins.max: this module's ``max`` is the tensor reduction.
    return sum(centered * centered, dims, keepdim) / builtins.max(n - correction, 0)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation: sqrt(var) (same arguments). Where it is 0 the gradient is 0 (as PyTorch)."""
    v = var(input, dim, unbiased, keepdim, correction=correction)
    zero = v == 0
    return E.where(zero, 0.0, E.sqrt(E.where(zero, 1.0, v)))


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@register_op("prod")
class Prod(Function):
    """y = product of x along ``dim`` (or all). Exact gradient with zeros in x:
    dx_i = gy * prod_{j != i} x_j, from exclusive cumulative products from both ends."""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False):
        ctx.save_for_backward(ctx.input(0))
        return x.prod(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        dim, keepdim = ctx.attrs["dim"], ctx.attrs["keepdim"]
        if x.numel() == 0:
            return E.full_like_op(x, 0.0)
        if dim is None:
            flat = S.reshape(x, (-1,))
            others = _exclusive_products(flat, 0)
            return S.reshape(S.reshape(gy, ()) * others, tuple(x.shape))
        if not keepdim:
            gy = S.unsqueeze(gy, dim)
        return gy * _exclusive_products(x, dim)


def _exclusive_products(x: Tensor, dim: int) -> Tensor:
    """prod_{j != i} x_j along ``dim``, without dividing (exact when x has zeros)."""
    n = x.shape[dim]
    ones = E.full_like_op(S.narrow(x, dim, 0, 1), 1.0)
    left = cumprod(S.cat([ones, S.narrow(x, dim, 0, n - 1)], dim), dim)
    right_rev = cumprod(S.cat([ones, S.narrow(S.flip(x, [dim]), dim, 0, n - 1)], dim), dim)
    return left * S.flip(right_rev, [dim])


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    if dtype is not None:
        input = E.cast(input, dtype)
    elif input._data.dtype.kind in "bu" or input._data.dtype.kind == "i":
        input = E.cast(input, _dtype.INT64)
    d = None if dim is None else normalize_dim(dim, input.ndim, "prod")
    if input.ndim == 0:
        d = None
    return Prod.apply(input, dim=d, keepdim=bool(keepdim))


@register_op("amax")
class Amax(Function):
    """y = max of x over ``dim``; the gradient is shared evenly among tied maxima."""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False, largest=True):
        ctx.save_for_backward(ctx.input(0), ctx.output(0))
        axis = None if dim is None else tuple(dim)
        return x.max(axis=axis, keepdims=keepdim) if largest else x.min(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        a = ctx.attrs
        dims = None if a["dim"] is None else tuple(a["dim"])
        y_full = _restore(y, x.shape, dims, a["keepdim"])
        # A NaN maximum: the NaN entries get the gradient (as PyTorch's max()). No data-dependent branch
        # here, so that a traced backward stays valid for every input.
        hit = E.logical_or(x == y_full, E.logical_and(E.isnan(x), E.isnan(y_full)))
        hit = E.cast(hit, gy.dtype)
        count = _restore(sum(hit, dims, keepdim=True), x.shape, dims, True)
        return _restore(gy, x.shape, dims, a["keepdim"]) * hit / count


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    dims = normalize_dims(None if dim == () else dim, input.ndim, "amax")
    _check_nonempty("amax", input, dims)
    return Amax.apply(input, dim=None if dims is None else list(dims), keepdim=bool(keepdim), largest=True)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    dims = normalize_dims(None if dim == () else dim, input.ndim, "amin")
    _check_nonempty("amin", input, dims)
    return Amax.apply(input, dim=None if dims is None else list(dims), keepdim=bool(keepdim), largest=False)


def _check_nonempty(op, x, dims):
    """max/min have no identity: reducing a dim of size 0 is an error (other empty dims are fine)."""
    if x.numel() == 0 and (dims is None or builtins.any(x.shape[d] == 0 for d in dims)):
        raise op_error(op, f"expected a non-empty input along the reduced dims {'all' if dims is None else list(dims)} "
                           "(the reduction has no identity)", x)


@register_op("max_dim")
class MaxDim(Function):
    """(values, indices) of the max (or min) along ``dim``; values' gradient goes to the index."""

    @staticmethod
    def forward(ctx, x, *, dim, keepdim=False, largest=True):
        xp = ctx.xp
        idx = xp.argmax(x, axis=dim, keepdims=True) if largest else xp.argmin(x, axis=dim, keepdims=True)
        vals = xp.take_along_axis(x, idx, axis=dim)
        if not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        ctx.in_shape = x.shape
        ctx.mark_non_differentiable(1)
        ctx.save_for_backward(ctx.output(1))
        return vals, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, gy, gi):
        (idx,) = ctx.saved_tensors
        dim, keepdim = ctx.attrs["dim"], ctx.attrs["keepdim"]
        if not keepdim:
            gy, idx = S.unsqueeze(gy, dim), S.unsqueeze(idx, dim)
        from .indexing import scatter
        zeros = E.full_like_op(gy, 0.0, shape=ctx.in_shape)
        return scatter(zeros, dim, idx, gy)


def _on_vector(fn, input: Tensor, dim, *args, **kwargs):
    """Apply the dim-wise ``fn`` to a 0-d ``input`` as to a 1-element vector (PyTorch accepts dim 0 / -1
    there), returning 0-d results."""
    normalize_dim(dim, 0, getattr(fn, "__name__", "op"))
    out = fn(S.reshape(input, (1,)), 0, *args, **kwargs)
    if isinstance(out, tuple):
        return type(out)(*(S.reshape(o, ()) for o in out))
    return S.reshape(out, ())


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """``max(x)``: the largest value; ``max(x, dim)``: (values, indices); ``max(x, y)``: elementwise."""
    if isinstance(dim, Tensor):
        return E.maximum(input, dim)
    if other is not None:
        return E.maximum(input, other)
    if dim is None:
        return amax(input)
    if input.ndim == 0:
        return _on_vector(max, input, dim)
    d = normalize_dim(dim, input.ndim, "max")
    _check_nonempty("max", input, (d,))
    return values_indices(*MaxDim.apply(input, dim=d, keepdim=bool(keepdim), largest=True))


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """``min(x)``: the smallest value; ``min(x, dim)``: (values, indices); ``min(x, y)``: elementwise."""
    if isinstance(dim, Tensor):
        return E.minimum(input, dim)
    if other is not None:
        return E.minimum(input, other)
    if dim is None:
        return amin(input)
    if input.ndim == 0:
        return _on_vector(min, input, dim)
    d = normalize_dim(dim, input.ndim, "min")
    _check_nonempty("min", input, (d,))
    return values_indices(*MaxDim.apply(input, dim=d, keepdim=bool(keepdim), largest=False))


@register_op("argmax")
class Argmax(Function):
    """Index of the max (or min) along ``dim`` (flattened when None); int64, no gradient."""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False, largest=True):
        fn = ctx.xp.argmax if largest else ctx.xp.argmin
        if dim is None:
            out = fn(x)
            return out.reshape((1,) * x.ndim).astype(np.int64) if keepdim else ctx.xp.asarray(out, dtype=np.int64)
        return fn(x, axis=dim, keepdims=keepdim).astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, gy):
        return None


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if input.ndim == 0 and dim is not None:
        return _on_vector(argmax, input, dim)
    d = None if dim is None else normalize_dim(dim, input.ndim, "argmax")
    return Argmax.apply(input, dim=d, keepdim=bool(keepdim), largest=True)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    if input.ndim == 0 and dim is not None:
        return _on_vector(argmin, input, dim)
    d = None if dim is None else normalize_dim(dim, input.ndim, "argmin")
    return Argmax.apply(input, dim=d, keepdim=bool(keepdim), largest=False)


@register_op("logsumexp")
class LogSumExp(Function):
    """y = log(sum(exp(x))) over ``dim``, stable; dx = gy * exp(x - y)."""

    @staticmethod
    def forward(ctx, x, *, dim, keepdim=False):
        ctx.save_for_backward(ctx.input(0), ctx.output(0))
        xp = ctx.xp
        axis = tuple(dim)
        if x.size == 0:  # log(sum of nothing) = log(0) = -inf
            return xp.log(xp.exp(x).sum(axis=axis, keepdims=keepdim))
        m = x.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
        return out if keepdim else out.squeeze(axis)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        dims, keepdim = tuple(ctx.attrs["dim"]), ctx.attrs["keepdim"]
        return _restore(gy, x.shape, dims, keepdim) * E.exp(x - _restore(y, x.shape, dims, keepdim))


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    dims = normalize_dims(dim, input.ndim, "logsumexp") or tuple(range(input.ndim))
    if input._data.dtype.kind != "f":
        input = E.cast(input, default_float())
    return LogSumExp.apply(input, dim=list(dims), keepdim=bool(keepdim))


@register_op("norm")
class Norm(Function):
    """y = (sum |x|^p)^(1/p) over ``dim``; p may be any positive number or ±inf.

    The gradient at y == 0 is taken as 0 (the subgradient PyTorch uses).
    """

    @staticmethod
    def forward(ctx, x, *, p=2.0, dim=None, keepdim=False):
        ctx.save_for_backward(ctx.input(0), ctx.output(0))
        xp = ctx.xp
        axis = None if dim is None else tuple(dim)
        a = xp.abs(x)
        if p == float("inf"):
            return a.max(axis=axis, keepdims=keepdim)
        if p == float("-inf"):
            return a.min(axis=axis, keepdims=keepdim)
        if p == 2.0:
            return xp.sqrt((x * x).sum(axis=axis, keepdims=keepdim))
        if p == 1.0:
            return a.sum(axis=axis, keepdims=keepdim)
        if p == 0:
            return (x != 0).sum(axis=axis, keepdims=keepdim).astype(x.dtype)
        return ((a ** p).sum(axis=axis, keepdims=keepdim)) ** (1.0 / p)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        p, keepdim = ctx.attrs["p"], ctx.attrs["keepdim"]
        dims = None if ctx.attrs["dim"] is None else tuple(ctx.attrs["dim"])
        g = _restore(gy, x.shape, dims, keepdim)
        y = _restore(y, x.shape, dims, keepdim)
        if p == 0:
            return E.full_like_op(x, 0.0)
        if p == 1.0:
            return g * E.sign(x)
        if p in (float("inf"), float("-inf")):
            hit = E.cast(E.abs(x) == y, x.dtype)
            count = _restore(sum(hit, dims, keepdim=True), x.shape, dims, True)
            return g * E.sign(x) * hit / count
        safe_y = E.where(y == 0, 1.0, y)
        if p == 2.0:
            return E.where(y == 0, 0.0, g * x / safe_y)
        return E.where(y == 0, 0.0, g * x * E.abs(x) ** (p - 2) / safe_y ** (p - 1))


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements when None); 'fro' is the 2-norm of all elements
    (or over two dims), 'nuc' is not supported."""
    if dtype is not None:
        input = E.cast(input, dtype)
    if p == "fro":
        p = 2.0
    elif isinstance(p, str):
        raise ValueError(f"norm: unsupported p={p!r}; use a number, inf or 'fro'")
    dims = normalize_dims(dim, input.ndim, "norm")
    if input._data.dtype.kind != "f":
        input = E.cast(input, default_float())
    return Norm.apply(input, p=float(p), dim=None if dims is None else list(dims), keepdim=bool(keepdim))


def dist(input: Tensor, other: Tensor, p: float = 2.0) -> Tensor:
    return norm(input - other, p)


@register_op("all")
class All(Function):
    """True where all (or any) elements along ``dim`` are nonzero; no gradient."""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False, any=False):
        axis = None if dim is None else tuple(dim)
        fn = ctx.xp.any if any else ctx.xp.all
        return fn(x, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, gy):
        return None


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    dims = normalize_dims(dim, input.ndim, "all")
    return All.apply(input, dim=None if dims is None else list(dims), keepdim=bool(keepdim), any=False)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    dims = normalize_dims(dim, input.ndim, "any")
    return All.apply(input, dim=None if dims is None else list(dims), keepdim=bool(keepdim), any=True)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    return sum(E.ne(input, 0), dim)


@register_op("cumsum")
class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along ``dim``; dx = reversed cumsum of gy."""

    @staticmethod
    def forward(ctx, x, *, dim):
        return ctx.xp.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        d = ctx.attrs["dim"]
        return S.flip(Cumsum.apply(S.flip(gy, [d]), dim=d), [d])


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    if dtype is not None:
        input = E.cast(input, dtype)
    elif input._data.dtype.kind in "biu":
        input = E.cast(input, _dtype.INT64)
    if input.ndim == 0:
        return _on_vector(cumsum, input, dim)
    return Cumsum.apply(input, dim=normalize_dim(dim, input.ndim, "cumsum"))


@register_op("cumprod")
class Cumprod(Function):
    """y_i = prod_{j <= i} x_j along ``dim``.

    Exact gradient (also where x has zeros): dx_i = sum_{k >= i} gy_k prod_{j <= k, j != i} x_j,
    computed from an (n, n) table of products that leave x_i out, so memory is O(n²) along ``dim``.
    """

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.save_for_backward(ctx.input(0))
        return ctx.xp.cumprod(x, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        d = ctx.attrs["dim"]
        n = x.shape[d]
        xl = S.movedim(x, d, -1)                       # (..., n)
        gl = S.movedim(gy, d, -1)                      # (..., n) indexed by k
        eye = _eye_like(xl, n)
        # table[..., i, j] = x_j, except 1 where j == i; cumprod over j gives prod_{j<=k, j!=i} x_j.
        table = S.unsqueeze(xl, -2) * (1.0 - eye) + eye
        leave_one_out = Cumprod.apply(table, dim=table.ndim - 1)
        upper = S.triu(E.full_like_op(xl, 1.0, shape=(n, n)))   # k >= i
        gx = sum(leave_one_out * upper * S.unsqueeze(gl, -2), -1)
        return S.movedim(gx, -1, d)


def _eye_like(ref: Tensor, n: int) -> Tensor:
    ones = E.full_like_op(ref, 1.0, shape=(n, n))
    return S.triu(S.tril(ones))


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    if dtype is not None:
        input = E.cast(input, dtype)
    elif input._data.dtype.kind in "biu":
        input = E.cast(input, _dtype.INT64)
    if input.ndim == 0:
        return _on_vector(cumprod, input, dim)
    return Cumprod.apply(input, dim=normalize_dim(dim, input.ndim, "cumprod"))


@register_op("sort")
class Sort(Function):
    """(values, indices) sorted along ``dim`` (stable); the values' gradient is scattered back."""

    @staticmethod
    def forward(ctx, x, *, dim=-1, descending=False, k=None, largest=True):
        xp = ctx.xp
        stable = {"kind": "stable"} if xp is np else {}   # CuPy's argsort is always stable, takes no kind
        down = descending if k is None else largest
        if down:
            # Stable descending order = the ascending order of the reversed input, reversed and mapped
            # back: ties keep index order and NaN (last ascending) comes first, as in PyTorch.
            n = x.shape[dim]
            idx = xp.flip(n - 1 - xp.argsort(xp.flip(x, dim), axis=dim, **stable), dim)
        else:
            idx = xp.argsort(x, axis=dim, **stable)
        if k is not None:
            idx = xp.take(idx, xp.arange(k), axis=dim)
        vals = xp.take_along_axis(x, idx, axis=dim)
        ctx.in_shape = x.shape
        ctx.mark_non_differentiable(1)
        ctx.save_for_backward(ctx.output(1))
        return vals, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, gy, gi):
        (idx,) = ctx.saved_tensors
        from .indexing import scatter
        return scatter(E.full_like_op(gy, 0.0, shape=ctx.in_shape), ctx.attrs["dim"], idx, gy)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = True):
    if input.ndim == 0:
        return _on_vector(sort, input, dim, descending)
    d = normalize_dim(dim, input.ndim, "sort")
    return values_indices(*Sort.apply(input, dim=d, descending=bool(descending), k=None, largest=True))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = True) -> Tensor:
    return sort(input, dim, descending).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, sorted."""
    if input.ndim == 0:
        normalize_dim(dim, 0, "topk")
        vals, idx = topk(S.reshape(input, (1,)), k, 0, largest, sorted)
        return values_indices(S.reshape(vals, ()), S.reshape(idx, ())) if k == 1 else values_indices(vals, idx)
    d = normalize_dim(dim, input.ndim, "topk")
    if not 0 <= k <= input.shape[d]:
        raise op_error("topk", f"k ({k}) out of range for dimension {d} of size {input.shape[d]}", input)
    return values_indices(*Sort.apply(input, dim=d, descending=False, k=int(k), largest=bool(largest)))


def median(input: Tensor, dim=None, keepdim: bool = False):
    """Lower median (as PyTorch): all elements when ``dim`` is None, else (values, indices)."""
    if dim is None:
        flat = S.reshape(input, (-1,))
        vals, _ = sort(flat)
        return vals[(flat.shape[0] - 1) // 2]
    if input.ndim == 0:
        return _on_vector(median, input, dim)
    d = normalize_dim(dim, input.ndim, "median")
    vals, idx = sort(input, d)
    mid = (input.shape[d] - 1) // 2
    v, i = S.narrow(vals, d, mid, 1), S.narrow(idx, d, mid, 1)
    if not keepdim:
        v, i = S.squeeze(v, d), S.squeeze(i, d)
    return values_indices(v, i)
