"""Layers against PyTorch: the same state_dict keys and shapes (a torch checkpoint loads as is),
and equal outputs and gradients in float64 after loading torch's weights."""

import numpy as np
import pytest

import ember
import ember.nn as nn

pytestmark = pytest.mark.reference


def _pairs(torch):
    tn = torch.nn
    return [
        ("Linear", lambda: nn.Linear(5, 3), lambda: tn.Linear(5, 3), [(4, 5)]),
        ("Bilinear", lambda: nn.Bilinear(3, 4, 2), lambda: tn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
        ("Embedding", lambda: nn.Embedding(7, 3, padding_idx=2), lambda: tn.Embedding(7, 3, padding_idx=2), ["idx"]),
        ("PReLU", lambda: nn.PReLU(4), lambda: tn.PReLU(4), [(2, 4, 3)]),
        ("MLP", lambda: nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Dropout(0.0), nn.Linear(8, 2)),
         lambda: tn.Sequential(tn.Linear(5, 8), tn.BatchNorm1d(8), tn.GELU(), tn.Dropout(0.0), tn.Linear(8, 2)),
         [(6, 5)]),
        ("Norms", lambda: nn.Sequential(nn.LayerNorm(4), nn.RMSNorm(4), nn.GroupNorm(2, 2)),
         lambda: tn.Sequential(tn.LayerNorm(4), tn.RMSNorm(4), tn.GroupNorm(2, 2)), [(3, 2, 4)]),
    ]


def _activation_pairs(torch):
    tn = torch.nn
    names = ["ReLU", "ReLU6", "SELU", "SiLU", "Mish", "Hardsigmoid", "Hardswish", "Sigmoid", "Tanh", "Softsign",
             "Tanhshrink", "LogSigmoid", "GELU", "Hardshrink", "Softshrink"]
    pairs = [(n, getattr(nn, n)(), getattr(tn, n)()) for n in names]
    pairs += [("LeakyReLU", nn.LeakyReLU(0.2), tn.LeakyReLU(0.2)), ("ELU", nn.ELU(0.7), tn.ELU(0.7)),
              ("CELU", nn.CELU(1.3), tn.CELU(1.3)), ("GELU_tanh", nn.GELU("tanh"), tn.GELU("tanh")),
              ("Softplus", nn.Softplus(2.0, 3.0), tn.Softplus(2.0, 3.0)),
              ("Hardtanh", nn.Hardtanh(-0.5, 1.5), tn.Hardtanh(-0.5, 1.5)),
              ("Threshold", nn.Threshold(0.3, -2.0), tn.Threshold(0.3, -2.0)),
              ("Softmax", nn.Softmax(1), tn.Softmax(1)), ("LogSoftmax", nn.LogSoftmax(0), tn.LogSoftmax(0)),
              ("Softmin", nn.Softmin(1), tn.Softmin(1)), ("GLU", nn.GLU(1), tn.GLU(1)),
              ("RReLU_eval", nn.RReLU().eval(), tn.RReLU().eval())]
    return pairs


@pytest.mark.parametrize("name", ["Linear", "Bilinear", "Embedding", "PReLU", "MLP", "Norms"])
def test_layer_matches_torch(name):
    torch = pytest.importorskip("torch")
    _, make_ours, make_ref, shapes = {p[0]: p for p in _pairs(torch)}[name]
    ours, ref = make_ours().double(), make_ref().double()
    ref_sd = ref.state_dict()
    assert list(ours.state_dict()) == list(ref_sd)
    for k, v in ours.state_dict().items():
        assert tuple(v.shape) == tuple(ref_sd[k].shape), k
    ours.load_state_dict({k: v.numpy() for k, v in ref_sd.items()})
    rng = np.random.default_rng(0)
    xs_e, xs_t = [], []
    for s in shapes:
        if s == "idx":
            idx = np.array([[0, 2, 6], [2, 3, 3]])
            xs_e.append(ember.tensor(idx)), xs_t.append(torch.tensor(idx))
        else:
            a = rng.standard_normal(s)
            xs_e.append(ember.tensor(a, requires_grad=True)), xs_t.append(torch.tensor(a, requires_grad=True))
    ye, yt = ours(*xs_e), ref(*xs_t)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-9)
    g = rng.standard_normal(tuple(yt.shape))
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, b in zip(xs_e, xs_t):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-9)
    for (n, p), (_, pt) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), pt.grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=n)
    assert repr(ours) == repr(ref)


def test_activation_modules_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((3, 4)) * 3
    for name, ours, ref in _activation_pairs(torch):
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ye, yt = ours(xe), ref(xt)
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-9, err_msg=name)
        ye.sum().backward(), yt.sum().backward()
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=name)
        assert repr(ours) == repr(ref), name


def test_default_init_distributions_match_torch():
    """Same distribution family and bounds as PyTorch's defaults (values differ: other generators)."""
    torch = pytest.importorskip("torch")
    ember.manual_seed(0), torch.manual_seed(0)
    for ours, ref in [(nn.Linear(300, 200), torch.nn.Linear(300, 200)),
                      (nn.Bilinear(50, 40, 30), torch.nn.Bilinear(50, 40, 30)),
                      (nn.Embedding(500, 40), torch.nn.Embedding(500, 40))]:
        for (n, p), (_, pt) in zip(ours.named_parameters(), ref.named_parameters()):
            a, b = p.detach().numpy(), pt.detach().numpy()
            assert abs(a.std() - b.std()) < 0.05 * b.std(), n
            assert abs(np.abs(a).max() - np.abs(b).max()) < 0.1 * np.abs(b).max(), n
