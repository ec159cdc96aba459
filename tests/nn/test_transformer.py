"""Transformer encoder/decoder layers, stacks and the full Transformer: structure and names, residual
and norm placement against a NumPy composition, causal and padding masks, dropout, gradcheck, a
training run, and PyTorch reference tests in eval mode with norm_first both ways."""

import numpy as np
import pytest

import ember
import ember.nn as nn


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_submodule_names_follow_pytorch():
    enc = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    assert [n for n, _ in enc.named_children()] == ["self_attn", "linear1", "dropout", "linear2", "norm1", "norm2",
                                                    "dropout1", "dropout2"]
    dec = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)
    assert [n for n, _ in dec.named_children()] == ["self_attn", "multihead_attn", "linear1", "dropout", "linear2",
                                                    "norm1", "norm2", "norm3", "dropout1", "dropout2", "dropout3"]
    t = nn.Transformer(8, 2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16)
    keys = list(t.state_dict())
    assert "encoder.layers.1.self_attn.in_proj_weight" in keys and "encoder.norm.weight" in keys
    assert "decoder.layers.0.multihead_attn.out_proj.bias" in keys and "decoder.norm.bias" in keys
    assert len(t.encoder.layers) == 2
    # the stacks hold independent deep copies
    a, b = t.encoder.layers[0].linear1.weight, t.encoder.layers[1].linear1.weight
    assert a is not b


def test_generate_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(3)
    assert m.dtype == ember.float32
    np.testing.assert_array_equal(m.numpy(), [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=ember.float64).dtype == ember.float64


def _np_layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_composition_matches_numpy(norm_first):
    """Eval mode: x + block placement of LayerNorm as documented, with the attention computed by MHA
    itself (tested separately) and the feed-forward block in NumPy."""
    ember.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation="gelu", batch_first=True,
                                       norm_first=norm_first).eval()
    nn.init.uniform_(layer.norm1.weight, 0.5, 1.5)
    nn.init.uniform_(layer.norm2.bias, -0.5, 0.5)
    x = _rand(2, 5, 8, seed=1)
    got = layer(ember.tensor(x)).detach().numpy()

    def P(t):
        return t.detach().numpy()

    def sa(v):
        t = ember.tensor(v)
        return layer.self_attn(t, t, t, need_weights=False)[0].detach().numpy()

    def ff(v):
        from scipy.special import erf
        h = v @ P(layer.linear1.weight).T + P(layer.linear1.bias)
        h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
        return h @ P(layer.linear2.weight).T + P(layer.linear2.bias)

    def n1(v):
        return _np_layer_norm(v, P(layer.norm1.weight), P(layer.norm1.bias))

    def n2(v):
        return _np_layer_norm(v, P(layer.norm2.weight), P(layer.norm2.bias))

    if norm_first:
        h = x + sa(n1(x))
        want = h + ff(n2(h))
    else:
        h = n1(x + sa(x))
        want = n2(h + ff(h))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_causal_mask_makes_outputs_independent_of_the_future():
    ember.manual_seed(1)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True), 2,
                                norm=nn.LayerNorm(8)).eval()
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    x = _rand(2, 6, 8, seed=2)
    y = enc(ember.tensor(x), mask=mask, is_causal=True).detach().numpy()
    x2 = x.copy()
    x2[:, 4:] += 3.0
    y2 = enc(ember.tensor(x2), mask=mask).detach().numpy()
    np.testing.assert_allclose(y2[:, :4], y[:, :4], rtol=1e-5, atol=1e-6)
    assert np.abs(y2[:, 4:] - y[:, 4:]).max() > 1e-2


def test_padding_mask_hides_padded_positions_in_decoder_memory():
    ember.manual_seed(2)
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, dim_feedforward=16), 2).eval()
    tgt, mem = _rand(3, 2, 8, seed=3), _rand(5, 2, 8, seed=4)     # sequence-first
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    y = dec(ember.tensor(tgt), ember.tensor(mem), memory_key_padding_mask=ember.tensor(kpm)).detach().numpy()
    mem2 = mem.copy()
    mem2[3:, 1] = -7.0
    y2 = dec(ember.tensor(tgt), ember.tensor(mem2), memory_key_padding_mask=ember.tensor(kpm)).detach().numpy()
    np.testing.assert_allclose(y2, y, rtol=1e-5, atol=1e-6)


def test_dropout_active_only_in_training_and_callable_activation():
    ember.manual_seed(3)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.3,
                                       activation=lambda t: t * 0.5)
    x = ember.tensor(_rand(4, 2, 8, seed=5))
    layer.eval()
    a = layer(x).detach().numpy()
    np.testing.assert_array_equal(a, layer(x).detach().numpy())
    layer.train()
    assert np.abs(layer(x).detach().numpy() - a).max() > 1e-3
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_encoder_layer_gradcheck():
    ember.manual_seed(4)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, activation="gelu", batch_first=True,
                                       norm_first=True).double().eval()
    x = ember.tensor(_rand(1, 3, 4, seed=6, dtype=np.float64), requires_grad=True)
    params = list(layer.parameters())
    from ember.autograd import gradcheck
    assert gradcheck(lambda x, *ps: layer(x), [x] + params, atol=1e-6, rtol=1e-4)


def test_transformer_errors():
    t = nn.Transformer(8, 2, 1, 1, 16, batch_first=True)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        t(ember.zeros(2, 3, 8), ember.zeros(3, 3, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        t(ember.zeros(2, 3, 8), ember.zeros(2, 3, 4))


@pytest.mark.slow
def test_encoder_classifier_learns_order_dependent_task():
    """Label = whether token A comes before token B in the sequence: needs attention across positions
    and position information (a learned positional embedding)."""
    ember.manual_seed(5)
    rng = np.random.default_rng(5)
    n, L, V = 768, 8, 6
    tokens = rng.integers(2, V, (n, L))
    for i in range(n):
        a, b = rng.choice(L, 2, replace=False)
        tokens[i, a], tokens[i, b] = 0, 1
    labels = (np.argmax(tokens == 0, 1) < np.argmax(tokens == 1, 1)).astype(np.int64)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, 32)
            self.pos = nn.Embedding(L, 32)
            self.enc = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, dropout=0.0, batch_first=True)
            self.fc = nn.Linear(32, 2)

        def forward(self, t):
            h = self.emb(t) + self.pos(ember.arange(L))
            return self.fc(self.enc(h).mean(dim=1))

    net = Net()
    opt = ember.optim.Adam(net.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    X, Y = ember.tensor(tokens[:512]), ember.tensor(labels[:512])
    for _ in range(6):
        for i in range(0, 512, 64):
            opt.zero_grad()
            loss = loss_fn(net(X[i:i + 64]), Y[i:i + 64])
            loss.backward()
            opt.step()
    net.eval()
    with ember.no_grad():
        acc = (net(ember.tensor(tokens[512:])).argmax(1).numpy() == labels[512:]).mean()   # held out
    assert acc > 0.9, acc


# -- PyTorch reference -----------------------------------------------------------------------------

def _load_from_torch(tm, em):
    assert list(tm.state_dict()) == list(em.state_dict())
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _grads_match(tm, em, rtol, atol):
    for n, p in tm.named_parameters():
        np.testing.assert_allclose(em.get_parameter(n).grad.numpy(), p.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=n)


LAYER_CASES = [(nf, bf, act) for nf in (False, True) for bf in (False, True) for act in ("relu", "gelu")]


@pytest.mark.reference
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("norm_first,batch_first,act", LAYER_CASES,
                         ids=[f"nf{int(a)}-bf{int(b)}-{c}" for a, b, c in LAYER_CASES])
def test_layers_match_pytorch(norm_first, batch_first, act, dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tdt, edt = getattr(torch, dtype), getattr(ember, dtype)
    rtol, atol = (1e-5, 1e-8) if dtype == "float64" else (1e-4, 1e-5)
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.1, activation=act, batch_first=batch_first,
              norm_first=norm_first)

    def shape(n):
        return (3, n, 8) if batch_first else (n, 3, 8)
    mask_t = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=tdt)
    mask_e = nn.Transformer.generate_square_subsequent_mask(5, dtype=edt)
    kpm = torch.zeros(3, 5, dtype=torch.bool)
    kpm[1, 3:] = True

    tm = torch.nn.TransformerEncoderLayer(**kw).to(tdt).eval()
    em = nn.TransformerEncoderLayer(**kw).to(dtype=edt).eval()
    _load_from_torch(tm, em)
    x = torch.randn(*shape(5), dtype=tdt, requires_grad=True)
    ex = ember.tensor(x.detach().numpy(), requires_grad=True)
    to = tm(x, src_mask=mask_t, src_key_padding_mask=kpm.to(tdt).masked_fill(kpm, float("-inf")))
    eo = em(ex, src_mask=mask_e, src_key_padding_mask=ember.tensor(kpm.numpy()))
    (to ** 2).sum().backward()
    (eo ** 2).sum().backward()
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ex.grad.numpy(), x.grad.numpy(), rtol=rtol, atol=atol)
    _grads_match(tm, em, rtol, atol)

    tm = torch.nn.TransformerDecoderLayer(**kw).to(tdt).eval()
    em = nn.TransformerDecoderLayer(**kw).to(dtype=edt).eval()
    _load_from_torch(tm, em)
    x = torch.randn(*shape(5), dtype=tdt, requires_grad=True)
    mem = torch.randn(*shape(4), dtype=tdt, requires_grad=True)
    ex = ember.tensor(x.detach().numpy(), requires_grad=True)
    emem = ember.tensor(mem.detach().numpy(), requires_grad=True)
    mkpm = torch.zeros(3, 4, dtype=torch.bool)
    mkpm[2, 2:] = True
    to = tm(x, mem, tgt_mask=mask_t, memory_key_padding_mask=mkpm, tgt_is_causal=True)
    eo = em(ex, emem, tgt_mask=mask_e, memory_key_padding_mask=ember.tensor(mkpm.numpy()), tgt_is_causal=True)
    (to ** 2).sum().backward()
    (eo ** 2).sum().backward()
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ex.grad.numpy(), x.grad.numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(emem.grad.numpy(), mem.grad.numpy(), rtol=rtol, atol=atol)
    _grads_match(tm, em, rtol, atol)


@pytest.mark.reference
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_pytorch(norm_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
              batch_first=True, norm_first=norm_first)
    tm = torch.nn.Transformer(**kw).double().eval()
    em = nn.Transformer(**kw).double().eval()
    _load_from_torch(tm, em)
    s, t = torch.randn(2, 5, 8, dtype=torch.float64), torch.randn(2, 4, 8, dtype=torch.float64)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    to = tm(s, t, tgt_mask=tmask)
    eo = em(ember.tensor(s.numpy()), ember.tensor(t.numpy()), tgt_mask=ember.tensor(tmask.numpy()))
    (to ** 2).sum().backward()
    (eo ** 2).sum().backward()
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-8)
    _grads_match(tm, em, 1e-5, 1e-8)


@pytest.mark.reference
def test_encoder_stack_with_norm_matches_pytorch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    tm = torch.nn.TransformerEncoder(tl, 3, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False).double().eval()
    em = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 3,
                               norm=nn.LayerNorm(8)).double().eval()
    _load_from_torch(tm, em)
    x = torch.randn(2, 6, 8, dtype=torch.float64)
    np.testing.assert_allclose(em(ember.tensor(x.numpy())).detach().numpy(), tm(x).detach().numpy(),
                               rtol=1e-5, atol=1e-8)
