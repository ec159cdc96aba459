"""Margin, ranking and embedding losses (PyTorch's ``F.margin_ranking_loss``, ``hinge_embedding_loss``,
``cosine_embedding_loss``, ``triplet_margin_loss``, ``multi_margin_loss``, ...) and the distances
they use (``cosine_similarity``, ``pairwise_distance``). Composites of ops, ``reduction`` as in
``ember.ops.loss``; input shapes must match exactly."""

from __future__ import annotations

from ..autograd.function import op_error
from ..autograd.tensor import Tensor
from . import activation as A
from . import elementwise as E
from . import reduction as R
from . import shape as S
from ._util import check_same_shape
from .loss import _check_class_target, _check_classes, _legacy, _reduction, reduce_


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 x2) / max(||x1|| ||x2||, eps) along ``dim`` (the two inputs broadcast)."""
    w12 = R.sum(x1 * x2, dim)
    n1 = R.sum(x1 * x1, dim)
    n2 = R.sum(x2 * x2, dim)
    return w12 / E.sqrt(E.clamp_min(n1 * n2, float(eps) * float(eps)))


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim."""
    return R.norm(x1 - x2 + eps, p, -1, keepdim=keepdim)


def _check_pair(op: str, x1: Tensor, x2: Tensor, y: Tensor, y_shape: tuple) -> None:
    if tuple(x1.shape) != tuple(x2.shape):
        raise op_error(op, f"input1 and input2 shapes must match, got {tuple(x1.shape)} and {tuple(x2.shape)}",
                       x1, x2)
    if tuple(y.shape) != y_shape:
        raise op_error(op, f"target shape {tuple(y.shape)} must be {y_shape} for inputs of shape "
                           f"{tuple(x1.shape)}", x1, y)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1; cos over dim 1 (or the
    only dim of 1-d inputs)."""
    reduction = _reduction("cosine_embedding_loss", _legacy(reduction, size_average, reduce))
    dim = 1 if input1.ndim == 2 else 0
    _check_pair("cosine_embedding_loss", input1, input2, target, tuple(input1.shape[:1]) if dim else ())
    eps = 1e-12  # PyTorch's EPSILON: added to each squared magnitude
    prod = R.sum(input1 * input2, dim)
    mag = (R.sum(input1 * input1, dim) + eps) * (R.sum(input2 * input2, dim) + eps)
    cos = prod / E.sqrt(mag)
    zeros = cos * 0.0
    pos = 1.0 - cos
    neg = E.maximum(cos - margin, zeros)
    loss = E.where(target == 1, pos, E.where(target == -1, neg, zeros))
    return reduce_(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin) for targets y in {-1, 1}."""
    reduction = _reduction("margin_ranking_loss", _legacy(reduction, size_average, reduce))
    _check_pair("margin_ranking_loss", input1, input2, target, tuple(input1.shape))
    return reduce_(A.relu(-target * (input1 - input2) + margin), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1."""
    reduction = _reduction("hinge_embedding_loss", _legacy(reduction, size_average, reduce))
    check_same_shape("hinge_embedding_loss", input, target)
    zeros = input * 0.0
    loss = E.where(target == 1, input, zeros) + E.where(target == -1, E.maximum(margin - input, zeros), zeros)
    return reduce_(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-norm distance."""
    reduction = _reduction("triplet_margin_loss", _legacy(reduction, size_average, reduce))
    for name, t in (("positive", positive), ("negative", negative)):
        if tuple(t.shape) != tuple(anchor.shape):
            raise op_error("triplet_margin_loss", f"anchor {tuple(anchor.shape)} and {name} "
                                                  f"{tuple(t.shape)} shapes must match", anchor, t)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = E.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return reduce_(A.relu(d_pos - d_neg + margin), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """-mean_c [y log sigmoid(x) + (1 - y) log sigmoid(-x)] per sample (N, C) -> (N,)."""
    reduction = _reduction("multilabel_soft_margin_loss", _legacy(reduction, size_average, reduce))
    check_same_shape("multilabel_soft_margin_loss", input, target)
    loss = target * A.softplus(-input) + (1.0 - target) * A.softplus(input)
    if weight is not None:
        loss = loss * weight
    return reduce_(R.mean(loss, -1), reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss of (N, C) or (C,) scores: sum_{i != y} w[y] max(0, margin - x[y] + x[i])**p / C."""
    reduction = _reduction("multi_margin_loss", _legacy(reduction, size_average, reduce))
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    x = input if input.ndim == 2 else S.reshape(input, (1, -1))
    _check_class_target("multi_margin_loss", x, S.reshape(target, (-1,)))
    c = x.shape[1]
    _check_classes("multi_margin_loss", target, c, -1 - c)
    from .indexing import gather, one_hot
    t = S.reshape(target, (-1, 1))
    z = gather(x, 1, t) * -1.0 + margin + x                          # (N, C); z[y] = margin is excluded
    h = A.relu(z)
    if p == 2:
        h = h * h
    others = Tensor._make(1.0 - one_hot(S.reshape(target, (-1,)), c)._data.astype(x.dtype))
    h = h * others
    if weight is not None:
        h = h * S.unsqueeze(E.cast(weight, x.dtype)[S.reshape(target, (-1,))], 1)
    loss = R.sum(h, 1) * (1.0 / c)
    if input.ndim != 2:
        loss = S.reshape(loss, ())
    return reduce_(loss, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: ``target`` (N, C) lists each sample's classes, ended by the first -1;
    loss = sum over (j target, i non-target) of max(0, 1 - (x[j] - x[i])) / C."""
    reduction = _reduction("multilabel_margin_loss", _legacy(reduction, size_average, reduce))
    if tuple(target.shape) != tuple(input.shape):
        raise op_error("multilabel_margin_loss", f"input and target shapes must match, got input "
                                                 f"{tuple(input.shape)} and target {tuple(target.shape)}", input, target)
    x = input if input.ndim == 2 else S.reshape(input, (1, -1))
    xp = target.device.xp
    t = target._data.reshape(x.shape)
    n, c = x.shape
    listed = xp.cumprod(t != -1, axis=1).astype(bool)                # entries before the first -1
    is_target = xp.zeros((n, c), dtype=bool)
    rows = xp.broadcast_to(xp.arange(n)[:, None], (n, c))
    is_target[rows[listed], t[listed]] = True
    pair = (is_target[:, :, None] & ~is_target[:, None, :]).astype(x.dtype)   # (N, j, i)
    diff = S.unsqueeze(x, 2) - S.unsqueeze(x, 1)                      # x[j] - x[i]
    loss = R.sum(A.relu(1.0 - diff) * Tensor._make(pair), (1, 2)) * (1.0 / c)
    if input.ndim != 2:
        loss = S.reshape(loss, ())
    return reduce_(loss, reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with any ``distance_function`` (default: pairwise 2-norm)."""
    reduction = _reduction("triplet_margin_with_distance_loss", reduction)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, dist(positive, negative))
    return reduce_(A.relu(d_pos - d_neg + margin), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x)) for targets y in {-1, 1}."""
    reduction = _reduction("soft_margin_loss", _legacy(reduction, size_average, reduce))
    check_same_shape("soft_margin_loss", input, target)
    return reduce_(A.softplus(-target * input), reduction)
