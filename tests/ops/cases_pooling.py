"""Op-table rows for pooling: max_pool2d (values + indices), max_pool2d_grad, avg_pool2d,
avg_pool2d_grad, adaptive_max_pool2d, and the 1-d / adaptive-average composites.

References loop over output positions with PyTorch's window rules written out directly.
"""

import itertools
import math

import numpy as np

from ember.ops import pooling as P

from .opcase import Const, Int, OpCase


def _out(n, k, s, p, d, ceil):
    eff = d * (k - 1) + 1
    o = (n + 2 * p - eff + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def ref_max_pool2d(x, k, s, p, d, ceil):
    n, c, h, w = x.shape
    oh, ow = _out(h, k[0], s[0], p[0], d[0], ceil), _out(w, k[1], s[1], p[1], d[1], ceil)
    vals = np.full((n, c, oh, ow), -np.inf, x.dtype)
    idx = np.zeros((n, c, oh, ow), np.int64)
    for i, j in itertools.product(range(oh), range(ow)):
        for a, b in itertools.product(range(k[0]), range(k[1])):
            r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
            if 0 <= r < h and 0 <= q < w:
                better = x[:, :, r, q] > vals[:, :, i, j]
                vals[:, :, i, j] = np.where(better, x[:, :, r, q], vals[:, :, i, j])
                idx[:, :, i, j] = np.where(better, r * w + q, idx[:, :, i, j])
    return vals, idx


def ref_avg_pool2d(x, k, s, p, ceil, include_pad, divisor=None):
    n, c, h, w = x.shape
    oh, ow = _out(h, k[0], s[0], p[0], 1, ceil), _out(w, k[1], s[1], p[1], 1, ceil)
    y = np.zeros((n, c, oh, ow), x.dtype)
    for i, j in itertools.product(range(oh), range(ow)):
        h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
        h1, w1 = min(h0 + k[0], h + p[0]), min(w0 + k[1], w + p[1])
        size = (h1 - h0) * (w1 - w0)
        h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
        total = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3))
        div = divisor or (size if include_pad else (h1 - h0) * (w1 - w0))
        y[:, :, i, j] = total / div
    return y


def ref_adaptive(x, out, reduce):
    n, c, h, w = x.shape
    y = np.zeros((n, c) + tuple(out), x.dtype)
    idx = np.zeros((n, c) + tuple(out), np.int64)
    for i, j in itertools.product(range(out[0]), range(out[1])):
        h0, h1 = (i * h) // out[0], math.ceil((i + 1) * h / out[0])
        w0, w1 = (j * w) // out[1], math.ceil((j + 1) * w / out[1])
        win = x[:, :, h0:h1, w0:w1].reshape(n, c, -1)
        if reduce == "mean":
            y[:, :, i, j] = win.mean(-1)
        else:
            a = win.argmax(-1)
            y[:, :, i, j] = win.max(-1)
            idx[:, :, i, j] = (h0 + a // (w1 - w0)) * w + w0 + a % (w1 - w0)
    return y if reduce == "mean" else (y, idx)


def ref_scatter(gy, idx, x_shape):
    gx = np.zeros((x_shape[0], x_shape[1], int(np.prod(x_shape[2:]))), gy.dtype)
    n, c = idx.shape[:2]
    for a, b in itertools.product(range(n), range(c)):
        np.add.at(gx[a, b], idx[a, b].reshape(-1), gy[a, b].reshape(-1))
    return gx.reshape(x_shape)


def max_case(name, shape, k, s, p, d, ceil):
    return OpCase(name, lambda x: P.max_pool2d(x, k, s, p, d, ceil, return_indices=True),
                  lambda x: ref_max_pool2d(x, k, s, p, d, ceil), [shape], covers=("max_pool2d",))


def avg_case(name, shape, k, s, p, ceil, include_pad=True, divisor=None):
    return OpCase(name, lambda x: P.avg_pool2d(x, k, s, p, ceil, include_pad, divisor),
                  lambda x: ref_avg_pool2d(x, k, s, p, ceil, include_pad, divisor), [shape], covers=("avg_pool2d",))


def _avg_grad(gy):
    # adjoint of avg_pool2d(k=2, s=1, p=1, count_include_pad=False) on a (1, 2, 3, 4) input
    return P.AvgPool2dGrad.apply(gy, x_shape=[1, 2, 3, 4], kernel_size=[2, 2], stride=[1, 1],
                                 padding=[[1, 1], [1, 1]], count_include_pad=False, divisor_override=None)


def _ref_avg_grad(gy):
    # <avg_pool(x), gy> = <x, adjoint(gy)>: the adjoint's entry at each position is <avg_pool(unit), gy>
    x_shape = (1, 2, 3, 4)
    out = np.zeros(x_shape, gy.dtype)
    for pos in itertools.product(*[range(s) for s in x_shape]):
        e = np.zeros(x_shape)
        e[pos] = 1.0
        out[pos] = (ref_avg_pool2d(e, (2, 2), (1, 1), (1, 1), False, False) * gy).sum()
    return out


CASES = [
    max_case("max_pool2d_k2", (2, 3, 4, 6), (2, 2), (2, 2), (0, 0), (1, 1), False),
    max_case("max_pool2d_overlap_pad", (1, 2, 5, 5), (3, 3), (2, 2), (1, 1), (1, 1), False),
    max_case("max_pool2d_ceil_dil", (1, 2, 7, 6), (2, 3), (2, 1), (1, 1), (2, 1), True),
    OpCase("max_pool1d", lambda x: P.max_pool1d(x, 3, 2, 1, ceil_mode=True, return_indices=True),
           lambda x: tuple(a[:, :, 0] for a in ref_max_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1), (1, 1), True)),
           [(2, 3, 8)], covers=("max_pool2d",)),
    OpCase("max_pool2d_grad", lambda gy, idx: P.MaxPool2dGrad.apply(gy, idx, x_shape=[2, 2, 3, 3], unique=False),
           lambda gy, idx: ref_scatter(gy, idx, (2, 2, 3, 3)), [(2, 2, 2, 3), Int((2, 2, 2, 3), 0, 9)],
           covers=("max_pool2d_grad",)),
    OpCase("max_pool2d_grad_unique",
           lambda gy, idx: P.MaxPool2dGrad.apply(gy, idx, x_shape=[1, 2, 3, 3], unique=True),
           lambda gy, idx: ref_scatter(gy, idx, (1, 2, 3, 3)),
           [(1, 2, 2, 2), Const(np.array([[[[0, 2], [7, 5]], [[8, 1], [3, 4]]]]), grad=False)],
           covers=("max_pool2d_grad",)),
    avg_case("avg_pool2d_k2", (2, 3, 4, 6), (2, 2), (2, 2), (0, 0), False),
    avg_case("avg_pool2d_pad_ceil", (1, 2, 5, 6), (3, 3), (2, 2), (1, 1), True),
    avg_case("avg_pool2d_no_pad_count", (1, 2, 5, 6), (3, 2), (2, 1), (1, 1), True, include_pad=False),
    avg_case("avg_pool2d_divisor", (1, 2, 4, 5), (2, 2), (1, 2), (1, 0), False, divisor=3),
    OpCase("avg_pool1d", lambda x: P.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
           lambda x: ref_avg_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1), True, False)[:, :, 0],
           [(2, 3, 8)], covers=("avg_pool2d",)),
    OpCase("avg_pool2d_grad", _avg_grad, _ref_avg_grad, [(1, 2, 4, 5)], covers=("avg_pool2d_grad",)),
    OpCase("adaptive_max_pool2d", lambda x: P.adaptive_max_pool2d(x, (2, 3), return_indices=True),
           lambda x: ref_adaptive(x, (2, 3), "max"), [(2, 2, 5, 7)], covers=("adaptive_max_pool2d",)),
    OpCase("adaptive_max_pool1d", lambda x: P.adaptive_max_pool1d(x, 3),
           lambda x: ref_adaptive(x[:, :, None], (1, 3), "max")[0][:, :, 0], [(2, 2, 7)],
           covers=("adaptive_max_pool2d",)),
    OpCase("adaptive_avg_pool2d_uneven", lambda x: P.adaptive_avg_pool2d(x, (2, 3)),
           lambda x: ref_adaptive(x, (2, 3), "mean"), [(2, 2, 5, 7)]),
    OpCase("adaptive_avg_pool2d_even", lambda x: P.adaptive_avg_pool2d(x, (2, 1)),
           lambda x: ref_adaptive(x, (2, 1), "mean"), [(2, 2, 4, 6)]),
    OpCase("adaptive_avg_pool1d", lambda x: P.adaptive_avg_pool1d(x, 4),
           lambda x: ref_adaptive(x[:, :, None], (1, 4), "mean")[:, :, 0], [(2, 2, 7)]),
    OpCase("max_pool3d", lambda x: P.max_pool3d(x, 2, 1), None, [(1, 2, 3, 3, 3)], covers=("max_pool2d",)),
    OpCase("avg_pool3d", lambda x: P.avg_pool3d(x, 2, 1, 1, count_include_pad=False), None, [(1, 2, 2, 3, 3)],
           covers=("avg_pool2d",)),
    OpCase("adaptive_max_pool3d", lambda x: P.adaptive_max_pool3d(x, (2, 1, 2)), None, [(1, 1, 3, 3, 3)],
           covers=("adaptive_max_pool2d",)),
]
