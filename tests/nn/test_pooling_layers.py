"""Pooling and resampling layers: behaviour vs PyTorch modules, return_indices, reprs, errors, and a
traced training step that recomputes max-pool indices for new inputs."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F


def _x(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_maxpool2d_values_indices_and_gradient():
    x = np.array([[[[1., 5., 2., 0.],
                    [3., 4., 8., 7.],
                    [0., 1., 2., 3.],
                    [9., 1., 4., 3.]]]], dtype=np.float32)
    xt = ember.tensor(x, requires_grad=True)
    vals, idx = nn.MaxPool2d(2, return_indices=True)(xt)
    np.testing.assert_array_equal(vals.detach().numpy(), [[[[5., 8.], [9., 4.]]]])
    np.testing.assert_array_equal(idx.numpy(), [[[[1, 6], [12, 14]]]])
    assert idx.dtype == np.int64 and not idx.requires_grad
    vals.sum().backward()
    want = np.zeros_like(x)
    want[0, 0, 0, 1] = want[0, 0, 1, 2] = want[0, 0, 3, 0] = want[0, 0, 3, 2] = 1
    np.testing.assert_array_equal(xt.grad.numpy(), want)


def test_overlapping_maxpool_gradient_accumulates():
    # with stride 1 the centre maximum is picked by every window: its gradient is the window count
    x = np.zeros((1, 1, 3, 3), np.float32)
    x[0, 0, 1, 1] = 10
    xt = ember.tensor(x, requires_grad=True)
    F.max_pool2d(xt, 2, stride=1).sum().backward()
    assert xt.grad.numpy()[0, 0, 1, 1] == 4 and xt.grad.numpy().sum() == 4


def test_avgpool_count_include_pad_and_divisor():
    x = ember.ones(1, 1, 3, 3)
    np.testing.assert_allclose(nn.AvgPool2d(3, 1, 1)(x).numpy()[0, 0, 0, 0], 4 / 9, rtol=1e-6)
    np.testing.assert_allclose(nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x).numpy()[0, 0, 0, 0], 1.0)
    np.testing.assert_allclose(nn.AvgPool2d(3, 1, 1, divisor_override=2)(x).numpy()[0, 0, 1, 1], 4.5)


def test_adaptive_avg_pool_global_is_mean():
    x = _x((2, 3, 5, 7))
    y = nn.AdaptiveAvgPool2d(1)(ember.tensor(x)).numpy()
    np.testing.assert_allclose(y[..., 0, 0], x.mean(axis=(2, 3)), rtol=1e-5)
    y = nn.AdaptiveAvgPool2d((None, 1))(ember.tensor(x)).numpy()
    np.testing.assert_allclose(y[..., 0], x.mean(axis=3), rtol=1e-5)
    assert y.dtype == np.float32


def test_reprs():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(3, 2, 1)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert repr(nn.Upsample(scale_factor=2, mode="bilinear")) == "Upsample(scale_factor=2.0, mode='bilinear')"
    assert repr(nn.PixelShuffle(3)) == "PixelShuffle(upscale_factor=3)"


def test_errors_name_the_op():
    with pytest.raises(RuntimeError, match=r"max_pool2d: expected a 3-d \(unbatched\) or 4-d \(batched\) input, got 2-d"):
        F.max_pool2d(ember.randn(4, 4), 2)
    with pytest.raises(ValueError, match="max_pool2d: pad should be at most half of effective kernel size"):
        F.max_pool2d(ember.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match=r"avg_pool2d: output size \(0, 0\) is too small"):
        F.avg_pool2d(ember.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(ember.randn(1, 1, 4, 4), scale_factor=2, align_corners=True)
    with pytest.raises(RuntimeError, match="interpolate: mode 'bilinear' expects a 4-d input, got 3-d"):
        F.interpolate(ember.randn(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(RuntimeError, match="fold: .*expected input's dimension 2 to be 6, got 5"):
        F.fold(ember.randn(1, 4, 5), (3, 4), 2)
    with pytest.raises(RuntimeError, match="pixel_shuffle: expected .* channels divisible by 4"):
        F.pixel_shuffle(ember.randn(1, 6, 2, 2), 2)
    with pytest.raises(RuntimeError, match="max_pool2d: expected a floating-point input, got int64"):
        F.max_pool2d(ember.ones(1, 1, 4, 4, dtype=ember.int64), 2)


def test_traced_step_recomputes_maxpool_indices():
    """A traced forward+backward replays on new inputs: the argmax indices are graph values."""
    ember.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(2), nn.Flatten())

    def step(x):
        loss = (m(x) ** 2).sum()
        return (loss,) + tuple(ember.autograd.grad(loss, [x, m[0].weight]))

    g = ember.jit.trace(step, (ember.randn(2, 2, 8, 8, requires_grad=True),))
    ops = [n.op for n in g.graph.nodes]
    assert "max_pool2d" in ops and "max_pool2d_grad" in ops and "conv2d_grad_weight" in ops
    x2 = ember.randn(2, 2, 8, 8, requires_grad=True)
    for a, b in zip(g(x2), step(x2)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.reference
@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True, return_indices=True), (2, 3, 10)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=1, return_indices=True), (2, 3, 9, 8)),
    ("MaxPool2d", ((2, 3),), dict(stride=1, dilation=(2, 1)), (2, 3, 9, 8)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 10)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 9, 8)),
    ("AvgPool2d", (2,), dict(divisor_override=3), (2, 3, 9, 8)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, 5),), {}, (2, 3, 9, 8)),
    ("AdaptiveMaxPool1d", (4,), dict(return_indices=True), (2, 3, 10)),
    ("AdaptiveMaxPool2d", ((3, 5),), dict(return_indices=True), (2, 3, 9, 8)),
    ("MaxPool3d", (2,), dict(stride=1, padding=1, return_indices=True), (2, 2, 4, 5, 3)),
    ("AvgPool3d", (2,), dict(ceil_mode=True), (2, 2, 4, 5, 3)),
    ("AdaptiveAvgPool3d", ((2, 3, 2),), {}, (2, 2, 4, 5, 3)),
    ("AdaptiveMaxPool3d", ((2, 3, 2),), dict(return_indices=True), (2, 2, 4, 5, 3)),
    ("Upsample", (), dict(scale_factor=2, mode="nearest"), (2, 3, 4, 5)),
    ("Upsample", ((7, 9),), dict(mode="bilinear", align_corners=True), (2, 3, 4, 5)),
    ("Upsample", (), dict(scale_factor=1.5, mode="bicubic"), (2, 3, 4, 5)),
    ("UpsamplingNearest2d", (), dict(scale_factor=3), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", ((6, 6),), {}, (2, 3, 4, 5)),
    ("PixelShuffle", (2,), {}, (2, 12, 3, 4)),
    ("PixelUnshuffle", (2,), {}, (2, 3, 4, 6)),
    ("Unfold", ((2, 3),), dict(padding=1, stride=2), (2, 3, 6, 7)),
    ("Fold", ((4, 5), 2), {}, (2, 12, 12)),
])
def test_modules_match_pytorch(name, args, kwargs, shape):
    torch = pytest.importorskip("torch")
    x = _x(shape, 1, np.float64)
    em, tm = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = em(ex), tm(tx)
    if isinstance(ty, tuple):
        np.testing.assert_array_equal(ey[1].numpy(), ty[1].numpy())
        ey, ty = ey[0], ty[0]
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-8)
    g = _x(tuple(ty.shape), 2, np.float64)
    (ey * ember.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-8)


def test_max_unpool_inverts_pool_positions():
    x = ember.tensor(np.abs(_x((1, 2, 4, 4))) + 0.1)      # positive: the zeros never win a window
    vals, idx = nn.MaxPool2d(2, return_indices=True)(x)
    up = nn.MaxUnpool2d(2)(vals, idx)
    assert tuple(up.shape) == (1, 2, 4, 4)
    kept = up.numpy() != 0
    assert kept.sum() == 8                                  # one maximum per 2x2 window
    np.testing.assert_array_equal(up.numpy()[kept], x.numpy()[kept])
    np.testing.assert_array_equal(F.max_pool2d(up, 2).numpy(), vals.numpy())
    with pytest.raises(RuntimeError, match=r"max_unpool2d: found an index outside the output plane of size \(3, 3\)"):
        F.max_unpool2d(vals, idx, 2, output_size=(3, 3))
    with pytest.raises(RuntimeError, match="max_unpool2d: indices must be an integer tensor shaped like the input"):
        F.max_unpool2d(vals, idx[:, :1], 2)


@pytest.mark.reference
@pytest.mark.parametrize("cfg,out", [(dict(kernel_size=2), None), (dict(kernel_size=3, stride=2, padding=1), (8, 8)),
                                     (dict(kernel_size=2), (1, 1, 9, 9))], ids=str)
def test_max_unpool2d_matches_pytorch(cfg, out):
    torch = pytest.importorskip("torch")
    x = _x((2, 3, 8, 8), 3, np.float64)
    tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **cfg)
    ev, ei = F.max_pool2d(ember.tensor(x), return_indices=True, **cfg)
    e_in, t_in = ember.tensor(ev.numpy(), requires_grad=True), tv.clone().requires_grad_()
    eu = F.max_unpool2d(e_in, ei, output_size=out, **cfg)
    tu = torch.nn.functional.max_unpool2d(t_in, ti, output_size=out, **cfg)
    np.testing.assert_allclose(eu.detach().numpy(), tu.detach().numpy())
    g = _x(tuple(tu.shape), 4, np.float64)
    (eu * ember.tensor(g)).sum().backward()
    (tu * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(e_in.grad.numpy(), t_in.grad.numpy())
    v1, i1 = F.max_pool1d(ember.tensor(x[:, :, 0]), 2, return_indices=True)
    tv1, ti1 = torch.nn.functional.max_pool1d(torch.tensor(x[:, :, 0]), 2, return_indices=True)
    np.testing.assert_allclose(nn.MaxUnpool1d(2)(v1, i1).numpy(), torch.nn.MaxUnpool1d(2)(tv1, ti1).numpy())
