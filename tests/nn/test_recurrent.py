"""RNN / LSTM / GRU layers and cells, packed sequences: NumPy references, gradcheck, padding
invariance, errors, a training run, and PyTorch reference tests (same weights -> same outputs and
gradients)."""

import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn.utils import rnn as U


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_lstm_layer(x, w_ih, w_hh, b_ih, b_hh, h, c):
    """x (T, B, I) -> outputs (T, B, H), h_n, c_n: the textbook loop."""
    H = w_hh.shape[1]
    ys = []
    for t in range(x.shape[0]):
        z = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = _sig(z[:, :H]), _sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), _sig(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        ys.append(h)
    return np.stack(ys), h, c


def np_gru_layer(x, w_ih, w_hh, b_ih, b_hh, h):
    H = w_hh.shape[1]
    ys = []
    for t in range(x.shape[0]):
        gi, gh = x[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        r = _sig(gi[:, :H] + gh[:, :H])
        z = _sig(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        h = (1 - z) * n + z * h
        ys.append(h)
    return np.stack(ys), h


def _p(m, name):
    return getattr(m, name).detach().numpy()


# -- construction ------------------------------------------------------------------------------------

def test_parameter_names_and_shapes_follow_pytorch():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    shapes = {n: tuple(p.shape) for n, p in m.named_parameters()}
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert shapes["weight_ih_l0"] == (16, 3) and shapes["weight_hh_l0"] == (16, 2)
    assert shapes["weight_hr_l0_reverse"] == (2, 4)
    assert shapes["weight_ih_l1"] == (16, 4)      # D * proj_size inputs
    assert len(shapes) == 2 * 2 * 5
    g = nn.GRU(3, 5, bias=False)
    assert {n: tuple(p.shape) for n, p in g.named_parameters()} == {"weight_ih_l0": (15, 3), "weight_hh_l0": (15, 5)}
    r = nn.RNN(3, 5, nonlinearity="relu")
    assert r.mode == "RNN_RELU" and tuple(r.weight_hh_l0.shape) == (5, 5)


def test_init_is_uniform_within_one_over_sqrt_hidden():
    ember.manual_seed(0)
    m = nn.LSTM(10, 64)
    bound = 1 / math.sqrt(64)
    for p in m.parameters():
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound
        assert abs(a.std() - bound / math.sqrt(3)) < 0.1 * bound     # the std of U(-b, b)
    cell = nn.GRUCell(3, 16)
    assert max(np.abs(p.detach().numpy()).max() for p in cell.parameters()) <= 0.25


def test_constructor_errors():
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")


# -- forward against NumPy -----------------------------------------------------------------------------

def test_lstm_matches_numpy_two_layers_batch_first():
    ember.manual_seed(1)
    m = nn.LSTM(3, 4, num_layers=2, batch_first=True)
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    out, (h, c) = m(ember.tensor(x))
    assert tuple(out.shape) == (2, 5, 4) and tuple(h.shape) == (2, 2, 4) and tuple(c.shape) == (2, 2, 4)
    xs = x.transpose(1, 0, 2)
    z = np.zeros((2, 4), np.float32)
    y0, h0, c0 = np_lstm_layer(xs, *(_p(m, f"{n}_l0") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")), z, z)
    y1, h1, c1 = np_lstm_layer(y0, *(_p(m, f"{n}_l1") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")), z, z)
    np.testing.assert_allclose(out.detach().numpy(), y1.transpose(1, 0, 2), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h.detach().numpy(), np.stack([h0, h1]), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c.detach().numpy(), np.stack([c0, c1]), rtol=1e-4, atol=1e-5)


def test_bidirectional_gru_matches_numpy_and_reverse_runs_backwards():
    ember.manual_seed(2)
    m = nn.GRU(3, 4, bidirectional=True)
    x = np.random.default_rng(1).standard_normal((6, 2, 3)).astype(np.float32)
    h0 = np.random.default_rng(2).standard_normal((2, 2, 4)).astype(np.float32)
    out, h = m(ember.tensor(x), ember.tensor(h0))
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    yf, hf = np_gru_layer(x, *(_p(m, f"{n}_l0") for n in names), h0[0])
    yb, hb = np_gru_layer(x[::-1], *(_p(m, f"{n}_l0_reverse") for n in names), h0[1])
    np.testing.assert_allclose(out.detach().numpy(), np.concatenate([yf, yb[::-1]], -1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h.detach().numpy(), np.stack([hf, hb]), rtol=1e-4, atol=1e-5)


def test_rnn_relu_and_unbatched_input():
    ember.manual_seed(3)
    m = nn.RNN(3, 4, nonlinearity="relu")
    x = np.random.default_rng(3).standard_normal((5, 3)).astype(np.float32)
    out, h = m(ember.tensor(x))
    assert tuple(out.shape) == (5, 4) and tuple(h.shape) == (1, 4)
    hs = np.zeros(4, np.float32)
    for t in range(5):
        hs = np.maximum(x[t] @ _p(m, "weight_ih_l0").T + _p(m, "bias_ih_l0") + hs @ _p(m, "weight_hh_l0").T
                        + _p(m, "bias_hh_l0"), 0)
    np.testing.assert_allclose(h.detach().numpy()[0], hs, rtol=1e-4, atol=1e-5)
    assert (out.detach().numpy() >= 0).all()


def test_cells_match_numpy():
    ember.manual_seed(4)
    rng = np.random.default_rng(4)
    x, h, c = (rng.standard_normal(s).astype(np.float32) for s in ((3, 2), (3, 4), (3, 4)))
    lc = nn.LSTMCell(2, 4)
    hn, cn = lc(ember.tensor(x), (ember.tensor(h), ember.tensor(c)))
    _, h_ref, c_ref = np_lstm_layer(x[None], _p(lc, "weight_ih"), _p(lc, "weight_hh"), _p(lc, "bias_ih"),
                                    _p(lc, "bias_hh"), h, c)
    np.testing.assert_allclose(hn.detach().numpy(), h_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cn.detach().numpy(), c_ref, rtol=1e-4, atol=1e-5)
    gc = nn.GRUCell(2, 4)
    _, g_ref = np_gru_layer(x[None], _p(gc, "weight_ih"), _p(gc, "weight_hh"), _p(gc, "bias_ih"), _p(gc, "bias_hh"), h)
    np.testing.assert_allclose(gc(ember.tensor(x), ember.tensor(h)).detach().numpy(), g_ref, rtol=1e-4, atol=1e-5)
    rc = nn.RNNCell(2, 4, bias=False)
    want = np.tanh(x @ _p(rc, "weight_ih").T + h @ _p(rc, "weight_hh").T)
    np.testing.assert_allclose(rc(ember.tensor(x), ember.tensor(h)).detach().numpy(), want, rtol=1e-4, atol=1e-5)
    # unbatched cells, zero initial state
    h1, c1 = lc(ember.tensor(x[0]))
    assert tuple(h1.shape) == (4,) and tuple(c1.shape) == (4,)


# -- gradients -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,kw", [
    (nn.LSTM, dict(num_layers=2, bidirectional=True)),
    (nn.LSTM, dict(proj_size=1, batch_first=True)),
    (nn.GRU, dict(num_layers=2, bidirectional=True)),
    (nn.RNN, dict(bidirectional=True)),
], ids=["lstm_bi2", "lstm_proj", "gru_bi2", "rnn_bi"])
def test_layer_gradcheck(cls, kw):
    ember.manual_seed(5)
    m = cls(2, 2, **kw).double()
    x = ember.tensor(np.random.default_rng(5).standard_normal((3, 2, 2)), requires_grad=True)
    params = list(m.parameters())

    def f(x, *ps):
        out, h = m(x)
        h = h[0] if isinstance(h, tuple) else h
        return out, h

    assert gradcheck(f, [x] + params, atol=1e-6, rtol=1e-4)


def test_packed_layer_gradcheck():
    ember.manual_seed(6)
    m = nn.LSTM(2, 2, bidirectional=True).double()
    x = ember.tensor(np.random.default_rng(6).standard_normal((3, 3, 2)), requires_grad=True)
    h0 = ember.tensor(np.random.default_rng(7).standard_normal((2, 3, 2)), requires_grad=True)
    c0 = ember.tensor(np.random.default_rng(8).standard_normal((2, 3, 2)), requires_grad=True)

    def f(x, h0, c0, *ps):
        packed = U.pack_padded_sequence(x, [2, 3, 1], enforce_sorted=False)
        out, (h, c) = m(packed, (h0, c0))
        return U.pad_packed_sequence(out)[0], h, c

    assert gradcheck(f, [x, h0, c0] + list(m.parameters()), atol=1e-6, rtol=1e-4)


def test_cells_gradcheck_and_lstm_cell_second_order():
    ember.manual_seed(7)
    rng = np.random.default_rng(7)
    x, h, c = (ember.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 2), (2, 3), (2, 3)))
    for cell in (nn.LSTMCell(2, 3).double(), nn.GRUCell(2, 3).double(), nn.RNNCell(2, 3).double()):
        if isinstance(cell, nn.LSTMCell):
            assert gradcheck(lambda x, h, c: cell(x, (h, c)), [x, h, c])
        else:
            assert gradcheck(lambda x, h: cell(x, h), [x, h])
    lc = nn.LSTMCell(2, 3).double()
    assert gradgradcheck(lambda x, h, c: lc(x, (h, c)), [x, h, c])


def test_scan_double_backward_raises_clearly():
    m = nn.LSTM(2, 2).double()
    x = ember.tensor(np.ones((2, 1, 2)), requires_grad=True)
    out, _ = m(x)
    (g,) = ember.autograd.grad(out.sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match="lstm_scan_grad: double backward is not supported"):
        g.sum().backward()


# -- packed sequences ------------------------------------------------------------------------------

def test_pack_pad_round_trip_and_batch_sizes():
    x = ember.tensor(np.arange(24, dtype=np.float32).reshape(4, 3, 2))
    p = U.pack_padded_sequence(x, ember.tensor([2, 4, 1]), enforce_sorted=False)
    assert p.batch_sizes.numpy().tolist() == [3, 2, 1, 1]
    assert p.sorted_indices.numpy().tolist() == [1, 0, 2]
    assert p.unsorted_indices.numpy().tolist() == [1, 0, 2]
    np.testing.assert_array_equal(p.data.numpy()[:3], x.numpy()[0][[1, 0, 2]])
    padded, lengths = U.pad_packed_sequence(p, padding_value=-1.0, total_length=5)
    assert lengths.numpy().tolist() == [2, 4, 1] and tuple(padded.shape) == (5, 3, 2)
    want = x.numpy().copy()
    for b, n in enumerate([2, 4, 1]):
        want[n:, b] = -1.0
    np.testing.assert_array_equal(padded.numpy()[:4], want)
    assert (padded.numpy()[4] == -1).all()
    seqs = U.unpack_sequence(p)
    assert [tuple(s.shape) for s in seqs] == [(2, 2), (4, 2), (1, 2)]
    np.testing.assert_array_equal(seqs[1].numpy(), x.numpy()[:, 1])


def test_pad_sequence_and_pack_sequence():
    a, b = ember.tensor([[1.0], [2.0], [3.0]]), ember.tensor([[4.0]])
    np.testing.assert_array_equal(U.pad_sequence([a, b], batch_first=True).numpy()[..., 0], [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(U.pad_sequence([a, b], padding_value=9.0, padding_side="left").numpy()[..., 0],
                                  [[1, 9], [2, 9], [3, 4]])
    p = U.pack_sequence([a, b])
    assert p.batch_sizes.numpy().tolist() == [2, 1, 1]
    np.testing.assert_array_equal(p.data.numpy()[:, 0], [1, 4, 2, 3])


def test_pack_errors():
    x = ember.zeros(3, 2, 1)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        U.pack_padded_sequence(x, [1, 3])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        U.pack_padded_sequence(x, [2, 0])
    with pytest.raises(ValueError, match="total_length to be at least"):
        U.pad_packed_sequence(U.pack_padded_sequence(x, [3, 1]), total_length=2)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_padded_steps_change_neither_outputs_nor_gradients(cls):
    """Garbage in the padding gives the same packed outputs, states and parameter gradients as zeros,
    the padding gets exactly zero gradient, and each sequence's result equals running it alone."""
    ember.manual_seed(8)
    m = cls(3, 4, num_layers=2, bidirectional=True).double()
    lengths = [5, 2, 4]
    rng = np.random.default_rng(8)
    base = rng.standard_normal((5, 3, 3))
    results = []
    for fill in (0.0, 100.0):
        arr = base.copy()
        for b, n in enumerate(lengths):
            arr[n:, b] = fill
        x = ember.tensor(arr, requires_grad=True)
        m.zero_grad()
        out, h = m(U.pack_padded_sequence(x, lengths, enforce_sorted=False))
        h = h[0] if isinstance(h, tuple) else h
        padded, _ = U.pad_packed_sequence(out)
        ((padded ** 2).sum() + (h ** 3).sum()).backward()
        results.append((padded.detach().numpy(), h.detach().numpy(), x.grad.numpy(),
                        [p.grad.numpy().copy() for p in m.parameters()]))
    (o1, h1, g1, p1), (o2, h2, g2, p2) = results
    np.testing.assert_array_equal(o1, o2)
    np.testing.assert_array_equal(h1, h2)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12)
    for a, b in zip(p1, p2):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for b, n in enumerate(lengths):
        assert (g1[n:, b] == 0).all() and (o1[n:, b] == 0).all()
        alone, h_alone = m(ember.tensor(base[:n, b]))
        h_alone = h_alone[0] if isinstance(h_alone, tuple) else h_alone
        np.testing.assert_allclose(o1[:n, b], alone.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(h1[:, b], h_alone.detach().numpy(), rtol=1e-12, atol=1e-12)


# -- behaviour and errors ------------------------------------------------------------------------------

def test_dropout_between_layers_only_in_training():
    ember.manual_seed(9)
    m = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = ember.randn(4, 2, 3)
    m.eval()
    a, b = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    m.train()
    c = m(x)[0].detach().numpy()
    assert np.abs(c - a).max() > 1e-3
    one = nn.GRU(3, 8, num_layers=1, dropout=0.0)
    np.testing.assert_array_equal(one(x)[0].detach().numpy(), one.eval()(x)[0].detach().numpy())


def test_input_and_hidden_errors():
    m = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 2"):
        m(ember.zeros(5, 2, 2))
    with pytest.raises(RuntimeError, match="Expected hidden size \\(1, 2, 4\\), got \\(1, 3, 4\\)"):
        m(ember.zeros(5, 2, 3), (ember.zeros(1, 3, 4), ember.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match="LSTM: hx must be a tuple"):
        m(ember.zeros(5, 2, 3), ember.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        m(ember.zeros(1, 5, 2, 3))
    with pytest.raises(RuntimeError, match="input dtype float64 and parameter dtype float32 differ"):
        m(ember.zeros(5, 2, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="GRUCell: input has inconsistent input_size: got 2 expected 3"):
        nn.GRUCell(3, 4)(ember.zeros(2, 2))


@pytest.mark.slow
def test_lstm_learns_to_count_ones():
    """Classify whether a 0/1 sequence holds more ones than zeros: needs memory over the whole sequence."""
    ember.manual_seed(10)
    rng = np.random.default_rng(10)
    x = (rng.random((768, 9, 1)) < 0.5).astype(np.float32)
    y = (x.sum((1, 2)) > 4.5).astype(np.int64)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, 16, batch_first=True)
            self.fc = nn.Linear(16, 2)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1])

    net = Net()
    opt = ember.optim.Adam(net.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    X, Y = ember.tensor(x[:512]), ember.tensor(y[:512])
    for _ in range(25):
        for i in range(0, 512, 128):
            opt.zero_grad()
            loss = loss_fn(net(X[i:i + 128]), Y[i:i + 128])
            loss.backward()
            opt.step()
    with ember.no_grad():
        acc = (net(ember.tensor(x[512:])).argmax(1).numpy() == y[512:]).mean()   # held-out sequences
    assert acc > 0.95, acc


# -- PyTorch reference -------------------------------------------------------------------------------

def _copy_from_torch(tm, em):
    assert [n for n, _ in tm.named_parameters()] == [n for n, _ in em.named_parameters()]
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


REF_CONFIGS = [
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(num_layers=2, proj_size=2, batch_first=True)),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("GRU", dict(bias=False)),
    ("RNN", dict(num_layers=2, nonlinearity="relu", bidirectional=True)),
    ("RNN", dict()),
]


@pytest.mark.reference
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kw", REF_CONFIGS, ids=[f"{n}-{'-'.join(k)}" for n, k in REF_CONFIGS])
def test_matches_pytorch(name, kw, dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tdt = getattr(torch, dtype)
    tm = getattr(torch.nn, name)(3, 4, **kw).to(tdt)
    em = getattr(nn, name)(3, 4, **kw).to(dtype=getattr(ember, dtype))
    _copy_from_torch(tm, em)
    rtol, atol = (1e-5, 1e-8) if dtype == "float64" else (1e-4, 1e-5)
    bf = kw.get("batch_first", False)
    x = torch.randn(*((2, 5, 3) if bf else (5, 2, 3)), dtype=tdt, requires_grad=True)
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    P = kw.get("proj_size", 0) or 4
    h0 = torch.randn(L * D, 2, P, dtype=tdt)
    hx = (h0, torch.randn(L * D, 2, 4, dtype=tdt)) if name == "LSTM" else h0
    ex = ember.tensor(x.detach().numpy(), requires_grad=True)
    ehx = tuple(ember.tensor(t.numpy()) for t in hx) if name == "LSTM" else ember.tensor(h0.numpy())

    def loss(out, h, lib):
        hs = h if isinstance(h, tuple) else (h,)
        return (out ** 2).sum() + sum((s * (k + 1.0)).sum() for k, s in enumerate(hs))

    to, th = tm(x, hx)
    eo, eh = em(ex, ehx)
    loss(to, th, torch).backward()
    loss(eo, eh, ember).backward()
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=rtol, atol=atol)
    for a, b in zip(eh if isinstance(eh, tuple) else (eh,), th if isinstance(th, tuple) else (th,)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ex.grad.numpy(), x.grad.numpy(), rtol=rtol, atol=atol)
    for n, p in tm.named_parameters():
        np.testing.assert_allclose(em.get_parameter(n).grad.numpy(), p.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=n)


@pytest.mark.reference
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_packed_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    tm = getattr(torch.nn, name)(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    em = getattr(nn, name)(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    _copy_from_torch(tm, em)
    lengths = [3, 5, 1, 4]
    x = torch.randn(4, 5, 3, dtype=torch.float64, requires_grad=True)
    ex = ember.tensor(x.detach().numpy(), requires_grad=True)
    h0 = torch.randn(4, 4, 4, dtype=torch.float64)             # initial states in the caller's batch order
    hx = (h0, torch.randn(4, 4, 4, dtype=torch.float64)) if name == "LSTM" else h0
    ehx = tuple(ember.tensor(t.numpy()) for t in hx) if name == "LSTM" else ember.tensor(h0.numpy())
    to, th = tm(torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), hx)
    eo, eh = em(U.pack_padded_sequence(ex, lengths, batch_first=True, enforce_sorted=False), ehx)
    np.testing.assert_array_equal(eo.batch_sizes.numpy(), to.batch_sizes.numpy())
    np.testing.assert_allclose(eo.data.detach().numpy(), to.data.detach().numpy(), rtol=1e-5, atol=1e-8)
    tp, tl = torch.nn.utils.rnn.pad_packed_sequence(to, batch_first=True)
    ep, el = U.pad_packed_sequence(eo, batch_first=True)
    np.testing.assert_array_equal(el.numpy(), tl.numpy())
    th0 = th[0] if isinstance(th, tuple) else th
    eh0 = eh[0] if isinstance(eh, tuple) else eh
    ((tp ** 2).sum() + (th0 ** 3).sum()).backward()
    ((ep ** 2).sum() + (eh0 ** 3).sum()).backward()
    np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(eh0.detach().numpy(), th0.detach().numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(ex.grad.numpy(), x.grad.numpy(), rtol=1e-5, atol=1e-8)
    for n, p in tm.named_parameters():
        np.testing.assert_allclose(em.get_parameter(n).grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-8,
                                   err_msg=n)


@pytest.mark.reference
def test_cells_match_pytorch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    x = torch.randn(3, 2, dtype=torch.float64)
    h = torch.randn(3, 4, dtype=torch.float64)
    c = torch.randn(3, 4, dtype=torch.float64)
    for name in ("LSTMCell", "GRUCell", "RNNCell"):
        tm, em = getattr(torch.nn, name)(2, 4).double(), getattr(nn, name)(2, 4).double()
        _copy_from_torch(tm, em)
        hx = (h, c) if name == "LSTMCell" else h
        ehx = (ember.tensor(h.numpy()), ember.tensor(c.numpy())) if name == "LSTMCell" else ember.tensor(h.numpy())
        to, eo = tm(x, hx), em(ember.tensor(x.numpy()), ehx)
        to, eo = (to[0], eo[0]) if name == "LSTMCell" else (to, eo)
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.reference
def test_pytorch_state_dict_via_safetensors_loads(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    from safetensors.numpy import load_file
    torch.manual_seed(3)
    tm = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    path = tmp_path / "lstm.safetensors"
    st.save_file(tm.state_dict(), str(path))
    em = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    result = em.load_state_dict({k: ember.tensor(v) for k, v in load_file(str(path)).items()})
    assert not result.missing_keys and not result.unexpected_keys
    x = torch.randn(4, 2, 3)
    np.testing.assert_allclose(em(ember.tensor(x.numpy()))[0].detach().numpy(), tm(x)[0].detach().numpy(),
                               rtol=1e-4, atol=1e-5)
