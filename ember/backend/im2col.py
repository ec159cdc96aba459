"""Sliding-window kernels behind convolution, pooling and unfold/fold (NumPy and CuPy).

Everything is N-d over the trailing spatial dims of an ``(N, C, *spatial)`` array:

- ``pad_spatial``: copy into a larger buffer filled with a constant (zeros, or -inf for max-pooling);
- ``windows``: a read-only strided *view* ``(N, C, *kernel, *out)`` of a padded array, where
  ``v[n, c, k..., o...] = x[n, c, o * stride + k * dilation]``: no copy, no Python loop over pixels;
- ``col2im``: the adjoint of ``windows``: scatter-adds ``(N, C, *kernel, *out)`` columns back into a
  padded buffer with one strided slice-add per kernel position (prod(kernel) iterations, never per
  pixel); ``col2im_cropped`` is the same with the padding cropped off, skipping the padded taps;
- ``scatter_add_flat``: ``out.flat[index] += values`` with duplicates accumulated (max-pool backward).

The NumPy and CuPy implementations differ only where the libraries do (``as_strided``'s keywords,
``bincount``), so each function dispatches on ``xp`` at that one line.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def out_size(size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int, dilation: int) -> int:
    """Number of window positions along one dim (floor mode)."""
    return (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


def pad_spatial(xp, x, pads, value: float = 0.0, out=None):
    """``x`` (N, C, *spatial) padded by ``pads`` = [(lo, hi), ...] per spatial dim with ``value``.

    Returns ``x`` itself when no padding is needed. Negative ``hi`` crops (used when a window grid
    does not reach the end of the input). ``out``: a buffer of the padded shape to write into (its
    previous contents are overwritten: interior and border).
    """
    if all(lo == 0 and hi == 0 for lo, hi in pads):
        return x
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        x = x[(Ellipsis,) + tuple(slice(max(-lo, 0), n - max(-hi, 0))
                                  for (lo, hi), n in zip(pads, x.shape[2:]))]
        pads = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
        if all(lo == 0 and hi == 0 for lo, hi in pads):
            return x
    if out is None:
        shape = x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
        out = xp.zeros(shape, x.dtype) if value == 0 else xp.full(shape, value, x.dtype)
    else:   # fill only the border: one slab below and one above the interior along each spatial dim
        for d, (lo, hi) in enumerate(pads):
            lead = (slice(None),) * (2 + d)
            out[lead + (slice(0, lo),)] = value
            out[lead + (slice(out.shape[2 + d] - hi, None),)] = value
    out[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads))] = x
    return out


def windows(xp, x, kernel, stride, dilation, out):
    """Read-only view ``(N, C, *kernel, *out)`` of the already padded ``x`` (N, C, *spatial)."""
    sp = x.strides[2:]
    shape = x.shape[:2] + tuple(kernel) + tuple(out)
    strides = (x.strides[:2] + tuple(s * d for s, d in zip(sp, dilation))
               + tuple(s * t for s, t in zip(sp, stride)))
    if xp is np:
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(x, shape, strides)  # CuPy: no 'writeable' keyword


def kernel_slices(kernel, stride, dilation, out):
    """For each kernel position: (position tuple, spatial slices hit by the windows at that position)."""
    for pos in itertools.product(*(range(k) for k in kernel)):
        yield pos, tuple(slice(p * d, p * d + s * (o - 1) + 1, s)
                         for p, s, d, o in zip(pos, stride, dilation, out))


def col2im(xp, cols, padded_spatial, stride, dilation):
    """Adjoint of ``windows``: ``cols`` (N, C, *kernel, *out) summed into a zero (N, C, *padded_spatial).

    One strided slice-add per kernel position, so overlapping windows accumulate correctly.
    """
    nd = len(padded_spatial)
    kernel, out = cols.shape[2:2 + nd], cols.shape[2 + nd:]
    res = xp.zeros(cols.shape[:2] + tuple(padded_spatial), cols.dtype)
    for pos, sl in kernel_slices(kernel, stride, dilation, out):
        res[(slice(None), slice(None)) + sl] += cols[(slice(None), slice(None)) + pos]
    return res


def col2im_cropped(xp, cols, spatial, padding, stride, dilation, out=None):
    """``col2im`` followed by cropping ``padding`` = [(lo, hi), ...] off, without the padded buffer.

    ``cols`` (N, C, *kernel, *out) are summed into a zero (N, C, *spatial) array, ``out`` when given
    (it may be a view; it is overwritten): each kernel position adds only the windows whose taps land
    inside the unpadded input, so nothing is accumulated into (and then thrown away with) the padding.
    """
    nd = len(spatial)
    kernel, grid = cols.shape[2:2 + nd], cols.shape[2 + nd:]
    if out is None:
        res = xp.zeros(cols.shape[:2] + tuple(spatial), cols.dtype)
    else:
        res = out
        res[...] = 0
    for pos in itertools.product(*(range(k) for k in kernel)):
        dst, src = [], []
        for p, s, d, o, n, (lo, _) in zip(pos, stride, dilation, grid, spatial, padding):
            off = p * d - lo                       # input index of window o is o * s + off
            o0 = -(off // s) if off < 0 else 0     # first window whose tap is inside: ceil(-off / s)
            o1 = min(o - 1, (n - 1 - off) // s)    # last window whose tap is inside
            if o1 < o0:
                break
            i0 = o0 * s + off
            dst.append(slice(i0, i0 + s * (o1 - o0) + 1, s))
            src.append(slice(o0, o1 + 1))
        else:
            res[(slice(None), slice(None)) + tuple(dst)] += cols[(slice(None), slice(None)) + pos + tuple(src)]
    return res


def scatter_add_flat(xp, size: int, index, values, unique: bool = False):
    """A new 1-d array of ``size`` zeros with ``values`` added at ``index`` (duplicates accumulate).

    ``unique=True`` promises no duplicate indices, allowing a plain (faster) assignment.
    """
    out = xp.zeros(size, values.dtype)
    index, values = index.reshape(-1), values.reshape(-1)
    if unique:
        out[index] = values
        return out
    if xp is np:  # bincount is much faster than np.add.at; accumulates in float64, cast back
        return np.bincount(index, weights=values, minlength=size).astype(values.dtype, copy=False)
    import cupyx
    cupyx.scatter_add(out, index, values)
    return out


def prod(values) -> int:
    return math.prod(values)


def index_add_sorted(xp, length: int, axis: int, index, values):
    """A new array shaped like ``values`` but with ``length`` entries along ``axis``, where
    ``out[..., i, ...] = sum of values[..., j, ...] over j with index[j] == i``.

    ``index`` (1-d, host NumPy) must be non-decreasing (interpolation taps are): NumPy sums each run
    with one ``add.reduceat``; CuPy scatter-adds.
    """
    shape = list(values.shape)
    shape[axis] = length
    out = xp.zeros(shape, values.dtype)
    key = [slice(None)] * values.ndim
    if xp is np:
        starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
        key[axis] = index[starts]
        out[tuple(key)] = np.add.reduceat(values, starts, axis=axis)
        return out
    import cupyx
    key[axis] = xp.asarray(index)
    cupyx.scatter_add(out, tuple(key), values)
    return out
