"""Op-table rows for resampling: the im2col / col2im primitives (F.unfold / F.fold) and the
interpolate / pixel_shuffle composites. References are written from the definitions."""

import itertools
import math

import numpy as np

from ember.ops import resample as R

from .opcase import OpCase


def ref_unfold(x, k, d, p, s):
    n, c, h, w = x.shape
    xp = np.pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c, k[0], k[1], oh * ow), x.dtype)
    for i, j in itertools.product(range(oh), range(ow)):
        for a, b in itertools.product(range(k[0]), range(k[1])):
            out[:, :, a, b, i * ow + j] = xp[:, :, i * s[0] + a * d[0], j * s[1] + b * d[1]]
    return out.reshape(n, c * k[0] * k[1], oh * ow)


def ref_fold(cols, size, k, d, p, s):
    n = cols.shape[0]
    c = cols.shape[1] // (k[0] * k[1])
    h, w = size
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    cols = cols.reshape(n, c, k[0], k[1], oh * ow)
    out = np.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), cols.dtype)
    for i, j in itertools.product(range(oh), range(ow)):
        for a, b in itertools.product(range(k[0]), range(k[1])):
            out[:, :, i * s[0] + a * d[0], j * s[1] + b * d[1]] += cols[:, :, a, b, i * ow + j]
    return out[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


def ref_nearest(x, out):
    h, w = x.shape[2:]
    rows = np.minimum(np.floor(np.arange(out[0]) * (h / out[0])).astype(int), h - 1)
    cols = np.minimum(np.floor(np.arange(out[1]) * (w / out[1])).astype(int), w - 1)
    return x[:, :, rows][:, :, :, cols]


def _lin_src(n_in, n_out, align):
    dst = np.arange(n_out)
    if align:
        return dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    return np.maximum((dst + 0.5) * n_in / n_out - 0.5, 0.0)


def ref_bilinear(x, out, align):
    """Each output pixel: the weighted average of its 4 neighbours (written per pixel)."""
    h, w = x.shape[2:]
    sy, sx = _lin_src(h, out[0], align), _lin_src(w, out[1], align)
    y = np.zeros(x.shape[:2] + tuple(out), x.dtype)
    for i, j in itertools.product(range(out[0]), range(out[1])):
        y0, x0 = int(math.floor(sy[i])), int(math.floor(sx[j]))
        y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
        ly, lx = sy[i] - y0, sx[j] - x0
        y[:, :, i, j] = ((1 - ly) * ((1 - lx) * x[:, :, y0, x0] + lx * x[:, :, y0, x1])
                         + ly * ((1 - lx) * x[:, :, y1, x0] + lx * x[:, :, y1, x1]))
    return y


def ref_pixel_shuffle(x, r):
    n, c, h, w = x.shape
    y = np.zeros((n, c // (r * r), h * r, w * r), x.dtype)
    for ch, i, j in itertools.product(range(c), range(h), range(w)):
        oc, rem = divmod(ch, r * r)
        a, b = divmod(rem, r)
        y[:, oc, i * r + a, j * r + b] = x[:, ch, i, j]
    return y


_TAPS = dict(dim=2, index=[[0, 0, 1, 2, 2], [1, 1, 2, 2, 2]], weight=[[1.0, 0.5, 0.75, 0.2, 1.0], [0.0, 0.5, 0.25, 0.8, 0.0]],
             in_size=3)


def _dense(taps):
    m = np.zeros((len(taps["index"][0]), taps["in_size"]))
    for ix, w in zip(taps["index"], taps["weight"]):
        np.add.at(m, (np.arange(len(ix)), ix), w)
    return m


def ref_interp1d(x, taps, adjoint=False):
    m = _dense(taps)
    m = m.T if adjoint else m
    return np.moveaxis(np.tensordot(m, np.moveaxis(x, taps["dim"], 0), axes=1), 0, taps["dim"]).astype(x.dtype)


CASES = [
    OpCase("interp1d", lambda x: R.Interp1d.apply(x, **_TAPS), lambda x: ref_interp1d(x, _TAPS), [(2, 2, 3, 2)],
           covers=("interp1d",)),
    OpCase("interp1d_grad", lambda g: R.Interp1dGrad.apply(g, **_TAPS), lambda g: ref_interp1d(g, _TAPS, True),
           [(2, 2, 5, 2)], covers=("interp1d_grad",)),
    OpCase("unfold", lambda x: R.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
           lambda x: ref_unfold(x, (2, 3), (1, 2), (1, 1), (2, 1)), [(2, 2, 4, 5)], covers=("im2col",)),
    OpCase("unfold_basic", lambda x: R.unfold(x, 2), lambda x: ref_unfold(x, (2, 2), (1, 1), (0, 0), (1, 1)),
           [(1, 3, 3, 4)], covers=("im2col",)),
    OpCase("fold", lambda c: R.fold(c, (4, 5), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
           lambda c: ref_fold(c, (4, 5), (2, 3), (1, 2), (1, 1), (2, 1)), [(2, 12, 9)], covers=("col2im",)),
    OpCase("fold_overlap", lambda c: R.fold(c, (3, 4), 2), lambda c: ref_fold(c, (3, 4), (2, 2), (1, 1), (0, 0), (1, 1)),
           [(1, 8, 6)], covers=("col2im",)),
    OpCase("interpolate_nearest_x2", lambda x: R.interpolate(x, scale_factor=2), lambda x: ref_nearest(x, (6, 8)),
           [(1, 2, 3, 4)]),
    OpCase("interpolate_nearest_size", lambda x: R.interpolate(x, size=(5, 3)), lambda x: ref_nearest(x, (5, 3)),
           [(1, 2, 3, 4)], covers=("interp1d",)),
    OpCase("interpolate_bilinear", lambda x: R.interpolate(x, size=(5, 7), mode="bilinear"),
           lambda x: ref_bilinear(x, (5, 7), False), [(1, 2, 3, 4)], covers=("interp1d",)),
    OpCase("interpolate_bilinear_align", lambda x: R.interpolate(x, size=(5, 3), mode="bilinear", align_corners=True),
           lambda x: ref_bilinear(x, (5, 3), True), [(1, 2, 3, 4)], covers=("interp1d",)),
    OpCase("interpolate_linear", lambda x: R.interpolate(x, size=7, mode="linear"),
           lambda x: ref_bilinear(x[:, :, None], (1, 7), False)[:, :, 0], [(2, 2, 4)], covers=("interp1d",)),
    OpCase("interpolate_bicubic", lambda x: R.interpolate(x, size=(5, 6), mode="bicubic"), None, [(1, 1, 3, 4)],
           covers=("interp1d",)),
    OpCase("pixel_shuffle", lambda x: R.pixel_shuffle(x, 2), lambda x: ref_pixel_shuffle(x, 2), [(1, 8, 2, 3)]),
    OpCase("pixel_unshuffle", lambda x: R.pixel_unshuffle(R.pixel_shuffle(x, 2), 2), lambda x: x, [(1, 8, 2, 3)]),
]
