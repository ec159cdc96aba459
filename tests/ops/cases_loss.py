"""Op-table rows for losses: the fused softmax_cross_entropy (+ its gradient kernel) in all its
modes, and the composite losses, each against a NumPy reference."""

import numpy as np
from scipy.special import log_softmax as _log_softmax, softmax as _softmax

from ember.ops import loss as L
from ember.ops import loss_margin as M
from ember.ops.loss import SoftmaxCrossEntropyGrad

from .opcase import Const, Int, OpCase

CE = ("softmax_cross_entropy", "softmax_cross_entropy_grad")


def case(name, fn, ref, inputs, covers=(), **kw):
    return OpCase(name, fn, ref, inputs, covers=tuple(covers), **kw)


def ce_ref(x, t, w=None, ignore_index=-100, eps=0.0, reduction="mean"):
    """PyTorch's cross-entropy over class indices, written out: x (N, C, *) or (C,), t (N, *) or ()."""
    if x.ndim == 1:
        x, t = x[None], np.asarray(t)[None]
        squeeze = True
    else:
        squeeze = False
    c = x.shape[1]
    logp = _log_softmax(np.moveaxis(x, 1, -1).reshape(-1, c), axis=1)
    tt = t.reshape(-1)
    valid = tt != ignore_index
    safe = np.where(valid, tt, 0)
    wv = np.ones(c, x.dtype) if w is None else w
    w_y = wv[safe] * valid
    nll = -logp[np.arange(len(tt)), safe] * w_y
    smooth = -(logp * wv).sum(1) * valid
    loss = (1 - eps) * nll + eps / c * smooth
    if reduction == "none":
        return loss.reshape(()) if squeeze else loss.reshape(t.shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / w_y.sum()


def ce_probs_ref(x, p, w=None, eps=0.0, reduction="mean"):
    c = x.shape[1]
    p = p * (1 - eps) + eps / c
    wv = np.ones(c) if w is None else w
    loss = -(_log_softmax(x, axis=1) * p * wv.reshape((c,) + (1,) * (x.ndim - 2))).sum(1)
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def probs(x):
    """Rows of a (N, C, *) array mapped to probability vectors over dim 1."""
    return _softmax(x, axis=1)


def unit(x):
    """Into (0.05, 0.95): probabilities for BCE inputs and targets."""
    return 0.05 + 0.9 / (1 + np.exp(-x))


W5 = Const(np.array([0.5, 1.0, 2.0, 1.5, 0.3]), grad=False)
T_IGN = Const(np.array([1, -100, 4, 0, -100, 2]))
T_IGN7 = Const(np.array([1, 7, 4, 0, 7, 2]))
TD = Int((2, 3), 0, 5)


def bce_ref(x, t, w=1.0):
    return (-(t * np.log(x) + (1 - t) * np.log(1 - x)) * w).mean()


def bce_logits_ref(x, t, pw=1.0):
    s = 1 / (1 + np.exp(-x))
    return (-(pw * t * np.log(s) + (1 - t) * np.log(1 - s))).mean()


def smooth_l1_ref(x, t, beta):
    d = np.abs(x - t)
    return np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta).mean()


def huber_ref(x, t, delta):
    d = np.abs(x - t)
    return np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)).mean()


def away(x):
    """Keep |input - target| away from the kinks of L1-type losses (finite differences)."""
    return np.sign(x) * (np.abs(x) + 0.2)


def cos_emb_ref(a, b, y, margin):
    cos = (a * b).sum(1) / np.sqrt(((a * a).sum(1) + 1e-12) * ((b * b).sum(1) + 1e-12))
    return np.where(y == 1, 1 - cos, np.maximum(0, cos - margin)).mean()


Y_PM = Const(np.array([1, -1, -1, 1]))
Y_PM_F = Const(np.array([1.0, -1.0, -1.0, 1.0]), grad=False)

CASES = [
    # -- fused cross-entropy over class indices
    case("cross_entropy", lambda x, t: L.cross_entropy(x, t), ce_ref, [(6, 5), Int((6,), 0, 5)], CE),
    case("cross_entropy_sum", lambda x, t: L.cross_entropy(x, t, reduction="sum"),
         lambda x, t: ce_ref(x, t, reduction="sum"), [(6, 5), Int((6,), 0, 5)], CE),
    case("cross_entropy_none", lambda x, t: L.cross_entropy(x, t, reduction="none"),
         lambda x, t: ce_ref(x, t, reduction="none"), [(6, 5), Int((6,), 0, 5)], CE),
    case("cross_entropy_weight", lambda x, t, w: L.cross_entropy(x, t, w), ce_ref, [(6, 5), Int((6,), 0, 5), W5], CE),
    case("cross_entropy_ignore_index", lambda x, t, w: L.cross_entropy(x, t, w), ce_ref, [(6, 5), T_IGN, W5], CE),
    case("cross_entropy_custom_ignore", lambda x, t: L.cross_entropy(x, t, ignore_index=7),
         lambda x, t: ce_ref(x, t, ignore_index=7), [(6, 5), T_IGN7], CE),
    case("cross_entropy_smoothing", lambda x, t: L.cross_entropy(x, t, label_smoothing=0.2),
         lambda x, t: ce_ref(x, t, eps=0.2), [(6, 5), Int((6,), 0, 5)], CE),
    case("cross_entropy_smoothing_weight_ignore",
         lambda x, t, w: L.cross_entropy(x, t, w, label_smoothing=0.3),
         lambda x, t, w: ce_ref(x, t, w, eps=0.3), [(6, 5), T_IGN, W5], CE),
    case("cross_entropy_smoothing_weight_none",
         lambda x, t, w: L.cross_entropy(x, t, w, label_smoothing=0.3, reduction="none"),
         lambda x, t, w: ce_ref(x, t, w, eps=0.3, reduction="none"), [(6, 5), T_IGN, W5], CE),
    case("cross_entropy_spatial", lambda x, t: L.cross_entropy(x, t), ce_ref, [(2, 5, 3), TD], CE),
    case("cross_entropy_spatial_4d_none", lambda x, t: L.cross_entropy(x, t, reduction="none"),
         lambda x, t: ce_ref(x, t, reduction="none"), [(2, 5, 2, 2), Int((2, 2, 2), 0, 5)], CE),
    case("cross_entropy_unbatched", lambda x, t: L.cross_entropy(x, t), ce_ref, [(5,), Const(np.array(3))], CE),
    case("cross_entropy_grad_kernel",
         lambda g, x, t: SoftmaxCrossEntropyGrad.apply(g, x, _sm(x), t, None, label_smoothing=0.1),
         lambda g, x, t: g[:, None] * (_softmax(x, axis=1) - 0.9 * np.eye(5)[t] - 0.1 / 5),
         [(4,), (4, 5), Int((4,), 0, 5)], ("softmax_cross_entropy_grad",)),
    # -- class-probability targets (composite)
    case("cross_entropy_probs", lambda x, p: L.cross_entropy(x, p), ce_probs_ref,
         [(4, 5), Const(_softmax(np.random.default_rng(1).standard_normal((4, 5)), axis=1), grad=False)],
         ("log_softmax",)),
    case("cross_entropy_probs_weight_smooth", lambda x, p, w: L.cross_entropy(x, p, w, label_smoothing=0.1),
         lambda x, p, w: ce_probs_ref(x, p, w, 0.1),
         [(4, 5, 2), Const(_softmax(np.random.default_rng(2).standard_normal((4, 5, 2)), axis=1), grad=False), W5],
         ("log_softmax",)),
    # -- nll
    case("nll_loss", lambda x, t: L.nll_loss(x, t), lambda x, t: ce_ref(x, t), [(6, 5), Int((6,), 0, 5)],
         ("gather",), domain=lambda x: _log_softmax(x, axis=1)),
    case("nll_loss_weight_ignore", lambda x, t, w: L.nll_loss(x, t, w),
         lambda x, t, w: ce_ref(x, t, w), [(6, 5), T_IGN, W5], ("gather",), domain=lambda x: _log_softmax(x, axis=1)),
    case("nll_loss_spatial_none", lambda x, t: L.nll_loss(x, t, reduction="none"),
         lambda x, t: ce_ref(x, t, reduction="none"), [(2, 5, 3), TD], ("gather",),
         domain=lambda x: _log_softmax(x, axis=1)),
    # -- regression
    case("mse_loss", L.mse_loss, lambda x, t: ((x - t) ** 2).mean(), [(3, 4), (3, 4)], ("mul",)),
    case("mse_loss_sum", lambda x, t: L.mse_loss(x, t, reduction="sum"), lambda x, t: ((x - t) ** 2).sum(),
         [(3, 4), (3, 4)]),
    case("l1_loss_none", lambda x: L.l1_loss(x, x * 0.0 + 0.1, reduction="none"), lambda x: np.abs(x - 0.1),
         [(3, 4)], ("abs",), domain=lambda x: away(x) + 0.1),
    case("smooth_l1_loss", lambda x: L.smooth_l1_loss(x, x * 0.0, beta=0.5),
         lambda x: smooth_l1_ref(x, 0.0, 0.5), [(3, 4)], domain=lambda x: np.where(np.abs(np.abs(x) - 0.5) < 0.05, x * 1.3, x)),
    case("huber_loss", lambda x: L.huber_loss(x, x * 0.0, delta=0.7), lambda x: huber_ref(x, 0.0, 0.7),
         [(3, 4)], domain=lambda x: np.where(np.abs(np.abs(x) - 0.7) < 0.05, x * 1.3, x)),
    # -- binary
    case("binary_cross_entropy", lambda x, t: L.binary_cross_entropy(x, t), bce_ref,
         [(3, 4), Const(unit(np.random.default_rng(3).standard_normal((3, 4))), grad=False)], ("log", "clamp"),
         domain=unit),
    case("binary_cross_entropy_weight", lambda x, t, w: L.binary_cross_entropy(x, t, w), bce_ref,
         [(3, 4), Const(unit(np.random.default_rng(4).standard_normal((3, 4))), grad=False),
          Const(np.array([1.0, 2.0, 0.5, 1.0]), grad=False)], domain=unit),
    case("bce_with_logits", lambda x, t: L.binary_cross_entropy_with_logits(x, t), bce_logits_ref,
         [(3, 4), Const(unit(np.random.default_rng(5).standard_normal((3, 4))), grad=False)], ("softplus",)),
    case("bce_with_logits_pos_weight",
         lambda x, t, pw: L.binary_cross_entropy_with_logits(x, t, pos_weight=pw), bce_logits_ref,
         [(3, 4), Const(unit(np.random.default_rng(6).standard_normal((3, 4))), grad=False),
          Const(np.array([1.0, 3.0, 0.5, 2.0]), grad=False)], ("softplus",)),
    case("bce_with_logits_extreme", lambda x, t: L.binary_cross_entropy_with_logits(x, t, reduction="sum"),
         lambda x, t: np.sum(np.where(t > 0.5, np.logaddexp(0, -x), np.logaddexp(0, x))),
         [Const(np.array([200.0, -300.0, 50.0, -80.0])), Const(np.array([0.0, 1.0, 1.0, 0.0]), grad=False)],
         ("softplus",), grad=False),
    # -- distributions
    case("kl_div_batchmean", lambda x, t: L.kl_div(x, t, reduction="batchmean"),
         lambda x, t: (t * (np.log(t) - x)).sum() / x.shape[0],
         [(3, 4), Const(_softmax(np.random.default_rng(7).standard_normal((3, 4)), axis=1), grad=False)],
         ("log", "where"), domain=lambda x: _log_softmax(x, axis=1)),
    case("kl_div_zero_target_sum", lambda x, t: L.kl_div(x, t, reduction="sum"),
         lambda x, t: np.sum(np.where(t > 0, t * (np.log(np.where(t > 0, t, 1)) - x), 0)),
         [(2, 3), Const(np.array([[0.5, 0.5, 0.0], [0.0, 0.25, 0.75]]), grad=False)], ("where",)),
    case("kl_div_log_target", lambda x, t: L.kl_div(x, t, reduction="mean", log_target=True),
         lambda x, t: (np.exp(t) * (t - x)).mean(), [(3, 4), (3, 4)], ("exp",)),
    # -- embedding / ranking
    case("cosine_embedding_loss", lambda a, b, y: M.cosine_embedding_loss(a, b, y, margin=0.1),
         lambda a, b, y: cos_emb_ref(a, b, y, 0.1), [(4, 3), (4, 3), Y_PM], ("where", "sqrt"),
         domain=lambda x: x, seed=3),
    case("margin_ranking_loss", lambda a, b, y: M.margin_ranking_loss(a, b, y, margin=0.2),
         lambda a, b, y: np.maximum(0, -y * (a - b) + 0.2).mean(), [(4,), (4,), Y_PM_F], ("relu",), seed=5),
    case("soft_margin_loss", lambda x, y: M.soft_margin_loss(x, y),
         lambda x, y: np.log1p(np.exp(-y * x)).mean(), [(4,), Y_PM_F], ("softplus",)),
    case("hinge_embedding_loss", lambda x, y: M.hinge_embedding_loss(x, y, margin=1.0),
         lambda x, y: np.where(y == 1, x, np.maximum(0, 1.0 - x)).mean(), [(4,), Y_PM_F], ("where",),
         domain=lambda x: np.where(np.abs(x - 1) < 0.1, x + 0.3, x)),
    case("triplet_margin_loss", lambda a, p, n: M.triplet_margin_loss(a, p, n, margin=1.0),
         lambda a, p, n: np.maximum(np.linalg.norm(a - p + 1e-6, axis=1) - np.linalg.norm(a - n + 1e-6, axis=1)
                                    + 1.0, 0).mean(), [(3, 4), (3, 4), (3, 4)], ("relu",), seed=2),
    case("poisson_nll_loss", lambda x, t: L.poisson_nll_loss(x, t), lambda x, t: (np.exp(x) - t * x).mean(),
         [(3, 4), Const(np.abs(np.random.default_rng(8).standard_normal((3, 4))) * 3, grad=False)], ("exp",)),
    case("gaussian_nll_loss", lambda x, t, v: L.gaussian_nll_loss(x, t, v),
         lambda x, t, v: (0.5 * (np.log(v) + (x - t) ** 2 / v)).mean(), [(3, 4), (3, 4), (3, 4)], ("log",),
         domain=lambda x: np.abs(x) + 0.5),
    case("multilabel_soft_margin_loss", lambda x, t: M.multilabel_soft_margin_loss(x, t),
         lambda x, t: (-(t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 / (1 + np.exp(x))))).mean(-1).mean(),
         [(3, 4), Const((np.random.default_rng(9).random((3, 4)) > 0.5).astype(float), grad=False)], ("softplus",)),
]


def _sm(x):
    from ember.ops.activation import softmax
    return softmax(x.detach(), 1)
