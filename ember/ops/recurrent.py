"""Recurrent primitives: whole-sequence scans for LSTM, GRU and Elman RNN, and the fused LSTM cell.

The layers (``ember.nn.LSTM`` ...) compute the input projection for every time step in one GEMM
(``linear(x, W_ih, b)``) and hand the projected gates to a scan. A scan runs the recurrence
``h_t = cell(gx_t + h_{t-1} @ W_hh.T)`` over the time steps on raw arrays, so a sequence costs one op
call instead of several per step; its backward is a dedicated primitive (backpropagation through time
on arrays) that returns the gradient of the gates (which the input projection's ``linear`` then turns
into dW_ih, db and dx with one GEMM each) and of W_hh, the initial states (and W_hr).

Sequences are in the *packed* layout of ``nn.utils.rnn.PackedSequence``: ``gx`` holds the steps one
after another, step t having ``batch_sizes[t]`` rows (non-increasing). A padded (T, B, G) input is the
special case ``batch_sizes = [B] * T``. Rows past ``batch_sizes[t]`` are finished sequences: their
state is left as it was, so ``h_n`` of every sequence is its state after its own last step. With
``reverse=True`` steps run from T-1 down to 0 and a sequence starts from its ``h0`` at its last valid
step, as PyTorch's reverse direction does.

The activation arrays each scan saves for its backward are extra outputs marked non-differentiable
(DESIGN section 3: data-dependent values reach backward as saved tensors). Scans are first-order only:
their gradient primitives raise on double backward. ``lstm_cell`` is the fused cell used by
``nn.LSTMCell``; its backward is written in ops, so it is twice differentiable.
"""

from __future__ import annotations

import contextlib

from ..autograd.function import Function, op_error, register_op
from ..autograd.tensor import Tensor
from ..backend.parallel import serial_blas
from . import activation as A
from . import elementwise as E
from . import shape as S

# A scan's per-step GEMMs below this many FLOPs run on one BLAS thread (waking threads costs more than
# they save). Above it threads pay off even for the short back-to-back products of a scan, as they
# stay awake between steps: LSTM forward + backward, 35 steps, batch 32: hidden 64 (1 MFLOP per step)
# equal, hidden 128 12.3 -> 10.9 ms, hidden 256 31.8 -> 25.4 ms threaded.
SCAN_SERIAL_FLOPS = 2e6


def _scan_blas(xp, batch_sizes, w_hh):
    """BLAS threading for a scan whose largest per-step GEMM is (batch_sizes[0], .) x ``w_hh`` (or its
    transpose)."""
    batch = batch_sizes[0] if len(batch_sizes) else 0
    if 2.0 * batch * w_hh.shape[0] * w_hh.shape[1] < SCAN_SERIAL_FLOPS:
        return serial_blas(xp)
    return contextlib.nullcontext()


def _sigmoid_(xp, a):
    """In-place logistic sigmoid through tanh (one transcendental, no overflow): 0.5 (1 + tanh(a/2))."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _steps(batch_sizes, reverse):
    """(t, row offset, batch size) in processing order."""
    offs, o = [], 0
    for b in batch_sizes:
        offs.append(o)
        o += b
    order = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    return [(t, offs[t], batch_sizes[t]) for t in order], offs


def _prev_states(xp, seq, init, batch_sizes, offs, reverse):
    """The state each packed row started from: (N, X) where row r of step t holds the state before t."""
    out = xp.empty((seq.shape[0],) + init.shape[1:], dtype=seq.dtype)
    T = len(batch_sizes)
    for t in range(T):
        s, b = offs[t], batch_sizes[t]
        p = t - 1 if not reverse else t + 1
        if p < 0 or p >= T:
            out[s:s + b] = init[:b]
            continue
        bp = min(b, batch_sizes[p])
        out[s:s + bp] = seq[offs[p]:offs[p] + bp]
        if bp < b:  # reverse direction: these sequences start here from their initial state
            out[s + bp:s + b] = init[bp:b]
    return out


def _no_double_backward(name):
    def backward(ctx, *grads):
        raise RuntimeError(f"{name}: double backward is not supported (the recurrent scans are "
                           "first-order; use nn.LSTMCell / GRUCell / RNNCell in a loop for higher order)")
    return staticmethod(backward)


# -- LSTM ------------------------------------------------------------------------------------------

@register_op("lstm_scan")
class LstmScan(Function):
    """LSTM over a packed sequence. gx (N, 4H) = x W_ih^T + b_ih + b_hh (gate order i, f, g, o),
    w_hh (4H, P), h0 (B, P), c0 (B, H), optional w_hr (P, H) (projection, P = proj_size else H).

    Per step: gates = gx_t + h W_hh^T; i, f, o = sigmoid, g = tanh; c = f c + i g; h = o tanh(c)
    (then h = h W_hr^T with a projection). Returns y (N, P), h_n (B, P), c_n (B, H) and the saved
    activations acts (N, 4H) and cs (N, H) (non-differentiable).
    """

    @staticmethod
    def forward(ctx, gx, w_hh, h0, c0, w_hr=None, *, batch_sizes, reverse=False):
        xp = ctx.xp
        N, G = gx.shape
        H = G // 4
        acts = xp.empty((N, G), dtype=gx.dtype)
        cs = xp.empty((N, H), dtype=gx.dtype)
        y = xp.empty((N, h0.shape[1]), dtype=gx.dtype)
        h, c = h0.copy(), c0.copy()
        # sigmoid(x) = 0.5 + 0.5 tanh(x / 2): halving the i, f, o columns lets one tanh over all four
        # gates do the work of three sigmoids and a tanh.
        half = xp.full((G,), 0.5, dtype=gx.dtype)
        half[2 * H:3 * H] = 1.0
        shift = 1.0 - half
        w_t = w_hh.T.copy()                      # (P, 4H) in C order: the per-step GEMM's fast layout
        wr_t = xp.ascontiguousarray(w_hr.T) if w_hr is not None else None
        steps, _ = _steps(batch_sizes, reverse)
        with _scan_blas(xp, batch_sizes, w_hh):
            for _t, s, b in steps:
                a = acts[s:s + b]
                xp.matmul(h[:b], w_t, out=a)
                a += gx[s:s + b]
                a *= half
                xp.tanh(a, out=a)
                a *= half                             # i, f, o: 0.5 tanh + 0.5;  g: tanh
                a += shift
                cn = cs[s:s + b]
                xp.multiply(a[:, H:2 * H], c[:b], out=cn)
                cn += a[:, :H] * a[:, 2 * H:3 * H]
                c[:b] = cn
                hn = y[s:s + b]
                if wr_t is None:
                    xp.tanh(cn, out=hn)
                    hn *= a[:, 3 * H:]
                else:
                    xp.matmul(a[:, 3 * H:] * xp.tanh(cn), wr_t, out=hn)
                h[:b] = hn
        ctx.save_for_backward(ctx.output(0), ctx.output(3), ctx.output(4), ctx.input(1), ctx.input(2),
                              ctx.input(3), ctx.input(4) if w_hr is not None else None)
        ctx.mark_non_differentiable(3, 4)
        return y, h, c, acts, cs

    @staticmethod
    def backward(ctx, gy, ghn, gcn, _ga, _gc):
        y, acts, cs, w_hh, h0, c0, w_hr = ctx.saved_tensors
        extra = (w_hr,) if w_hr is not None else ()
        grads = LstmScanGrad.apply(gy, ghn, gcn, y, acts, cs, w_hh, h0, c0, *extra, **ctx.attrs)
        return grads


@register_op("lstm_scan_grad")
class LstmScanGrad(Function):
    """Backpropagation through time for ``lstm_scan``: (gy, g_hn, g_cn, saved) -> (d gx, d w_hh, d h0,
    d c0[, d w_hr]). d gx is the gradient of the gate pre-activations (N, 4H)."""

    @staticmethod
    def forward(ctx, gy, ghn, gcn, y, acts, cs, w_hh, h0, c0, w_hr=None, *, batch_sizes, reverse=False):
        xp = ctx.xp
        N, G = acts.shape
        H = G // 4
        dG = xp.empty_like(acts)
        dh = ghn.astype(acts.dtype, copy=True)
        dc = gcn.astype(acts.dtype, copy=True)
        dH = xp.empty_like(y) if w_hr is not None else None  # d h before the projection GEMM, per row
        steps, offs = _steps(batch_sizes, reverse)
        c_prev_all = _prev_states(xp, cs, c0, batch_sizes, offs, reverse)
        B = dh.shape[0]
        kbuf = xp.empty((B, G), dtype=acts.dtype)      # per-step factors, reused (stays in cache)
        tbuf = xp.empty((B, H), dtype=acts.dtype)
        t2buf = xp.empty((B, H), dtype=acts.dtype)
        with _scan_blas(xp, batch_sizes, w_hh):
            for _t, s, b in reversed(steps):
                a = acts[s:s + b]
                i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
                # k = (g i(1-i), c_prev f(1-f), i (1-g^2), tanh(c) o(1-o)): d gates pre-activation / (dc, dc, dc, dh)
                k, tc, t2 = kbuf[:b], tbuf[:b], t2buf[:b]
                xp.multiply(a, a, out=k)
                xp.subtract(a, k, out=k)
                k[:, :H] *= g
                k[:, H:2 * H] *= c_prev_all[s:s + b]
                xp.tanh(cs[s:s + b], out=tc)
                k[:, 3 * H:] *= tc
                kg = k[:, 2 * H:3 * H]
                xp.multiply(g, g, out=kg)
                xp.subtract(1.0, kg, out=kg)
                kg *= i
                xp.multiply(tc, tc, out=t2)                   # t2 = o (1 - tanh(c)^2) = dc/dh
                xp.subtract(1.0, t2, out=t2)
                t2 *= o
                dh_b = dh[:b]
                dh_b += gy[s:s + b]
                if w_hr is not None:
                    dH[s:s + b] = dh_b
                    dm = dh_b @ w_hr
                else:
                    dm = dh_b
                d = dG[s:s + b]
                dc_b = dc[:b]
                t2 *= dm
                dc_b += t2
                xp.multiply(dc_b[:, None, :], k[:, :3 * H].reshape(b, 3, H), out=d[:, :3 * H].reshape(b, 3, H))
                xp.multiply(dm, k[:, 3 * H:], out=d[:, 3 * H:])
                dc_b *= f
                xp.matmul(d, w_hh, out=dh_b)
        h_prev_all = _prev_states(xp, y, h0, batch_sizes, offs, reverse)
        dw_hh = dG.T @ h_prev_all
        if w_hr is None:
            return dG, dw_hh, dh, dc
        m = acts[:, 3 * H:] * xp.tanh(cs)
        return dG, dw_hh, dh, dc, dH.T @ m

    backward = _no_double_backward("lstm_scan_grad")


# -- GRU -------------------------------------------------------------------------------------------

@register_op("gru_scan")
class GruScan(Function):
    """GRU over a packed sequence. gx (N, 3H) = x W_ih^T + b_ih (order r, z, n), w_hh (3H, H),
    b_hh (3H,), h0 (B, H).

    Per step: gh = h W_hh^T + b_hh; r = sigmoid(gx_r + gh_r); z = sigmoid(gx_z + gh_z);
    n = tanh(gx_n + r * gh_n); h = (1 - z) n + z h. Returns y (N, H), h_n (B, H) and the saved
    activations acts (N, 4H) = [r, z, n, gh_n] (non-differentiable).
    """

    @staticmethod
    def forward(ctx, gx, w_hh, b_hh, h0, *, batch_sizes, reverse=False):
        xp = ctx.xp
        N, G = gx.shape
        H = G // 3
        acts = xp.empty((N, 4 * H), dtype=gx.dtype)
        y = xp.empty((N, H), dtype=gx.dtype)
        h = h0.copy()
        w_t = w_hh.T.copy()                      # C order: the per-step GEMM's fast layout
        steps, _ = _steps(batch_sizes, reverse)
        with _scan_blas(xp, batch_sizes, w_hh):
            for _t, s, b in steps:
                a = acts[s:s + b]
                gh = a[:, H:]  # r, z parts are overwritten below; gh_n lands in the last block
                xp.matmul(h[:b], w_t, out=gh)
                gh += b_hh
                gxs = gx[s:s + b]
                xp.add(gh[:, :H], gxs[:, :H], out=a[:, :H])                # r
                xp.add(gh[:, H:2 * H], gxs[:, H:2 * H], out=a[:, H:2 * H])  # z
                _sigmoid_(xp, a[:, :2 * H])
                n = a[:, 2 * H:3 * H]
                xp.multiply(a[:, :H], a[:, 3 * H:], out=n)
                n += gxs[:, 2 * H:]
                xp.tanh(n, out=n)
                hn = y[s:s + b]
                xp.subtract(h[:b], n, out=hn)
                hn *= a[:, H:2 * H]
                hn += n
                h[:b] = hn
        ctx.save_for_backward(ctx.output(0), ctx.output(2), ctx.input(1), ctx.input(3))
        ctx.mark_non_differentiable(2)
        return y, h, acts

    @staticmethod
    def backward(ctx, gy, ghn, _ga):
        y, acts, w_hh, h0 = ctx.saved_tensors
        return GruScanGrad.apply(gy, ghn, y, acts, w_hh, h0, **ctx.attrs)


@register_op("gru_scan_grad")
class GruScanGrad(Function):
    """BPTT for ``gru_scan``: (gy, g_hn, saved) -> (d gx, d w_hh, d b_hh, d h0)."""

    @staticmethod
    def forward(ctx, gy, ghn, y, acts, w_hh, h0, *, batch_sizes, reverse=False):
        xp = ctx.xp
        N, G4 = acts.shape
        H = G4 // 4
        dgx = xp.empty((N, 3 * H), dtype=acts.dtype)
        dgh = xp.empty((N, 3 * H), dtype=acts.dtype)
        dh = ghn.astype(acts.dtype, copy=True)
        steps, offs = _steps(batch_sizes, reverse)
        h_prev_all = _prev_states(xp, y, h0, batch_sizes, offs, reverse)
        with _scan_blas(xp, batch_sizes, w_hh):
            for _t, s, b in reversed(steps):
                a = acts[s:s + b]
                r, z, n, ghn_ = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
                dh_b = dh[:b]
                dh_b += gy[s:s + b]
                dx, dhh = dgx[s:s + b], dgh[s:s + b]
                dn = dx[:, 2 * H:]
                xp.multiply(dh_b, 1.0 - z, out=dn)
                dn *= 1.0 - n * n                                   # d (gx_n + r gh_n)
                dz = dx[:, H:2 * H]
                xp.subtract(h_prev_all[s:s + b], n, out=dz)
                dz *= dh_b
                dz *= z * (1.0 - z)
                dr = dx[:, :H]
                xp.multiply(dn, ghn_, out=dr)
                dr *= r * (1.0 - r)
                dhh[:, :2 * H] = dx[:, :2 * H]
                xp.multiply(dn, r, out=dhh[:, 2 * H:])
                dh_b *= z
                dh_b += dhh @ w_hh
        return dgx, dgh.T @ h_prev_all, dgh.sum(axis=0), dh

    backward = _no_double_backward("gru_scan_grad")


# -- Elman RNN -------------------------------------------------------------------------------------

@register_op("rnn_scan")
class RnnScan(Function):
    """Elman RNN over a packed sequence: h = act(gx_t + h W_hh^T), act = tanh or relu
    (``nonlinearity``). gx (N, H) = x W_ih^T + b_ih + b_hh, w_hh (H, H), h0 (B, H) -> y (N, H), h_n."""

    @staticmethod
    def forward(ctx, gx, w_hh, h0, *, batch_sizes, reverse=False, nonlinearity="tanh"):
        xp = ctx.xp
        y = xp.empty_like(gx)
        h = h0.copy()
        w_t = w_hh.T.copy()                      # C order: the per-step GEMM's fast layout
        steps, _ = _steps(batch_sizes, reverse)
        with _scan_blas(xp, batch_sizes, w_hh):
            for _t, s, b in steps:
                hn = y[s:s + b]
                xp.matmul(h[:b], w_t, out=hn)
                hn += gx[s:s + b]
                if nonlinearity == "tanh":
                    xp.tanh(hn, out=hn)
                else:
                    xp.maximum(hn, 0, out=hn)
                h[:b] = hn
        ctx.save_for_backward(ctx.output(0), ctx.input(1), ctx.input(2))
        return y, h

    @staticmethod
    def backward(ctx, gy, ghn):
        y, w_hh, h0 = ctx.saved_tensors
        return RnnScanGrad.apply(gy, ghn, y, w_hh, h0, **ctx.attrs)


@register_op("rnn_scan_grad")
class RnnScanGrad(Function):
    """BPTT for ``rnn_scan``: (gy, g_hn, y, w_hh, h0) -> (d gx, d w_hh, d h0)."""

    @staticmethod
    def forward(ctx, gy, ghn, y, w_hh, h0, *, batch_sizes, reverse=False, nonlinearity="tanh"):
        xp = ctx.xp
        dgx = xp.empty_like(y)
        dh = ghn.astype(y.dtype, copy=True)
        steps, offs = _steps(batch_sizes, reverse)
        with _scan_blas(xp, batch_sizes, w_hh):
            for _t, s, b in reversed(steps):
                dh_b = dh[:b]
                dh_b += gy[s:s + b]
                d = dgx[s:s + b]
                yb = y[s:s + b]
                if nonlinearity == "tanh":
                    xp.multiply(yb, yb, out=d)
                    xp.subtract(1.0, d, out=d)
                    d *= dh_b
                else:
                    xp.multiply(dh_b, yb > 0, out=d)
                xp.matmul(d, w_hh, out=dh_b)
        h_prev_all = _prev_states(xp, y, h0, batch_sizes, offs, reverse)
        return dgx, dgx.T @ h_prev_all, dh

    backward = _no_double_backward("rnn_scan_grad")


# -- fused LSTM cell -------------------------------------------------------------------------------

@register_op("lstm_cell")
class LstmCell(Function):
    """One LSTM step from pre-activation gates (B, 4H) (order i, f, g, o) and c_prev (B, H) to (h, c):
    c = sigmoid(f) c_prev + sigmoid(i) tanh(g); h = sigmoid(o) tanh(c). Backward in ops."""

    @staticmethod
    def forward(ctx, gates, c_prev):
        xp = ctx.xp
        H = gates.shape[1] // 4
        a = gates.copy()
        _sigmoid_(xp, a[:, :2 * H])
        xp.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
        _sigmoid_(xp, a[:, 3 * H:])
        c = a[:, H:2 * H] * c_prev
        c += a[:, :H] * a[:, 2 * H:3 * H]
        h = xp.tanh(c)
        h *= a[:, 3 * H:]
        ctx.save_for_backward(ctx.input(0), ctx.input(1), ctx.output(1))
        return h, c

    @staticmethod
    def backward(ctx, gh, gc):
        gates, c_prev, c = ctx.saved_tensors
        i, f, g, o = S.chunk(gates, 4, 1)
        i, f, o, g = A.sigmoid(i), A.sigmoid(f), A.sigmoid(o), E.tanh(g)
        tc = E.tanh(c)
        dc = gc + gh * o * (1.0 - tc * tc)
        di = dc * g * i * (1.0 - i)
        df = dc * c_prev * f * (1.0 - f)
        dg = dc * i * (1.0 - g * g)
        do = gh * tc * o * (1.0 - o)
        return S.cat([di, df, dg, do], 1), dc * f


# -- public functions ------------------------------------------------------------------------------

def _check_scan(op, gx, w_hh, h0, batch_sizes, G, P):
    if gx.ndim != 2 or gx.shape[1] != G:
        raise op_error(op, f"expected projected input of shape (N, {G}), got {tuple(gx.shape)}", gx, w_hh)
    if sum(batch_sizes) != gx.shape[0]:
        raise op_error(op, f"batch_sizes sum to {sum(batch_sizes)} but the input has {gx.shape[0]} rows", gx)
    if any(b2 > b1 for b1, b2 in zip(batch_sizes, batch_sizes[1:])) or (batch_sizes and batch_sizes[-1] < 1):
        raise op_error(op, f"batch_sizes must be positive and non-increasing, got {list(batch_sizes)}", gx)
    if h0.ndim != 2 or h0.shape[1] != P or (batch_sizes and h0.shape[0] != batch_sizes[0]):
        raise op_error(op, f"expected hidden state of shape ({batch_sizes[0] if batch_sizes else 'B'}, {P}), "
                           f"got {tuple(h0.shape)}", h0)
    for t in (w_hh, h0):
        if t.dtype != gx.dtype:
            raise op_error(op, f"all inputs must share one dtype, got {gx.dtype} and {t.dtype}", gx, t)


def _sizes(batch_sizes):
    return [int(b) for b in batch_sizes]


def lstm_scan(gx: Tensor, w_hh: Tensor, h0: Tensor, c0: Tensor, w_hr: Tensor | None = None, *,
              batch_sizes, reverse: bool = False):
    """Run an LSTM over packed projected gates; returns (y (N, P), h_n (B, P), c_n (B, H))."""
    bs = _sizes(batch_sizes)
    H = w_hh.shape[0] // 4
    P = w_hr.shape[0] if w_hr is not None else H
    _check_scan("lstm_scan", gx, w_hh, h0, bs, 4 * H, P)
    if w_hh.shape[1] != P or c0.shape != (h0.shape[0], H):
        raise op_error("lstm_scan", f"inconsistent shapes: w_hh {tuple(w_hh.shape)}, c0 {tuple(c0.shape)} "
                                    f"(hidden {H}, proj {P})", w_hh, c0)
    extra = (w_hr,) if w_hr is not None else ()
    y, h, c, _a, _c = LstmScan.apply(gx, w_hh, h0, c0, *extra, batch_sizes=bs, reverse=bool(reverse))
    return y, h, c


def gru_scan(gx: Tensor, w_hh: Tensor, b_hh: Tensor, h0: Tensor, *, batch_sizes, reverse: bool = False):
    """Run a GRU over packed projected gates; returns (y (N, H), h_n (B, H))."""
    bs = _sizes(batch_sizes)
    H = w_hh.shape[1]
    _check_scan("gru_scan", gx, w_hh, h0, bs, 3 * H, H)
    y, h, _a = GruScan.apply(gx, w_hh, b_hh, h0, batch_sizes=bs, reverse=bool(reverse))
    return y, h


def rnn_scan(gx: Tensor, w_hh: Tensor, h0: Tensor, *, batch_sizes, reverse: bool = False,
             nonlinearity: str = "tanh"):
    """Run an Elman RNN over packed projected input; returns (y (N, H), h_n (B, H))."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_scan: unknown nonlinearity {nonlinearity!r} (expected 'tanh' or 'relu')")
    bs = _sizes(batch_sizes)
    H = w_hh.shape[1]
    _check_scan("rnn_scan", gx, w_hh, h0, bs, H, H)
    return RnnScan.apply(gx, w_hh, h0, batch_sizes=bs, reverse=bool(reverse), nonlinearity=nonlinearity)


def lstm_cell(gates: Tensor, c_prev: Tensor):
    """Fused LSTM step: pre-activation gates (B, 4H) and c_prev (B, H) -> (h, c)."""
    if gates.ndim != 2 or c_prev.ndim != 2 or gates.shape[1] != 4 * c_prev.shape[1] \
            or gates.shape[0] != c_prev.shape[0]:
        raise op_error("lstm_cell", "expected gates (B, 4H) and c_prev (B, H)", gates, c_prev)
    return LstmCell.apply(gates, c_prev)
