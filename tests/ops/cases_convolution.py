"""Op-table rows for the convolution primitives (conv{1,2,3}d and their grad_input / grad_weight)
and the transposed-convolution composites.

The NumPy references here are written independently of the library's im2col/GEMM path: a direct
sum over kernel positions with explicit index arithmetic (tiny sizes, so Python loops are fine).
"""

import itertools

import numpy as np

from ember.ops import convolution as C

from .opcase import OpCase


def _pad(x, pads):
    return np.pad(x, [(0, 0), (0, 0)] + [tuple(p) for p in pads])


def ref_conv(x, w, b=None, stride=None, pads=None, dil=None, groups=1):
    """Direct convolution: y[n,o,p] = sum_{c,k} w[o,c,k] * xpad[n, g*Cg + c, p*s + k*d]."""
    nd = w.ndim - 2
    stride, dil = stride or [1] * nd, dil or [1] * nd
    pads = pads or [[0, 0]] * nd
    xp = _pad(x, pads)
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    og = o // groups
    ks = w.shape[2:]
    out = [(xp.shape[2 + i] - dil[i] * (ks[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    y = np.zeros((n, o) + tuple(out))
    for pos in itertools.product(*[range(s) for s in out]):
        for k in itertools.product(*[range(s) for s in ks]):
            idx = tuple(p * s + kk * d for p, s, kk, d in zip(pos, stride, k, dil))
            for g in range(groups):
                patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + idx]          # (n, cg)
                y[(slice(None), slice(g * og, (g + 1) * og)) + pos] += patch @ w[(slice(g * og, (g + 1) * og),
                                                                                   slice(None)) + k].T
    if b is not None:
        y += b.reshape((o,) + (1,) * nd)
    return y.astype(x.dtype)


def ref_conv_grad_input(gy, w, x_shape, stride, pads, dil, groups):
    """Adjoint of ref_conv in x: scatter w^T gy back to every input position each window read."""
    nd = w.ndim - 2
    o, cg = w.shape[:2]
    og = o // groups
    padded = [x_shape[2 + i] + sum(pads[i]) for i in range(nd)]
    gx = np.zeros(tuple(x_shape[:2]) + tuple(padded))
    for pos in itertools.product(*[range(s) for s in gy.shape[2:]]):
        for k in itertools.product(*[range(s) for s in w.shape[2:]]):
            idx = tuple(p * s + kk * d for p, s, kk, d in zip(pos, stride, k, dil))
            for g in range(groups):
                gx[(slice(None), slice(g * cg, (g + 1) * cg)) + idx] += \
                    gy[(slice(None), slice(g * og, (g + 1) * og)) + pos] @ w[(slice(g * og, (g + 1) * og),
                                                                              slice(None)) + k]
    crop = tuple(slice(p[0], p[0] + s) for p, s in zip(pads, x_shape[2:]))
    return gx[(Ellipsis,) + crop].astype(gy.dtype)


def ref_conv_grad_weight(gy, x, w_shape, stride, pads, dil, groups):
    """gw[o,c,k] = sum_{n,p} gy[n,o,p] * xpad[n, g*Cg + c, p*s + k*d]."""
    o, cg = w_shape[:2]
    og = o // groups
    xp = _pad(x, pads)
    gw = np.zeros(w_shape)
    for pos in itertools.product(*[range(s) for s in gy.shape[2:]]):
        for k in itertools.product(*[range(s) for s in w_shape[2:]]):
            idx = tuple(p * s + kk * d for p, s, kk, d in zip(pos, stride, k, dil))
            for g in range(groups):
                gw[(slice(g * og, (g + 1) * og), slice(None)) + k] += \
                    gy[(slice(None), slice(g * og, (g + 1) * og)) + pos].T @ xp[(slice(None),
                                                                                 slice(g * cg, (g + 1) * cg)) + idx]
    return gw.astype(gy.dtype)


def _cfg(nd, stride=1, pad=0, dil=1, groups=1):
    return dict(stride=[stride] * nd, pads=[[pad, pad]] * nd if isinstance(pad, int) else pad,
                dil=[dil] * nd, groups=groups)


def conv_case(name, nd, x, w, bias=True, **kw):
    cfg = _cfg(nd, **kw)
    op = C._FAMILY[nd][0]
    a = dict(stride=cfg["stride"], padding=cfg["pads"], dilation=cfg["dil"], groups=cfg["groups"])
    inputs = [x, w] + ([(w[0],)] if bias else [])
    return OpCase(name, lambda *t: op.apply(*t, **a),
                  lambda x, w, b=None: ref_conv(x, w, b, cfg["stride"], cfg["pads"], cfg["dil"], cfg["groups"]),
                  inputs, covers=(f"conv{nd}d",))


def grad_input_case(name, nd, x_shape, w, **kw):
    cfg = _cfg(nd, **kw)
    op = C._FAMILY[nd][1]
    a = dict(stride=cfg["stride"], padding=cfg["pads"], dilation=cfg["dil"], groups=cfg["groups"])
    gy_shape = ref_conv(np.zeros(x_shape), np.zeros(w), None, cfg["stride"], cfg["pads"], cfg["dil"],
                        cfg["groups"]).shape
    return OpCase(name, lambda gy, wt: op.apply(gy, wt, x_shape=list(x_shape), **a),
                  lambda gy, wt: ref_conv_grad_input(gy, wt, x_shape, cfg["stride"], cfg["pads"], cfg["dil"],
                                                     cfg["groups"]),
                  [gy_shape, w], covers=(f"conv{nd}d_grad_input",))


def grad_weight_case(name, nd, x_shape, w_shape, **kw):
    cfg = _cfg(nd, **kw)
    op = C._FAMILY[nd][2]
    a = dict(stride=cfg["stride"], padding=cfg["pads"], dilation=cfg["dil"], groups=cfg["groups"])
    gy_shape = ref_conv(np.zeros(x_shape), np.zeros(w_shape), None, cfg["stride"], cfg["pads"], cfg["dil"],
                        cfg["groups"]).shape
    return OpCase(name, lambda gy, x: op.apply(gy, x, w_shape=list(w_shape), **a),
                  lambda gy, x: ref_conv_grad_weight(gy, x, w_shape, cfg["stride"], cfg["pads"], cfg["dil"],
                                                     cfg["groups"]),
                  [gy_shape, x_shape], covers=(f"conv{nd}d_grad_weight",))


def _ref_transpose2d(x, w, b, stride, pad, opad, groups, dil):
    n, cin = x.shape[:2]
    cout = w.shape[1] * groups
    out = [(x.shape[2 + i] - 1) * stride - 2 * pad + dil * (w.shape[2 + i] - 1) + opad + 1 for i in range(2)]
    y = ref_conv_grad_input(x, w, (n, cout, *out), [stride] * 2, [[pad, pad]] * 2, [dil] * 2, groups)
    return y + b.reshape(-1, 1, 1)


CASES = [
    conv_case("conv2d_basic", 2, (2, 3, 5, 4), (4, 3, 3, 2)),
    conv_case("conv2d_stride_pad", 2, (1, 2, 5, 6), (3, 2, 3, 3), stride=2, pad=1),
    conv_case("conv2d_dilation_nobias", 2, (1, 2, 6, 6), (2, 2, 2, 2), bias=False, dil=2, pad=1),
    conv_case("conv2d_groups", 2, (1, 4, 4, 5), (6, 2, 2, 2), groups=2),
    conv_case("conv2d_depthwise", 2, (2, 3, 4, 4), (3, 1, 3, 3), groups=3, pad=1),
    conv_case("conv2d_asym_pad", 2, (1, 2, 4, 5), (2, 2, 2, 2), pad=[[0, 1], [1, 0]]),
    conv_case("conv1d", 1, (2, 3, 7), (4, 3, 3), stride=2, pad=1),
    conv_case("conv1d_groups_dil", 1, (1, 4, 8), (2, 2, 2), groups=2, dil=3),
    conv_case("conv3d", 3, (1, 2, 3, 4, 3), (2, 2, 2, 2, 2), pad=1, stride=2),
    grad_input_case("conv2d_grad_input", 2, (2, 2, 5, 4), (3, 2, 3, 2), stride=2, pad=1),
    grad_input_case("conv2d_grad_input_groups_dil", 2, (1, 4, 5, 5), (2, 2, 2, 2), groups=2, dil=2),
    grad_input_case("conv1d_grad_input", 1, (2, 2, 7), (3, 2, 3), stride=2, pad=1),
    grad_input_case("conv3d_grad_input", 3, (1, 2, 3, 3, 4), (2, 2, 2, 2, 2), pad=1),
    grad_weight_case("conv2d_grad_weight", 2, (2, 2, 5, 4), (3, 2, 3, 2), stride=2, pad=1),
    grad_weight_case("conv2d_grad_weight_groups", 2, (2, 4, 4, 4), (2, 2, 2, 2), groups=2, dil=2, pad=1),
    grad_weight_case("conv1d_grad_weight", 1, (2, 2, 7), (3, 2, 3), stride=2, pad=1),
    grad_weight_case("conv3d_grad_weight", 3, (1, 2, 3, 3, 4), (2, 2, 2, 2, 2), pad=1),
    OpCase("conv_transpose2d", lambda x, w, b: C.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
           lambda x, w, b: _ref_transpose2d(x, w, b, 2, 1, 1, 1, 1), [(1, 2, 3, 3), (2, 3, 3, 3), (3,)],
           covers=("conv2d_grad_input",)),
    OpCase("conv_transpose2d_groups_dil",
           lambda x, w, b: C.conv_transpose2d(x, w, b, stride=1, padding=1, output_padding=1, groups=2, dilation=2),
           lambda x, w, b: _ref_transpose2d(x, w, b, 1, 1, 1, 2, 2), [(1, 4, 3, 3), (4, 1, 2, 2), (2,)],
           covers=("conv2d_grad_input",)),
    OpCase("conv_transpose1d", lambda x, w: C.conv_transpose1d(x, w, stride=3, output_padding=2),
           lambda x, w: ref_conv_grad_input(x, w, (1, 2, 11), [3], [[0, 0]], [1], 1), [(1, 3, 3), (3, 2, 3)],
           covers=("conv1d_grad_input",)),
]
