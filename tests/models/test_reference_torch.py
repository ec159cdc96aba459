"""Ember's zoo models against the same architectures written here in plain PyTorch, with the
torchvision / HuggingFace parameter names: a torch state_dict must load into the Ember model as it
is, and both must compute the same outputs (torchvision and transformers are not installed, so the
reference modules are small re-statements of their architectures)."""

import math

import numpy as np
import pytest

import ember
import ember.models as M

torch = pytest.importorskip("torch")
nn = torch.nn
pytestmark = pytest.mark.reference


def to_ember_state(module):
    return {k: ember.tensor(v.detach().numpy().copy()) for k, v in module.state_dict().items()}


# -- ResNet ------------------------------------------------------------------------------------------

class TBasic(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + idt)


class TBottle(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + idt)


class TResNet(nn.Module):
    def __init__(self, block, layers, num_classes, width):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        for i, n in enumerate(layers):
            setattr(self, f"layer{i + 1}", self._make(block, width * 2 ** i, n, 1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

    def _make(self, block, planes, n, stride):
        down = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                 nn.BatchNorm2d(planes * block.expansion))
        blocks = [block(self.inplanes, planes, stride, down)]
        self.inplanes = planes * block.expansion
        blocks += [block(self.inplanes, planes) for _ in range(1, n)]
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _randomize_bn(module):
    """Non-trivial running statistics and affine params, so that eval-mode BN is really tested."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


@pytest.mark.parametrize("kind", ["basic", "bottleneck"])
def test_resnet_matches_torch(kind):
    torch.manual_seed(0)
    if kind == "basic":
        tm, em = TResNet(TBasic, [2, 2, 2, 2], 7, 8), M.resnet18(num_classes=7, width=8)
    else:
        tm, em = TResNet(TBottle, [3, 4, 6, 3], 7, 4), M.resnet50(num_classes=7, width=4)
    _randomize_bn(tm)
    assert list(em.state_dict()) == list(tm.state_dict())             # same names, same order
    em.load_state_dict(to_ember_state(tm))
    x = np.random.default_rng(0).standard_normal((2, 3, 40, 40)).astype(np.float32)
    tm.eval(), em.eval()
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        out = em(ember.tensor(x)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    # gradients (eval mode: train-mode BN over layer4's 2x2 maps is too ill-conditioned to compare
    # closely) and the train-mode forward (batch statistics) agree too
    tx = torch.from_numpy(x).requires_grad_(True)
    tm(tx).square().sum().backward()
    ex = ember.tensor(x, requires_grad=True)
    em(ex).square().sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-5)
    for (name, p), (_, q) in zip(em.named_parameters(), tm.named_parameters()):
        scale = float(q.grad.abs().max())
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-4 * scale + 1e-6, err_msg=name)
    tm.train(), em.train()
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        out = em(ember.tensor(x)).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-3 * np.abs(ref).max())
    for (name, b), (_, q) in zip(em.named_buffers(), tm.named_buffers()):   # running statistics updated alike
        np.testing.assert_allclose(b.numpy(), q.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


# -- BERT --------------------------------------------------------------------------------------------

class TSelf(nn.Module):
    def __init__(self, H, heads):
        super().__init__()
        self.h, self.d = heads, H // heads
        self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)

    def forward(self, x, mask):
        N, L, H = x.shape
        q, k, v = (t(x).view(N, L, self.h, self.d).transpose(1, 2) for t in (self.query, self.key, self.value))
        s = q @ k.transpose(-1, -2) / math.sqrt(self.d) + mask
        return (s.softmax(-1) @ v).transpose(1, 2).reshape(N, L, H)


class TOut(nn.Module):
    def __init__(self, fin, H, eps):
        super().__init__()
        self.dense = nn.Linear(fin, H)
        self.LayerNorm = nn.LayerNorm(H, eps=eps)

    def forward(self, h, x):
        return self.LayerNorm(self.dense(h) + x)


class TAttn(nn.Module):
    def __init__(self, H, heads, eps):
        super().__init__()
        self.self = TSelf(H, heads)
        self.output = TOut(H, H, eps)

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


class TInter(nn.Module):
    def __init__(self, H, inter):
        super().__init__()
        self.dense = nn.Linear(H, inter)

    def forward(self, x):
        return torch.nn.functional.gelu(self.dense(x))


class TLayer(nn.Module):
    def __init__(self, H, heads, inter, eps):
        super().__init__()
        self.attention = TAttn(H, heads, eps)
        self.intermediate = TInter(H, inter)
        self.output = TOut(inter, H, eps)

    def forward(self, x, mask):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class TEmb(nn.Module):
    def __init__(self, V, H, P, T, eps):
        super().__init__()
        self.word_embeddings = nn.Embedding(V, H, padding_idx=0)
        self.position_embeddings = nn.Embedding(P, H)
        self.token_type_embeddings = nn.Embedding(T, H)
        self.LayerNorm = nn.LayerNorm(H, eps=eps)
        self.register_buffer("position_ids", torch.arange(P).expand((1, -1)))   # as transformers < 4.31 saved it

    def forward(self, ids, types):
        pos = self.position_ids[:, :ids.shape[1]]
        return self.LayerNorm(self.word_embeddings(ids) + self.token_type_embeddings(types)
                              + self.position_embeddings(pos))


class TEnc(nn.Module):
    def __init__(self, n, *a):
        super().__init__()
        self.layer = nn.ModuleList([TLayer(*a) for _ in range(n)])


class TPool(nn.Module):
    def __init__(self, H):
        super().__init__()
        self.dense = nn.Linear(H, H)


class TBert(nn.Module):
    def __init__(self, c):
        super().__init__()
        eps = c.layer_norm_eps
        self.embeddings = TEmb(c.vocab_size, c.hidden_size, c.max_position_embeddings, c.type_vocab_size, eps)
        self.encoder = TEnc(c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.intermediate_size, eps)
        self.pooler = TPool(c.hidden_size)

    def forward(self, ids, mask, types):
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        x = self.embeddings(ids, types)
        for layer in self.encoder.layer:
            x = layer(x, ext)
        return x, torch.tanh(self.pooler.dense(x[:, 0]))


def test_bert_matches_torch():
    torch.manual_seed(0)
    cfg = M.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                       intermediate_size=24, max_position_embeddings=20, type_vocab_size=2)
    tm = TBert(cfg).eval()
    with torch.no_grad():   # non-trivial LayerNorm affine parameters
        for m in tm.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5), m.bias.normal_(0, 0.1)
    em = M.BertModel(cfg).eval()
    tsd = tm.state_dict()
    assert "embeddings.position_ids" in tsd
    assert sorted(k for k in tsd if k != "embeddings.position_ids") == sorted(em.state_dict())
    assert repr(em.load_state_dict(to_ember_state(tm))) == "<All keys matched successfully>"
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 50, (3, 9))
    mask = np.ones((3, 9), dtype=np.int64)
    mask[1, 5:] = 0
    mask[2, 2:] = 0
    ids[mask == 0] = 0
    types = rng.integers(0, 2, (3, 9))
    with torch.no_grad():
        th, tp = tm(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types))
    with ember.no_grad():
        out = em(ember.tensor(ids), ember.tensor(mask), ember.tensor(types))
    np.testing.assert_allclose(out.last_hidden_state.numpy(), th.numpy(), rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(out.pooler_output.numpy(), tp.numpy(), rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(out[0].numpy(), th.numpy(), rtol=1e-4, atol=2e-5)   # tuple-style access
