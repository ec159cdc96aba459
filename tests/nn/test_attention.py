"""scaled_dot_product_attention and MultiheadAttention: NumPy references, masks, dropout, gradcheck,
errors, and PyTorch reference tests with the same weights."""

import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck


def np_attention(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s + mask
    e = np.exp(s - s.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    return p @ v, p


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- scaled_dot_product_attention ----------------------------------------------------------------

def test_sdpa_matches_numpy_with_bool_float_and_causal_masks():
    q, k, v = _rand(2, 3, 4, 5, seed=1), _rand(2, 3, 6, 5, seed=2), _rand(2, 3, 6, 7, seed=3)
    Q, K, V = ember.tensor(q), ember.tensor(k), ember.tensor(v)
    out = F.scaled_dot_product_attention(Q, K, V)
    np.testing.assert_allclose(out.numpy(), np_attention(q, k, v)[0], rtol=1e-5, atol=1e-6)
    keep = np.random.default_rng(4).random((4, 6)) > 0.4
    keep[:, 0] = True
    out = F.scaled_dot_product_attention(Q, K, V, attn_mask=ember.tensor(keep))   # True = attend
    want = np_attention(q, k, v, np.where(keep, 0.0, -np.inf))[0]
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-6)
    fm = _rand(1, 3, 4, 6, seed=5)
    out = F.scaled_dot_product_attention(Q, K, V, attn_mask=ember.tensor(fm))      # added to the scores
    np.testing.assert_allclose(out.numpy(), np_attention(q, k, v, fm)[0], rtol=1e-5, atol=1e-6)
    out = F.scaled_dot_product_attention(Q, K, V, is_causal=True)
    causal = np.where(np.triu(np.ones((4, 6), bool), 1), -np.inf, 0.0)
    np.testing.assert_allclose(out.numpy(), np_attention(q, k, v, causal)[0], rtol=1e-5, atol=1e-6)
    out = F.scaled_dot_product_attention(Q, K, V, scale=0.1)
    np.testing.assert_allclose(out.numpy(), np_attention(q * 0.1 * math.sqrt(5), k, v)[0], rtol=1e-5, atol=1e-6)


def test_sdpa_gradcheck_including_float_mask():
    q, k, v = (ember.tensor(_rand(2, s, 3, seed=i, dtype=np.float64), requires_grad=True)
               for i, s in enumerate((2, 4, 4)))
    m = ember.tensor(_rand(2, 4, seed=9, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), [q, k, v, m])
    assert gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), [q, k, v])


def test_sdpa_dropout_is_unbiased_and_seeded():
    # uniform attention over 8 keys with values 1: each output is mean(keep) / (1 - p) -> 1 on average
    q = ember.zeros(4000, 1, 2)
    k = ember.zeros(4000, 8, 2)
    v = ember.ones(4000, 8, 1)
    ember.manual_seed(0)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    ember.manual_seed(0)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean() - 1.0) < 0.03
    assert a.std() > 0.2                                   # the rows really differ
    assert set(np.unique(np.round(a * 4, 4))) <= set(range(0, 17))   # multiples of 1/(8 * 0.5)


def test_sdpa_errors():
    q = ember.zeros(2, 3, 4)
    with pytest.raises(RuntimeError, match="query and key must share the last dim"):
        F.scaled_dot_product_attention(q, ember.zeros(2, 3, 5), ember.zeros(2, 3, 4))
    with pytest.raises(RuntimeError, match="key and value must have the same sequence length"):
        F.scaled_dot_product_attention(q, ember.zeros(2, 3, 4), ember.zeros(2, 5, 4))
    with pytest.raises(RuntimeError, match="pass either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ember.zeros(3, 3), is_causal=True)
    with pytest.raises(RuntimeError, match="attn_mask of shape \\(2, 2\\) does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ember.zeros(2, 2))
    with pytest.raises(ValueError, match="dropout_p must be in \\[0, 1\\)"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.0)


# -- MultiheadAttention ----------------------------------------------------------------------------

def test_mha_parameters_and_init():
    m = nn.MultiheadAttention(8, 2)
    assert [n for n, _ in m.named_parameters()] == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                                    "out_proj.bias"]
    assert tuple(m.in_proj_weight.shape) == (24, 8) and m.head_dim == 4
    assert (m.in_proj_bias.detach().numpy() == 0).all() and (m.out_proj.bias.detach().numpy() == 0).all()
    bound = math.sqrt(6 / (24 + 8))                       # xavier_uniform_ over the (3E, E) matrix
    assert np.abs(m.in_proj_weight.detach().numpy()).max() <= bound
    m2 = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False, add_bias_kv=True)
    assert [n for n, _ in m2.named_parameters()] == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k",
                                                     "bias_v", "out_proj.weight"]
    assert m2.in_proj_weight is None and tuple(m2.k_proj_weight.shape) == (8, 3)
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)


def _np_mha(m, q, k, v, mask=None):
    E, h = m.embed_dim, m.num_heads
    W, b = m.in_proj_weight.detach().numpy(), m.in_proj_bias.detach().numpy()
    Q, K, V = q @ W[:E].T + b[:E], k @ W[E:2 * E].T + b[E:2 * E], v @ W[2 * E:].T + b[2 * E:]

    def heads(x):  # (N, L, E) -> (N, h, L, d)
        return x.reshape(x.shape[0], x.shape[1], h, E // h).transpose(0, 2, 1, 3)
    o, p = np_attention(heads(Q), heads(K), heads(V), mask)
    o = o.transpose(0, 2, 1, 3).reshape(q.shape)
    return o @ m.out_proj.weight.detach().numpy().T + m.out_proj.bias.detach().numpy(), p.mean(1)


def test_mha_matches_numpy_batch_first_and_sequence_first():
    ember.manual_seed(1)
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    nn.init.uniform_(m.in_proj_bias, -0.5, 0.5)
    q, kv = _rand(3, 4, 8, seed=1), _rand(3, 6, 8, seed=2)
    out, w = m(ember.tensor(q), ember.tensor(kv), ember.tensor(kv))
    want, want_w = _np_mha(m, q, kv, kv)
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w.detach().numpy(), want_w, rtol=1e-4, atol=1e-5)
    m.batch_first = False
    out2, _ = m(ember.tensor(q.transpose(1, 0, 2)), ember.tensor(kv.transpose(1, 0, 2)),
                ember.tensor(kv.transpose(1, 0, 2)))
    np.testing.assert_allclose(out2.detach().numpy().transpose(1, 0, 2), want, rtol=1e-4, atol=1e-5)


def test_mha_key_padding_mask_hides_keys():
    ember.manual_seed(2)
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    x = _rand(2, 5, 8, seed=3)
    kpm = np.zeros((2, 5), bool)
    kpm[0, 3:] = True
    out, w = m(ember.tensor(x), ember.tensor(x), ember.tensor(x), key_padding_mask=ember.tensor(kpm),
               average_attn_weights=False)
    assert tuple(w.shape) == (2, 2, 5, 5)
    assert (w.detach().numpy()[0, :, :, 3:] == 0).all()
    x2 = x.copy()
    x2[0, 3:] = 50.0                                        # change only the hidden keys/values
    q = ember.tensor(x)
    out2, _ = m(q, ember.tensor(x2), ember.tensor(x2), key_padding_mask=ember.tensor(kpm))
    np.testing.assert_allclose(out2.detach().numpy()[0], out.detach().numpy()[0], rtol=1e-5, atol=1e-6)
    # the same mask as floats (-inf) gives the same result
    fk = np.where(kpm, -np.inf, 0.0).astype(np.float32)
    out3, _ = m(ember.tensor(x), ember.tensor(x), ember.tensor(x), key_padding_mask=ember.tensor(fk))
    np.testing.assert_allclose(out3.detach().numpy(), out.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_mha_attn_mask_bool_means_masked_and_unbatched_input():
    ember.manual_seed(3)
    m = nn.MultiheadAttention(4, 1)
    x = _rand(3, 4, seed=4)                                 # unbatched (L, E)
    causal = np.triu(np.ones((3, 3), bool), 1)             # True = not allowed
    out, w = m(ember.tensor(x), ember.tensor(x), ember.tensor(x), attn_mask=ember.tensor(causal))
    assert tuple(out.shape) == (3, 4) and tuple(w.shape) == (3, 3)
    np.testing.assert_array_equal(w.detach().numpy()[causal], 0)
    out_f, _ = m(ember.tensor(x), ember.tensor(x), ember.tensor(x),
                 attn_mask=nn.Transformer.generate_square_subsequent_mask(3), need_weights=False)
    np.testing.assert_allclose(out_f.detach().numpy(), out.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_mha_gradcheck_all_inputs_and_parameters():
    ember.manual_seed(4)
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, add_bias_kv=True, batch_first=True).double()
    q = ember.tensor(_rand(2, 2, 4, seed=5, dtype=np.float64), requires_grad=True)
    k = ember.tensor(_rand(2, 3, 3, seed=6, dtype=np.float64), requires_grad=True)
    v = ember.tensor(_rand(2, 3, 2, seed=7, dtype=np.float64), requires_grad=True)
    kpm = ember.tensor(np.array([[False, False, True], [False, False, False]]))
    assert gradcheck(lambda q, k, v, *ps: m(q, k, v, key_padding_mask=kpm), [q, k, v] + list(m.parameters()))


def test_mha_dropout_only_in_training():
    ember.manual_seed(5)
    m = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = ember.tensor(_rand(2, 6, 8, seed=8))
    m.eval()
    a = m(x, x, x)[0].detach().numpy()
    np.testing.assert_array_equal(a, m(x, x, x)[0].detach().numpy())
    m.train()
    out, w = m(x, x, x, average_attn_weights=False)
    assert np.abs(out.detach().numpy() - a).max() > 1e-3
    wn = w.detach().numpy()
    assert (wn == 0).mean() > 0.3                          # returned weights are the dropped-out ones


def test_mha_errors():
    m = nn.MultiheadAttention(8, 2)
    x = ember.zeros(3, 2, 8)
    with pytest.raises(RuntimeError, match="was expecting embedding dimension of 8, but got 4"):
        m(ember.zeros(3, 2, 4), x, x)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is \\(2, 3\\), but should be \\(3, 3\\)"):
        m(x, x, x, attn_mask=ember.zeros(2, 3))
    with pytest.raises(RuntimeError, match="expecting key_padding_mask shape of \\(2, 3\\)"):
        m(x, x, x, key_padding_mask=ember.zeros(3, 2, dtype=ember.bool))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)


# -- PyTorch reference -----------------------------------------------------------------------------

def _load_from_torch(tm, em):
    assert list(tm.state_dict()) == list(em.state_dict())
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


@pytest.mark.reference
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sdpa_matches_pytorch(dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tdt = getattr(torch, dtype)
    rtol, atol = (1e-5, 1e-8) if dtype == "float64" else (1e-4, 1e-5)
    q, k, v = (torch.randn(2, 3, n, 5, dtype=tdt, requires_grad=True) for n in (4, 6, 6))
    fm = torch.randn(4, 6, dtype=tdt)
    bm = torch.rand(2, 1, 4, 6) > 0.3
    bm[..., 0] = True
    for kw in ({}, {"attn_mask": fm}, {"attn_mask": bm}, {"is_causal": True}, {"scale": 0.3}):
        for t in (q, k, v):
            t.grad = None
        eq, ek, ev = (ember.tensor(t.detach().numpy(), requires_grad=True) for t in (q, k, v))
        ekw = {n: ember.tensor(x.numpy()) if hasattr(x, "numpy") else x for n, x in kw.items()}
        to = torch.nn.functional.scaled_dot_product_attention(q, k, v, **kw)
        eo = F.scaled_dot_product_attention(eq, ek, ev, **ekw)
        (to ** 2).sum().backward()
        (eo ** 2).sum().backward()
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=rtol, atol=atol)
        for a, b in ((eq, q), (ek, k), (ev, v)):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)


MHA_CONFIGS = [
    (dict(), dict(), True),
    (dict(batch_first=True), dict(key_padding_mask="bool"), True),
    (dict(kdim=3, vdim=5), dict(), False),
    (dict(add_bias_kv=True, add_zero_attn=True), dict(key_padding_mask="bool", attn_mask="bool"), False),
    (dict(batch_first=True), dict(attn_mask="float3d", average_attn_weights=False), False),
    (dict(bias=False), dict(key_padding_mask="float", need_weights=False), True),
]


@pytest.mark.reference
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw,fkw,self_attn", MHA_CONFIGS, ids=[str(i) for i in range(len(MHA_CONFIGS))])
def test_mha_matches_pytorch(kw, fkw, self_attn, dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    tdt = getattr(torch, dtype)
    rtol, atol = (1e-5, 1e-8) if dtype == "float64" else (1e-4, 1e-5)
    tm = torch.nn.MultiheadAttention(8, 2, **kw).to(tdt)
    em = nn.MultiheadAttention(8, 2, **kw).to(dtype=getattr(ember, dtype))
    _load_from_torch(tm, em)
    bf, (L, S, N) = kw.get("batch_first", False), (4, 5, 3)

    def shape(n, d):
        return (N, n, d) if bf else (n, N, d)
    q = torch.randn(*shape(L, 8), dtype=tdt, requires_grad=True)
    if self_attn:
        k = v = q
    else:
        k = torch.randn(*shape(S, kw.get("kdim", 8)), dtype=tdt, requires_grad=True)
        v = torch.randn(*shape(S, kw.get("vdim", 8)), dtype=tdt, requires_grad=True)
    Sx = L if self_attn else S
    tf, ef = {}, {}
    for name, val in fkw.items():
        if val == "bool":
            m = torch.rand(N, Sx) > 0.6 if name == "key_padding_mask" else torch.rand(L, Sx) > 0.6
            m[..., 0] = False
        elif val == "float":
            m = torch.randn(N, Sx, dtype=tdt)
        elif val == "float3d":
            m = torch.randn(N * 2, L, Sx, dtype=tdt)
        else:
            tf[name] = ef[name] = val
            continue
        tf[name], ef[name] = m, ember.tensor(m.numpy())
    eq = ember.tensor(q.detach().numpy(), requires_grad=True)
    ek, ev = (eq, eq) if self_attn else (ember.tensor(t.detach().numpy(), requires_grad=True) for t in (k, v))
    to, tw = tm(q, k, v, **tf)
    eo, ew = em(eq, ek, ev, **ef)
    assert (tw is None) == (ew is None)
    tl = (to ** 2).sum() + ((tw ** 3).sum() if tw is not None else 0)
    el = (eo ** 2).sum() + ((ew ** 3).sum() if ew is not None else 0)
    tl.backward()
    el.backward()
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=rtol, atol=atol)
    if tw is not None:
        np.testing.assert_allclose(ew.detach().numpy(), tw.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(eq.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=atol)
    if not self_attn:
        np.testing.assert_allclose(ek.grad.numpy(), k.grad.numpy(), rtol=rtol, atol=atol)
        np.testing.assert_allclose(ev.grad.numpy(), v.grad.numpy(), rtol=rtol, atol=atol)
    for n, p in tm.named_parameters():
        np.testing.assert_allclose(em.get_parameter(n).grad.numpy(), p.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=n)


def test_functional_mha_static_kv_and_embed_dim_check():
    ember.manual_seed(6)
    m = nn.MultiheadAttention(4, 2).double().eval()
    q = ember.tensor(_rand(3, 2, 4, seed=9, dtype=np.float64))
    sk = _rand(4, 5, 2, seed=10, dtype=np.float64)            # (N * heads, S, head_dim)
    sv = _rand(4, 5, 2, seed=11, dtype=np.float64)
    args = (m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight, m.out_proj.bias)
    out, w = F.multi_head_attention_forward(q, q, q, 4, 2, *args, training=False, static_k=ember.tensor(sk),
                                            static_v=ember.tensor(sv), average_attn_weights=False)
    assert tuple(out.shape) == (3, 2, 4) and tuple(w.shape) == (2, 2, 3, 5)
    W, b = m.in_proj_weight.detach().numpy(), m.in_proj_bias.detach().numpy()
    Q = (q.numpy() @ W[:4].T + b[:4]).reshape(3, 2, 2, 2).transpose(1, 2, 0, 3)     # (N, h, L, d)
    o, p = np_attention(Q, sk.reshape(2, 2, 5, 2), sv.reshape(2, 2, 5, 2))
    o = o.transpose(2, 0, 1, 3).reshape(3, 2, 4) @ m.out_proj.weight.detach().numpy().T
    o = o + m.out_proj.bias.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), o, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), p, rtol=1e-10, atol=1e-12)
    with pytest.raises(RuntimeError, match="was expecting embedding dimension of 8, but got 4"):
        F.multi_head_attention_forward(q, q, q, 8, 2, *args)
    with pytest.raises(RuntimeError, match="expecting static_k of shape \\(4, S, 2\\)"):
        F.multi_head_attention_forward(q, q, q, 4, 2, *args, static_k=ember.tensor(sk[:2]))


@pytest.mark.reference
def test_functional_mha_static_kv_matches_pytorch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    tm = torch.nn.MultiheadAttention(4, 2).double()
    q = torch.randn(3, 2, 4, dtype=torch.float64)
    sk, sv = torch.randn(4, 5, 2, dtype=torch.float64), torch.randn(4, 5, 2, dtype=torch.float64)
    to, tw = torch.nn.functional.multi_head_attention_forward(
        q, q, q, 4, 2, tm.in_proj_weight, tm.in_proj_bias, None, None, False, 0.0, tm.out_proj.weight,
        tm.out_proj.bias, training=False, static_k=sk, static_v=sv)
    E = lambda t: ember.tensor(t.detach().numpy())  # noqa: E731
    eo, ew = F.multi_head_attention_forward(
        E(q), E(q), E(q), 4, 2, E(tm.in_proj_weight), E(tm.in_proj_bias), None, None, False, 0.0,
        E(tm.out_proj.weight), E(tm.out_proj.bias), training=False, static_k=E(sk), static_v=E(sv))
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(ew.detach().numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-8)


def test_sdpa_grouped_query_attention():
    q = _rand(1, 4, 3, 2, seed=20)
    k, v = _rand(1, 2, 5, 2, seed=21), _rand(1, 2, 5, 3, seed=22)
    out = F.scaled_dot_product_attention(ember.tensor(q), ember.tensor(k), ember.tensor(v), enable_gqa=True)
    want = np_attention(q, np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1))[0]
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="query heads \\(4\\) must be a multiple of the key/value heads \\(3\\)"):
        F.scaled_dot_product_attention(ember.tensor(q), ember.zeros(1, 3, 5, 2), ember.zeros(1, 3, 5, 3),
                                       enable_gqa=True)


@pytest.mark.reference
def test_sdpa_gqa_matches_pytorch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(4)
    q = torch.randn(2, 6, 3, 4, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 2, 5, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 2, 5, 3, dtype=torch.float64, requires_grad=True)
    eq, ek, ev = (ember.tensor(t.detach().numpy(), requires_grad=True) for t in (q, k, v))
    to = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    eo = F.scaled_dot_product_attention(eq, ek, ev, is_causal=True, enable_gqa=True)
    (to ** 2).sum().backward()
    (eo ** 2).sum().backward()
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-8)
    for a, b in ((eq, q), (ek, k), (ev, v)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-8)
