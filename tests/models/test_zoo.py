"""Zoo architectures: parameter counts equal torchvision's, torchvision state_dict names, output
shapes at small inputs, constructor errors, ``get_model``."""

import numpy as np
import pytest

import ember
import ember.models as M
from ember import nn


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("builder, count", [
    (M.resnet18, 11_689_512), (M.resnet34, 21_797_672), (M.resnet50, 25_557_032), (M.LeNet5, 61_706)])
def test_parameter_counts(builder, count):
    assert n_params(builder()) == count


@pytest.fixture(scope="module")
def vgg16():
    # init_weights=False: torchvision's re-init of 138M weights only costs time here
    return M.vgg16(init_weights=False).eval()


@pytest.mark.slow
def test_vgg16_count_names_forward(vgg16):
    assert n_params(vgg16) == 138_357_544
    keys = list(vgg16.state_dict())
    assert keys[:2] == ["features.0.weight", "features.0.bias"]
    assert keys[-2:] == ["classifier.6.weight", "classifier.6.bias"]
    assert "features.28.weight" in keys and "classifier.3.weight" in keys
    assert tuple(vgg16.classifier[0].weight.shape) == (4096, 25088)
    with ember.no_grad():
        out = vgg16(ember.randn(1, 3, 32, 32))   # 32x32 -> 1x1 features, adaptive pool -> 7x7
    assert tuple(out.shape) == (1, 1000) and np.isfinite(out.numpy()).all()


@pytest.mark.slow
def test_vgg11_and_bn_counts():
    m = M.vgg11(init_weights=False)
    assert n_params(m) == 132_863_336
    assert [type(m.features[i]).__name__ for i in range(3)] == ["Conv2d", "ReLU", "MaxPool2d"]
    # vgg11_bn = BatchNorm'd features + the same avgpool/classifier (building only the features keeps
    # the test from allocating a second 133M-parameter model)
    bn_features = M.vgg.make_layers(M.vgg.cfgs["A"], batch_norm=True)
    assert n_params(bn_features) + n_params(m.classifier) == 132_868_840
    assert isinstance(bn_features[1], nn.BatchNorm2d) and isinstance(bn_features[3], nn.MaxPool2d)


def test_resnet_names_follow_torchvision():
    keys = list(M.resnet18(num_classes=10, width=8).state_dict())
    assert keys[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                        "bn1.num_batches_tracked"]
    for k in ["layer1.0.conv1.weight", "layer1.1.bn2.running_var", "layer2.0.downsample.0.weight",
              "layer2.0.downsample.1.weight", "layer4.1.conv2.weight", "fc.weight", "fc.bias"]:
        assert k in keys, k
    assert "layer1.0.downsample.0.weight" not in keys          # BasicBlock: same width, stride 1
    k50 = list(M.resnet50(width=8).state_dict())
    assert "layer1.0.downsample.0.weight" in k50 and "layer3.5.conv3.weight" in k50 and "layer3.6.conv1.weight" not in k50


def test_resnet_init_and_zero_init_residual():
    m = M.resnet18(width=8)
    w = m.conv1.weight.detach().numpy()
    assert abs(w.std() - (2 / (8 * 49)) ** 0.5) < 0.03       # kaiming normal, fan_out
    assert (m.bn1.weight.detach().numpy() == 1).all() and (m.bn1.bias.detach().numpy() == 0).all()
    z = M.resnet18(width=8, zero_init_residual=True)
    assert not z.layer1[0].bn2.weight.detach().numpy().any() and z.layer1[0].bn1.weight.detach().numpy().all()
    z = M.resnet50(width=8, zero_init_residual=True)
    assert not z.layer2[1].bn3.weight.detach().numpy().any()


@pytest.mark.parametrize("builder", [M.resnet18, M.resnet34, M.resnet50])
def test_resnet_forward_backward(builder):
    ember.manual_seed(0)
    m = builder(num_classes=5, width=4)
    x = ember.randn(2, 3, 32, 32)
    out = m(x)
    assert tuple(out.shape) == (2, 5)
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.eval()
    with ember.no_grad():
        a, b = m(x).numpy(), m(x[:1]).numpy()
    np.testing.assert_allclose(a[:1], b, rtol=1e-5, atol=1e-5)   # eval: samples independent of the batch


def test_resnet_errors():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        M.ResNet(M.BasicBlock, [2, 2, 2, 2], groups=2)
    with pytest.raises(ValueError, match="4 stage depths"):
        M.ResNet(M.BasicBlock, [2, 2, 2])
    with pytest.raises(ValueError, match=r"ResNet: expected input of shape \(N, C, H, W\), got \(3, 32, 32\)"):
        M.resnet18(width=4)(ember.randn(3, 32, 32))


def test_lenet5_and_mlp():
    ember.manual_seed(0)
    le = M.LeNet5()
    assert list(le.state_dict())[:2] == ["features.0.weight", "features.0.bias"]
    assert tuple(le(ember.randn(3, 1, 28, 28)).shape) == (3, 10)
    orig = M.LeNet5(activation="tanh", pool="avg", padding=0, in_channels=3, num_classes=4)
    assert tuple(orig(ember.randn(2, 3, 32, 32)).shape) == (2, 4)
    with pytest.raises(ValueError, match=r"LeNet5: input spatial size gives feature maps \(16, 6, 6\)"):
        le(ember.randn(1, 1, 32, 32))
    with pytest.raises(ValueError, match="activation must be 'relu' or 'tanh'"):
        M.LeNet5(activation="gelu")
    mlp = M.MLP(12, [8, 6], 3, activation="tanh", dropout=0.2, flatten=True)
    assert n_params(mlp) == 12 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3
    assert list(mlp.state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias",
                                      "layers.6.weight", "layers.6.bias"]
    mlp.eval()
    x = ember.randn(4, 3, 4)
    W = [mlp.layers[i] for i in (0, 3, 6)]
    h = x.numpy().reshape(4, 12)
    for i, lin in enumerate(W):   # NumPy reference of the stack
        h = h @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
        if i < 2:
            h = np.tanh(h)
    np.testing.assert_allclose(mlp(x).detach().numpy(), h, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="MLP: unknown activation 'swishy'"):
        M.MLP(2, [2], 2, activation="swishy")


def test_mlp_trains_on_digits_like_task():
    """A small MLP separates 3 Gaussian blobs: accuracy reached, not just that it ran."""
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((3, 10)) * 3
    y = rng.integers(0, 3, 300)
    x = (centers[y] + rng.standard_normal((300, 10))).astype(np.float32)
    ember.manual_seed(0)
    m = M.MLP(10, [32], 3)
    opt = ember.optim.Adam(m.parameters(), lr=0.02)
    X, Y = ember.tensor(x), ember.tensor(y)
    for _ in range(60):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(X), Y)
        loss.backward()
        opt.step()
    acc = (m(X).detach().numpy().argmax(1) == y).mean()
    assert acc > 0.97 and float(loss) < 0.15


def test_get_model():
    assert "resnet50" in M.list_models() and "vgg16_bn" in M.list_models()
    m = M.get_model("ResNet18", num_classes=3, width=4)
    assert isinstance(m, M.ResNet) and m.fc.out_features == 3
    with pytest.raises(ValueError, match="get_model: unknown model 'alexnet'; available: .*resnet18"):
        M.get_model("alexnet")
