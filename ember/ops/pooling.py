"""Pooling: max/avg pooling (1-d and 2-d, PyTorch semantics incl. ceil_mode, dilation,
count_include_pad, divisor_override, return_indices), max_unpool, and adaptive avg/max pooling.

Primitives (N-d kernels, named after their 2-d use: the 3-d functions call them on 5-d arrays, the
1-d functions add a unit height):

- ``max_pool2d`` -> (values, indices): a running max over the ``prod(kernel)`` strided views of the
  -inf padded input (a loop over kernel positions, never over pixels). ``indices`` are PyTorch's flat positions ``h * W + w`` in
  the unpadded input; they are a non-differentiable extra output, so a traced graph recomputes them.
- ``max_pool2d_grad``: scatters gy to ``indices`` (shared by adaptive max pooling and max_unpool);
  its own gradient is a gather, so double backward works.

Outputs keep the memory layout of their input where it is channel-major (convolution outputs are).
- ``avg_pool2d`` / ``avg_pool2d_grad``: a sum over kernel positions divided by PyTorch's divisor;
  both are linear and each is the other's adjoint.
- ``adaptive_max_pool2d`` -> (values, indices): windows of varying size gathered with clamped index
  grids (repeating a window's last element never changes its max).

Adaptive average pooling is a composite: a reshape + mean when the sizes divide, otherwise a product
with constant averaging matrices on each spatial dim.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from ..backend import im2col as K
from ..backend import parallel as P
from . import shape as S
from .convolution import _is_channel_major, channel_major, tuple_arg
from .indexing import Gather

# ---------------------------------------------------------------------------------------------------
# Shapes


def pool_out_size(size, k, s, p, d, ceil_mode) -> int:
    """PyTorch's pooling output size (a ceil-mode window must start inside the input or left pad)."""
    eff = d * (k - 1) + 1
    out = (size + 2 * p - eff + ((s - 1) if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_args(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Normalized (x batched, unbatched?, kernel, stride, pads [[lo, hi]], dilation, out)."""
    if input.ndim == nd + 1:
        x, unbatched = S.unsqueeze(input, 0), True
    elif input.ndim == nd + 2:
        x, unbatched = input, False
    else:
        raise op_error(op, f"expected a {nd + 1}-d (unbatched) or {nd + 2}-d (batched) input, got {input.ndim}-d",
                       input)
    if input.dtype.kind != "f":
        raise op_error(op, f"expected a floating-point input, got {input.dtype}", input)
    k = tuple_arg(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else tuple_arg(stride, nd, "stride", op)
    p = tuple_arg(padding, nd, "padding", op)
    d = tuple_arg(dilation, nd, "dilation", op)
    if any(v <= 0 for v in k + s + d):
        raise ValueError(f"{op}: kernel_size {k}, stride {s} and dilation {d} must be positive")
    for i in range(nd):
        if p[i] < 0 or p[i] > k[i] // 2:
            raise ValueError(f"{op}: pad should be at most half of effective kernel size, but got pad={p[i]}, "
                             f"kernel_size={k[i]}")
    spatial = x.shape[2:]
    out = [pool_out_size(spatial[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd)]
    if any(o <= 0 for o in out):
        raise op_error(op, f"output size {tuple(out)} is too small (input spatial size {tuple(spatial)}, "
                           f"kernel_size={k}, stride={s}, padding={p}, dilation={d})", input)
    # high-side padding that makes the floor formula give `out` (may be negative: a crop)
    pads = [[p[i], (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - spatial[i] - p[i]] for i in range(nd)]
    return x, unbatched, k, s, pads, d, out


def _flat_index(xp, local, ksize, stride, dilation, pads, out, spatial):
    """Flat input positions (int64, (N, C, *out)) of the kernel offsets ``local`` (N, C, *out).

    position = base(window) + offset(kernel position): a broadcast grid plus a lookup in a table of
    prod(kernel) offsets, so the per-pixel work is one gather and one add.
    """
    nd = len(ksize)
    base = offs = None
    for i in range(nd):
        grid = (np.arange(out[i], dtype=np.int64) * stride[i] - pads[i][0]).reshape((out[i],) + (1,) * (nd - 1 - i))
        koff = (np.arange(ksize[i], dtype=np.int64) * dilation[i]).reshape((ksize[i],) + (1,) * (nd - 1 - i))
        base = grid if base is None else base * spatial[i] + grid
        offs = koff if offs is None else offs * spatial[i] + koff
    return xp.asarray(offs.reshape(-1))[local] + xp.asarray(base)


# ---------------------------------------------------------------------------------------------------
# Max pooling
#
# Masked selects (np.where / copyto(where=)) with data-dependent masks run one mispredicted branch
# per element in NumPy; the default path below is branchless SIMD arithmetic instead.


# Max pooling makes about this many NumPy passes per input element (maxima, first-argmax, index
# arithmetic): the work size it reports to ``map_chunks``, so that LeNet's first pooling (300K
# elements) already runs on two threads (LeNet step: 12.9 -> 12.3 ms in an interleaved A/B).
MAX_POOL_PASSES = 25


def _max_branchless(xp, views):
    """(max, first argmax) over a list of equally shaped (strided) arrays, NaN-free input."""
    best = views[0].copy(order="K")          # keeps a channel-major input's layout
    for cur in views[1:]:
        xp.maximum(best, cur, out=best)
    dt = np.int8 if len(views) <= 127 else np.int32
    local = xp.zeros_like(best, dtype=dt)
    for j in range(len(views) - 1, -1, -1):  # descending: the first position equal to the max wins
        hit = views[j] == best
        step = (j - local).astype(dt, copy=False)
        step *= hit
        local += step
    return best, local


def _max_with_nan(xp, views):
    """Like ``_max_branchless`` but a NaN wins (and then stays), as in PyTorch."""
    best = views[0].copy(order="K")
    local = xp.zeros_like(best, dtype=np.int32)
    for j, cur in enumerate(views[1:], 1):
        take = cur > best
        take |= cur != cur
        xp.copyto(best, cur, where=take)
        xp.copyto(local, j, where=take)
    return best, local


@register_op("max_pool2d")
class MaxPool2dOp(Function):
    """(values, indices) of max pooling; x (N, C, *s) -> (N, C, *out) twice (indices int64).

    ``padding`` is [[lo, hi], ...] (hi already extended for ceil_mode). NaN propagates like PyTorch.
    """

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding, dilation):
        xp = ctx.xp
        nd = len(kernel_size)
        spatial = x.shape[2:]
        out = [K.out_size(spatial[i], kernel_size[i], stride[i], padding[i][0], padding[i][1], dilation[i])
               for i in range(nd)]
        positions = [pos for pos, _ in K.kernel_slices(kernel_size, stride, dilation, out)]
        shape = tuple(x.shape[:2]) + tuple(out)
        if _is_channel_major(x):   # answer in the layout the input has (a convolution's output)
            best = xp.empty((shape[1], shape[0]) + shape[2:], x.dtype).swapaxes(0, 1)
            idx = xp.empty((shape[1], shape[0]) + shape[2:], np.int64).swapaxes(0, 1)
        else:
            best, idx = xp.empty(shape, x.dtype), xp.empty(shape, np.int64)

        def chunk(n0, n1, _):   # batch chunks, on worker threads when large (backend.parallel)
            xpad = K.pad_spatial(xp, x[n0:n1], padding, -math.inf)
            v = K.windows(xp, xpad, kernel_size, stride, dilation, out)
            views = [v[(slice(None), slice(None)) + pos] for pos in positions]
            pick = _max_with_nan if bool(xp.isnan(x[n0:n1]).any()) else _max_branchless
            best[n0:n1], local = pick(xp, views)
            idx[n0:n1] = _flat_index(xp, local, kernel_size, stride, dilation, padding, out, spatial)

        P.map_chunks(xp, x.shape[0], P.chunk_size(xp, x.shape[0], 0), chunk, flops=x.size * MAX_POOL_PASSES)
        ctx.x_shape = list(x.shape)
        ctx.mark_non_differentiable(1)
        ctx.save_for_backward(ctx.output(1))
        return best, idx

    @staticmethod
    def backward(ctx, gy, gidx):
        (idx,) = ctx.saved_tensors
        a = ctx.attrs
        unique = all(s >= d * (k - 1) + 1 for k, s, d in zip(a["kernel_size"], a["stride"], a["dilation"]))
        return MaxPool2dGrad.apply(gy, idx, x_shape=ctx.x_shape, unique=unique)


def _scatter_unique_chunked(gy, idx, x_shape):
    """NumPy ``MaxPool2dGrad`` for non-repeating indices: batch chunks on the workers, each zeroing its
    samples of gx and assigning gy at its indices. gx is channel-major when gy is (conv backward's)."""
    n, c = x_shape[:2]
    hw = K.prod(x_shape[2:])
    channel_first = _is_channel_major(gy)
    if channel_first:
        buf = np.empty((c, n) + tuple(x_shape[2:]), gy.dtype)
        gx = buf.swapaxes(0, 1)
    else:
        gx = buf = np.empty(tuple(x_shape), gy.dtype)
    flat_buf = buf.reshape(-1)
    extra = (1,) * (idx.ndim - 2)

    def chunk(n0, n1, _):
        gx[n0:n1] = 0
        if channel_first:   # walk (c, n') so that the index array's C order is gx's memory order
            i, g = idx[n0:n1].swapaxes(0, 1), gy[n0:n1].swapaxes(0, 1)
            plane = np.arange(c, dtype=np.int64)[:, None] * n + np.arange(n0, n1, dtype=np.int64)[None, :]
        else:
            i, g = idx[n0:n1], gy[n0:n1]
            plane = np.arange(n0, n1, dtype=np.int64)[:, None] * c + np.arange(c, dtype=np.int64)[None, :]
        flat_buf[i + (plane * hw).reshape(plane.shape + extra)] = g

    P.map_chunks(np, n, P.chunk_size(np, n, 0), chunk, flops=gx.size * P.ELEMENTWISE_FLOPS)
    return gx


@register_op("max_pool2d_grad")
class MaxPool2dGrad(Function):
    """gx (``x_shape``) = zeros with gy added at the flat spatial ``indices`` of each (n, c).

    ``unique=True`` assigns instead of adding: exact for non-overlapping windows (faster), and
    ``max_unpool``'s semantics for repeated indices. d/d gy is a gather at indices either way.
    """

    @staticmethod
    def forward(ctx, gy, idx, *, x_shape, unique=False):
        xp = ctx.xp
        nc = x_shape[0] * x_shape[1]
        hw = K.prod(x_shape[2:])
        ctx.save_for_backward(ctx.input(1))
        if unique and xp is np:
            return _scatter_unique_chunked(gy, idx, x_shape)
        if _is_channel_major(gy):  # answer in the layout the gradient arrives in (conv backward's)
            flat = channel_major(xp, idx).reshape(nc, K.prod(idx.shape[2:])) + \
                (xp.arange(nc, dtype=np.int64) * hw)[:, None]
            gx = K.scatter_add_flat(xp, nc * hw, flat, channel_major(xp, gy), unique=unique)
            return gx.reshape((x_shape[1], x_shape[0]) + tuple(x_shape[2:])).swapaxes(0, 1)
        flat = idx.reshape(nc, K.prod(idx.shape[2:])) + (xp.arange(nc, dtype=np.int64) * hw)[:, None]
        gx = K.scatter_add_flat(xp, nc * hw, flat, gy, unique=unique)
        return gx.reshape(x_shape)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        n, c = idx.shape[:2]
        flat_g = S.reshape(g, (n, c, K.prod(g.shape[2:])))    # explicit sizes: n may be 0
        picked = Gather.apply(flat_g, S.reshape(idx, (n, c, K.prod(idx.shape[2:]))), dim=2)
        return S.reshape(picked, tuple(idx.shape)), None


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    if nd == 1:  # a unit height: the 2-d kernel does the work
        if input.ndim not in (2, 3):
            raise op_error(op, f"expected a 2-d (unbatched) or 3-d (batched) input, got {input.ndim}-d", input)
        k, s = tuple_arg(kernel_size, 1, "kernel_size", op), stride
        s = k if s is None or (not isinstance(s, int) and len(s) == 0) else tuple_arg(s, 1, "stride", op)
        vals, idx = _max_pool(op, 2, S.unsqueeze(input, -2), [1] + k, [1] + s,
                              [0] + tuple_arg(padding, 1, "padding", op),
                              [1] + tuple_arg(dilation, 1, "dilation", op), ceil_mode, True)
        vals, idx = S.squeeze(vals, -2), S.squeeze(idx, -2)
        return (vals, idx) if return_indices else vals
    x, unbatched, k, s, pads, d, _ = _pool_args(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    vals, idx = MaxPool2dOp.apply(x, kernel_size=k, stride=s, padding=pads, dilation=d)
    if unbatched:
        vals, idx = S.squeeze(vals, 0), S.squeeze(idx, 0)
    return (vals, idx) if return_indices else vals


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows of (N, C, L); with ``return_indices`` also the int64 argmax positions."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows of (N, C, H, W) (or (C, H, W)); ``stride`` defaults to ``kernel_size``.

    With ``return_indices`` also returns int64 indices ``h * W + w`` into each input plane (PyTorch's
    format, usable by ``max_unpool2d``).
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows of (N, C, D, H, W); indices are flat positions ``(d * H + h) * W + w``."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):
    if input.ndim not in (nd + 1, nd + 2):
        raise op_error(op, f"expected a {nd + 1}-d (unbatched) or {nd + 2}-d (batched) input, got {input.ndim}-d",
                       input)
    if tuple(indices.shape) != tuple(input.shape) or indices.dtype.kind not in "iu":
        raise op_error(op, "indices must be an integer tensor shaped like the input (as returned by max_pool "
                           "with return_indices=True)", input, indices)
    unbatched = input.ndim == nd + 1
    x = S.unsqueeze(input, 0) if unbatched else input
    idx = S.unsqueeze(indices, 0) if unbatched else indices
    k = tuple_arg(kernel_size, nd, "kernel_size", op)
    s = k if stride is None else tuple_arg(stride, nd, "stride", op)
    p = tuple_arg(padding, nd, "padding", op)
    default = [(x.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd)]
    out = default if output_size is None else [int(v) for v in list(output_size)[-nd:]]
    if len(out) != nd or any(o <= 0 for o in out):
        raise ValueError(f"{op}: invalid output_size {output_size}")
    size = K.prod(out)
    if idx.numel() and (int(idx._data.min()) < 0 or int(idx._data.max()) >= size):
        raise op_error(op, f"found an index outside the output plane of size {tuple(out)}", input, indices)
    if nd == 1:  # the 2-d primitive on a unit height
        x, idx = S.unsqueeze(x, -2), S.unsqueeze(idx, -2)
        shape = list(x.shape[:2]) + [1] + out
    else:
        shape = list(x.shape[:2]) + out
    # PyTorch writes (not sums) values picked twice by overlapping windows: they are equal anyway
    y = MaxPool2dGrad.apply(x, idx, x_shape=shape, unique=True)
    if nd == 1:
        y = S.squeeze(y, -2)
    return S.squeeze(y, 0) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: values put back at ``indices``, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``: (N, C, H, W) values scattered to the flat ``indices`` of an
    (N, C, H_out, W_out) zero tensor, H_out = (H - 1) * stride - 2 * padding + kernel_size unless
    ``output_size`` is given. A position picked twice (overlapping windows) gets the value once."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


# ---------------------------------------------------------------------------------------------------
# Average pooling


def avg_divisor(xp, dtype, spatial, kernel_size, stride, padding, out, count_include_pad, divisor_override):
    """PyTorch's per-window divisor as an (*out) array (broadcasts against (N, C, *out))."""
    if divisor_override:
        return float(divisor_override)
    div = None
    for i, n in enumerate(spatial):
        p = padding[i][0]
        start = np.arange(out[i]) * stride[i] - p
        end = np.minimum(start + kernel_size[i], n + p)
        size = end - start                                   # counts padding, not the ceil overhang
        if not count_include_pad:
            size = np.minimum(end, n) - np.maximum(start, 0)
        size = size.reshape((out[i],) + (1,) * (len(spatial) - 1 - i))
        div = size if div is None else div * size
    return xp.asarray(div.astype(dtype))


def _avg_pool_sum(xp, x, kernel_size, stride, padding, out):
    xpad = K.pad_spatial(xp, x, padding)
    v = K.windows(xp, xpad, kernel_size, stride, [1] * len(kernel_size), out)
    total = None
    for pos, _ in K.kernel_slices(kernel_size, stride, [1] * len(kernel_size), out):
        cur = v[(slice(None), slice(None)) + pos]
        if total is None:
            total = cur.copy(order="K")
        else:
            total += cur
    return total


@register_op("avg_pool2d")
class AvgPool2dOp(Function):
    """Average over windows: x (N, C, *s) -> (N, C, *out). Linear; backward is ``avg_pool2d_grad``.

    ``padding`` is [[lo, hi], ...] with hi extended for ceil_mode; the divisor follows PyTorch
    (``count_include_pad`` counts the symmetric padding, never the ceil-mode overhang).
    """

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding, count_include_pad=True, divisor_override=None):
        xp = ctx.xp
        nd = len(kernel_size)
        spatial = x.shape[2:]
        out = [K.out_size(spatial[i], kernel_size[i], stride[i], padding[i][0], padding[i][1], 1)
               for i in range(nd)]
        total = _avg_pool_sum(xp, x, kernel_size, stride, padding, out)
        total /= avg_divisor(xp, x.dtype, spatial, kernel_size, stride, padding, out, count_include_pad,
                             divisor_override)
        ctx.x_shape = list(x.shape)
        return total

    @staticmethod
    def backward(ctx, gy):
        return AvgPool2dGrad.apply(gy, x_shape=ctx.x_shape, **ctx.attrs)


@register_op("avg_pool2d_grad")
class AvgPool2dGrad(Function):
    """gx (``x_shape``): each window's gy / divisor spread over its positions (adjoint of avg_pool2d)."""

    @staticmethod
    def forward(ctx, gy, *, x_shape, kernel_size, stride, padding, count_include_pad=True, divisor_override=None):
        xp = ctx.xp
        nd = len(kernel_size)
        out = gy.shape[2:]
        g = gy / avg_divisor(xp, gy.dtype, x_shape[2:], kernel_size, stride, padding, out, count_include_pad,
                             divisor_override)
        cm = _is_channel_major(g)
        if cm:  # work (and answer) in the channel-major layout the gradient arrives in
            g = g.swapaxes(0, 1)
        cols = xp.broadcast_to(g[(slice(None), slice(None)) + (None,) * nd], g.shape[:2] + tuple(kernel_size) + out)
        padded = [x_shape[2 + i] + max(padding[i][0], 0) + max(padding[i][1], 0) for i in range(nd)]
        gxp = K.col2im(xp, cols, padded, stride, [1] * nd)
        if cm:
            gxp = gxp.swapaxes(0, 1)
        crop = tuple(slice(padding[i][0], padding[i][0] + x_shape[2 + i]) for i in range(nd))
        return gxp[(Ellipsis,) + crop]

    @staticmethod
    def backward(ctx, g):
        a = dict(ctx.attrs)
        a.pop("x_shape")
        return AvgPool2dOp.apply(g, **a)


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    if nd == 1:
        if input.ndim not in (2, 3):
            raise op_error(op, f"expected a 2-d (unbatched) or 3-d (batched) input, got {input.ndim}-d", input)
        k = tuple_arg(kernel_size, 1, "kernel_size", op)
        s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else tuple_arg(stride, 1, "stride", op)
        y = _avg_pool(op, 2, S.unsqueeze(input, -2), [1] + k, [1] + s, [0] + tuple_arg(padding, 1, "padding", op),
                      ceil_mode, count_include_pad, divisor_override)
        return S.squeeze(y, -2)
    if divisor_override is not None and int(divisor_override) == 0:
        raise ValueError(f"{op}: divisor must be not zero")
    x, unbatched, k, s, pads, _, _ = _pool_args(op, nd, input, kernel_size, stride, padding, 1, ceil_mode)
    y = AvgPool2dOp.apply(x, kernel_size=k, stride=s, padding=pads, count_include_pad=bool(count_include_pad),
                          divisor_override=None if divisor_override is None else int(divisor_override))
    return S.squeeze(y, 0) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True) -> Tensor:
    """Average over sliding windows of (N, C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """Average over sliding windows of (N, C, H, W) (or (C, H, W)); ``stride`` defaults to ``kernel_size``."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """Average over sliding windows of (N, C, D, H, W) (or unbatched)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ---------------------------------------------------------------------------------------------------
# Adaptive pooling


def adaptive_ranges(size: int, out: int):
    """PyTorch's adaptive windows along one dim: start = floor(i*size/out), end = ceil((i+1)*size/out)."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _output_size(op, output_size, spatial):
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = [output_size] * len(spatial)
    output_size = list(output_size)
    if len(output_size) != len(spatial):
        raise ValueError(f"{op}: output_size must have {len(spatial)} elements, got {output_size}")
    out = [int(s) if o is None else int(o) for o, s in zip(output_size, spatial)]
    if any(o <= 0 for o in out):
        raise ValueError(f"{op}: output_size must be positive, got {output_size}")
    return out


def _batched(op, nd, input):
    if input.ndim == nd + 1:
        return S.unsqueeze(input, 0), True
    if input.ndim != nd + 2:
        raise op_error(op, f"expected a {nd + 1}-d (unbatched) or {nd + 2}-d (batched) input, got {input.ndim}-d",
                       input)
    if input.dtype.kind != "f":
        raise op_error(op, f"expected a floating-point input, got {input.dtype}", input)
    return input, False


def _adaptive_avg(op, nd, input, output_size):
    x, unbatched = _batched(op, nd, input)
    spatial = list(x.shape[2:])
    out = _output_size(op, output_size, spatial)
    n, c = x.shape[:2]
    if all(s % o == 0 for s, o in zip(spatial, out)):   # equal windows: reshape and mean
        shape = [n, c]
        for s, o in zip(spatial, out):
            shape += [o, s // o]
        from .reduction import mean
        y = mean(S.reshape(x, tuple(shape)), dim=tuple(3 + 2 * i for i in range(nd)))
    else:                                                 # constant averaging matrix per dim
        from .creation import tensor
        from .linalg import matmul
        y = x
        for i, (s, o) in enumerate(zip(spatial, out)):
            start, end = adaptive_ranges(s, o)
            pos = np.arange(s)
            m = ((pos >= start[:, None]) & (pos < end[:, None])) / (end - start)[:, None]   # (o, s)
            mt = tensor(m.T.astype(x.dtype), device=x.device)
            y = S.movedim(matmul(S.movedim(y, 2 + i, -1), mt), -1, 2 + i)
    return S.squeeze(y, 0) if unbatched else y


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Average over ``output_size`` adaptive windows of (N, C, L)."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Average over adaptive windows of (N, C, H, W) giving ``output_size`` (int, pair; None keeps a dim)."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size) -> Tensor:
    """Average over adaptive windows of (N, C, D, H, W) giving ``output_size``."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


@register_op("adaptive_max_pool2d")
class AdaptiveMaxPool2dOp(Function):
    """(values, indices) of max over PyTorch's adaptive windows: x (N, C, *s) -> (N, C, *output_size)."""

    @staticmethod
    def forward(ctx, x, *, output_size):
        xp = ctx.xp
        nd = len(output_size)
        spatial = x.shape[2:]
        grids, kmax = [], []
        for i, (s, o) in enumerate(zip(spatial, output_size)):
            start, end = adaptive_ranges(s, o)
            k = int((end - start).max())
            g = np.minimum(start[:, None] + np.arange(k), end[:, None] - 1)   # (o, k), clamped repeats
            grids.append(g)
            kmax.append(k)
        # gather (N, C, o1, k1, o2, k2, ...) with open grids, then move kernel axes last
        key = [slice(None), slice(None)]
        for i, g in enumerate(grids):
            shape = [1] * (2 * nd)
            shape[2 * i], shape[2 * i + 1] = g.shape
            key.append(xp.asarray(g.reshape(shape)))
        win = x[tuple(key)]
        perm = [0, 1] + [2 + 2 * i for i in range(nd)] + [3 + 2 * i for i in range(nd)]
        win = win.transpose(perm).reshape(x.shape[:2] + tuple(output_size) + (K.prod(kmax),))
        local = xp.argmax(win, axis=-1)[..., None]
        vals = xp.take_along_axis(win, local, axis=-1)[..., 0]
        local = local[..., 0]
        idx = None
        rem = local.astype(np.int64)
        coords = []
        for i in reversed(range(nd)):
            coords.append(rem % kmax[i])
            rem //= kmax[i]
        coords.reverse()
        for i in range(nd):
            g = xp.asarray(grids[i])
            orow = xp.arange(output_size[i]).reshape((output_size[i],) + (1,) * (nd - 1 - i))
            pos = g[orow, coords[i]]
            idx = pos if idx is None else idx * spatial[i] + pos
        ctx.x_shape = list(x.shape)
        ctx.mark_non_differentiable(1)
        ctx.save_for_backward(ctx.output(1))
        return vals, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, gy, gidx):
        (idx,) = ctx.saved_tensors
        return MaxPool2dGrad.apply(gy, idx, x_shape=ctx.x_shape, unique=False)


def _adaptive_max(op, nd, input, output_size, return_indices):
    x, unbatched = _batched(op, nd, input)
    if x.dtype.kind != "f":
        raise op_error(op, f"expected a floating-point input, got {x.dtype}", input)
    out = _output_size(op, output_size, list(x.shape[2:]))
    if nd == 1:
        vals, idx = AdaptiveMaxPool2dOp.apply(S.unsqueeze(x, -2), output_size=[1] + out)
        vals, idx = S.squeeze(vals, -2), S.squeeze(idx, -2)
    else:
        vals, idx = AdaptiveMaxPool2dOp.apply(x, output_size=out)
    if unbatched:
        vals, idx = S.squeeze(vals, 0), S.squeeze(idx, 0)
    return (vals, idx) if return_indices else vals


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over ``output_size`` adaptive windows of (N, C, L)."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive windows of (N, C, H, W) giving ``output_size``; optionally the flat indices."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over adaptive windows of (N, C, D, H, W) giving ``output_size``; optionally the flat indices."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)
