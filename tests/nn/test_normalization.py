"""Normalization layers: BatchNorm running statistics (momentum, cumulative average, eval mode,
track_running_stats), LayerNorm/GroupNorm/RMSNorm/InstanceNorm values, and PyTorch references."""

import numpy as np
import pytest

import ember
import ember.nn as nn


def np_bn_steps(batches, momentum, eps=1e-5):
    """Running mean/var after training steps, written out from PyTorch's documented update."""
    c = batches[0].shape[1]
    rm, rv = np.zeros(c), np.ones(c)
    for k, x in enumerate(batches, start=1):
        axes = (0,) + tuple(range(2, x.ndim))
        n = x.size // c
        mean, var = x.mean(axes), x.var(axes) * n / (n - 1)
        f = 1.0 / k if momentum is None else momentum
        rm = (1 - f) * rm + f * mean
        rv = (1 - f) * rv + f * var
    return rm, rv


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batchnorm1d_running_stats(momentum, shape):
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal(shape) * 2 + 1 for _ in range(4)]
    bn = nn.BatchNorm1d(3, momentum=momentum).double()
    for x in batches:
        bn(ember.tensor(x))
    rm, rv = np_bn_steps(batches, momentum)
    np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), rv, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 4


def test_batchnorm2d_train_output_and_eval_uses_running_stats():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 5, 5))
    bn = nn.BatchNorm2d(3).double()
    with ember.no_grad():
        bn.weight.copy_(ember.tensor([1.0, 2.0, 0.5], dtype=ember.float64))
        bn.bias.copy_(ember.tensor([0.0, -1.0, 3.0], dtype=ember.float64))
    y = bn(ember.tensor(x)).detach().numpy()
    mean, var = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
    w, b = np.array([1.0, 2.0, 0.5]).reshape(1, 3, 1, 1), np.array([0.0, -1.0, 3.0]).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5) * w + b, rtol=1e-10, atol=1e-12)
    bn.eval()
    rm, rv = bn.running_mean.numpy().reshape(1, 3, 1, 1), bn.running_var.numpy().reshape(1, 3, 1, 1)
    x2 = rng.standard_normal((2, 3, 5, 5))
    y2 = bn(ember.tensor(x2)).detach().numpy()
    np.testing.assert_allclose(y2, (x2 - rm) / np.sqrt(rv + 1e-5) * w + b, rtol=1e-10, atol=1e-12)
    before = bn.running_mean.numpy().copy()
    bn(ember.tensor(x2))
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)   # eval does not update
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    bn = nn.BatchNorm1d(2, track_running_stats=False).eval()
    assert bn.running_mean is None and "running_mean" not in bn.state_dict()
    x = ember.tensor([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(bn(x).detach().numpy(), [[-1, -1], [1, 1]], atol=1e-4)


def test_batchnorm_running_stats_dtype_follow_module():
    bn = nn.BatchNorm1d(2)
    bn(ember.randn(4, 2))
    assert bn.running_mean.dtype == np.float32 and bn.running_var.dtype == np.float32


def test_batchnorm_reset_and_repr():
    bn = nn.BatchNorm1d(2)
    bn(ember.randn(4, 2) + 5)
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.num_batches_tracked.item() == 0
    assert repr(bn) == "BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"


def test_layernorm_groupnorm_rmsnorm_values():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 3))
    ln = nn.LayerNorm(3, eps=1e-6).double()
    want = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(ln(ember.tensor(x)).detach().numpy(), want, rtol=1e-10, atol=1e-12)
    gn = nn.GroupNorm(2, 4).double()
    g = x.reshape(2, 2, -1)
    want = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
    np.testing.assert_allclose(gn(ember.tensor(x)).detach().numpy(), want, rtol=1e-10, atol=1e-12)
    rms = nn.RMSNorm(3).double()
    want = x / np.sqrt((x * x).mean(-1, keepdims=True) + np.finfo(np.float64).eps)
    np.testing.assert_allclose(rms(ember.tensor(x)).detach().numpy(), want, rtol=1e-10)


def test_instancenorm_tracking_running_stats():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 6))
    m = nn.InstanceNorm1d(2, track_running_stats=True).double()
    m(ember.tensor(x))
    var = x.var(-1) * 6 / 5
    np.testing.assert_allclose(m.running_mean.numpy(), 0.1 * x.mean(-1).mean(0), rtol=1e-10)
    np.testing.assert_allclose(m.running_var.numpy(), 0.9 + 0.1 * var.mean(0), rtol=1e-10)
    m.eval()
    want = (x - m.running_mean.numpy()[None, :, None]) / np.sqrt(m.running_var.numpy()[None, :, None] + 1e-5)
    np.testing.assert_allclose(m(ember.tensor(x)).detach().numpy(), want, rtol=1e-10)


def test_layer_norm_second_derivative_matches_finite_differences():
    from ember.autograd import gradgradcheck
    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    w = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert gradgradcheck(lambda a, b: nn.functional.layer_norm(a, (3,), b), [x, w])
    assert gradgradcheck(lambda a: nn.functional.batch_norm(a, None, None, training=True), [x])


# -- PyTorch references -----------------------------------------------------------------------------

@pytest.mark.reference
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_running_stats_match_torch(momentum):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    ours = nn.BatchNorm2d(3, momentum=momentum).double()
    ref = torch.nn.BatchNorm2d(3, momentum=momentum).double()
    for step in range(3):
        x = rng.standard_normal((4, 3, 3, 3)) * (step + 1) + step
        y = ours(ember.tensor(x, requires_grad=True))
        yt = ref(torch.tensor(x, requires_grad=True))
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(ref, name).numpy(), rtol=1e-6, atol=1e-6)
    assert ours.num_batches_tracked.item() == ref.num_batches_tracked.item()
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.eval(), ref.eval()
    x = rng.standard_normal((2, 3, 3, 3))
    np.testing.assert_allclose(ours(ember.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.reference
def test_norm_layers_forward_and_grads_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 3, 3))
    pairs = [
        (nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)),
        (nn.LayerNorm((3, 3)), torch.nn.LayerNorm((3, 3))),
        (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
        (nn.RMSNorm(3), torch.nn.RMSNorm(3)),
        (nn.InstanceNorm2d(4, affine=True), torch.nn.InstanceNorm2d(4, affine=True)),
        (nn.LocalResponseNorm(3), torch.nn.LocalResponseNorm(3)),
    ]
    for ours, ref in pairs:
        ours.double(), ref.double()
        for (n, p), (nt, pt) in zip(ours.named_parameters(), ref.named_parameters()):
            assert n == nt
            data = rng.standard_normal(tuple(pt.shape))
            with torch.no_grad():
                pt.copy_(torch.tensor(data))
            with ember.no_grad():
                p.copy_(ember.tensor(data))
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        g = rng.standard_normal(x.shape)
        ye, yt = ours(xe), ref(xt)
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6,
                                   err_msg=type(ours).__name__)
        (ye * ember.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-6,
                                   err_msg=type(ours).__name__)
        for p, pt in zip(ours.parameters(), ref.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), pt.grad.numpy(), rtol=1e-6, atol=1e-6,
                                       err_msg=type(ours).__name__)
