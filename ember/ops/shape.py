"""Shape primitives and composites: reshape, permute, expand, cat, split, flip, roll, pad, tile,
tril/triu and the many names built on them (view, flatten, squeeze, transpose, stack, chunk...).

``reshape``, ``permute``, ``expand`` and ``split`` return views that share storage (and the version
counter) with their input, as PyTorch's do.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from . import elementwise as E
from ._util import normalize_dim


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


@register_op("reshape")
class Reshape(Function):
    """y = x with a new shape (a view when the layout allows); -1 infers one dim."""

    view_of_input = 0

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return Reshape.apply(gy, shape=list(ctx.in_shape))


def reshape(input: Tensor, *shape) -> Tensor:
    shape = _shape_arg(shape)
    if tuple(input.shape) == shape:
        return input
    _check_reshape(input, shape)
    return Reshape.apply(input, shape=list(shape))


def _check_reshape(x: Tensor, shape: tuple) -> None:
    known = 1
    unknown = 0
    for s in shape:
        if s == -1:
            unknown += 1
        else:
            known *= s
    n = x.numel()
    if unknown > 1 or (unknown == 0 and known != n) or (unknown == 1 and (known == 0 or n % known)):
        raise op_error("reshape", f"shape {list(shape)} is invalid for input of size {n}", x)


view = reshape


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, tuple(other.shape))


reshape_as = view_as


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if input.ndim == 0:
        return reshape(input, (1,))
    s = normalize_dim(start_dim, input.ndim, "flatten")
    e = normalize_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise op_error("flatten", f"start_dim {start_dim} cannot come after end_dim {end_dim}", input)
    shape = tuple(input.shape)
    return reshape(input, shape[:s] + (-1 if 0 not in shape[s:e + 1] else 0,) + shape[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    d = normalize_dim(dim, input.ndim, "unflatten")
    shape = tuple(input.shape)
    return reshape(input, shape[:d] + tuple(sizes) + shape[d + 1:])


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dims (all, or those in ``dim``; others are left as they are)."""
    shape = tuple(input.shape)
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
    else:
        dims = {normalize_dim(d, input.ndim, "squeeze") for d in ((dim,) if isinstance(dim, int) else dim)}
        dims = {d for d in dims if shape[d] == 1} if input.ndim else set()
    return reshape(input, tuple(s for i, s in enumerate(shape) if i not in dims))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    d = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    shape = tuple(input.shape)
    return reshape(input, shape[:d] + (1,) + shape[d:])


@register_op("permute")
class Permute(Function):
    """y = x with dims reordered by ``dims`` (a view)."""

    view_of_input = 0

    @staticmethod
    def forward(ctx, x, *, dims):
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, gy):
        return Permute.apply(gy, dims=[int(i) for i in np.argsort(ctx.attrs["dims"])])


def permute(input: Tensor, *dims) -> Tensor:
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise op_error("permute", f"number of dims {len(dims)} doesn't match the input's {input.ndim}", input)
    dims = [normalize_dim(d, input.ndim, "permute") for d in dims]
    if sorted(dims) != list(range(input.ndim)):
        raise op_error("permute", f"dims {dims} is not a permutation", input)
    if dims == list(range(input.ndim)):
        return input
    return Permute.apply(input, dims=dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    n = input.ndim
    if n < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    d0, d1 = normalize_dim(dim0, n, "transpose"), normalize_dim(dim1, n, "transpose")
    dims = list(range(n))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, dims)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a matrix (0-d and 1-d tensors are returned as they are)."""
    if input.ndim > 2:
        raise op_error("t", f"expects a tensor with <= 2 dimensions, but got {input.ndim}", input)
    return transpose(input, 0, 1) if input.ndim == 2 else input


def movedim(input: Tensor, source, destination) -> Tensor:
    n = input.ndim
    src = [normalize_dim(d, n, "movedim") for d in ((source,) if isinstance(source, int) else source)]
    dst = [normalize_dim(d, n, "movedim") for d in ((destination,) if isinstance(destination, int) else destination)]
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


@register_op("expand")
class Expand(Function):
    """y = x broadcast to ``shape`` (a read-only view); the gradient is summed back."""

    view_of_input = 0

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.in_shape = x.shape
        return ctx.xp.broadcast_to(x, tuple(shape))

    @staticmethod
    def backward(ctx, gy):
        return sum_to_shape(gy, ctx.in_shape)


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to ``sizes``; -1 keeps a dim; new dims are added at the front."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise op_error("expand", f"the number of sizes provided ({len(sizes)}) must be greater or equal "
                                 f"to the number of dimensions in the tensor ({input.ndim})", input)
    if any(s == -1 for s in sizes[:lead]):
        raise op_error("expand", f"the expanded size -1 isn't allowed in a leading, non-existing dimension; "
                                 f"target sizes {list(sizes)}", input)
    shape = tuple(input.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    for i, s in enumerate(input.shape):
        if s != 1 and s != shape[i + lead]:
            raise op_error("expand", f"the expanded size of the tensor ({shape[i + lead]}) must match the "
                                     f"existing size ({s}) at non-singleton dimension {i + lead}; target "
                                     f"sizes {list(sizes)}", input)
    if shape == tuple(input.shape):
        return input
    return Expand.apply(input, shape=list(shape))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, tuple(other.shape))


broadcast_to = expand


def broadcast_shapes(*shapes) -> tuple:
    return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))


def broadcast_tensors(*tensors: Tensor) -> tuple:
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


def sum_to_shape(g: Tensor, shape) -> Tensor:
    """Sum ``g`` over the dims that broadcasting added or stretched, giving ``shape``.

    Raises ValueError when ``shape`` does not broadcast to ``g``'s shape.
    """
    shape = tuple(shape)
    gshape = tuple(g.shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead < 0:
        raise ValueError(f"cannot sum shape {gshape} to {shape}")
    dims = list(range(lead))
    for i, s in enumerate(shape):
        gs = gshape[lead + i]
        if s == 1 and gs != 1:
            dims.append(lead + i)
        elif s != gs:
            raise ValueError(f"cannot sum shape {gshape} to {shape}")
    from .reduction import Sum
    out = Sum.apply(g, dim=dims, keepdim=True, dtype=None) if dims else g
    return reshape(out, shape)


@register_op("tile")
class Tile(Function):
    """y = x repeated ``reps`` times along each dim (len(reps) == x.ndim)."""

    @staticmethod
    def forward(ctx, x, *, reps):
        ctx.in_shape = x.shape
        return ctx.xp.tile(x, tuple(reps))

    @staticmethod
    def backward(ctx, gy):
        split = []
        for r, s in zip(ctx.attrs["reps"], ctx.in_shape):
            split += [r, s]
        g = reshape(gy, tuple(split))
        from .reduction import sum
        return sum(g, tuple(range(0, len(split), 2)))


def repeat(input: Tensor, *sizes) -> Tensor:
    """PyTorch's ``Tensor.repeat``: tile ``input`` ``sizes`` times (len(sizes) >= ndim)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise op_error("repeat", f"number of repeat dims ({len(sizes)}) can not be smaller than the number "
                                 f"of dimensions of the tensor ({input.ndim})", input)
    x = reshape(input, (1,) * (len(sizes) - input.ndim) + tuple(input.shape))
    return Tile.apply(x, reps=list(sizes))


def tile(input: Tensor, *dims) -> Tensor:
    """Repeat ``input`` ``dims`` times per dim; missing leading dims count as 1 (``x.tile(2, 1)`` or
    ``tile(x, (2, 1))``)."""
    dims = _shape_arg(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input: Tensor, repeats: int, dim: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times along ``dim`` (flattened when None)."""
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    d = normalize_dim(dim, input.ndim, "repeat_interleave")
    x = unsqueeze(input, d + 1)
    shape = list(x.shape)
    shape[d + 1] = int(repeats)
    out = expand(x, shape)
    return flatten(out, d, d + 1)


@register_op("cat")
class Cat(Function):
    """y = concatenation of the inputs along ``dim``; the gradient is split back."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.sizes = [x.shape[dim] for x in xs]
        return ctx.xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        return Split.apply(gy, sizes=ctx.sizes, dim=ctx.attrs["dim"])


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = [t for t in tensors]
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of Tensors")
    # PyTorch skips legacy 1-d empty tensors in cat.
    nonempty = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = nonempty[0]
    d = normalize_dim(dim, ref.ndim, "cat")
    for k, t in enumerate(nonempty):
        if t.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape)) if i != d):
            raise op_error("cat", f"sizes of tensors must match except in dimension {d}; tensor 0 has "
                                  f"shape {tuple(ref.shape)} and tensor {k} has shape {tuple(t.shape)}", ref, t)
    dt = nonempty[0].dtype
    if any(t.dtype != dt for t in nonempty):
        dt = _dtype.result_type(*nonempty)
        nonempty = [E.cast(t, dt) for t in nonempty]
    return Cat.apply(*nonempty, dim=d)  # also for one tensor: cat always returns new memory


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of Tensors")
    for k, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise op_error("stack", f"expects each tensor to be equal size, but got {tuple(tensors[0].shape)} "
                                    f"at entry 0 and {tuple(t.shape)} at entry {k}", tensors[0], t)
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors) -> Tensor:
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([t if t.ndim >= 2 else reshape(t, (1, -1)) for t in tensors], 0)


@register_op("split")
class Split(Function):
    """Views of x cut along ``dim`` into pieces of ``sizes``; the gradient is their concatenation."""

    view_of_input = 0

    @staticmethod
    def forward(ctx, x, *, sizes, dim):
        bounds = np.cumsum(sizes)[:-1].tolist()
        return tuple(ctx.xp.split(x, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return Cat.apply(*grads, dim=ctx.attrs["dim"])


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """An int gives pieces of that size (the last may be smaller); a list gives the sizes."""
    d = normalize_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise op_error("split", f"split_size must be positive, got {step}", tensor)
        sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise op_error("split", f"split sizes {sizes} don't add up to the size {n} of dim {d}", tensor)
    return Split.apply(tensor, sizes=sizes, dim=d)


def tensor_split_sizes(n: int, chunks: int) -> list:
    step = -(-n // chunks)
    return [min(step, n - i) for i in range(0, n, step)] if n else [0]


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of ceil(n / chunks) (fewer when n is small), as PyTorch."""
    d = normalize_dim(dim, input.ndim, "chunk")
    return split(input, tensor_split_sizes(input.shape[d], chunks), d)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    d = normalize_dim(dim, input.ndim, "unbind")
    return tuple(squeeze(p, d) for p in split(input, 1, d))


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    d = normalize_dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    if start < 0:
        start += n
    if not (0 <= start and start + length <= n and length >= 0):
        raise op_error("narrow", f"start ({start}) + length ({length}) exceeds dimension size ({n})", input)
    key = (slice(None),) * d + (slice(start, start + length),)
    return input[key]


@register_op("flip")
class Flip(Function):
    """y = x reversed along ``dims``."""

    @staticmethod
    def forward(ctx, x, *, dims):
        return ctx.xp.flip(x, axis=tuple(dims))

    @staticmethod
    def backward(ctx, gy):
        return Flip.apply(gy, dims=ctx.attrs["dims"])


def flip(input: Tensor, *dims) -> Tensor:
    """Reverse the order along ``dims`` (``flip(x, [0, 1])``, ``x.flip(0, 1)`` or ``x.flip(0)``)."""
    dims = [normalize_dim(d, input.ndim, "flip") for d in _shape_arg(dims)]
    if input.ndim == 0:
        dims = []
    return Flip.apply(input, dims=dims)


def fliplr(input: Tensor) -> Tensor:
    return flip(input, [1])


def flipud(input: Tensor) -> Tensor:
    return flip(input, [0])


@register_op("roll")
class Roll(Function):
    """y = x rolled by ``shifts`` along ``dims`` (flattened when dims is None)."""

    @staticmethod
    def forward(ctx, x, *, shifts, dims=None):
        return ctx.xp.roll(x, shifts, axis=None if dims is None else tuple(dims))

    @staticmethod
    def backward(ctx, gy):
        a = ctx.attrs
        return Roll.apply(gy, shifts=[-s for s in a["shifts"]], dims=a["dims"])


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    if dims is not None:
        dims = [normalize_dim(d, input.ndim, "roll") for d in ((dims,) if isinstance(dims, int) else dims)]
        if len(dims) != len(shifts):
            raise op_error("roll", f"shifts {shifts} and dims {dims} must have the same length", input)
    return Roll.apply(input, shifts=shifts, dims=dims)


@register_op("constant_pad")
class ConstantPad(Function):
    """y = x padded with ``value``; ``pad_width`` lists (before, after) per dim, all >= 0."""

    @staticmethod
    def forward(ctx, x, *, pad_width, value=0.0):
        return ctx.xp.pad(x, [tuple(p) for p in pad_width], mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, gy):
        key = tuple(slice(b, gy.shape[i] - a) for i, (b, a) in enumerate(ctx.attrs["pad_width"]))
        return gy[key]


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """PyTorch's ``F.pad``: ``pad`` = (left, right, top, bottom, ...) from the last dim backwards.

    Modes: 'constant' (with ``value``), 'reflect', 'replicate', 'circular'. Negative constant pads crop.
    """
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise op_error("pad", f"padding length {len(pad)} must be even and at most 2 * ndim", input)
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if mode == "constant":
        crop = tuple(slice(max(-b, 0), input.shape[i] - max(-a, 0)) for i, (b, a) in enumerate(widths))
        if any(b < 0 or a < 0 for b, a in widths):
            input = input[crop]
            widths = [(max(b, 0), max(a, 0)) for b, a in widths]
        if all(b == 0 and a == 0 for b, a in widths):
            return input
        return ConstantPad.apply(input, pad_width=[list(w) for w in widths], value=0.0 if value is None else float(value))
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: unknown mode {mode!r}; expected constant, reflect, replicate or circular")
    from .indexing import index_select
    from .creation import tensor
    out = input
    for d, (before, after) in enumerate(widths):
        if before == 0 and after == 0:
            continue
        n = input.shape[d]
        if mode == "reflect" and (before >= n or after >= n):
            raise op_error("pad", f"reflect padding ({before}, {after}) must be smaller than the input size "
                                  f"{n} of dim {d}", input)
        idx = np.arange(-before, n + after)
        if mode == "reflect":
            period = 2 * (n - 1) if n > 1 else 1
            idx = np.abs(idx) % period
            idx = np.where(idx >= n, period - idx, idx)
        elif mode == "replicate":
            idx = np.clip(idx, 0, n - 1)
        else:
            idx = idx % n
        out = index_select(out, d, tensor(idx, device=input.device))
    return out


@register_op("tril")
class Tril(Function):
    """Lower (or, with upper=True, upper) triangle of the last two dims; the rest set to 0."""

    @staticmethod
    def forward(ctx, x, *, diagonal=0, upper=False):
        return ctx.xp.triu(x, diagonal) if upper else ctx.xp.tril(x, diagonal)

    @staticmethod
    def backward(ctx, gy):
        return Tril.apply(gy, **ctx.attrs)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    _check_matrix("tril", input)
    return Tril.apply(input, diagonal=int(diagonal), upper=False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    _check_matrix("triu", input)
    return Tril.apply(input, diagonal=int(diagonal), upper=True)


def _check_matrix(op: str, x: Tensor) -> None:
    if x.ndim < 2:  # NumPy would silently broadcast a vector to a matrix
        raise op_error(op, f"input tensor must have at least 2 dimensions, got shape {tuple(x.shape)}", x)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, appended as the last dim."""
    x = movedim(input, (dim1, dim2), (-2, -1))
    rows, cols = x.shape[-2], x.shape[-1]
    if offset >= 0:
        n = max(min(rows, cols - offset), 0)
        i, j = np.arange(n), np.arange(n) + offset
    else:
        n = max(min(rows + offset, cols), 0)
        i, j = np.arange(n) - offset, np.arange(n)
    from .creation import tensor
    dev = input.device
    return x[..., tensor(i, device=dev), tensor(j, device=dev)]


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-d input: a matrix with it on the ``diagonal``; 2-d input: that diagonal."""
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    n = input.shape[0] + abs(diagonal)
    from .indexing import index_put_values
    rows = np.arange(input.shape[0]) + max(-diagonal, 0)
    cols = np.arange(input.shape[0]) + max(diagonal, 0)
    base = E.full_like_op(input, 0.0, shape=(n, n))
    return index_put_values(base, (rows, cols), input)


def diag_embed(input: Tensor) -> Tensor:
    n = input.shape[-1]
    eye = triu(tril(E.full_like_op(input, 1.0, shape=(n, n))))
    return unsqueeze(input, -1) * eye


@register_op("contiguous")
class Contiguous(Function):
    """y = x in C-contiguous memory order (a copy when x was strided)."""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, gy):
        return gy


def contiguous(input: Tensor) -> Tensor:
    if input._data.flags.c_contiguous:
        return input
    return Contiguous.apply(input)


@register_op("clone")
class Clone(Function):
    """y = a copy of x."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy


def clone(input: Tensor) -> Tensor:
    return Clone.apply(input)
