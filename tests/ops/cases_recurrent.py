"""Op-table rows for the recurrent primitives (ember/ops/recurrent.py).

The scans run on packed sequences (batch_sizes non-increasing); the NumPy references below loop over
the steps with the textbook cell formulas, independently of the in-place kernels. The scans are
first-order primitives (their gradient kernels raise on double backward), so gradgrad is off for them;
``lstm_cell`` has an ops backward and gets the second-order check.
"""

import numpy as np

from ember.ops import recurrent as R

from .opcase import OpCase

BS = [3, 3, 2, 1]          # a packed batch: 3 sequences of lengths 4, 3, 2
N = sum(BS)


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _order(reverse):
    offs = np.concatenate([[0], np.cumsum(BS)[:-1]])
    ts = range(len(BS) - 1, -1, -1) if reverse else range(len(BS))
    return [(offs[t], BS[t]) for t in ts]


def lstm_ref(gx, w_hh, h0, c0, w_hr=None, reverse=False):
    H = w_hh.shape[0] // 4
    h, c = h0.copy(), c0.copy()
    y = np.zeros((gx.shape[0], h0.shape[1]), gx.dtype)
    for s, b in _order(reverse):
        z = gx[s:s + b] + h[:b] @ w_hh.T
        i, f, g, o = _sig(z[:, :H]), _sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), _sig(z[:, 3 * H:])
        c[:b] = f * c[:b] + i * g
        hb = o * np.tanh(c[:b])
        h[:b] = hb @ w_hr.T if w_hr is not None else hb
        y[s:s + b] = h[:b]
    return y, h, c


def gru_ref(gx, w_hh, b_hh, h0, reverse=False):
    H = w_hh.shape[1]
    h = h0.copy()
    y = np.zeros((gx.shape[0], H), gx.dtype)
    for s, b in _order(reverse):
        gh = h[:b] @ w_hh.T + b_hh
        x = gx[s:s + b]
        r = _sig(x[:, :H] + gh[:, :H])
        z = _sig(x[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(x[:, 2 * H:] + r * gh[:, 2 * H:])
        h[:b] = (1 - z) * n + z * h[:b]
        y[s:s + b] = h[:b]
    return y, h


def rnn_ref(gx, w_hh, h0, reverse=False, relu=False):
    h = h0.copy()
    y = np.zeros_like(gx)
    for s, b in _order(reverse):
        z = gx[s:s + b] + h[:b] @ w_hh.T
        h[:b] = np.maximum(z, 0) if relu else np.tanh(z)
        y[s:s + b] = h[:b]
    return y, h


def lstm_cell_ref(gates, c_prev):
    H = c_prev.shape[1]
    i, f, g, o = (_sig(gates[:, :H]), _sig(gates[:, H:2 * H]), np.tanh(gates[:, 2 * H:3 * H]),
                  _sig(gates[:, 3 * H:]))
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def _relu_domain(a):
    # keep pre-activations away from relu's kink, where finite differences are meaningless
    return a + np.sign(a) * 0.3


H, B = 2, 3
CASES = [
    OpCase("lstm_scan", lambda gx, w, h0, c0: R.lstm_scan(gx, w, h0, c0, batch_sizes=BS),
           lambda gx, w, h0, c0: lstm_ref(gx, w, h0, c0),
           [(N, 4 * H), (4 * H, H), (B, H), (B, H)], covers=("lstm_scan", "lstm_scan_grad"), gradgrad=False),
    OpCase("lstm_scan_reverse", lambda gx, w, h0, c0: R.lstm_scan(gx, w, h0, c0, batch_sizes=BS, reverse=True),
           lambda gx, w, h0, c0: lstm_ref(gx, w, h0, c0, reverse=True),
           [(N, 4 * H), (4 * H, H), (B, H), (B, H)], covers=("lstm_scan", "lstm_scan_grad"), gradgrad=False),
    OpCase("lstm_scan_proj", lambda gx, w, h0, c0, wr: R.lstm_scan(gx, w, h0, c0, wr, batch_sizes=BS),
           lambda gx, w, h0, c0, wr: lstm_ref(gx, w, h0, c0, wr),
           [(N, 4 * 3), (4 * 3, 2), (B, 2), (B, 3), (2, 3)], covers=("lstm_scan", "lstm_scan_grad"),
           gradgrad=False),
    OpCase("gru_scan", lambda gx, w, b, h0: R.gru_scan(gx, w, b, h0, batch_sizes=BS),
           lambda gx, w, b, h0: gru_ref(gx, w, b, h0),
           [(N, 3 * H), (3 * H, H), (3 * H,), (B, H)], covers=("gru_scan", "gru_scan_grad"), gradgrad=False),
    OpCase("gru_scan_reverse", lambda gx, w, b, h0: R.gru_scan(gx, w, b, h0, batch_sizes=BS, reverse=True),
           lambda gx, w, b, h0: gru_ref(gx, w, b, h0, reverse=True),
           [(N, 3 * H), (3 * H, H), (3 * H,), (B, H)], covers=("gru_scan", "gru_scan_grad"), gradgrad=False),
    OpCase("rnn_scan_tanh", lambda gx, w, h0: R.rnn_scan(gx, w, h0, batch_sizes=BS),
           lambda gx, w, h0: rnn_ref(gx, w, h0),
           [(N, H), (H, H), (B, H)], covers=("rnn_scan", "rnn_scan_grad"), gradgrad=False),
    OpCase("rnn_scan_relu_reverse",
           lambda gx, w, h0: R.rnn_scan(gx, w * 0.1, h0, batch_sizes=BS, reverse=True, nonlinearity="relu"),
           lambda gx, w, h0: rnn_ref(gx, w * 0.1, h0, reverse=True, relu=True),
           [(N, H), (H, H), (B, H)], covers=("rnn_scan", "rnn_scan_grad"), domain=_relu_domain, gradgrad=False),
    OpCase("lstm_cell", R.lstm_cell, lstm_cell_ref, [(B, 4 * H), (B, H)], covers=("lstm_cell",)),
]
