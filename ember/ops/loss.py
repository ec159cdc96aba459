"""Classification, regression and distribution losses (PyTorch's ``F.*_loss``) with
``reduction='mean' | 'sum' | 'none'``; margin, ranking and embedding losses are in ``loss_margin.py``.

Cross-entropy over class indices is the fused primitive ``softmax_cross_entropy`` (log-softmax and
NLL in one pass, numerically stable) with its own gradient kernel ``softmax_cross_entropy_grad``.
The other losses are composites of ops. Input and target shapes must match exactly: nothing
broadcasts silently (PyTorch only warns).
"""

from __future__ import annotations

from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from . import activation as A
from . import elementwise as E
from . import reduction as R
from . import shape as S
from ._util import check_same_shape

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(op: str, reduction: str, extra: tuple = ()) -> str:
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; expected one of "
                         f"{', '.join(repr(r) for r in _REDUCTIONS + extra)}")
    return reduction


def _legacy(reduction: str, size_average, reduce) -> str:
    """PyTorch's deprecated size_average/reduce flags mapped to a reduction string."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


# -- fused softmax cross-entropy -------------------------------------------------------------------

def _row_terms(xp, target, weight, dtype, ignore_index=-100):
    """Per-row constants of the loss and its gradient: valid (M,), the safe target (ignored rows
    pointed at class 0) and w_y (M,) = w[t_i] (0 for ignored rows)."""
    valid = target != ignore_index
    safe = xp.where(valid, target, 0)
    if weight is not None:
        w_y = weight[safe] * valid
    else:
        w_y = valid.astype(dtype)
    return valid, safe, w_y.astype(dtype, copy=False)


@register_op("softmax_cross_entropy")
class SoftmaxCrossEntropy(Function):
    """Per-row cross-entropy of logits x (M, C) against class indices t (M,), optional class weights
    w (C,), ``ignore_index`` and ``label_smoothing`` eps:

        loss_i = (1 - eps) * w[t_i] * (-logp[i, t_i]) + eps / C * sum_c w[c] * (-logp[i, c])

    (0 for ignored rows), logp = log_softmax(x). Outputs: loss (M,) and softmax(x) (M, C),
    the latter non-differentiable and used by the gradient kernel.
    """

    @staticmethod
    def forward(ctx, x, target, weight, *, ignore_index=-100, label_smoothing=0.0):
        xp = ctx.xp
        m, c = x.shape
        # One (M, C) buffer: the shifted logits, then (in place) their exponentials, then softmax.
        # log_softmax is never materialized: logp[i, c] = shifted[i, c] - lse_i.
        shifted = x - x.max(axis=1, keepdims=True)
        valid, safe, w_y = _row_terms(xp, target, weight, x.dtype, ignore_index)
        picked = xp.take_along_axis(shifted, safe[:, None], axis=1)[:, 0]
        if label_smoothing:
            smooth = shifted @ weight if weight is not None else shifted.sum(axis=1)
        e = xp.exp(shifted, out=shifted)
        total = e.sum(axis=1, keepdims=True)
        lse = xp.log(total)[:, 0]
        e /= total
        loss = -(1.0 - label_smoothing) * w_y * (picked - lse)
        if label_smoothing:
            w_sum = float(weight.sum()) if weight is not None else float(c)
            loss -= (label_smoothing / c) * (smooth - lse * w_sum) * valid
        ctx.mark_non_differentiable(1)
        ctx.save_for_backward(ctx.input(0), ctx.input(1), ctx.input(2), ctx.output(1))
        return loss.astype(x.dtype, copy=False), e

    @staticmethod
    def backward(ctx, gl, _gp):
        x, target, weight, probs = ctx.saved_tensors
        return SoftmaxCrossEntropyGrad.apply(gl, x, probs, target, weight, **ctx.attrs), None, None


@register_op("softmax_cross_entropy_grad")
class SoftmaxCrossEntropyGrad(Function):
    """dloss/dx for ``softmax_cross_entropy``: gx[i] = gl_i * (s_i * p[i] - v[i]) with
    s_i = (1 - eps) w[t_i] + eps/C sum(w) and v[i] = (1 - eps) w[t_i] onehot(t_i) + eps/C w (0 for
    ignored rows). Inputs: gl (M,), x (M, C) (for double backward), p = softmax(x) (M, C), t, w."""

    @staticmethod
    def forward(ctx, gl, x, probs, target, weight, *, ignore_index=-100, label_smoothing=0.0):
        xp = ctx.xp
        m, c = probs.shape
        eps = label_smoothing
        valid, safe, w_y = _row_terms(xp, target, weight, probs.dtype, ignore_index)
        w_sum = float(weight.sum()) if weight is not None else float(c)
        s = (1.0 - eps) * w_y
        if eps:
            s += (eps / c) * w_sum * valid.astype(probs.dtype)   # a bool array would promote to float64
        g = probs * (s * gl)[:, None]
        rows = xp.arange(m)
        g[rows, safe] -= (1.0 - eps) * w_y * gl
        if eps:
            wv = weight if weight is not None else xp.ones(c, dtype=probs.dtype)
            g -= (eps / c) * (gl * valid)[:, None] * wv[None, :]
        ctx.save_for_backward(ctx.input(0), ctx.input(1), ctx.input(3), ctx.input(4))
        return g.astype(probs.dtype, copy=False)

    @staticmethod
    def backward(ctx, ggx):
        gl, x, target, weight = ctx.saved_tensors
        a = ctx.attrs
        eps = a.get("label_smoothing", 0.0)
        xp = x.device.xp
        m, c = x.shape
        valid, safe, w_y = _row_terms(xp, target._data, None if weight is None else weight._data, x.dtype,
                                      a.get("ignore_index", -100))
        w_arr = weight._data if weight is not None else xp.ones(c, dtype=x.dtype)
        s_arr = (1.0 - eps) * w_y + (eps / c) * float(w_arr.sum()) * valid
        v_arr = (eps / c) * valid[:, None] * w_arr[None, :]
        v_arr = v_arr.astype(x.dtype)
        v_arr[xp.arange(m), safe] += (1.0 - eps) * w_y
        s, v = Tensor._make(s_arr.astype(x.dtype)), Tensor._make(v_arr)
        p = A.softmax(x, 1)
        ggl = R.sum(ggx * (p * S.unsqueeze(s, 1) - v), 1) if ctx.needs_input_grad[0] else None
        gx = None
        if ctx.needs_input_grad[1]:
            u = ggx * S.unsqueeze(gl * s, 1)
            gx = p * (u - R.sum(u * p, 1, keepdim=True))
        return ggl, gx, None, None, None


def _class_dim_last(input: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N*d1*..., C); (N, C) and (C,) pass as (N, C) / (1, C)."""
    if input.ndim == 1:
        return S.reshape(input, (1, -1))
    if input.ndim == 2:
        return input
    perm = [0] + list(range(2, input.ndim)) + [1]
    return S.reshape(S.permute(input, perm), (-1, input.shape[1]))


def _check_class_target(op: str, input: Tensor, target: Tensor) -> None:
    want = (tuple(input.shape[:1]) + tuple(input.shape[2:])) if input.ndim >= 2 else ()
    if tuple(target.shape) != want:
        raise op_error(op, f"for input of shape {tuple(input.shape)} (N, C, d1, ...) the class-index target "
                           f"must have shape {want}, got target {tuple(target.shape)}", input, target)


def _check_classes(op: str, target: Tensor, c: int, ignore_index: int) -> None:
    t = target._data
    if t.size:
        bad = (t != ignore_index) & ((t < 0) | (t >= c))
        if bool(bad.any()):
            raise op_error(op, f"target values must be in [0, {c}) (or ignore_index={ignore_index}); got "
                               f"{int(t[bad].reshape(-1)[0])}", target)


def _valid_and_weights(target: Tensor, weight: Tensor | None, ignore_index: int, dtype):
    """(safe flat target, per-row weight w[t_i] (0 for ignored rows)) computed with ops, so that a traced
    graph recomputes them from the target instead of freezing them as constants."""
    flat = S.reshape(target, (-1,))
    valid = E.ne(flat, ignore_index)
    safe = E.where(valid, flat, 0)
    w_y = E.cast(valid, dtype)
    if weight is not None:
        from .indexing import index_select
        w_y = index_select(E.cast(weight, dtype), 0, safe) * w_y
    return safe, w_y


def _weighted_mean_denominator(target: Tensor, weight: Tensor | None, ignore_index: int, dtype) -> Tensor:
    """sum over non-ignored rows of w[t_i] (their count without weights): PyTorch's 'mean' divisor."""
    return R.sum(_valid_and_weights(target, weight, ignore_index, dtype)[1])


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits ``input`` (C), (N, C) or (N, C, d1, ...) and ``target`` given as
    class indices (shape (), (N,) or (N, d1, ...)) or class probabilities (input's shape).

    ``reduction='mean'`` with indices divides by the summed weights of the non-ignored targets (the
    count without ``weight``), like PyTorch; with probabilities it divides by N*d1*...
    """
    reduction = _reduction("cross_entropy", _legacy(reduction, size_average, reduce))
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if input._data.dtype.kind != "f":
        raise op_error("cross_entropy", f"expected floating-point logits, got dtype {input.dtype}", input)
    c = input.shape[1] if input.ndim >= 2 else input.shape[0]
    if weight is not None and tuple(weight.shape) != (c,):
        raise op_error("cross_entropy", f"weight should have shape ({c},) for {c} classes, got "
                                        f"{tuple(weight.shape)}", input, weight)
    if target._data.dtype.kind == "f":
        return _cross_entropy_probs(input, target, weight, reduction, float(label_smoothing), c)
    if target._data.dtype.kind not in "iu":
        raise op_error("cross_entropy", f"target must hold class indices (integer) or probabilities "
                                        f"(float), got dtype {target.dtype}", target)
    _check_class_target("cross_entropy", input, target)
    _check_classes("cross_entropy", target, c, ignore_index)
    if weight is not None and weight.dtype != input.dtype:
        weight = E.cast(weight, input.dtype)
    logits = _class_dim_last(input)
    flat_t = S.reshape(target, (-1,))
    loss, _ = SoftmaxCrossEntropy.apply(logits, flat_t, weight, ignore_index=int(ignore_index),
                                        label_smoothing=float(label_smoothing))
    if reduction == "none":
        return S.reshape(loss, tuple(target.shape))
    total = R.sum(loss)
    if reduction == "sum":
        return total
    return total / _weighted_mean_denominator(target, weight, ignore_index, input.dtype)


def _cross_entropy_probs(input, target, weight, reduction, eps, c):
    check_same_shape("cross_entropy", input, target)
    dim = 1 if input.ndim >= 2 else 0
    logp = A.log_softmax(input, dim)
    if eps:
        target = target * (1.0 - eps) + eps / c
    prod = logp * target
    if weight is not None:
        shape = (c,) + (1,) * (input.ndim - 2) if input.ndim >= 2 else (c,)
        prod = prod * S.reshape(E.cast(weight, input.dtype), shape)
    loss = -R.sum(prod, dim)
    return reduce(loss, reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (N, C, d1, ...) at class indices ``target``
    (N, d1, ...): loss_i = -w[t_i] * input[i, t_i]; 'mean' divides by the summed weights."""
    reduction = _reduction("nll_loss", _legacy(reduction, size_average, reduce))
    if target._data.dtype.kind not in "iu":
        raise op_error("nll_loss", f"target must hold class indices (integer), got dtype {target.dtype}", target)
    _check_class_target("nll_loss", input, target)
    c = input.shape[1] if input.ndim >= 2 else input.shape[0]
    if weight is not None and tuple(weight.shape) != (c,):
        raise op_error("nll_loss", f"weight should have shape ({c},) for {c} classes, got {tuple(weight.shape)}",
                       input, weight)
    _check_classes("nll_loss", target, c, ignore_index)
    safe, w_y = _valid_and_weights(target, weight, ignore_index, input.dtype)
    picked = S.reshape(_gather(_class_dim_last(input), S.unsqueeze(safe, 1)), (-1,))
    loss = -picked * w_y
    if reduction == "none":
        return S.reshape(loss, tuple(target.shape))
    total = R.sum(loss)
    if reduction == "sum":
        return total
    return total / R.sum(w_y)


def _gather(x: Tensor, idx: Tensor) -> Tensor:
    from .indexing import gather
    return gather(x, 1, idx)


# -- regression losses -----------------------------------------------------------------------------

def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight=None) -> Tensor:
    """(input - target)**2, reduced."""
    reduction = _reduction("mse_loss", _legacy(reduction, size_average, reduce))
    check_same_shape("mse_loss", input, target)
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return reduce_(loss, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight=None) -> Tensor:
    """|input - target|, reduced."""
    reduction = _reduction("l1_loss", _legacy(reduction, size_average, reduce))
    check_same_shape("l1_loss", input, target)
    loss = E.abs(input - target)
    if weight is not None:
        loss = loss * weight
    return reduce_(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta=0 is L1."""
    reduction = _reduction("smooth_l1_loss", _legacy(reduction, size_average, reduce))
    check_same_shape("smooth_l1_loss", input, target)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = input - target
    ad = E.abs(d)
    if beta == 0:
        return reduce_(ad, reduction)
    loss = E.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return reduce_(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight=None) -> Tensor:
    """0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    reduction = _reduction("huber_loss", reduction)
    check_same_shape("huber_loss", input, target)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = input - target
    ad = E.abs(d)
    loss = E.where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return reduce_(loss, reduction)


reduce_ = reduce


# -- binary losses ---------------------------------------------------------------------------------

def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p = ``input``; logs clamped at -100 (PyTorch)."""
    reduction = _reduction("binary_cross_entropy", _legacy(reduction, size_average, reduce))
    check_same_shape("binary_cross_entropy", input, target)
    x = input._data
    if x.size and bool(((x < 0) | (x > 1)).any()):
        raise op_error("binary_cross_entropy", "all elements of input should be between 0 and 1", input)
    log_p = E.clamp_min(E.log(input), -100.0)
    log_1mp = E.clamp_min(E.log(1.0 - input), -100.0)
    loss = -(target * log_p + (1.0 - target) * log_1mp)
    if weight is not None:
        loss = loss * weight
    return reduce_(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in a stable form:
    (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x); pos_weight broadcasts over the class dim."""
    reduction = _reduction("binary_cross_entropy_with_logits", _legacy(reduction, size_average, reduce))
    check_same_shape("binary_cross_entropy_with_logits", input, target)
    sp = A.softplus(-input)  # -log(sigmoid(x)), linear for large |x|: no overflow
    if pos_weight is not None:
        loss = (1.0 - target) * input + (1.0 + (pos_weight - 1.0) * target) * sp
    else:
        loss = (1.0 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return reduce_(loss, reduction)


# -- distribution losses ---------------------------------------------------------------------------

def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: t (log t - input) (0 where t = 0), or exp(t) (t - input)
    with ``log_target``. 'batchmean' divides the sum by input.shape[0] (the true KL per sample)."""
    reduction = _reduction("kl_div", _legacy(reduction, size_average, reduce), ("batchmean",))
    check_same_shape("kl_div", input, target)
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        positive = target > 0
        safe_t = E.where(positive, target, 1.0)
        loss = E.where(positive, target * (E.log(safe_t) - input), 0.0)
    if reduction == "batchmean":
        return R.sum(loss) / (input.shape[0] if input.ndim else 1)
    return reduce_(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """exp(x) - t x (log_input) or x - t log(x + eps); ``full`` adds Stirling's term for t > 1."""
    reduction = _reduction("poisson_nll_loss", _legacy(reduction, size_average, reduce))
    check_same_shape("poisson_nll_loss", input, target)
    loss = E.exp(input) - target * input if log_input else input - target * E.log(input + eps)
    if full:
        import math
        safe = E.where(target > 1, target, 2.0)
        stirling = safe * E.log(safe) - safe + 0.5 * E.log(safe * (2 * math.pi))
        loss = loss + E.where(target > 1, stirling, 0.0)
    return reduce_(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """0.5 (log(max(var, eps)) + (input - target)**2 / max(var, eps)) (+ 0.5 log(2 pi) with ``full``)."""
    reduction = _reduction("gaussian_nll_loss", reduction)
    check_same_shape("gaussian_nll_loss", input, target)
    if tuple(var.shape) != tuple(input.shape):
        if var.ndim == input.ndim and var.shape[-1] == 1 and tuple(var.shape[:-1]) == tuple(input.shape[:-1]):
            pass  # one variance per sample (homoscedastic over the last dim): broadcasts by design
        elif tuple(var.shape) == tuple(input.shape[:-1]):
            var = S.unsqueeze(var, -1)
        else:
            raise op_error("gaussian_nll_loss", f"var of shape {tuple(var.shape)} must match input "
                                                f"{tuple(input.shape)} or have a last dim of 1", input, var)
    if bool((var._data < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    with_eps = E.clamp_min(var, float(eps)) if not var.requires_grad else var + E.where(var < eps, eps - var.detach(), 0.0)
    d = input - target
    loss = 0.5 * (E.log(with_eps) + d * d / with_eps)
    if full:
        import math
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_(loss, reduction)
