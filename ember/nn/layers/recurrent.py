"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (multi-layer, bidirectional, packed sequences) and the
cells ``RNNCell``, ``LSTMCell``, ``GRUCell``, with PyTorch's parameter names, layouts and init.

Per layer and direction the input projection of all time steps is one GEMM (``linear`` on the whole
(N, in) sequence, with b_ih + b_hh folded into it for LSTM/RNN); only h @ W_hh^T runs per step,
inside the scan primitives of ``ember.ops.recurrent``. Sequences travel in the packed layout
(N = sum of batch sizes over steps), so padded and packed inputs share one code path.

Parameters (k = layer, suffix ``_reverse`` for the backward direction), gate order as PyTorch
(LSTM i, f, g, o; GRU r, z, n):
    weight_ih_l{k}: (G*H, in_k)   weight_hh_l{k}: (G*H, P)   bias_ih_l{k}, bias_hh_l{k}: (G*H,)
    weight_hr_l{k}: (P, H) (LSTM with proj_size > 0, P = proj_size; otherwise P = H)
with G = 4 (LSTM), 3 (GRU), 1 (RNN), in_0 = input_size and in_k = D * P for k > 0. All are drawn from
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
"""

from __future__ import annotations

import math

from ...autograd.tensor import Tensor
from ...ops import activation as A
from ...ops import elementwise as E
from ...ops import indexing as I
from ...ops import recurrent as R
from ...ops import shape as S
from ...ops.creation import empty, zeros
from ...ops.dropout import dropout as _dropout
from ...ops.linalg import linear
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """Shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (``mode`` picks the cell)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        D = 2 if bidirectional else 1
        G = _GATES[mode] * hidden_size
        P = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else P * D
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                shapes = [("weight_ih" + sfx, (G, layer_in)), ("weight_hh" + sfx, (G, P))]
                if bias:
                    shapes += [("bias_ih" + sfx, (G,)), ("bias_hh" + sfx, (G,))]
                if proj_size > 0:
                    shapes.append(("weight_hr" + sfx, (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name, Parameter(empty(shape, device=device, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """Per layer and direction, the list of its parameters (PyTorch's ``all_weights``)."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        w = self._flat_weights
        return [w[i:i + per] for i in range(0, len(w), per)]

    def flatten_parameters(self) -> None:
        """PyTorch compacts weights for cuDNN here; Ember's scans read the parameters directly, so
        there is nothing to do (kept so that code calling it runs unchanged)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward -----------------------------------------------------------------------------------
    def _state_sizes(self):
        D = 2 if self.bidirectional else 1
        P = self.proj_size if self.proj_size > 0 else self.hidden_size
        return D, P

    def _check_hidden(self, h: Tensor, B: int, size: int, what: str) -> None:
        D, _ = self._state_sizes()
        expected = (self.num_layers * D, B, size)
        if tuple(h.shape) != expected:
            raise RuntimeError(f"{type(self).__name__}: Expected {what} size {expected}, got {tuple(h.shape)}")

    def forward(self, input, hx=None):
        """input: (T, B, input_size), (B, T, input_size) with batch_first, (T, input_size) unbatched,
        or a PackedSequence. Returns (output, h_n) — (output, (h_n, c_n)) for LSTM — as PyTorch:
        output (T, B, D*P) (or packed); h_n (num_layers*D, B, P); c_n (num_layers*D, B, hidden_size)."""
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        unbatched = False
        if packed:
            x = input.data
            batch_sizes = input.batch_sizes_list()
            B = batch_sizes[0]
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
            x = input
            unbatched = input.ndim == 2
            if unbatched:
                x = S.unsqueeze(x, 1)
            elif self.batch_first:
                x = S.transpose(x, 0, 1)
            T, B = x.shape[0], x.shape[1]
            batch_sizes = [B] * T
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {x.shape[-1]}")
        if x.dtype != self.weight_ih_l0.dtype:
            raise RuntimeError(f"{name}: input dtype {x.dtype} and parameter dtype {self.weight_ih_l0.dtype} "
                               f"differ; convert the input or the module (e.g. .double())")
        is_lstm = self.mode == "LSTM"
        D, P = self._state_sizes()
        h0, c0 = self._initial_states(hx, x, B, unbatched, packed, input, is_lstm, D, P)
        flat = S.reshape(x, (-1, x.shape[-1])) if not packed else x
        h_out, c_out = [], []
        for layer in range(self.num_layers):
            ys = []
            for d in range(D):
                k = layer * D + d
                y, hn, cn = self._run_direction(flat, layer, d, h0[k], c0[k] if is_lstm else None, batch_sizes)
                ys.append(y)
                h_out.append(hn)
                if is_lstm:
                    c_out.append(cn)
            flat = ys[0] if D == 1 else S.cat(ys, 1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                flat = _dropout(flat, self.dropout, True)
        h_n = S.stack(h_out, 0)
        c_n = S.stack(c_out, 0) if is_lstm else None
        if packed:
            if input.unsorted_indices is not None:
                h_n = I.index_select(h_n, 1, input.unsorted_indices)
                c_n = I.index_select(c_n, 1, input.unsorted_indices) if is_lstm else None
            output = PackedSequence(flat, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        else:
            output = S.reshape(flat, (T, B, flat.shape[-1]))
            if unbatched:
                output = S.squeeze(output, 1)
                h_n = S.squeeze(h_n, 1)
                c_n = S.squeeze(c_n, 1) if is_lstm else None
            elif self.batch_first:
                output = S.transpose(output, 0, 1)
        return (output, (h_n, c_n)) if is_lstm else (output, h_n)

    def _initial_states(self, hx, x, B, unbatched, packed, input, is_lstm, D, P):
        L = self.num_layers * D
        if hx is None:
            h0 = zeros((L, B, P), dtype=x.dtype, device=x.device)
            c0 = zeros((L, B, self.hidden_size), dtype=x.dtype, device=x.device) if is_lstm else None
            return h0, c0
        if is_lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0)")
            h0, c0 = hx
        else:
            if isinstance(hx, (tuple, list)):
                raise RuntimeError(f"{type(self).__name__}: hx must be a Tensor, not a tuple")
            h0, c0 = hx, None
        if unbatched:
            if h0.ndim != 2:
                raise RuntimeError(f"{type(self).__name__}: For unbatched 2-D input, hx should also be 2-D but "
                                   f"got {h0.ndim}-D tensor")
            h0 = S.unsqueeze(h0, 1)
            c0 = S.unsqueeze(c0, 1) if is_lstm else None
        if packed and input.sorted_indices is not None:
            h0 = I.index_select(h0, 1, input.sorted_indices)
            c0 = I.index_select(c0, 1, input.sorted_indices) if is_lstm else None
        self._check_hidden(h0, B, P, "hidden")
        if is_lstm:
            self._check_hidden(c0, B, self.hidden_size, "cell")
        return h0, c0

    def _run_direction(self, flat, layer, d, h0, c0, batch_sizes):
        sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
        w_ih = getattr(self, "weight_ih" + sfx)
        w_hh = getattr(self, "weight_hh" + sfx)
        b_ih = getattr(self, "bias_ih" + sfx) if self.bias else None
        b_hh = getattr(self, "bias_hh" + sfx) if self.bias else None
        reverse = d == 1
        if self.mode == "GRU":
            gx = linear(flat, w_ih, b_ih)
            if b_hh is None:
                b_hh = zeros((w_hh.shape[0],), dtype=w_hh.dtype, device=w_hh.device)
            y, hn = R.gru_scan(gx, w_hh, b_hh, h0, batch_sizes=batch_sizes, reverse=reverse)
            return y, hn, None
        gx = linear(flat, w_ih, b_ih + b_hh if self.bias else None)
        if self.mode == "LSTM":
            w_hr = getattr(self, "weight_hr" + sfx) if self.proj_size > 0 else None
            return R.lstm_scan(gx, w_hh, h0, c0, w_hr, batch_sizes=batch_sizes, reverse=reverse)
        nl = "tanh" if self.mode == "RNN_TANH" else "relu"
        y, hn = R.rnn_scan(gx, w_hh, h0, batch_sizes=batch_sizes, reverse=reverse, nonlinearity=nl)
        return y, hn, None


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu with
    ``nonlinearity='relu'``). Returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory; returns (output, (h_n, c_n)). ``proj_size > 0`` projects h with
    weight_hr (h = (o * tanh(c)) W_hr^T)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit (PyTorch's variant: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)));
    returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


# -- cells ---------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """weight_ih (G*H, input_size), weight_hh (G*H, H), bias_ih / bias_hh (G*H,), U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        G = num_chunks * hidden_size
        self.weight_ih = Parameter(empty((G, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(empty((G, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty((G,), device=device, dtype=dtype))
            self.bias_hh = Parameter(empty((G,), device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nl = getattr(self, "nonlinearity", "tanh")
        if nl != "tanh":
            s += f", nonlinearity={nl}"
        return s

    def _prepare(self, input: Tensor, hx, n_states: int):
        """(batched input (B, in), list of batched states or None, unbatched flag) with checks."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        unbatched = input.ndim == 1
        x = S.unsqueeze(input, 0) if unbatched else input
        B = x.shape[0]
        if hx is None:
            states = [zeros((B, self.hidden_size), dtype=x.dtype, device=x.device) for _ in range(n_states)]
        else:
            states = list(hx) if n_states > 1 else [hx]
            states = [S.unsqueeze(h, 0) if unbatched else h for h in states]
            for h in states:
                if tuple(h.shape) != (B, self.hidden_size):
                    raise RuntimeError(f"{name}: hidden state has shape {tuple(h.shape)}, expected "
                                       f"{(B, self.hidden_size)}")
        return x, states, unbatched


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). (B, in), (B, H) -> (B, H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), unbatched = self._prepare(input, hx, 1)
        z = linear(x, self.weight_ih, self.bias_ih) + linear(h, self.weight_hh, self.bias_hh)
        h = E.tanh(z) if self.nonlinearity == "tanh" else A.relu(z)
        return S.squeeze(h, 0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step through the fused ``lstm_cell`` primitive: (B, in), ((B, H), (B, H)) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx=None):
        x, (h, c), unbatched = self._prepare(input, hx, 2)
        gates = linear(x, self.weight_ih, self.bias_ih) + linear(h, self.weight_hh, self.bias_hh)
        h, c = R.lstm_cell(gates, c)
        if unbatched:
            return S.squeeze(h, 0), S.squeeze(c, 0)
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step: r, z = sigmoid(.), n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h' = (1 - z) n + z h. (B, in), (B, H) -> (B, H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), unbatched = self._prepare(input, hx, 1)
        gi = linear(x, self.weight_ih, self.bias_ih)
        gh = linear(h, self.weight_hh, self.bias_hh)
        i_r, i_z, i_n = S.chunk(gi, 3, 1)
        h_r, h_z, h_n = S.chunk(gh, 3, 1)
        r = A.sigmoid(i_r + h_r)
        z = A.sigmoid(i_z + h_z)
        n = E.tanh(i_n + r * h_n)
        h = n + z * (h - n)
        return S.squeeze(h, 0) if unbatched else h
