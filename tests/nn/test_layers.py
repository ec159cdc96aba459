"""Every layer: output shape, parameter names and count, state_dict round trip, and gradcheck of
the input and every parameter on tiny float64 sizes."""

import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import gradcheck


def away(x):
    """Keep values away from kinks (relu at 0, hardtanh at +-1, ...) so finite differences are valid."""
    return np.sign(x) * (np.abs(x) + 0.15)


# (id, factory, input shapes, output shape, parameter names, input map for gradcheck)
SPECS = [
    ("Linear", lambda: nn.Linear(3, 2), [(4, 3)], (4, 2), ["weight", "bias"], None),
    ("Linear_nobias_3d", lambda: nn.Linear(3, 2, bias=False), [(2, 2, 3)], (2, 2, 2), ["weight"], None),
    ("Bilinear", lambda: nn.Bilinear(2, 3, 2), [(2, 2), (2, 3)], (2, 2), ["weight", "bias"], None),
    ("Identity", lambda: nn.Identity(5, foo=1), [(2, 3)], (2, 3), [], None),
    ("Flatten", lambda: nn.Flatten(), [(2, 3, 2)], (2, 6), [], None),
    ("Unflatten", lambda: nn.Unflatten(1, (2, 3)), [(2, 6)], (2, 2, 3), [], None),
    ("BatchNorm1d", lambda: nn.BatchNorm1d(3), [(4, 3)], (4, 3), ["weight", "bias"], None),
    ("BatchNorm1d_3d", lambda: nn.BatchNorm1d(2), [(3, 2, 2)], (3, 2, 2), ["weight", "bias"], None),
    ("BatchNorm2d", lambda: nn.BatchNorm2d(2), [(2, 2, 2, 2)], (2, 2, 2, 2), ["weight", "bias"], None),
    ("BatchNorm2d_noaffine", lambda: nn.BatchNorm2d(2, affine=False), [(2, 2, 2, 2)], (2, 2, 2, 2), [], None),
    ("BatchNorm3d", lambda: nn.BatchNorm3d(2), [(2, 2, 1, 2, 2)], (2, 2, 1, 2, 2), ["weight", "bias"], None),
    ("LayerNorm", lambda: nn.LayerNorm(4), [(3, 4)], (3, 4), ["weight", "bias"], None),
    ("LayerNorm_2d_nobias", lambda: nn.LayerNorm((2, 3), bias=False), [(2, 2, 3)], (2, 2, 3), ["weight"], None),
    ("GroupNorm", lambda: nn.GroupNorm(2, 4), [(2, 4, 3)], (2, 4, 3), ["weight", "bias"], None),
    ("RMSNorm", lambda: nn.RMSNorm(4), [(3, 4)], (3, 4), ["weight"], None),
    ("InstanceNorm1d", lambda: nn.InstanceNorm1d(2, affine=True), [(2, 2, 4)], (2, 2, 4), ["weight", "bias"], None),
    ("InstanceNorm2d_unbatched", lambda: nn.InstanceNorm2d(2), [(2, 2, 3)], (2, 2, 3), [], None),
    ("LocalResponseNorm", lambda: nn.LocalResponseNorm(3), [(2, 4, 3)], (2, 4, 3), [], None),
    ("Embedding", lambda: nn.Embedding(6, 3), ["idx"], (2, 3, 3), ["weight"], None),
    ("Dropout_eval", lambda: nn.Dropout(0.5).eval(), [(2, 3)], (2, 3), [], None),
    ("PReLU", lambda: nn.PReLU(3), [(2, 3, 2)], (2, 3, 2), ["weight"], away),
    ("ReLU", nn.ReLU, [(2, 3)], (2, 3), [], away),
    ("ReLU6", nn.ReLU6, [(2, 3)], (2, 3), [], away),
    ("LeakyReLU", lambda: nn.LeakyReLU(0.1), [(2, 3)], (2, 3), [], away),
    ("ELU", lambda: nn.ELU(0.5), [(2, 3)], (2, 3), [], away),
    ("SELU", nn.SELU, [(2, 3)], (2, 3), [], away),
    ("CELU", lambda: nn.CELU(1.5), [(2, 3)], (2, 3), [], away),
    ("GELU", nn.GELU, [(2, 3)], (2, 3), [], None),
    ("GELU_tanh", lambda: nn.GELU("tanh"), [(2, 3)], (2, 3), [], None),
    ("SiLU", nn.SiLU, [(2, 3)], (2, 3), [], None),
    ("Mish", nn.Mish, [(2, 3)], (2, 3), [], None),
    ("Softplus", lambda: nn.Softplus(2.0, 10.0), [(2, 3)], (2, 3), [], None),
    ("Softsign", nn.Softsign, [(2, 3)], (2, 3), [], away),
    ("Hardtanh", lambda: nn.Hardtanh(-0.5, 0.5), [(2, 3)], (2, 3), [], lambda x: away(x) * 3),
    ("Hardsigmoid", nn.Hardsigmoid, [(2, 3)], (2, 3), [], lambda x: away(x) * 2),
    ("Hardswish", nn.Hardswish, [(2, 3)], (2, 3), [], lambda x: away(x) * 2),
    ("Sigmoid", nn.Sigmoid, [(2, 3)], (2, 3), [], None),
    ("Tanh", nn.Tanh, [(2, 3)], (2, 3), [], None),
    ("Softmax", lambda: nn.Softmax(dim=1), [(2, 3)], (2, 3), [], None),
    ("LogSoftmax", lambda: nn.LogSoftmax(dim=-1), [(2, 3)], (2, 3), [], None),
    ("Softmin", lambda: nn.Softmin(dim=0), [(2, 3)], (2, 3), [], None),
    ("Softmax2d", nn.Softmax2d, [(1, 3, 2, 2)], (1, 3, 2, 2), [], None),
    ("Threshold", lambda: nn.Threshold(0.1, 20.0), [(2, 3)], (2, 3), [], away),
    ("Hardshrink", nn.Hardshrink, [(2, 3)], (2, 3), [], lambda x: np.where(np.abs(np.abs(x) - 0.5) < 0.1, x * 1.5, x)),
    ("Softshrink", nn.Softshrink, [(2, 3)], (2, 3), [], lambda x: np.where(np.abs(np.abs(x) - 0.5) < 0.1, x * 1.5, x)),
    ("Tanhshrink", nn.Tanhshrink, [(2, 3)], (2, 3), [], None),
    ("LogSigmoid", nn.LogSigmoid, [(2, 3)], (2, 3), [], None),
    ("GLU", nn.GLU, [(2, 4)], (2, 2), [], None),
    ("RReLU_eval", lambda: nn.RReLU().eval(), [(2, 3)], (2, 3), [], away),
    ("ZeroPad2d", lambda: nn.ZeroPad2d((1, 0, 2, 1)), [(1, 2, 2, 3)], (1, 2, 5, 4), [], None),
    ("ConstantPad3d", lambda: nn.ConstantPad3d(1, 0.5), [(1, 1, 1, 2, 2)], (1, 1, 3, 4, 4), [], None),
    ("ReflectionPad1d", lambda: nn.ReflectionPad1d(2), [(1, 2, 4)], (1, 2, 8), [], None),
    ("ReplicationPad2d", lambda: nn.ReplicationPad2d(1), [(1, 1, 2, 2)], (1, 1, 4, 4), [], None),
    ("CircularPad1d_unbatched", lambda: nn.CircularPad1d((2, 1)), [(2, 3)], (2, 6), [], None),
    ("CosineSimilarity", nn.CosineSimilarity, [(3, 4), (3, 4)], (3,), [], None),
    ("PairwiseDistance", nn.PairwiseDistance, [(3, 4), (3, 4)], (3,), [], None),
    ("Sequential", lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), [(2, 3)], (2, 2),
     ["0.weight", "0.bias", "2.weight", "2.bias"], None),
]
IDS = [s[0] for s in SPECS]


def make_inputs(shapes, dtype, fmap, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        if s == "idx":
            out.append(ember.tensor(np.array([[0, 5, 2], [2, 1, 0]])))
            continue
        a = rng.standard_normal(s)
        if fmap is not None:
            a = fmap(a)
        out.append(ember.tensor(a.astype(dtype)))
    return out


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_output_shape_and_parameters(spec):
    name, factory, shapes, out_shape, pnames, fmap = spec
    m = factory()
    y = m(*make_inputs(shapes, np.float32, fmap))
    assert tuple(y.shape) == out_shape
    assert y.dtype == np.float32
    assert [n for n, _ in m.named_parameters()] == pnames
    assert len(list(m.parameters())) == len(pnames)
    assert all(p.dtype == np.float32 for p in m.parameters())
    assert isinstance(repr(m), str) and repr(m).startswith(type(m).__name__)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_state_dict_round_trip(spec):
    name, factory, shapes, out_shape, pnames, fmap = spec
    ember.manual_seed(1)
    a = factory()
    ember.manual_seed(2)
    b = factory()
    inputs = make_inputs(shapes, np.float32, fmap)
    if pnames:  # differently seeded copies differ before loading ...
        a.train()
        a(*inputs)  # updates running statistics where there are any
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(*inputs).detach().numpy(), b(*inputs).detach().numpy())
    assert set(a.state_dict()) == set(b.state_dict())


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_gradcheck_input_and_parameters(spec):
    name, factory, shapes, out_shape, pnames, fmap = spec
    ember.manual_seed(0)
    m = factory().double()
    inputs = make_inputs(shapes, np.float64, fmap, seed=3)
    for t in inputs:
        if t.dtype == np.float64:
            t.requires_grad_()
    params = [p for p in m.parameters()]
    if name.startswith("PReLU"):
        with ember.no_grad():
            m.weight.copy_(ember.tensor([0.2, -0.3, 0.5], dtype=ember.float64))
    n = len(inputs)
    assert gradcheck(lambda *xs: m(*xs[:n]), inputs + params)


def test_linear_default_init_bounds_and_distribution():
    ember.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = lin.weight.detach().numpy()
    b = lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound      # uniform on [-bound, bound]
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.95 * bound


def test_embedding_and_norm_default_init():
    ember.manual_seed(0)
    e = nn.Embedding(1000, 50, padding_idx=3)
    w = e.weight.detach().numpy()
    assert abs(w.std() - 1.0) < 0.02 and abs(w.mean()) < 0.02
    assert not w[3].any()
    for m in (nn.BatchNorm2d(4), nn.LayerNorm(4), nn.GroupNorm(2, 4)):
        np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones(4))
        np.testing.assert_array_equal(m.bias.detach().numpy(), np.zeros(4))
    bn = nn.BatchNorm1d(3)
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(3))
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == np.int64
    np.testing.assert_allclose(nn.PReLU().weight.detach().numpy(), [0.25])


def test_factory_kwargs_dtype():
    lin = nn.Linear(2, 3, dtype=ember.float64)
    assert lin.weight.dtype == np.float64 and lin.bias.dtype == np.float64
    ln = nn.LayerNorm(3, dtype="float64")
    assert ln(ember.randn(2, 3, dtype=ember.float64)).dtype == np.float64


def test_bilinear_matches_numpy():
    m = nn.Bilinear(2, 3, 4)
    x1, x2 = ember.randn(5, 2), ember.randn(5, 3)
    want = np.einsum("ni,oij,nj->no", x1.numpy(), m.weight.detach().numpy(), x2.numpy()) + m.bias.detach().numpy()
    np.testing.assert_allclose(m(x1, x2).detach().numpy(), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="bilinear"):
        m(x2, x1)


def test_layer_input_errors_name_the_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"BatchNorm2d: expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(ember.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(ember.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(ember.randn(1, 3))
    with pytest.raises(RuntimeError, match=r"layer_norm: normalized_shape \[4\] must match.*\(2, 3\)"):
        nn.LayerNorm(4)(ember.randn(2, 3))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        nn.functional.group_norm(ember.randn(2, 5, 3), 2)
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(2, 5)
    with pytest.raises(RuntimeError, match=r"linear: input's last dim \(3\) must equal weight's in_features \(4\)"):
        nn.Linear(4, 2)(ember.randn(2, 3))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_inplace_activation_writes_into_input():
    x = ember.tensor([-1.0, 2.0])
    out = nn.ReLU(inplace=True)(x)
    assert out is x and x.tolist() == [0.0, 2.0]
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


def test_activation_values():
    x = ember.tensor([-3.0, -0.5, 0.0, 0.5, 3.0])
    xs = x.numpy()
    checks = {
        nn.ReLU6(): np.clip(xs, 0, 6), nn.Hardtanh(): np.clip(xs, -1, 1),
        nn.Hardsigmoid(): np.clip(xs / 6 + 0.5, 0, 1), nn.Hardswish(): xs * np.clip(xs / 6 + 0.5, 0, 1),
        nn.Softsign(): xs / (1 + np.abs(xs)), nn.Tanhshrink(): xs - np.tanh(xs),
        nn.LogSigmoid(): -np.logaddexp(0, -xs), nn.Threshold(0.2, -1.0): np.where(xs > 0.2, xs, -1.0),
        nn.Hardshrink(0.5): np.where(np.abs(xs) > 0.5, xs, 0), nn.Softshrink(1.0): np.sign(xs) * np.maximum(np.abs(xs) - 1, 0),
        nn.Mish(): xs * np.tanh(np.logaddexp(0, xs)), nn.SiLU(): xs / (1 + np.exp(-xs)),
        nn.CELU(2.0): np.maximum(xs, 0) + np.minimum(0, 2.0 * np.expm1(xs / 2.0)),
    }
    for m, want in checks.items():
        np.testing.assert_allclose(m(x).numpy(), want, rtol=1e-5, atol=1e-6, err_msg=repr(m))


def test_flatten_unflatten_round_trip():
    x = ember.randn(2, 3, 4, 5)
    y = nn.Flatten(1, 2)(x)
    assert tuple(y.shape) == (2, 12, 5)
    assert tuple(nn.Unflatten(1, (3, 4))(y).shape) == (2, 3, 4, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


@pytest.mark.reference
def test_padding_and_distance_layers_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    pairs = [(nn.ZeroPad2d((1, 2, 0, 3)), torch.nn.ZeroPad2d((1, 2, 0, 3))),
             (nn.ConstantPad2d(2, -1.5), torch.nn.ConstantPad2d(2, -1.5)),
             (nn.ReflectionPad2d((2, 1, 3, 0)), torch.nn.ReflectionPad2d((2, 1, 3, 0))),
             (nn.ReplicationPad2d(2), torch.nn.ReplicationPad2d(2)),
             (nn.CircularPad2d((1, 2, 2, 1)), torch.nn.CircularPad2d((1, 2, 2, 1)))]
    for ours, ref in pairs:
        np.testing.assert_array_equal(ours(ember.tensor(x)).numpy(), ref(torch.tensor(x)).numpy())
        assert repr(ours) == repr(ref)
    a, b = x.reshape(6, 20), x[::-1].reshape(6, 20).copy()
    np.testing.assert_allclose(nn.CosineSimilarity()(ember.tensor(a), ember.tensor(b)).numpy(),
                               torch.nn.CosineSimilarity()(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(nn.PairwiseDistance(p=3)(ember.tensor(a), ember.tensor(b)).numpy(),
                               torch.nn.PairwiseDistance(p=3)(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-10)


def test_buffer_marker_registers_a_buffer():
    m = nn.Module()
    m.stats = nn.Buffer(ember.zeros(2))
    m.tmp = nn.Buffer(ember.ones(1), persistent=False)
    assert type(m.stats) is ember.Tensor and list(m.state_dict()) == ["stats"]
    assert [n for n, _ in m.named_buffers()] == ["stats", "tmp"]


def test_functional_inplace_signatures_like_pytorch():
    F = nn.functional
    for fn, kw in [(F.relu, {}), (F.relu6, {}), (F.elu, {"alpha": 0.5}), (F.selu, {}), (F.celu, {}),
                   (F.leaky_relu, {"negative_slope": 0.2}), (F.hardtanh, {}), (F.silu, {}), (F.mish, {}),
                   (F.hardsigmoid, {}), (F.hardswish, {}), (F.rrelu, {}), (F.threshold, {"threshold": 0.0, "value": 1.0})]:
        x = ember.tensor([-1.0, 0.5])
        want = fn(ember.tensor([-1.0, 0.5]), **kw).numpy()
        assert fn(x, inplace=True, **kw) is x
        np.testing.assert_allclose(x.numpy(), want, rtol=1e-6)
    x = ember.tensor([-1.0, 2.0])
    assert F.relu_(x) is x and x.tolist() == [0.0, 2.0]


def test_rrelu_training_slopes_within_bounds():
    ember.manual_seed(0)
    x = -ember.ones(1000)
    y = nn.RReLU(0.1, 0.3)(x).numpy()
    assert (y <= -0.1).all() and (y >= -0.3).all() and y.std() > 0.03
    np.testing.assert_allclose(nn.RReLU(0.1, 0.3).eval()(x).numpy(), -0.2, rtol=1e-6)


def test_gumbel_softmax():
    ember.manual_seed(0)
    logits = ember.tensor([[2.0, 0.0, -1.0]] * 2000, requires_grad=True)
    soft = nn.functional.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1.0, rtol=1e-5)
    hard = nn.functional.gumbel_softmax(logits, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) == {0.0, 1.0} and (h.sum(1) == 1).all()
    p = np.exp([2.0, 0.0, -1.0]) / np.exp([2.0, 0.0, -1.0]).sum()
    np.testing.assert_allclose(h.mean(0), p, atol=0.03)        # samples follow softmax(logits)
    (hard * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0
