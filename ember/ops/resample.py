"""Resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area),
``pixel_shuffle`` / ``pixel_unshuffle``, and ``unfold`` / ``fold`` (im2col / col2im as public ops).

Interpolation is separable: each spatial dim is resampled in turn by the ``interp1d`` primitive, a
weighted sum of 1 (nearest), 2 (linear) or 4 (cubic) gathered slices with PyTorch's source-index
rules; its gradient ``interp1d_grad`` sums each tap back onto its (sorted) source indices with one
``add.reduceat`` per tap, and the two are each other's adjoint (gradients of any order). Integer
nearest upscaling takes a broadcast + reshape path instead; 'area' is adaptive average pooling.

Primitives: ``im2col`` (x (N, C, H, W) -> (N, C*kh*kw, L)) and ``col2im`` (its adjoint, the sum of
overlapping patches); each one's backward is the other.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from ..backend import im2col as K
from . import shape as S
from .convolution import tuple_arg

# ---------------------------------------------------------------------------------------------------
# interpolate

_LINEAR = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def _source_coords(in_size, out_size, scale, align_corners, cubic):
    """Float source coordinates of each output position (PyTorch's area_pixel_compute_source_index)."""
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        ratio = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        return dst * ratio
    ratio = (1.0 / scale) if scale is not None else in_size / out_size
    src = ratio * (dst + 0.5) - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _cubic_weights(t):
    """Keys' cubic convolution weights (A = -0.75, as PyTorch) for the 4 taps around offset t."""
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):   # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _taps(mode, in_size, out_size, scale, align_corners):
    """(list of index arrays, list of weight arrays or None) for one dim."""
    if mode in ("nearest", "nearest-exact"):
        # float32 arithmetic, as PyTorch's kernel: it decides ties such as 3 * (3/9)
        ratio = np.float32((1.0 / scale) if scale is not None else in_size / out_size)
        dst = np.arange(out_size, dtype=np.float32)
        src = np.floor((dst + np.float32(0.5)) * ratio if mode == "nearest-exact" else dst * ratio).astype(np.int64)
        return [np.minimum(src, in_size - 1)], None
    cubic = mode == "bicubic"
    src = _source_coords(in_size, out_size, scale, align_corners, cubic)
    i0 = np.floor(src).astype(np.int64)
    t = src - i0
    if cubic:
        idx = [np.clip(i0 + k, 0, in_size - 1) for k in (-1, 0, 1, 2)]
        return idx, _cubic_weights(t)
    i0 = np.minimum(i0, in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return [i0, i1], [1.0 - t, t]


def _tap_weights(xp, weight, k, dim, ndim, dtype):
    shape = [1] * ndim
    shape[dim] = -1
    return xp.asarray(np.asarray(weight[k], dtype=dtype).reshape(shape))


@register_op("interp1d")
class Interp1d(Function):
    """Resampling along ``dim``: y = sum_k weight[k] * x.take(index[k], dim) (taps of nearest, linear
    or cubic interpolation; ``weight`` None means one tap of weight 1). ``index`` rows are
    non-decreasing. Linear in x; the gradient is ``interp1d_grad`` (the adjoint)."""

    @staticmethod
    def forward(ctx, x, *, dim, index, weight=None, in_size=None):
        xp = ctx.xp
        out = None
        for k, ix in enumerate(index):
            g = xp.take(x, xp.asarray(ix), axis=dim)
            if weight is not None:
                g *= _tap_weights(xp, weight, k, dim, x.ndim, x.dtype)
            out = g if out is None else out.__iadd__(g)
        return out

    @staticmethod
    def backward(ctx, gy):
        return Interp1dGrad.apply(gy, **ctx.attrs)


@register_op("interp1d_grad")
class Interp1dGrad(Function):
    """Adjoint of ``interp1d``: each tap's weighted gradient summed back onto its source index
    (one ``add.reduceat`` per tap, the indices being sorted). Its gradient is ``interp1d``."""

    @staticmethod
    def forward(ctx, g, *, dim, index, weight=None, in_size=None):
        xp = ctx.xp
        out = None
        for k, ix in enumerate(index):
            v = g * _tap_weights(xp, weight, k, dim, g.ndim, g.dtype) if weight is not None else g
            part = K.index_add_sorted(xp, in_size, dim, np.asarray(ix, dtype=np.int64), v)
            out = part if out is None else out.__iadd__(part)
        return out

    @staticmethod
    def backward(ctx, gg):
        return Interp1d.apply(gg, **ctx.attrs)


def _resample_dim(x: Tensor, dim: int, idx, weights) -> Tensor:
    return Interp1d.apply(x, dim=dim, index=[i.tolist() for i in idx],
                          weight=None if weights is None else [w.tolist() for w in weights],
                          in_size=int(x.shape[dim]))


def _nearest_repeat(x: Tensor, factors) -> Tensor:
    """Nearest upscaling by integer factors: broadcast each pixel into a block, then reshape."""
    shape, expanded, final = list(x.shape[:2]), list(x.shape[:2]), list(x.shape[:2])
    for s, f in zip(x.shape[2:], factors):
        shape += [s, 1]
        expanded += [s, f]
        final.append(s * f)
    y = S.expand(S.reshape(x, tuple(shape)), tuple(expanded))
    return S.reshape(y, tuple(final))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False) -> Tensor:
    """Resize (N, C, *spatial) to ``size`` or ``spatial * scale_factor`` (PyTorch's F.interpolate).

    Modes: 'nearest', 'nearest-exact', 'linear' (3-d), 'bilinear' / 'bicubic' (4-d), 'trilinear' (5-d),
    'area' (adaptive average pooling). ``align_corners`` only for the interpolating modes.
    """
    op = "interpolate"
    if mode not in _MODES:
        raise ValueError(f"{op}: unknown mode {mode!r}; expected one of {', '.join(_MODES)}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    nd = input.ndim - 2
    if nd < 1 or nd > 3:
        raise op_error(op, f"expected a 3-d, 4-d or 5-d input (N, C, *spatial), got {input.ndim}-d", input)
    if mode in _LINEAR and _LINEAR[mode] != nd:
        raise op_error(op, f"mode {mode!r} expects a {_LINEAR[mode] + 2}-d input, got {input.ndim}-d", input)
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    align_corners = bool(align_corners)
    if input.dtype.kind != "f":
        raise op_error(op, f"expected a floating-point input, got {input.dtype}", input)
    spatial = list(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: exactly one of size or scale_factor must be given")
    scales = [None] * nd
    if size is not None:
        out = tuple_arg(size, nd, "size", op)
    else:
        sf = [float(scale_factor)] * nd if isinstance(scale_factor, (int, float)) else [float(s) for s in scale_factor]
        if len(sf) != nd:
            raise ValueError(f"{op}: scale_factor must have {nd} elements, got {scale_factor}")
        out = [int(math.floor(s * f)) for s, f in zip(spatial, sf)]
        if not recompute_scale_factor:
            scales = sf
    if any(o <= 0 for o in out):
        raise ValueError(f"{op}: output size {out} must be positive (input spatial size {spatial})")
    if mode == "area":
        from .pooling import _adaptive_avg
        return _adaptive_avg("interpolate", nd, input, out)
    if mode == "nearest" and all(o % s == 0 and (sc is None or sc == o // s)
                                 for s, o, sc in zip(spatial, out, scales)):
        return _nearest_repeat(input, [o // s for s, o in zip(spatial, out)])
    y = input
    for i in range(nd):
        if out[i] == spatial[i] and (scales[i] is None or scales[i] == 1.0) and mode != "bicubic":
            continue  # identity along this dim
        idx, w = _taps(mode, spatial[i], out[i], scales[i], align_corners)
        y = _resample_dim(y, 2 + i, idx, w)
    return y


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None) -> Tensor:
    """Deprecated PyTorch alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None) -> Tensor:
    """Bilinear upsampling with ``align_corners=True`` (as PyTorch's deprecated function)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------------------------------
# pixel shuffle


def pixel_shuffle(input, upscale_factor: int) -> Tensor:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r): channel blocks become r x r pixel blocks."""
    r = int(upscale_factor)
    if input.ndim < 3 or r <= 0 or input.shape[-3] % (r * r):
        raise op_error("pixel_shuffle", f"expected (*, C*r^2, H, W) with r={r}: channels divisible by {r * r}",
                       input)
    *lead, c, h, w = input.shape
    y = S.reshape(input, (K.prod(lead), c // (r * r), r, r, h, w))
    y = S.permute(y, (0, 1, 4, 2, 5, 3))
    return S.reshape(y, tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): the inverse of ``pixel_shuffle``."""
    r = int(downscale_factor)
    if input.ndim < 3 or r <= 0 or input.shape[-2] % r or input.shape[-1] % r:
        raise op_error("pixel_unshuffle", f"expected (*, C, H, W) with H and W divisible by {r}", input)
    *lead, c, h, w = input.shape
    y = S.reshape(input, (K.prod(lead), c, h // r, r, w // r, r))
    y = S.permute(y, (0, 1, 3, 5, 2, 4))
    return S.reshape(y, tuple(lead) + (c * r * r, h // r, w // r))


# ---------------------------------------------------------------------------------------------------
# unfold / fold


@register_op("im2col")
class Im2Col(Function):
    """Sliding blocks: x (N, C, H, W) -> (N, C*kh*kw, L), L = number of block positions (F.unfold)."""

    @staticmethod
    def forward(ctx, x, *, kernel_size, dilation, padding, stride):
        xp = ctx.xp
        pads = [[p, p] for p in padding]
        xpad = K.pad_spatial(xp, x, pads)
        out = [K.out_size(n, k, s, 0, 0, d) for n, k, s, d in zip(xpad.shape[2:], kernel_size, stride, dilation)]
        v = K.windows(xp, xpad, kernel_size, stride, dilation, out)
        ctx.spatial = list(x.shape[2:])
        return v.reshape(x.shape[0], x.shape[1] * K.prod(kernel_size), K.prod(out))

    @staticmethod
    def backward(ctx, g):
        return Col2Im.apply(g, output_size=ctx.spatial, **ctx.attrs)


@register_op("col2im")
class Col2Im(Function):
    """Sum of blocks: cols (N, C*kh*kw, L) -> (N, C, *output_size), overlaps added (F.fold)."""

    @staticmethod
    def forward(ctx, cols, *, output_size, kernel_size, dilation, padding, stride):
        xp = ctx.xp
        nd = len(kernel_size)
        padded = [n + 2 * p for n, p in zip(output_size, padding)]
        out = [K.out_size(n, k, s, 0, 0, d) for n, k, s, d in zip(padded, kernel_size, stride, dilation)]
        n = cols.shape[0]
        c = cols.shape[1] // K.prod(kernel_size)
        full = K.col2im(xp, cols.reshape((n, c) + tuple(kernel_size) + tuple(out)), padded, stride, dilation)
        crop = tuple(slice(p, p + s) for p, s in zip(padding, output_size))
        return xp.ascontiguousarray(full[(Ellipsis,) + crop]) if nd else full

    @staticmethod
    def backward(ctx, g):
        a = dict(ctx.attrs)
        a.pop("output_size")
        return Im2Col.apply(g, **a)


def _block_args(op, kernel_size, dilation, padding, stride):
    k = tuple_arg(kernel_size, 2, "kernel_size", op)
    d = tuple_arg(dilation, 2, "dilation", op)
    p = tuple_arg(padding, 2, "padding", op)
    s = tuple_arg(stride, 2, "stride", op)
    if any(v <= 0 for v in k + d + s) or any(v < 0 for v in p):
        raise ValueError(f"{op}: kernel_size {k}, dilation {d}, stride {s} must be positive and padding {p} "
                         "non-negative")
    return k, d, p, s


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L) (PyTorch's F.unfold / nn.Unfold)."""
    op = "unfold"
    k, d, p, s = _block_args(op, kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 3
    if input.ndim not in (3, 4):
        raise op_error(op, f"expected a 3-d (unbatched) or 4-d (batched) input, got {input.ndim}-d", input)
    x = S.unsqueeze(input, 0) if unbatched else input
    for i in range(2):
        if K.out_size(x.shape[2 + i], k[i], s[i], p[i], p[i], d[i]) <= 0:
            raise op_error(op, f"no block fits: spatial size {tuple(x.shape[2:])}, kernel_size={k}, "
                               f"dilation={d}, padding={p}", input)
    y = Im2Col.apply(x, kernel_size=k, dilation=d, padding=p, stride=s)
    return S.squeeze(y, 0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Combine sliding blocks by summing overlaps: (N, C*kh*kw, L) -> (N, C, *output_size) (F.fold)."""
    op = "fold"
    k, d, p, s = _block_args(op, kernel_size, dilation, padding, stride)
    size = tuple_arg(output_size, 2, "output_size", op)
    unbatched = input.ndim == 2
    if input.ndim not in (2, 3):
        raise op_error(op, f"expected a 2-d (unbatched) or 3-d (batched) input, got {input.ndim}-d", input)
    x = S.unsqueeze(input, 0) if unbatched else input
    kk = k[0] * k[1]
    blocks = [K.out_size(size[i], k[i], s[i], p[i], p[i], d[i]) for i in range(2)]
    if x.shape[1] % kk:
        raise op_error(op, f"expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size ({kk}), got {x.shape[1]}", input)
    if any(b <= 0 for b in blocks) or x.shape[2] != blocks[0] * blocks[1]:
        raise op_error(op, f"given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"expected input's dimension 2 to be {max(blocks[0], 0) * max(blocks[1], 0)}, "
                           f"got {x.shape[2]}", input)
    y = Col2Im.apply(x, output_size=list(size), kernel_size=k, dilation=d, padding=p, stride=s)
    return S.squeeze(y, 0) if unbatched else y
