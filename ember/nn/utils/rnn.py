"""Variable-length batches for recurrent layers (``torch.nn.utils.rnn``).

A ``PackedSequence`` stores a batch of sequences time step by time step, dropping the padding:
``data`` (N, *) holds step 0 of every sequence, then step 1 of the sequences that are still running,
and so on, sequences sorted by decreasing length; ``batch_sizes[t]`` says how many sequences step t
has. ``nn.RNN`` / ``LSTM`` / ``GRU`` accept it directly, so padded steps neither change the outputs
nor receive gradient.

Packing and unpacking are a single gather (``index_select``) each, so they are differentiable and
the gradient of padded positions is exactly zero.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...autograd.tensor import Tensor
from ...ops import indexing as I
from ...ops import shape as S
from ...ops.creation import full, tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence", "invert_permutation"]


class PackedSequence(NamedTuple):
    """(data (N, *), batch_sizes (T,) int64 on the CPU, sorted_indices (B,) or None,
    unsorted_indices (B,) or None). Build it with ``pack_padded_sequence`` / ``pack_sequence``."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> "PackedSequence":
        """Move/cast ``data`` (and the index tensors to the same device); batch_sizes stay on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device

        def move(t):
            return None if t is None else t.to(dev)
        return PackedSequence(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def batch_sizes_list(self) -> list:
        return [int(b) for b in np.asarray(self.batch_sizes.numpy()).reshape(-1)]


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse permutation (``out[permutation[i]] = i``); None stays None."""
    if permutation is None:
        return None
    p = np.asarray(permutation.numpy(force=True))
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=p.dtype)
    return tensor(inv, device=permutation.device)


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        arr = np.asarray(lengths.numpy(force=True))
    else:
        arr = np.asarray(lengths)
    if arr.ndim != 1:
        raise ValueError(f"pack_padded_sequence: lengths must be 1-d, got shape {arr.shape}")
    return arr.astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) given each sequence's length.

    With ``enforce_sorted=True`` lengths must be in decreasing order; otherwise the batch is sorted
    here and ``sorted_indices`` / ``unsorted_indices`` record the permutation.
    """
    lens = _lengths_array(lengths)
    B = input.shape[0] if batch_first else input.shape[1] if input.ndim > 1 else 0
    T = input.shape[1] if batch_first else input.shape[0]
    if input.ndim < 2 or lens.size != B:
        raise ValueError(f"pack_padded_sequence: expected input (T, B, *) (or (B, T, *) with batch_first) and "
                         f"{B} lengths, got input {tuple(input.shape)} and {lens.size} lengths")
    if lens.size and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if lens.size and lens.max() > T:
        raise RuntimeError(f"pack_padded_sequence: a length ({int(lens.max())}) exceeds the sequence dim ({T})")
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                               "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                               "pack_sequence to sidestep this requirement if you do not need ONNX "
                               "exportability.")
        order = np.arange(B, dtype=np.int64)
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable").astype(np.int64)
        sorted_indices = tensor(order, device=input.device)
    lens_sorted = lens[order]
    max_len = int(lens_sorted[0])
    batch_sizes = (lens_sorted[None, :] > np.arange(max_len)[:, None]).sum(axis=1).astype(np.int64)
    # flat row of (t, sorted position j) in the padded input viewed as (T*B, *) or (B*T, *)
    rows = []
    for t in range(max_len):
        b = order[:batch_sizes[t]]
        rows.append(b * T + t if batch_first else t * B + b)
    idx = np.concatenate(rows)
    flat = S.reshape(input, (-1,) + tuple(input.shape[2:]))
    data = I.index_select(flat, 0, tensor(idx, device=input.device))
    return PackedSequence(data, tensor(batch_sizes), sorted_indices, invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None):
    """Inverse of ``pack_padded_sequence``: (padded (T, B, *) or (B, T, *), lengths (B,) int64), the
    batch in its original order and padded positions set to ``padding_value``."""
    data, bs = sequence.data, np.asarray(sequence.batch_sizes.numpy(force=True)).astype(np.int64)
    T, B, N = len(bs), int(bs[0]), data.shape[0]
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in "
                             f"input, but got total_length={total_length} and max sequence length being {T}")
        T = int(total_length)
    perm = (np.asarray(sequence.sorted_indices.numpy(force=True)) if sequence.sorted_indices is not None
            else np.arange(B))
    idx = np.full((T, B), N, dtype=np.int64)   # row N is the padding row appended below
    off = 0
    for t, b in enumerate(bs):
        idx[t, perm[:b]] = np.arange(off, off + b)
        off += b
    if batch_first:
        idx = idx.T
    pad_row = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    ext = S.cat([data, pad_row], 0)
    out = I.index_select(ext, 0, tensor(idx.reshape(-1), device=data.device))
    out = S.reshape(out, idx.shape + tuple(data.shape[1:]))
    lens_sorted = (bs[None, :] > np.arange(B)[:, None]).sum(axis=1)
    lengths = np.empty(B, dtype=np.int64)
    lengths[perm] = lens_sorted
    return out, tensor(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors (L_i, *) into (T, B, *) (or (B, T, *)), T = max L_i, padding with ``padding_value``
    on the right (or on the left with ``padding_side='left'``)."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    trail = tuple(seqs[0].shape[1:])
    for s in seqs:
        if tuple(s.shape[1:]) != trail:
            raise RuntimeError(f"pad_sequence: all sequences must share trailing dims, got {trail} and "
                               f"{tuple(s.shape[1:])}")
    lens = [int(s.shape[0]) for s in seqs]
    T, B, N = max(lens), len(seqs), sum(lens)
    idx = np.full((T, B), N, dtype=np.int64)
    off = 0
    for b, n in enumerate(lens):
        start = 0 if padding_side == "right" else T - n
        idx[start:start + n, b] = np.arange(off, off + n)
        off += n
    if batch_first:
        idx = idx.T
    ref = seqs[0]
    pad_row = full((1,) + trail, padding_value, dtype=ref.dtype, device=ref.device)
    ext = S.cat(seqs + [pad_row], 0)
    out = I.index_select(ext, 0, tensor(idx.reshape(-1), device=ref.device))
    return S.reshape(out, idx.shape + trail)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *) (decreasing L_i unless ``enforce_sorted=False``)."""
    lengths = [int(s.shape[0]) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """Split a padded batch back into a list of tensors (L_i, *)."""
    lens = _lengths_array(lengths)
    x = padded_sequences if batch_first else S.transpose(padded_sequences, 0, 1)
    return [x[b, :int(n)] for b, n in enumerate(lens)]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of tensors (L_i, *) a PackedSequence holds, in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
