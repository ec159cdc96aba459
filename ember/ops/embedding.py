"""Embedding lookup: the ``embedding`` primitive (rows of a weight table gathered by index) and its
dense gradient kernel ``embedding_backward`` (scatter-add of the output gradient into the rows)."""

from __future__ import annotations

from ..autograd.function import Function, op_error, register_op
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..backend import kernels


@register_op("embedding")
class Embedding(Function):
    """y = weight[indices]: weight (V, D), integer indices (*) -> (*, D).

    The gradient of ``weight`` is ``embedding_backward``: rows of the gradient summed per index, the
    ``padding_idx`` row left at zero, optionally divided by each index's frequency in the batch.
    """

    @staticmethod
    def forward(ctx, weight, indices, *, padding_idx=None, scale_grad_by_freq=False):
        ctx.save_for_backward(ctx.input(1))
        ctx.num_weights = weight.shape[0]
        return weight[indices]

    @staticmethod
    def backward(ctx, gy):
        (indices,) = ctx.saved_tensors
        a = ctx.attrs
        return EmbeddingBackward.apply(gy, indices, num_weights=ctx.num_weights, padding_idx=a.get("padding_idx"),
                                       scale_grad_by_freq=a.get("scale_grad_by_freq", False)), None


@register_op("embedding_backward")
class EmbeddingBackward(Function):
    """gw = zeros(num_weights, D); gw[indices[i]] += gy[i] (row padding_idx stays 0). Linear in gy, so
    its own gradient is an embedding lookup of the incoming gradient."""

    @staticmethod
    def forward(ctx, gy, indices, *, num_weights, padding_idx=None, scale_grad_by_freq=False):
        xp = ctx.xp
        d = gy.shape[-1]
        flat_idx = indices.reshape(-1)
        rows = gy.reshape(-1, d)
        if scale_grad_by_freq:
            counts = xp.bincount(flat_idx, minlength=num_weights)
            rows = rows / counts[flat_idx].astype(gy.dtype)[:, None]
        gw = xp.zeros((num_weights, d), dtype=gy.dtype)
        kernels.scatter_add(xp, gw, flat_idx, rows)
        if padding_idx is not None:
            gw[padding_idx] = 0
        ctx.save_for_backward(ctx.input(1))
        return gw

    @staticmethod
    def backward(ctx, ggw):
        (indices,) = ctx.saved_tensors
        a = ctx.attrs
        gg = Embedding.apply(ggw, indices, padding_idx=None, scale_grad_by_freq=False)
        if a.get("padding_idx") is not None or a.get("scale_grad_by_freq", False):
            xp = indices.device.xp
            idx = indices._data
            factor = xp.ones(idx.shape, dtype=ggw.dtype)
            if a.get("scale_grad_by_freq", False):
                counts = xp.bincount(idx.reshape(-1), minlength=a["num_weights"])
                factor = factor / counts[idx].astype(ggw.dtype)
            if a.get("padding_idx") is not None:
                factor = factor * (idx != a.get("padding_idx"))
            gg = gg * Tensor._make(factor[..., None])
        return gg, None


def _renorm_(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> None:
    """In place, without autograd: rescale the rows of ``weight`` referenced by ``indices`` whose
    ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm`` (PyTorch's embedding_renorm_)."""
    xp = weight.device.xp
    w = weight._data
    rows = xp.unique(indices._data.reshape(-1))
    sub = w[rows]
    if norm_type == float("inf"):
        norms = xp.abs(sub).max(axis=1)
    else:
        norms = (xp.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    w[rows] = sub * scale[:, None]
    weight._vc.value += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` (V, D) for integer ``input`` (*) -> (*, D) (PyTorch's ``F.embedding``).

    ``padding_idx``: that row gets no gradient. ``max_norm``: referenced rows with a larger norm are
    renormalized in place first. ``sparse=True`` (sparse gradients) is not supported.
    """
    if input._data.dtype.kind not in "iu":
        raise op_error("embedding", f"indices must be an integer tensor, got dtype {input.dtype}", input)
    if weight.ndim != 2:
        raise op_error("embedding", f"weight must be 2-d (num_embeddings, embedding_dim), got shape "
                                    f"{tuple(weight.shape)}", weight)
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported; use sparse=False")
    v = weight.shape[0]
    if padding_idx is not None:
        if not -v <= padding_idx < v:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings ({v})")
        padding_idx = int(padding_idx) % v
    if input.numel():
        lo, hi = int(input._data.min()), int(input._data.max())
        if lo < 0 or hi >= v:
            raise op_error("embedding", f"index out of range: indices must be in [0, {v}), got values in "
                                        f"[{lo}, {hi}]", input, weight)
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, input, float(max_norm), float(norm_type))
    return Embedding.apply(weight, input, padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxes of bags of embeddings without materializing the per-token outputs as a
    ragged list (PyTorch's ``F.embedding_bag``) -> (B, D).

    Bags are the rows of a 2-d ``input`` (B, N), or the slices of a 1-d ``input`` that start at
    ``offsets`` (B,) (B + 1 with ``include_last_offset``). Entries equal to ``padding_idx`` are left
    out; empty bags give zeros. ``per_sample_weights`` (input's shape) scales entries (mode 'sum').
    The bags are laid out as a padded (B, L) index matrix and reduced with ops, vectorized.
    """
    from . import elementwise as E
    from . import reduction as R
    from . import shape as S
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}')")
    xp = input.device.xp
    idx = input._data
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as input is treated as "
                             "a mini-batch of fixed length sequences")
        b, length = idx.shape
        dense = idx
        mask = xp.ones(idx.shape, dtype=bool)
        flat_pos = xp.arange(idx.size).reshape(idx.shape)
    elif input.ndim == 1:
        if offsets is None or offsets.ndim != 1:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor when input is 1D")
        starts = offsets._data.astype(xp.int64)
        if include_last_offset:
            ends = starts[1:]
            starts = starts[:-1]
        else:
            ends = xp.concatenate([starts[1:], xp.asarray([idx.size], dtype=xp.int64)])
        if starts.size and (int(starts[0]) != 0 or bool((ends < starts).any())):
            raise ValueError("embedding_bag: offsets must start at 0 and be non-decreasing")
        b = starts.size
        sizes = ends - starts
        length = int(sizes.max()) if b else 0
        pos = starts[:, None] + xp.arange(max(length, 1))[None, :]
        mask = xp.arange(max(length, 1))[None, :] < sizes[:, None]
        flat_pos = xp.where(mask, pos, 0)
        dense = idx[flat_pos] if idx.size else xp.zeros(flat_pos.shape, dtype=idx.dtype)
    else:
        raise op_error("embedding_bag", f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}",
                       input)
    if padding_idx is not None:
        padding_idx = int(padding_idx) % weight.shape[0]
        mask = mask & (dense != padding_idx)
    safe = Tensor._make(xp.where(mask, dense, 0).astype(xp.int64))
    rows = embedding(safe, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)  # (B, L, D)
    m = Tensor._make(mask[..., None].astype(weight.dtype))
    if mode == "max":
        neg = Tensor._make(xp.asarray(-xp.inf, dtype=weight.dtype))
        best = R.amax(E.where(Tensor._make(mask[..., None]), rows, neg), 1)
        empty = Tensor._make(~mask.any(axis=1)[:, None])
        return E.where(empty, 0.0, best)
    if per_sample_weights is not None:
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise op_error("embedding_bag", f"per_sample_weights shape {tuple(per_sample_weights.shape)} must match "
                                            f"input shape {tuple(input.shape)}", input, per_sample_weights)
        psw = S.reshape(per_sample_weights, (-1,))[Tensor._make(flat_pos)]
        m = m * S.unsqueeze(psw, -1)
    total = R.sum(rows * m, 1)
    if mode == "sum":
        return total
    counts = Tensor._make(xp.maximum(mask.sum(axis=1), 1)[:, None].astype(weight.dtype))
    return total / counts
