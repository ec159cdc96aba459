"""nn.utils: clip_grad_norm_ (2-norm, p-norm, inf, non-finite), clip_grad_value_,
parameters_to_vector / vector_to_parameters."""

import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters)


def params_with_grads(*grads):
    ps = []
    for g in grads:
        p = nn.Parameter(ember.zeros(len(g)))
        p.grad = ember.tensor(g)
        ps.append(p)
    return ps


def test_clip_grad_norm_scales_to_max_norm_and_returns_total():
    ps = params_with_grads([3.0, 0.0], [0.0, 4.0])
    total = clip_grad_norm_(ps, 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(ps[0].grad.numpy(), [3 / 5, 0], rtol=1e-5)
    np.testing.assert_allclose(ps[1].grad.numpy(), [0, 4 / 5], rtol=1e-5)
    # below the limit: unchanged
    ps = params_with_grads([0.3, 0.4])
    assert clip_grad_norm_(ps, 1.0).item() == pytest.approx(0.5)
    np.testing.assert_allclose(ps[0].grad.numpy(), [0.3, 0.4], rtol=1e-6)


def test_clip_grad_norm_other_norms():
    ps = params_with_grads([1.0, -2.0], [3.0])
    assert clip_grad_norm_(ps, 100.0, norm_type=1).item() == pytest.approx(6.0)
    assert clip_grad_norm_(ps, 100.0, norm_type=3).item() == pytest.approx((1 + 8 + 27) ** (1 / 3))
    total = clip_grad_norm_(ps, 1.5, norm_type=math.inf)
    assert total.item() == pytest.approx(3.0)
    np.testing.assert_allclose(ps[1].grad.numpy(), [1.5], rtol=1e-5)
    p = nn.Parameter(ember.zeros(2))
    assert clip_grad_norm_(p, 1.0).item() == 0.0            # no gradients at all


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0/0 and log(0) on purpose
def test_clip_grad_norm_nonfinite():
    ps = params_with_grads([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_(ps, 1.0).item())


def test_clip_grad_value():
    ps = params_with_grads([-3.0, 0.5, 2.0])
    clip_grad_value_(ps, 1.0)
    np.testing.assert_array_equal(ps[0].grad.numpy(), [-1.0, 0.5, 1.0])


def test_vector_round_trip():
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = parameters_to_vector(m.parameters())
    assert tuple(vec.shape) == (3 * 2 + 2 + 2 + 1,)
    vector_to_parameters(ember.arange(11, dtype=ember.float32), m.parameters())
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(parameters_to_vector(m.parameters()).detach().numpy(), np.arange(11))
    with pytest.raises(TypeError, match="expected ember.Tensor"):
        vector_to_parameters(np.zeros(11), m.parameters())
    with pytest.raises(ValueError, match="1-d vector of 11 elements"):
        vector_to_parameters(ember.zeros(10), m.parameters())


@pytest.mark.reference
def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    for norm_type in (2.0, 1.0, math.inf):
        ps = [nn.Parameter(ember.zeros(*g.shape, dtype=ember.float64)) for g in grads]
        ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, t, g in zip(ps, ts, grads):
            p.grad, t.grad = ember.tensor(g), torch.tensor(g)
        a = clip_grad_norm_(ps, 0.7, norm_type)
        b = torch.nn.utils.clip_grad_norm_(ts, 0.7, norm_type)
        assert a.item() == pytest.approx(b.item(), rel=1e-12)
        for p, t in zip(ps, ts):
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_weight_norm_reparameterizes_and_removes():
    ember.manual_seed(0)
    lin = nn.Linear(3, 4)
    w0 = lin.weight.detach().numpy().copy()
    nn.utils.weight_norm(lin)
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight_g", "weight_v"]
    np.testing.assert_allclose(lin.weight_g.detach().numpy()[:, 0], np.linalg.norm(w0, axis=1), rtol=1e-6)
    with ember.no_grad():
        lin.weight_g.mul_(2.0)
    x = ember.randn(2, 3)
    np.testing.assert_allclose(lin(x).detach().numpy(), x.numpy() @ (2 * w0).T + lin.bias.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    lin(x).sum().backward()
    assert lin.weight_g.grad is not None and lin.weight_v.grad is not None
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        nn.utils.weight_norm(lin)
    nn.utils.remove_weight_norm(lin)
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight"]
    np.testing.assert_allclose(lin.weight.detach().numpy(), 2 * w0, rtol=1e-6)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(lin)


def test_spectral_norm_bounds_the_largest_singular_value():
    ember.manual_seed(1)
    lin = nn.Linear(6, 5)
    nn.utils.spectral_norm(lin, n_power_iterations=1)
    assert set(dict(lin.named_buffers())) == {"weight_u", "weight_v"}
    x = ember.randn(2, 6)
    for _ in range(30):   # the power iteration converges across training-mode calls
        lin(x)
    sigma = np.linalg.svd(lin.weight.detach().numpy(), compute_uv=False)[0]
    assert sigma == pytest.approx(1.0, rel=1e-3)
    lin.eval()
    u = lin.weight_u.numpy().copy()
    lin(x)
    np.testing.assert_array_equal(lin.weight_u.numpy(), u)        # eval: no power iteration
    nn.utils.remove_spectral_norm(lin)
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight"]
    assert sorted(dict(lin.named_buffers())) == []
    np.testing.assert_allclose(np.linalg.svd(lin.weight.detach().numpy(), compute_uv=False)[0], 1.0, rtol=1e-3)


@pytest.mark.reference
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim):
    torch = pytest.importorskip("torch")
    import warnings
    ours, ref = nn.Linear(3, 4).double(), torch.nn.Linear(3, 4).double()
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(ref, dim=dim)
    nn.utils.weight_norm(ours, dim=dim)
    assert list(ours.state_dict()) == list(ref.state_dict())
    x = np.random.default_rng(1).standard_normal((2, 3))
    ye, yt = ours(ember.tensor(x)), ref(torch.tensor(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    ye.sum().backward(), yt.sum().backward()
    for n in ("weight_g", "weight_v"):
        np.testing.assert_allclose(getattr(ours, n).grad.numpy(), getattr(ref, n).grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.reference
def test_spectral_norm_matches_torch():
    torch = pytest.importorskip("torch")
    ours, ref = nn.Linear(5, 4).double(), torch.nn.Linear(5, 4).double()
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    nn.utils.spectral_norm(ours, n_power_iterations=2)
    torch.nn.utils.spectral_norm(ref, n_power_iterations=2)
    assert list(ours.state_dict()) == list(ref.state_dict())
    with ember.no_grad():   # same starting vectors (the random draws differ between libraries)
        ours.weight_u.copy_(ember.tensor(ref.weight_u.numpy()))
        ours.weight_v.copy_(ember.tensor(ref.weight_v.numpy()))
    x = np.random.default_rng(1).standard_normal((3, 5))
    for _ in range(3):
        ye, yt = ours(ember.tensor(x)), ref(torch.tensor(x))
        ye.sum().backward(), yt.sum().backward()
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.weight_orig.grad.numpy(), ref.weight_orig.grad.numpy(), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(ours.weight_u.numpy(), ref.weight_u.numpy(), rtol=1e-10, atol=1e-14)
