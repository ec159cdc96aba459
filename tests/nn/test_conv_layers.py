"""Convolution layers: PyTorch parameter names/shapes/init, state_dict round trip from PyTorch through
safetensors, padding modes, transposed convolutions, errors, and a small training run."""

import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F


def _load_from_arrays(module, arrays):
    missing, unexpected = module.load_state_dict({k: ember.tensor(v) for k, v in arrays.items()})
    assert not missing and not unexpected


# ----------------------------------------------------------------------------------- parameters / init

@pytest.mark.parametrize("cls,args,wshape", [
    (nn.Conv1d, (4, 6, 3), (6, 4, 3)),
    (nn.Conv2d, (4, 6, (3, 2)), (6, 4, 3, 2)),
    (nn.Conv2d, (4, 8, 3, 1, 1, 1, 2), (8, 2, 3, 3)),
    (nn.Conv3d, (2, 4, 2), (4, 2, 2, 2, 2)),
    (nn.ConvTranspose1d, (4, 6, 3), (4, 6, 3)),
    (nn.ConvTranspose2d, (4, 6, 3, 1, 0, 0, 2), (4, 3, 3, 3)),
    (nn.ConvTranspose3d, (2, 4, 2), (2, 4, 2, 2, 2)),
])
def test_parameter_names_and_shapes(cls, args, wshape):
    m = cls(*args)
    names = dict(m.named_parameters())
    assert sorted(names) == ["bias", "weight"]
    assert tuple(m.weight.shape) == wshape
    assert tuple(m.bias.shape) == (args[1],)
    assert m.weight.dtype == np.float32
    assert cls(*args, bias=False).bias is None
    assert sorted(cls(*args, bias=False).state_dict()) == ["weight"]


def test_default_init_is_pytorch_kaiming_uniform():
    ember.manual_seed(0)
    m = nn.Conv2d(16, 32, 5)
    fan_in = 16 * 25
    bound = 1 / math.sqrt(fan_in)       # kaiming_uniform_(a=sqrt(5)) bound = sqrt(6 / (6 * fan_in))
    w = m.weight.detach().numpy()
    b = m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.5 * bound
    t = nn.ConvTranspose2d(8, 4, 3)     # PyTorch's fan_in of a transposed weight: size(1) * k*k
    assert np.abs(t.weight.detach().numpy()).max() <= 1 / math.sqrt(4 * 9)


def test_repr_matches_pytorch_style():
    assert repr(nn.Conv2d(3, 8, 3, stride=2, padding=1)) == \
        "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"
    assert repr(nn.Conv1d(2, 4, 3, bias=False, groups=2, padding="same", padding_mode="reflect")) == \
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding='same', groups=2, bias=False, padding_mode=reflect)"
    assert repr(nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=1)) == \
        "ConvTranspose2d(3, 8, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"


# ------------------------------------------------------------------------------------------ errors

def test_constructor_errors():
    with pytest.raises(ValueError, match="in_channels \\(3\\) must be divisible by groups \\(2\\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels \\(5\\) must be divisible by groups \\(2\\)"):
        nn.Conv2d(4, 5, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")


def test_forward_errors_name_op_and_shapes():
    m = nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError, match=r"conv2d: expected input with 3 channels .* got 5 channels.*\(2, 5, 8, 8\)"):
        m(ember.randn(2, 5, 8, 8))
    with pytest.raises(RuntimeError, match=r"conv2d: expected a 3-d \(unbatched\) or 4-d \(batched\) input, got 2-d"):
        m(ember.randn(8, 8))
    with pytest.raises(RuntimeError, match=r"conv2d: kernel size \(dilated: 3\) can't be greater than the padded "
                                           r"input size 2"):
        m(ember.randn(1, 3, 2, 8))
    with pytest.raises(RuntimeError, match="conv2d: input, weight and bias must have the same dtype, got float64, float32"):
        m(ember.randn(1, 3, 8, 8, dtype=ember.float64))
    with pytest.raises(ValueError, match="conv_transpose2d: output padding must be smaller than either stride or "
                                         "dilation"):
        F.conv_transpose2d(ember.randn(1, 2, 3, 3), ember.randn(2, 2, 3, 3), output_padding=1)


def test_double_backward_error_free_and_shapes():
    """Double backward through conv works (grad primitives have their own backward)."""
    x = ember.randn(1, 2, 5, 5, requires_grad=True)
    m = nn.Conv2d(2, 3, 3, padding=1)
    (gx,) = ember.autograd.grad(m(x).pow(2).sum(), [x], create_graph=True)
    gx.sum().backward()
    assert tuple(m.weight.grad.shape) == (3, 2, 3, 3)
    assert np.abs(m.weight.grad.numpy()).sum() > 0


# ------------------------------------------------------------------------------------------ vs PyTorch

@pytest.mark.reference
@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, 2, "same", "valid"])
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_state_dict_from_pytorch_via_safetensors(tmp_path, dims, padding_mode, padding):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.numpy")
    torch.manual_seed(0)
    kernel = 4 if padding == "same" else 3
    tcls, ecls = (torch.nn.Conv1d, nn.Conv1d) if dims == 1 else (torch.nn.Conv2d, nn.Conv2d)
    kw = dict(padding=padding, padding_mode=padding_mode, groups=2, dilation=1 if padding == "same" else 2)
    tm = tcls(4, 6, kernel, **kw).double()
    path = tmp_path / "conv.safetensors"
    st.save_file({k: v.detach().numpy() for k, v in tm.state_dict().items()}, str(path))
    em = ecls(4, 6, kernel, dtype=ember.float64, **kw)
    _load_from_arrays(em, st.load_file(str(path)))
    x = np.random.default_rng(1).standard_normal((2, 4) + (9,) * dims)
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ey, ty = em(ex), tm(tx)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-8)
    (ey * ey).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(em.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(em.bias.grad.numpy(), tm.bias.grad.numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.reference
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_transpose_module_matches_pytorch(dims):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tcls = [torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d][dims - 1]
    ecls = [nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d][dims - 1]
    kw = dict(stride=2, padding=1, output_padding=1, groups=2)
    tm = tcls(4, 6, 3, **kw)
    em = ecls(4, 6, 3, **kw)
    _load_from_arrays(em, {k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, 4) + (4,) * dims).astype(np.float32)
    np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    # output_size picks the output padding, as in PyTorch
    want = (2, 6) + (8,) * dims
    got = em(ember.tensor(x), output_size=want[2:])
    ref = tm(torch.tensor(x), output_size=want[2:])
    assert tuple(got.shape) == tuple(ref.shape)
    np.testing.assert_allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------------------ training

def _bars(n, rng):
    """8x8 images with one bright horizontal (class 0) or vertical (class 1) bar plus noise."""
    x = rng.normal(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 2, n)
    pos = rng.integers(0, 8, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, pos[i], :] += 2.0
        else:
            x[i, 0, :, pos[i]] += 2.0
    return x, y


def test_small_cnn_learns_bar_orientation():
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    xtr, ytr = _bars(256, rng)
    xte, yte = _bars(200, rng)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(8, 2))
    opt = ember.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(15):
        for i in range(0, 256, 32):
            opt.zero_grad()
            loss = loss_fn(model(ember.tensor(xtr[i:i + 32])), ember.tensor(ytr[i:i + 32]))
            loss.backward()
            opt.step()
    with ember.no_grad():
        pred = model(ember.tensor(xte)).argmax(1).numpy()
    assert (pred == yte).mean() >= 0.95


def test_float32_stays_float32_and_unbatched_input():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(2, ceil_mode=True),
                      nn.Upsample(scale_factor=1.5, mode="bilinear"), nn.ConvTranspose2d(4, 2, 3, stride=2),
                      nn.AdaptiveMaxPool2d(3), nn.Unfold(2), nn.Fold(3, 2))
    x = ember.randn(2, 3, 9, 9, requires_grad=True)
    y = m(x)
    assert y.dtype == np.float32 and tuple(y.shape) == (2, 2, 3, 3)
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in m.parameters())
    conv = nn.Conv2d(3, 4, 3)
    single = conv(ember.randn(3, 6, 6))
    assert tuple(single.shape) == (4, 4, 4)


def test_traced_model_saves_and_loads(tmp_path):
    """Graph attributes of these ops (window sizes, interpolation taps) serialize with the graph."""
    ember.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect"), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Upsample(scale_factor=1.5, mode="bilinear"), nn.ConvTranspose2d(4, 2, 3, stride=2,
                                                                                         output_padding=1),
                      nn.AdaptiveMaxPool2d((3, 3)), nn.AdaptiveAvgPool2d((2, 1)), nn.Flatten())
    g = ember.jit.trace(m, (ember.randn(2, 2, 8, 8),))
    ember.jit.save(g, str(tmp_path / "model"))
    loaded = ember.jit.load(str(tmp_path / "model"))
    x = ember.randn(2, 2, 8, 8)
    np.testing.assert_allclose(loaded(x).numpy(), m(x).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_conv_transpose_output_size_choices():
    m = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = ember.randn(1, 2, 4, 4)
    assert tuple(m(x).shape) == (1, 3, 7, 7)
    assert tuple(m(x, output_size=(8, 7)).shape) == (1, 3, 8, 7)      # output_padding (1, 0) chosen
    assert tuple(m(x, output_size=[1, 3, 8, 8]).shape) == (1, 3, 8, 8)
    with pytest.raises(ValueError, match=r"conv_transpose2d: requested output size \[9, 7\] is not reachable"):
        m(x, output_size=(9, 7))


@pytest.mark.parametrize("transposed", [False, True])
def test_large_batches_are_chunked_with_identical_results(monkeypatch, transposed):
    """The batch is split into chunks of at most CHUNK_BYTES of im2col columns; results must not change."""
    from ember.backend import parallel as P
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4, 7, 6))
    w = rng.standard_normal((4, 2, 3, 3))
    fn = (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, groups=2)) if transposed else \
        (lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2))

    def run():
        xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        y = fn(xt, wt)
        (y * y).sum().backward()
        return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()

    whole = run()
    monkeypatch.setattr(P, "CHUNK_BYTES", 2000)   # a few samples per chunk
    monkeypatch.setattr(P, "PARALLEL_FLOPS", 0)   # and the chunks shared out to the worker threads
    assert P.chunk_size(np, 5, 4 * 9 * 12 * 8) < 5
    for a, b in zip(run(), whole):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_empty_batch_forward_and_backward():
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.MaxPool2d(2), nn.AvgPool2d(2),
                      nn.Upsample(scale_factor=2, mode="bilinear"), nn.ConvTranspose2d(4, 2, 2, stride=2),
                      nn.AdaptiveMaxPool2d(2), nn.AdaptiveAvgPool2d(3), nn.Unfold(2), nn.Fold(3, 2))
    x = ember.randn(0, 3, 8, 8, requires_grad=True)
    y = m(x)
    assert tuple(y.shape) == (0, 2, 3, 3)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 8, 8)
    assert tuple(m[0].weight.grad.shape) == (4, 3, 3, 3) and not m[0].weight.grad.numpy().any()
    assert tuple(F.pixel_shuffle(ember.randn(0, 8, 2, 2), 2).shape) == (0, 2, 4, 4)
