"""Convolutions (PyTorch's ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d``) as im2col + GEMM.

Three primitives per spatial rank (``conv2d``, ``conv2d_grad_input``, ``conv2d_grad_weight``, and the
same for 1-d and 3-d), all computing on ``(N, C, *spatial)`` arrays:

- ``conv``: y = W * x (+ b). im2col is a strided view of the padded input copied once into
  ``(groups, C/g * prod(kernel), N * prod(out))`` columns; one GEMM per group (the batch folded into
  the GEMM's columns) gives the output in channel-major memory, returned as an (N, C, ...) view.
- ``conv_grad_input``: gx = W^T * gy: one GEMM per group to columns, then col2im (a strided
  scatter-add per kernel position, skipping taps in the padding). It is also the transposed
  convolution's forward.
- ``conv_grad_weight``: gw = gy * cols(x)^T: one GEMM per group with the batch folded into K.

A convolution is bilinear in (x, W), so each primitive's backward is written with the other two
(e.g. d grad_input / d gy is a convolution), and gradients of any order work.

Attributes (JSON, recorded in graphs): ``stride`` and ``dilation`` are lists of ints, ``padding`` is
a list of ``[lo, hi]`` pairs (asymmetric for ``padding='same'`` with even kernels), ``groups`` an int.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from ..backend import im2col as K
from ..backend import parallel as P
from . import shape as S
from .reduction import Sum

# ---------------------------------------------------------------------------------------------------
# Array-level kernels (xp arrays in, xp arrays out)


def channel_major(xp, a):
    """A ``(C, N, *s)`` C-contiguous array with the data of the ``(N, C, *s)`` array ``a``.

    Free (a view) when ``a`` is already laid out channel-major, as convolution outputs are.
    """
    t = a.swapaxes(0, 1)
    return t if t.flags.c_contiguous else xp.ascontiguousarray(t)


def _is_channel_major(a) -> bool:
    """Whether ``a`` (N, C, ...) is laid out with the batch inside the channel (a view of (C, N, ...))."""
    return a.ndim > 1 and a.shape[0] > 1 and a.shape[1] > 1 and a.strides[1] > a.strides[0]


def _padded_shape(x_shape, padding) -> tuple:
    return tuple(x_shape[:2]) + tuple(n + lo + hi for n, (lo, hi) in zip(x_shape[2:], padding))


class _ColsScratch:
    """Worker ``i``'s buffers for im2col of up to ``chunk`` samples of ``x`` (N, C, *s): the padded
    input (channel-major when ``x`` is) and the flat columns, kept workspaces (``backend.parallel``)."""

    def __init__(self, xp, x, chunk, padding, cols_size, i):
        self.channel_major = _is_channel_major(x)
        self.pad = None
        if any(lo or hi for lo, hi in padding):
            shape = _padded_shape((chunk,) + tuple(x.shape[1:]), padding)
            if self.channel_major:
                shape = (shape[1], shape[0]) + shape[2:]                            # (C, chunk, *padded)
            self.pad = P.workspace(xp, ("conv.pad", i), shape, x.dtype)
        self.cols = P.workspace(xp, ("conv.cols", i), (cols_size,), x.dtype)

    def padded(self, xp, x, padding):
        """``x`` (N' <= chunk samples) padded, a view into the buffer."""
        if self.pad is None:
            return x
        if self.channel_major:
            return K.pad_spatial(xp, x.swapaxes(0, 1), padding, out=self.pad[:, :x.shape[0]]).swapaxes(0, 1)
        return K.pad_spatial(xp, x, padding, out=self.pad[:x.shape[0]])


def _cols(xp, x, ksize, stride, padding, dilation, groups, out=None, scratch=None):
    """im2col: ``(groups, C/g * prod(kernel), N * prod(out))`` contiguous columns and the out shape.

    The batch is folded into the GEMM's inner dim, so a convolution is one GEMM per group. The copy
    reads the strided window view with the output's last dim innermost (contiguous runs for stride
    1). ``out`` (default: every window that fits) may ask for fewer window positions. ``scratch``
    (a ``_ColsScratch``) provides the buffers; otherwise they are allocated.
    """
    if scratch is not None:
        xpad = scratch.padded(xp, x, padding)
    elif _is_channel_major(x):   # pad in the layout the data already has
        xpad = K.pad_spatial(xp, x.swapaxes(0, 1), padding).swapaxes(0, 1)
    else:
        xpad = K.pad_spatial(xp, x, padding)
    if out is None:
        out = tuple(K.out_size(n, k, s, 0, 0, d) for n, k, s, d in zip(xpad.shape[2:], ksize, stride, dilation))
    v = K.windows(xp, xpad, ksize, stride, dilation, out)          # (N, C, *kernel, *out) view
    n, c = x.shape[:2]
    nd = len(ksize)
    v = v.transpose((1,) + tuple(range(2, 2 + nd)) + (0,) + tuple(range(2 + nd, 2 + 2 * nd)))
    shape = (groups, c // groups * K.prod(ksize), n * K.prod(out))
    if scratch is None:
        return v.reshape(shape), out                                 # the one copy
    cols = scratch.cols[:v.size].reshape(v.shape)
    cols[...] = v                                                    # the one copy, into the buffer
    return cols.reshape(shape), out


def _grouped_channel_major(gy, groups, buf=None):
    """``gy`` (N', O, *out) as ``(groups, O/g, N' * prod(out))``: a view when ``gy`` is channel-major,
    else a copy (into ``buf``, a flat buffer, when given)."""
    g = gy.swapaxes(0, 1)
    shape = (groups, gy.shape[1] // groups, -1)
    if buf is None or _is_channel_major(gy) or gy.shape[0] == 1:
        return g.reshape(shape)
    dst = buf[:g.size].reshape(g.shape)
    dst[...] = g
    return dst.reshape(shape)


# All three kernels split the batch into chunks (``backend.parallel.map_chunks``): each chunk's
# im2col columns stay in the cache between the copy and the GEMM, and chunks run on all cores, each
# thread with its own scratch buffers. Convolution outputs (and input gradients) are returned as
# (N, C, *s) views of channel-major (C, N, *s) memory: the GEMM produces that order, and the next
# layer's im2col and the weight gradient's GEMM consume it without a transpose copy. Elementwise
# ops keep the layout.


def _chunking(xp, x_shape, ksize, out, itemsize):
    """(samples per chunk, im2col elements per chunk)."""
    per_sample = x_shape[1] * K.prod(ksize) * K.prod(out)
    chunk = P.chunk_size(xp, x_shape[0], per_sample * itemsize)
    return chunk, per_sample * chunk


def conv_forward(xp, x, w, b, stride, padding, dilation, groups):
    """y (N, O, *out) as a view of channel-major memory."""
    n, o = x.shape[0], w.shape[0]
    out = tuple(K.out_size(s, k, st, lo, hi, d)
                for s, k, st, (lo, hi), d in zip(x.shape[2:], w.shape[2:], stride, padding, dilation))
    npix = K.prod(out)
    y = xp.empty((groups, o // groups, n * npix), x.dtype)
    wg = w.reshape(groups, o // groups, -1)
    bias = None if b is None else b.reshape(groups, o // groups, 1)
    chunk, cols_size = _chunking(xp, x.shape, w.shape[2:], out, x.itemsize)

    def run(n0, n1, scratch):
        cols, _ = _cols(xp, x[n0:n1], w.shape[2:], stride, padding, dilation, groups, scratch=scratch)
        yc = y[:, :, n0 * npix:n1 * npix]
        if xp is np or n1 - n0 == n:
            xp.matmul(wg, cols, out=yc)                               # (g, O/g, N'*P), in place
        else:   # CuPy's matmul wants a contiguous ``out``; a chunk of y is a strided view
            yc[...] = xp.matmul(wg, cols)
        if bias is not None:
            yc += bias

    P.map_chunks(xp, n, chunk, run, 2.0 * n * npix * w.size,
                 scratch=lambda i: _ColsScratch(xp, x, chunk, padding, cols_size, i))
    return y.reshape((o, n) + out).swapaxes(0, 1)


def conv_grad_input(xp, gy, w, x_shape, stride, padding, dilation, groups):
    """gx (``x_shape``) as a view of channel-major memory: W^T gy to columns, then col2im."""
    n, o = gy.shape[:2]
    out = tuple(gy.shape[2:])
    c, nd, npix = x_shape[1], len(out), K.prod(out)
    # W^T copied contiguous (it is small): OpenBLAS runs this GEMM measurably faster than with the
    # transposed view (~10% of a training step in the convnet benchmark)
    wt = xp.ascontiguousarray(w.reshape(groups, o // groups, -1).transpose(0, 2, 1))
    gx = xp.empty((c, n) + tuple(x_shape[2:]), gy.dtype)
    chunk, cols_size = _chunking(xp, x_shape, w.shape[2:], out, gy.itemsize)

    def run(n0, n1, scratch):
        cols_buf, gy_buf = scratch
        g = _grouped_channel_major(gy[n0:n1], groups, gy_buf)
        cols = cols_buf[:wt.shape[0] * wt.shape[1] * g.shape[2]].reshape(wt.shape[:2] + g.shape[2:])
        xp.matmul(wt, g, out=cols)                                    # (g, C/g*k, N'*P)
        cols = cols.reshape((c,) + tuple(w.shape[2:]) + (n1 - n0,) + out)
        cols = cols.transpose((0, 1 + nd) + tuple(range(1, 1 + nd)) + tuple(range(2 + nd, 2 + 2 * nd)))
        # straight into the unpadded gx: taps that fall in the padding are skipped
        K.col2im_cropped(xp, cols, tuple(x_shape[2:]), padding, stride, dilation, out=gx[:, n0:n1])

    P.map_chunks(xp, n, chunk, run, 2.0 * n * npix * w.size,
                 scratch=lambda i: (P.workspace(xp, ("conv.cols", i), (cols_size,), gy.dtype),
                                    P.workspace(xp, ("conv.gy", i), (chunk * o * npix,), gy.dtype)))
    return gx.swapaxes(0, 1)


def conv_grad_weight(xp, gy, x, w_shape, stride, padding, dilation, groups):
    """gw (``w_shape``): per chunk one GEMM per group with the chunk's batch folded into K, summed."""
    n, o = gy.shape[:2]
    if n == 0:  # an empty batch contributes nothing
        return xp.zeros(tuple(w_shape), gy.dtype)
    out = tuple(gy.shape[2:])
    chunk, cols_size = _chunking(xp, x.shape, w_shape[2:], out, x.itemsize)

    def run(n0, n1, scratch):
        cols_scratch, gy_buf = scratch
        # gy's grid, not every window that fits x: after a transposed conv with output_padding >= stride
        # (allowed when < dilation), x has trailing rows that no window of gy's grid starts from.
        cols, _ = _cols(xp, x[n0:n1], w_shape[2:], stride, padding, dilation, groups, out=out,
                        scratch=cols_scratch)
        g = _grouped_channel_major(gy[n0:n1], groups, gy_buf)
        # Multithreaded OpenBLAS is several times slower for such products when the output has few
        # rows, so the larger of the two small dims goes first: gw = g @ cols^T, or (cols @ g^T)^T.
        if cols.shape[1] >= g.shape[1]:
            return xp.matmul(cols, g.transpose(0, 2, 1)).transpose(0, 2, 1)   # (g, O/g, C/g*k)
        return xp.matmul(g, cols.transpose(0, 2, 1))

    parts = P.map_chunks(xp, n, chunk, run, 2.0 * n * K.prod(out) * K.prod(w_shape),
                         scratch=lambda i: (_ColsScratch(xp, x, chunk, padding, cols_size, i),
                                            P.workspace(xp, ("conv.gy", i), (chunk * o * K.prod(out),), gy.dtype)))
    gw = parts[0] if len(parts) == 1 else sum(parts[1:], parts[0])
    return xp.ascontiguousarray(gw).reshape(w_shape)


# ---------------------------------------------------------------------------------------------------
# Primitives (one family per spatial rank; the classes share their code through ``_nd``)

_FAMILY: dict = {}

def _attrs(a):
    return dict(stride=a["stride"], padding=a["padding"], dilation=a["dilation"], groups=a["groups"])


class _Conv(Function):
    """y = conv(x, w) + b: x (N, C, *s), w (O, C/groups, *k), b (O,) or absent -> (N, O, *out)."""

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, dilation, groups):
        needs = ctx.needs_input_grad
        ctx.save_for_backward(ctx.input(0) if needs[1] else None, ctx.input(1) if needs[0] else None)
        ctx.x_shape, ctx.w_shape = list(x.shape), list(w.shape)
        return conv_forward(ctx.xp, x, w, b, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        conv, gin, gwt = _FAMILY[ctx.fn.nd]
        a = _attrs(ctx.attrs)
        needs = ctx.needs_input_grad
        gx = gin.apply(gy, w, x_shape=ctx.x_shape, **a) if needs[0] else None
        gw = gwt.apply(gy, x, w_shape=ctx.w_shape, **a) if needs[1] else None
        if len(needs) > 2 and needs[2]:
            gb = Sum.apply(gy, dim=[0] + list(range(2, gy.ndim)), keepdim=False, dtype=None)
            return gx, gw, gb
        return gx, gw


class _ConvGradInput(Function):
    """gx = conv^T(gy, w) with x's shape ``x_shape`` (also the transposed convolution).

    Linear in gy and in w: d/d gy = conv(G, w); d/d w = conv_grad_weight(gy, G).
    """

    @staticmethod
    def forward(ctx, gy, w, *, x_shape, stride, padding, dilation, groups):
        ctx.save_for_backward(ctx.input(0) if ctx.needs_input_grad[1] else None,
                              ctx.input(1) if ctx.needs_input_grad[0] else None)
        ctx.w_shape, ctx.gy_shape = list(w.shape), list(gy.shape)
        return conv_grad_input(ctx.xp, gy, w, x_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, g):
        gy, w = ctx.saved_tensors
        conv, gin, gwt = _FAMILY[ctx.fn.nd]
        a = _attrs(ctx.attrs)
        needs = ctx.needs_input_grad
        d_gy = _crop(conv.apply(g, w, **a), ctx.gy_shape) if needs[0] else None
        d_w = gwt.apply(gy, g, w_shape=ctx.w_shape, **a) if needs[1] else None
        return d_gy, d_w


def _crop(t: Tensor, shape) -> Tensor:
    """``t`` cut to ``shape`` (a conv over a transposed conv's output can see a few extra windows)."""
    if tuple(t.shape) == tuple(shape):
        return t
    return t[(Ellipsis,) + tuple(slice(0, s) for s in shape[2:])]


class _ConvGradWeight(Function):
    """gw = d<conv(x, w), gy>/dw with the weight's shape ``w_shape``.

    Linear in gy and in x: d/d gy = conv(x, G); d/d x = conv_grad_input(gy, G).
    """

    @staticmethod
    def forward(ctx, gy, x, *, w_shape, stride, padding, dilation, groups):
        ctx.save_for_backward(ctx.input(0) if ctx.needs_input_grad[1] else None,
                              ctx.input(1) if ctx.needs_input_grad[0] else None)
        ctx.x_shape, ctx.gy_shape = list(x.shape), list(gy.shape)
        return conv_grad_weight(ctx.xp, gy, x, w_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, g):
        gy, x = ctx.saved_tensors
        conv, gin, gwt = _FAMILY[ctx.fn.nd]
        a = _attrs(ctx.attrs)
        needs = ctx.needs_input_grad
        d_gy = _crop(conv.apply(x, g, **a), ctx.gy_shape) if needs[0] else None
        d_x = gin.apply(gy, g, x_shape=ctx.x_shape, **a) if needs[1] else None
        return d_gy, d_x


def _family(nd: int):
    conv = register_op(f"conv{nd}d")(type(f"Conv{nd}d", (_Conv,), {"nd": nd, "__doc__": _Conv.__doc__}))
    gin = register_op(f"conv{nd}d_grad_input")(
        type(f"Conv{nd}dGradInput", (_ConvGradInput,), {"nd": nd, "__doc__": _ConvGradInput.__doc__}))
    gwt = register_op(f"conv{nd}d_grad_weight")(
        type(f"Conv{nd}dGradWeight", (_ConvGradWeight,), {"nd": nd, "__doc__": _ConvGradWeight.__doc__}))
    _FAMILY[nd] = (conv, gin, gwt)
    return conv, gin, gwt


Conv1dOp, Conv1dGradInput, Conv1dGradWeight = _family(1)
Conv2dOp, Conv2dGradInput, Conv2dGradWeight = _family(2)
Conv3dOp, Conv3dGradInput, Conv3dGradWeight = _family(3)


# ---------------------------------------------------------------------------------------------------
# Public functions (torch.nn.functional signatures)


def tuple_arg(value, nd: int, name: str, op: str) -> list:
    """An int or a length-``nd`` sequence as a list of ``nd`` ints."""
    if isinstance(value, (int, np.integer)):
        return [int(value)] * nd
    vals = [int(v) for v in value]
    if len(vals) == 1:
        return vals * nd
    if len(vals) != nd:
        raise ValueError(f"{op}: expected {name} to be a single integer or a list of {nd} integers, got {value}")
    return vals


def same_padding(ksize, dilation) -> list:
    """[lo, hi] per dim so that stride-1 output size equals input size (extra on the high side)."""
    out = []
    for k, d in zip(ksize, dilation):
        total = d * (k - 1)
        out.append([total // 2, total - total // 2])
    return out


def conv_padding(padding, nd, ksize, dilation, stride, op):
    """Normalize ``padding`` (int, tuple, 'same', 'valid') to [[lo, hi], ...]."""
    if isinstance(padding, str):
        if padding == "valid":
            return [[0, 0]] * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
            return same_padding(ksize, dilation)
        raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of 'valid' or 'same'")
    p = tuple_arg(padding, nd, "padding", op)
    if any(v < 0 for v in p):
        raise ValueError(f"{op}: negative padding is not supported, got {padding}")
    return [[v, v] for v in p]


def _batchify(op, input: Tensor, nd: int):
    if input.ndim == nd + 1:
        return S.unsqueeze(input, 0), True
    if input.ndim != nd + 2:
        raise op_error(op, f"expected a {nd + 1}-d (unbatched) or {nd + 2}-d (batched) input, got {input.ndim}-d",
                       input)
    return input, False


def _check_common(op, input, weight, bias, nd):
    if weight.ndim != nd + 2:
        raise op_error(op, f"weight must be {nd + 2}-d (out_channels, in_channels/groups, *kernel), "
                           f"got {weight.ndim}-d", weight)
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise op_error(op, "input, weight and bias must have the same dtype, got "
                           f"{input.dtype}, {weight.dtype}" + (f", {bias.dtype}" if bias is not None else ""),
                       *[t for t in (input, weight, bias) if t is not None])
    if input.dtype.kind != "f":
        raise op_error(op, f"expected floating-point tensors, got {input.dtype}", input)


def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_common(op, input, weight, bias, nd)
    x, unbatched = _batchify(op, input, nd)
    stride = tuple_arg(stride, nd, "stride", op)
    dilation = tuple_arg(dilation, nd, "dilation", op)
    if any(s <= 0 for s in stride) or any(d <= 0 for d in dilation):
        raise ValueError(f"{op}: stride {stride} and dilation {dilation} must be positive")
    ksize = list(weight.shape[2:])
    pads = conv_padding(padding, nd, ksize, dilation, stride, op)
    groups = int(groups)
    c, o = x.shape[1], weight.shape[0]
    if groups <= 0 or o % groups or c != weight.shape[1] * groups:
        raise op_error(op, f"expected input with {weight.shape[1] * groups} channels (weight "
                           f"{tuple(weight.shape)}, groups={groups}; out_channels must be divisible by groups), "
                           f"got {c} channels", input, weight)
    if bias is not None and tuple(bias.shape) != (o,):
        raise op_error(op, f"bias must have shape ({o},), got {tuple(bias.shape)}", bias)
    for i in range(nd):
        eff = dilation[i] * (ksize[i] - 1) + 1
        if x.shape[2 + i] + sum(pads[i]) < eff:
            raise op_error(op, f"kernel size (dilated: {eff}) can't be greater than the padded input size "
                               f"{x.shape[2 + i] + sum(pads[i])} at spatial dim {i}", input, weight)
    conv = _FAMILY[nd][0]
    args = (x, weight) if bias is None else (x, weight, bias)
    y = conv.apply(*args, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return S.squeeze(y, 0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-d convolution: input (N, C, L) or (C, L), weight (O, C/groups, k) -> (N, O, L_out)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-d convolution: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kh, kw) -> (N, O, H', W').

    ``padding`` is an int, a pair, 'valid' or 'same' (stride 1 only; extra padding on the high side for
    even kernels, as PyTorch).
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-d convolution: input (N, C, D, H, W) or unbatched, weight (O, C/groups, kd, kh, kw)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def transpose_output_size(in_size, k, s, p, d, op) -> int:
    return (in_size - 1) * s - 2 * p + d * (k - 1) + op + 1


def _conv_transpose(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation,
                    output_size=None):
    _check_common(op, input, weight, bias, nd)
    x, unbatched = _batchify(op, input, nd)
    stride = tuple_arg(stride, nd, "stride", op)
    dilation = tuple_arg(dilation, nd, "dilation", op)
    if isinstance(padding, str):
        raise ValueError(f"{op}: string padding ({padding!r}) is not supported for transposed convolutions")
    pad = tuple_arg(padding, nd, "padding", op)
    opad = tuple_arg(output_padding, nd, "output_padding", op)
    groups = int(groups)
    cin, cout = x.shape[1], weight.shape[1] * groups
    if groups <= 0 or cin != weight.shape[0] or cin % groups:
        raise op_error(op, f"expected input with {weight.shape[0]} channels (weight {tuple(weight.shape)} is "
                           f"(in_channels, out_channels/groups, *kernel), groups={groups}), got {cin}",
                       input, weight)
    for i in range(nd):
        if opad[i] >= max(stride[i], dilation[i]) or opad[i] < 0:
            raise ValueError(f"{op}: output padding must be smaller than either stride or dilation, got "
                             f"output_padding={opad}, stride={stride}, dilation={dilation}")
    ksize = weight.shape[2:]
    out = [transpose_output_size(x.shape[2 + i], ksize[i], stride[i], pad[i], dilation[i], opad[i])
           for i in range(nd)]
    if output_size is not None:  # PyTorch's module.forward(output_size=...): pick output_padding
        want = list(output_size)[-nd:]
        for i in range(nd):
            extra = want[i] - (out[i] - opad[i])
            if not 0 <= extra < stride[i]:
                raise ValueError(f"{op}: requested output size {want} is not reachable from input "
                                 f"{tuple(x.shape[2:])}")
        out = want
    if any(v <= 0 for v in out):
        raise op_error(op, f"computed output size {out} is not positive", input, weight)
    if bias is not None and tuple(bias.shape) != (cout,):
        raise op_error(op, f"bias must have shape ({cout},), got {tuple(bias.shape)}", bias)
    gin = _FAMILY[nd][1]
    y = gin.apply(x, weight, x_shape=[x.shape[0], cout] + out, stride=stride,
                  padding=[[p, p] for p in pad], dilation=dilation, groups=groups)
    if bias is not None:
        y = y + S.reshape(bias, (cout,) + (1,) * nd)
    return S.squeeze(y, 0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 1-d convolution: input (N, Cin, L), weight (Cin, Cout/groups, k) -> (N, Cout, L_out)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding,
                           groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 2-d convolution (the gradient of conv2d w.r.t. its input): weight (Cin, Cout/groups, kh, kw).

    H_out = (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding,
                           groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 3-d convolution: weight (Cin, Cout/groups, kd, kh, kw)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding,
                           groups, dilation)
