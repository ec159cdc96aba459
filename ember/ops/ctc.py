"""Connectionist temporal classification loss (PyTorch's ``F.ctc_loss``).

The forward (alpha) recursion runs in log space over the extended label sequence
blank, l1, blank, l2, ..., blank: one step per time frame, vectorized over the batch and the
label positions, written with ops so that autograd differentiates it. Impossible states hold a
large negative number instead of -inf, which keeps logsumexp's gradient finite; a total below
-1e29 is reported as +inf (or 0 with ``zero_infinity``), as PyTorch does.
"""

from __future__ import annotations

from ..autograd.function import op_error
from ..autograd.tensor import Tensor
from . import elementwise as E
from . import reduction as R
from . import shape as S
from .loss import _reduction

_NEG = -1e30


def _lengths(xp, value, n: int, what: str):
    if isinstance(value, Tensor):
        value = value._data
    arr = xp.asarray(value, dtype=xp.int64).reshape(-1)
    if arr.size != n:
        raise ValueError(f"ctc_loss: expected {n} {what}, got {arr.size}")
    return arr


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of ``log_probs`` (T, N, C) (log-softmax outputs; (T, C) unbatched) against
    ``targets``, either padded (N, S) or concatenated 1-d (sum(target_lengths),).

    ``input_lengths`` / ``target_lengths``: (N,) tensors or sequences. 'mean' divides each loss by its
    target length, then averages over the batch; 'sum' sums; 'none' returns (N,).
    """
    reduction = _reduction("ctc_loss", reduction)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = S.unsqueeze(log_probs, 1)
        targets = S.unsqueeze(targets, 0) if targets.ndim == 1 else targets
    if log_probs.ndim != 3:
        raise op_error("ctc_loss", f"log_probs must be (T, N, C) or (T, C), got shape {tuple(log_probs.shape)}",
                       log_probs)
    t_max, n, c = log_probs.shape
    xp = log_probs.device.xp
    in_len = _lengths(xp, input_lengths, n, "input lengths")
    tg_len = _lengths(xp, target_lengths, n, "target lengths")
    if bool((in_len > t_max).any()) or bool((in_len < 0).any()):
        raise op_error("ctc_loss", f"input_lengths must be in [0, {t_max}], got {in_len.tolist()}", log_probs)
    tg = targets._data
    if tg.ndim == 2:
        s_max = tg.shape[1]
        padded = tg
    else:  # concatenated targets: lay them out as a padded (N, S) matrix
        s_max = int(tg_len.max()) if n else 0
        starts = xp.concatenate([xp.zeros(1, dtype=xp.int64), xp.cumsum(tg_len)[:-1]])
        pos = starts[:, None] + xp.arange(max(s_max, 1))[None, :]
        valid = xp.arange(max(s_max, 1))[None, :] < tg_len[:, None]
        padded = xp.where(valid, tg[xp.where(valid, pos, 0)] if tg.size else 0, blank)[:, :s_max]
    if bool((tg_len > s_max).any()):
        raise op_error("ctc_loss", f"target_lengths {tg_len.tolist()} exceed the targets' length {s_max}", targets)
    length = 2 * s_max + 1
    ext = xp.full((n, length), blank, dtype=xp.int64)
    ext[:, 1::2] = padded[:, :s_max]
    # a skip from s-2 to s is allowed onto a label that differs from the label two positions back
    skip = xp.zeros((n, length), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    state_ok = xp.arange(length)[None, :] < (2 * tg_len + 1)[:, None]
    ext_t, skip_t = Tensor._make(ext), Tensor._make(skip)
    neg_col = Tensor._make(xp.full((n, 1), _NEG, dtype=log_probs.dtype))
    neg_cols = Tensor._make(xp.full((n, 2), _NEG, dtype=log_probs.dtype))
    start = xp.full((n, length), _NEG, dtype=log_probs.dtype)
    start[:, :2] = 0.0
    start[:, 1] = xp.where(tg_len > 0, 0.0, _NEG)
    from .indexing import gather
    emit0 = gather(log_probs[0], 1, ext_t)
    alpha = emit0 + Tensor._make(start)
    for t in range(1, t_max):
        shift1 = S.cat([neg_col, alpha[:, :-1]], 1)
        shift2 = E.where(skip_t, S.cat([neg_cols, alpha[:, :-2]], 1), _NEG) if length >= 2 else neg_col
        step = R.logsumexp(S.stack([alpha, shift1, shift2]), 0) + gather(log_probs[t], 1, ext_t)
        active = Tensor._make((t < in_len)[:, None])
        alpha = E.where(active, step, alpha)
    alpha = E.where(Tensor._make(state_ok), alpha, _NEG)
    last = Tensor._make((2 * tg_len)[:, None])
    prev = Tensor._make(xp.maximum(2 * tg_len - 1, 0)[:, None])
    end_prev = E.where(Tensor._make((tg_len > 0)[:, None]), gather(alpha, 1, prev), _NEG)
    total = R.logsumexp(S.cat([gather(alpha, 1, last), end_prev], 1), 1)
    loss = -total
    infinite = loss > 1e29
    if zero_infinity:
        loss = E.where(infinite, 0.0, loss)
    else:
        loss = E.where(infinite, float("inf"), loss)
    if reduction == "none":
        return S.reshape(loss, ()) if unbatched else loss
    if reduction == "sum":
        return R.sum(loss)
    denom = Tensor._make(xp.maximum(tg_len, 1).astype(log_probs.dtype))
    return R.mean(loss / denom)
