"""Op-table rows for normalization: the fused layer_norm / batch_norm primitives and the composites
(eval-mode batch_norm, group_norm, instance_norm, rms_norm, normalize, local_response_norm)."""

import numpy as np

from ember.ops import normalization as N

from .opcase import Const, OpCase


def case(name, fn, ref, inputs, covers, **kw):
    return OpCase(name, fn, ref, inputs, covers=tuple(covers.split()), **kw)


def _ln(x, w=None, b=None, k=1, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    y = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    y = y * w if w is not None else y
    return y + b if b is not None else y


def _bn_train(x, w=None, b=None, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    cs = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    if w is not None:
        y = y * w.reshape(cs)
    return y + b.reshape(cs) if b is not None else y


def _bn_eval(x, rm, rv, w, b, eps=1e-5):
    cs = (1, -1) + (1,) * (x.ndim - 2)
    return (x - rm.reshape(cs)) / np.sqrt(rv.reshape(cs) + eps) * w.reshape(cs) + b.reshape(cs)


def _gn(x, g, w, b, eps=1e-5):
    n, c = x.shape[:2]
    xg = x.reshape(n, g, -1)
    y = ((xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + eps)).reshape(x.shape)
    cs = (1, c) + (1,) * (x.ndim - 2)
    return y * w.reshape(cs) + b.reshape(cs)


def _rms(x, w, k=1, eps=1e-6):
    axes = tuple(range(x.ndim - k, x.ndim))
    return x / np.sqrt((x * x).mean(axes, keepdims=True) + eps) * w


def _lrn(x, size, alpha=1e-4, beta=0.75, k=1.0):
    c = x.shape[1]
    sq = np.pad(x * x, [(0, 0), (size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 2))
    win = sum(sq[:, i:i + c] for i in range(size))
    return x / (k + alpha / size * win) ** beta


def positive(x):
    return np.abs(x) + 0.5


RM = Const(np.array([0.1, -0.2, 0.3]), grad=False)
RV = Const(np.array([0.5, 1.5, 2.0]), grad=False)

CASES = [
    case("layer_norm_affine", lambda x, w, b: N.layer_norm(x, (4,), w, b), lambda x, w, b: _ln(x, w, b),
         [(3, 4), (4,), (4,)], "layer_norm"),
    case("layer_norm_2d_shape", lambda x, w, b: N.layer_norm(x, (3, 4), w, b, eps=1e-3),
         lambda x, w, b: _ln(x, w, b, 2, 1e-3), [(2, 3, 4), (3, 4), (3, 4)], "layer_norm"),
    case("layer_norm_plain", lambda x: N.layer_norm(x, [5]), lambda x: _ln(x), [(2, 2, 5)], "layer_norm"),
    case("layer_norm_weight_only", lambda x, w: N.layer_norm(x, 4, w, None), lambda x, w: _ln(x, w),
         [(3, 4), (4,)], "layer_norm"),
    case("batch_norm_train_2d", lambda x, w, b: N.batch_norm(x, None, None, w, b, training=True),
         _bn_train, [(4, 3), (3,), (3,)], "batch_norm"),
    case("batch_norm_train_4d", lambda x, w, b: N.batch_norm(x, None, None, w, b, True, 0.1, 1e-3),
         lambda x, w, b: _bn_train(x, w, b, 1e-3), [(2, 3, 2, 3), (3,), (3,)], "batch_norm"),
    case("batch_norm_train_no_affine", lambda x: N.batch_norm(x, None, None, training=True),
         lambda x: _bn_train(x), [(3, 2, 4)], "batch_norm"),
    case("batch_norm_eval", lambda x, rm, rv, w, b: N.batch_norm(x, rm, rv, w, b, training=False),
         _bn_eval, [(2, 3, 4), RM, RV, (3,), (3,)], "rsqrt mul add"),
    case("group_norm", lambda x, w, b: N.group_norm(x, 2, w, b), lambda x, w, b: _gn(x, 2, w, b),
         [(2, 4, 3), (4,), (4,)], "layer_norm reshape"),
    case("group_norm_4d", lambda x, w, b: N.group_norm(x, 3, w, b), lambda x, w, b: _gn(x, 3, w, b),
         [(2, 6, 2, 2), (6,), (6,)], "layer_norm"),
    case("instance_norm", lambda x: N.instance_norm(x), lambda x: _ln(x.reshape(2, 3, -1)).reshape(x.shape),
         [(2, 3, 2, 3)], "layer_norm"),
    case("rms_norm", lambda x, w: N.rms_norm(x, 4, w, eps=1e-6), lambda x, w: _rms(x, w),
         [(3, 4), (4,)], "rsqrt sum"),
    case("normalize", lambda x: N.normalize(x, dim=1),
         lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12), [(3, 4)], "div"),
    case("local_response_norm", lambda x: N.local_response_norm(x, 3, alpha=0.5),
         lambda x: _lrn(x, 3, alpha=0.5), [(2, 5, 3)], "pow div"),
]
