"""Convolution, pooling and resampling against PyTorch: with the same inputs and weights, outputs and
gradients agree (1e-5 relative in float64, 1e-4 in float32) over a grid of configurations."""

import itertools

import numpy as np
import pytest

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

pytestmark = pytest.mark.reference

TOL = {np.float64: dict(rtol=1e-5, atol=1e-8), np.float32: dict(rtol=1e-4, atol=1e-5)}


def compare(ember_fn, torch_fn, shapes, dtype=np.float64, seed=0, int_outputs=False):
    """Run both on the same random inputs; compare every output and the input gradients of a random
    linear function of the (float) outputs."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    et = [ember.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    eo, to = ember_fn(*et), torch_fn(*tt)
    eo = eo if isinstance(eo, tuple) else (eo,)
    to = to if isinstance(to, tuple) else (to,)
    assert len(eo) == len(to)
    tol = TOL[dtype]
    loss_e = loss_t = None
    for e, t in zip(eo, to):
        assert tuple(e.shape) == tuple(t.shape), (tuple(e.shape), tuple(t.shape))
        if not t.is_floating_point():
            np.testing.assert_array_equal(e.numpy(), t.numpy())
            continue
        assert e.dtype == dtype
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **tol)
        g = rng.standard_normal(tuple(t.shape)).astype(dtype)
        le, lt = (e * ember.tensor(g)).sum(), (t * torch.tensor(g)).sum()
        loss_e = le if loss_e is None else loss_e + le
        loss_t = lt if loss_t is None else loss_t + lt
    loss_e.backward()
    loss_t.backward()
    for e, t in zip(et, tt):
        if t.grad is None:
            assert e.grad is None or not np.any(e.grad.numpy())
            continue
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **tol)


# ------------------------------------------------------------------------------------------------ conv

CONV2D_GRID = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1), padding=(1, 2)),
    dict(padding=1, dilation=2),
    dict(padding="same"),
    dict(padding="same", dilation=(2, 1)),
    dict(padding="valid", stride=(1, 3)),
    dict(groups=2, padding=1),
    dict(groups=4, stride=2, padding=1),     # depthwise
    dict(groups=2, dilation=(1, 2), stride=(2, 2), padding=(0, 1)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cfg", CONV2D_GRID, ids=str)
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kernel", [(3, 3), (2, 3), (1, 1)], ids=str)
def test_conv2d(cfg, kernel, dtype):
    groups = cfg.get("groups", 1)
    cout = 8 if groups != 4 else 4
    compare(lambda x, w, b: F.conv2d(x, w, b, **cfg), lambda x, w, b: TF.conv2d(x, w, b, **cfg),
            [(2, 4, 7, 8), (cout, 4 // groups) + kernel, (cout,)], dtype)


@pytest.mark.parametrize("cfg", [dict(), dict(stride=2, padding=1), dict(dilation=2, padding="same"),
                                 dict(groups=3, padding=2), dict(padding="same")], ids=str)
@pytest.mark.parametrize("kernel", [3, 4])
def test_conv1d(cfg, kernel):
    groups = cfg.get("groups", 1)
    compare(lambda x, w, b: F.conv1d(x, w, b, **cfg), lambda x, w, b: TF.conv1d(x, w, b, **cfg),
            [(2, 6, 11), (6, 6 // groups, kernel), (6,)])


@pytest.mark.parametrize("cfg", [dict(), dict(stride=(1, 2, 2), padding=1), dict(groups=2, dilation=2, padding=2)],
                         ids=str)
def test_conv3d(cfg):
    groups = cfg.get("groups", 1)
    compare(lambda x, w, b: F.conv3d(x, w, b, **cfg), lambda x, w, b: TF.conv3d(x, w, b, **cfg),
            [(2, 4, 5, 6, 5), (4, 4 // groups, 3, 2, 3), (4,)])


def test_conv2d_unbatched_and_no_bias():
    compare(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1),
            [(3, 5, 5), (4, 3, 3, 3)])


CONVT_GRID = [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(3, 2), padding=(1, 0), output_padding=(2, 1)),
    dict(dilation=2, padding=1),
    dict(stride=1, dilation=2, output_padding=1),          # output_padding < dilation (not < stride)
    dict(groups=2, stride=2, output_padding=1),
    dict(groups=4, stride=2, padding=1, dilation=(1, 2)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cfg", CONVT_GRID, ids=str)
def test_conv_transpose2d(cfg, dtype):
    groups = cfg.get("groups", 1)
    compare(lambda x, w, b: F.conv_transpose2d(x, w, b, **cfg), lambda x, w, b: TF.conv_transpose2d(x, w, b, **cfg),
            [(2, 4, 5, 4), (4, 6 // groups if groups != 4 else 1, 3, 2), (6 if groups != 4 else 4,)], dtype)


@pytest.mark.parametrize("cfg", [dict(), dict(stride=3, padding=1, output_padding=2), dict(groups=2, dilation=3)],
                         ids=str)
def test_conv_transpose1d(cfg):
    groups = cfg.get("groups", 1)
    compare(lambda x, w, b: F.conv_transpose1d(x, w, b, **cfg), lambda x, w, b: TF.conv_transpose1d(x, w, b, **cfg),
            [(2, 4, 6), (4, 6 // groups, 3), (6,)])


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_double_backward_matches_torch(transposed):
    """Gradients of input gradients (create_graph=True) agree: the grad primitives' own backward."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 6, 5))
    w = rng.standard_normal((4, 2, 3, 3))
    cfg = dict(stride=2, padding=1, groups=2)
    fe = F.conv_transpose2d if transposed else F.conv2d
    ft = TF.conv_transpose2d if transposed else TF.conv2d
    ex, ew = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ye, yt = fe(ex, ew, **cfg), ft(tx, tw, **cfg)
    gxe, gwe = ember.autograd.grad((ye * ye).sum(), [ex, ew], create_graph=True)
    gxt, gwt = torch.autograd.grad((yt * yt).sum(), [tx, tw], create_graph=True)
    ((gxe * gxe).sum() + (gwe ** 3).sum()).backward()
    ((gxt * gxt).sum() + (gwt ** 3).sum()).backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-8)


# --------------------------------------------------------------------------------------------- pooling

MAXPOOL_GRID = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=1, dilation=2),
    dict(kernel_size=2, stride=3, ceil_mode=True),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cfg", MAXPOOL_GRID, ids=str)
def test_max_pool2d(cfg, dtype):
    compare(lambda x: F.max_pool2d(x, return_indices=True, **cfg),
            lambda x: TF.max_pool2d(x, return_indices=True, **cfg), [(2, 3, 9, 8)], dtype)


@pytest.mark.parametrize("cfg", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                 dict(kernel_size=3, dilation=2, stride=2, padding=1)], ids=str)
def test_max_pool1d(cfg):
    compare(lambda x: F.max_pool1d(x, return_indices=True, **cfg),
            lambda x: TF.max_pool1d(x, return_indices=True, **cfg), [(2, 3, 10)])


def test_max_pool2d_propagates_nan_like_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    x[0, 0, 1, 1] = np.nan
    x[1, 2, 4, 5] = np.nan
    ev, ei = F.max_pool2d(ember.tensor(x), 3, 2, 1, return_indices=True)
    tv, ti = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


AVGPOOL_GRID = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), divisor_override=4),
    dict(kernel_size=3, stride=1),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cfg", AVGPOOL_GRID, ids=str)
def test_avg_pool2d(cfg, dtype):
    compare(lambda x: F.avg_pool2d(x, **cfg), lambda x: TF.avg_pool2d(x, **cfg), [(2, 3, 9, 8)], dtype)


@pytest.mark.parametrize("cfg", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                 dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)], ids=str)
def test_avg_pool1d(cfg):
    compare(lambda x: F.avg_pool1d(x, **cfg), lambda x: TF.avg_pool1d(x, **cfg), [(2, 3, 10)])


@pytest.mark.parametrize("out", [1, (3, 4), (2, 2), (5, 3), (None, 2), (9, 8), (4, 7)], ids=str)
def test_adaptive_pool2d(out):
    compare(lambda x: F.adaptive_avg_pool2d(x, out), lambda x: TF.adaptive_avg_pool2d(x, out), [(2, 3, 9, 8)])
    compare(lambda x: F.adaptive_max_pool2d(x, out, return_indices=True),
            lambda x: TF.adaptive_max_pool2d(x, out, return_indices=True), [(2, 3, 9, 8)])


@pytest.mark.parametrize("out", [1, 3, 4, 7])
def test_adaptive_pool1d(out):
    compare(lambda x: F.adaptive_avg_pool1d(x, out), lambda x: TF.adaptive_avg_pool1d(x, out), [(2, 3, 7)])
    compare(lambda x: F.adaptive_max_pool1d(x, out, True), lambda x: TF.adaptive_max_pool1d(x, out, True),
            [(2, 3, 7)])


# ------------------------------------------------------------------------------------------ resampling

_SIZES = [dict(scale_factor=2), dict(scale_factor=1.7), dict(scale_factor=0.6), dict(scale_factor=(0.5, 3)),
          dict(size=(3, 11)), dict(size=(15, 21)), dict(scale_factor=1.7, recompute_scale_factor=True),
          dict(size=(5, 7))]


_MODES = [("nearest", None), ("nearest-exact", None), ("bilinear", False), ("bilinear", True), ("bicubic", False),
          ("bicubic", True), ("area", None)]


@pytest.mark.parametrize("mode,align,size", [(m, a, s) for (m, a), s in itertools.product(_MODES, _SIZES)
                                             if not (m == "area" and "recompute_scale_factor" in s)], ids=str)
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_interpolate_2d(mode, align, size):
    compare(lambda x: F.interpolate(x, mode=mode, align_corners=align, **size),
            lambda x: TF.interpolate(x, mode=mode, align_corners=align, **size), [(2, 3, 5, 7)])


@pytest.mark.parametrize("mode,shape,align", [("linear", (2, 3, 6), False), ("linear", (2, 3, 6), True),
                                              ("nearest", (2, 3, 6), None), ("trilinear", (1, 2, 3, 4, 5), False),
                                              ("trilinear", (1, 2, 3, 4, 5), True), ("nearest", (1, 2, 3, 4, 5), None)])
@pytest.mark.parametrize("scale", [2, 1.5, 0.7])
def test_interpolate_1d_3d(mode, shape, align, scale):
    compare(lambda x: F.interpolate(x, scale_factor=scale, mode=mode, align_corners=align),
            lambda x: TF.interpolate(x, scale_factor=scale, mode=mode, align_corners=align), [shape])


def test_interpolate_float32():
    compare(lambda x: F.interpolate(x, size=(9, 10), mode="bilinear"),
            lambda x: TF.interpolate(x, size=(9, 10), mode="bilinear"), [(2, 3, 5, 7)], np.float32)


@pytest.mark.parametrize("cfg", [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
                                 dict(kernel_size=3, stride=2, padding=1)], ids=str)
def test_unfold_fold(cfg):
    compare(lambda x: F.unfold(x, **cfg), lambda x: TF.unfold(x, **cfg), [(2, 3, 6, 7)])
    blocks = TF.unfold(torch.zeros(2, 3, 6, 7), **cfg).shape
    compare(lambda c: F.fold(c, (6, 7), **cfg), lambda c: TF.fold(c, (6, 7), **cfg), [tuple(blocks)])


def test_pixel_shuffle():
    compare(lambda x: F.pixel_shuffle(x, 3), lambda x: TF.pixel_shuffle(x, 3), [(2, 18, 3, 4)])
    compare(lambda x: F.pixel_unshuffle(x, 2), lambda x: TF.pixel_unshuffle(x, 2), [(2, 3, 4, 6)])
    compare(lambda x: F.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2), [(8, 3, 4)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stack_on_channel_major_layout(dtype):
    """Conv outputs are channel-major views; pooling, conv and their gradients handle that layout."""
    def ember_net(x, w1, w2):
        h = F.conv2d(x, w1, padding=1)
        assert not h._data.flags.c_contiguous          # the layout under test
        v, i = F.max_pool2d(F.relu(h), 3, 2, 1, return_indices=True)
        a = F.avg_pool2d(F.conv2d(v, w2, stride=1, padding=1), 2, ceil_mode=True)
        return a, i, F.max_pool2d(h, 2, stride=1), F.conv_transpose2d(h, w1, stride=2)

    def torch_net(x, w1, w2):
        h = TF.conv2d(x, w1, padding=1)
        v, i = TF.max_pool2d(TF.relu(h), 3, 2, 1, return_indices=True)
        a = TF.avg_pool2d(TF.conv2d(v, w2, stride=1, padding=1), 2, ceil_mode=True)
        return a, i, TF.max_pool2d(h, 2, stride=1), TF.conv_transpose2d(h, w1, stride=2)

    compare(ember_net, torch_net, [(3, 2, 9, 8), (4, 2, 3, 3), (5, 4, 3, 3)], dtype)


@pytest.mark.parametrize("cfg", MAXPOOL_GRID, ids=str)
def test_max_pool2d_ties_pick_first_like_torch(cfg):
    """Many equal values (as after a relu): the index is the first maximum in window order."""
    x = np.random.default_rng(5).integers(0, 3, (2, 3, 9, 8)).astype(np.float32)
    ev, ei = F.max_pool2d(ember.tensor(x), return_indices=True, **cfg)
    tv, ti = TF.max_pool2d(torch.tensor(x), return_indices=True, **cfg)
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    ev, ei = F.adaptive_max_pool2d(ember.tensor(x), (4, 3), return_indices=True)
    tv, ti = TF.adaptive_max_pool2d(torch.tensor(x), (4, 3), return_indices=True)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


@pytest.mark.parametrize("cfg", [dict(kernel_size=2), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=1,
                                                            ceil_mode=True)], ids=str)
def test_pool3d(cfg):
    compare(lambda x: F.max_pool3d(x, return_indices=True, **cfg),
            lambda x: TF.max_pool3d(x, return_indices=True, **cfg), [(2, 2, 5, 6, 7)])
    compare(lambda x: F.avg_pool3d(x, **cfg), lambda x: TF.avg_pool3d(x, **cfg), [(2, 2, 5, 6, 7)])
    compare(lambda x: F.avg_pool3d(x, count_include_pad=False, **cfg),
            lambda x: TF.avg_pool3d(x, count_include_pad=False, **cfg), [(2, 2, 5, 6, 7)])


@pytest.mark.parametrize("out", [1, (2, 3, 4), (5, 3, 3)], ids=str)
def test_adaptive_pool3d(out):
    compare(lambda x: F.adaptive_avg_pool3d(x, out), lambda x: TF.adaptive_avg_pool3d(x, out), [(2, 2, 5, 6, 7)])
    compare(lambda x: F.adaptive_max_pool3d(x, out, True), lambda x: TF.adaptive_max_pool3d(x, out, True),
            [(2, 2, 5, 6, 7)])
