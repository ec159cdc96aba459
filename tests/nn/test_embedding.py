"""Embedding: lookup, padding_idx (no gradient for that row), max_norm, scale_grad_by_freq,
from_pretrained, errors, and PyTorch reference."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F


def test_lookup_and_gradient_accumulates_repeated_indices():
    e = nn.Embedding(5, 3)
    idx = ember.tensor([[0, 2, 2], [4, 2, 0]])
    y = e(idx)
    np.testing.assert_array_equal(y.detach().numpy(), e.weight.detach().numpy()[idx.numpy()])
    y.sum().backward()
    np.testing.assert_array_equal(e.weight.grad.numpy()[:, 0], [2, 0, 3, 0, 1])


def test_padding_idx_row_gets_no_gradient():
    e = nn.Embedding(4, 2, padding_idx=1)
    assert not e.weight.detach().numpy()[1].any()
    e(ember.tensor([1, 1, 3, 0])).sum().backward()
    np.testing.assert_array_equal(e.weight.grad.numpy(), [[1, 1], [0, 0], [0, 0], [1, 1]])
    assert nn.Embedding(4, 2, padding_idx=-1).padding_idx == 3
    assert repr(nn.Embedding(4, 2, padding_idx=1)) == "Embedding(4, 2, padding_idx=1)"


def test_max_norm_renormalizes_looked_up_rows_in_place():
    w = ember.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    e = nn.Embedding.from_pretrained(w, max_norm=1.0)
    out = e(ember.tensor([0, 1]))
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8], [0.3, 0.4]], rtol=1e-5)
    np.testing.assert_allclose(e.weight.detach().numpy()[2], [6.0, 8.0])   # not looked up: untouched


def test_scale_grad_by_freq():
    e = nn.Embedding(3, 1, scale_grad_by_freq=True)
    e(ember.tensor([0, 0, 0, 2])).sum().backward()
    np.testing.assert_allclose(e.weight.grad.numpy()[:, 0], [1.0, 0.0, 1.0])


def test_from_pretrained_freezes_by_default():
    w = ember.randn(3, 2)
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad


def test_errors():
    e = nn.Embedding(3, 2)
    with pytest.raises(RuntimeError, match=r"embedding: index out of range: indices must be in \[0, 3\), got "
                                           r"values in \[0, 3\]"):
        e(ember.tensor([0, 3]))
    with pytest.raises(RuntimeError, match="indices must be an integer tensor"):
        e(ember.tensor([0.0]))
    with pytest.raises(NotImplementedError, match="sparse=True"):
        F.embedding(ember.tensor([0]), e.weight, sparse=True)
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


@pytest.mark.reference
def test_embedding_matches_torch():
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(0).standard_normal((6, 3))
    idx = np.array([[0, 5, 5], [2, 1, 0]])
    g = np.random.default_rng(1).standard_normal((2, 3, 3))
    ours = nn.Embedding.from_pretrained(ember.tensor(w), freeze=False, padding_idx=5, max_norm=1.5,
                                        scale_grad_by_freq=True)
    ref = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=False, padding_idx=5, max_norm=1.5,
                                             scale_grad_by_freq=True)
    ye, yt = ours(ember.tensor(idx)), ref(torch.tensor(idx))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours.weight.detach().numpy(), ref.weight.detach().numpy(), rtol=1e-6)


def test_embedding_bag_modes_against_numpy():
    w = np.random.default_rng(0).standard_normal((6, 2))
    bag = nn.EmbeddingBag.from_pretrained(ember.tensor(w), mode="sum", padding_idx=5)
    inp, off = ember.tensor([0, 1, 5, 2, 3, 3]), ember.tensor([0, 3, 3])
    want = np.stack([w[0] + w[1], np.zeros(2), w[2] + 2 * w[3]])
    np.testing.assert_allclose(bag(inp, off).numpy(), want, rtol=1e-12)
    bag.mode = "mean"
    np.testing.assert_allclose(bag(inp, off).numpy(), np.stack([want[0] / 2, want[1], want[2] / 3]), rtol=1e-12)
    bag.mode = "max"
    np.testing.assert_allclose(bag(inp, off).numpy(),
                               np.stack([np.maximum(w[0], w[1]), np.zeros(2), np.maximum(w[2], w[3])]), rtol=1e-12)
    fixed = nn.EmbeddingBag.from_pretrained(ember.tensor(w), mode="sum")
    psw = ember.tensor([[1.0, 0.5], [2.0, 0.0]])
    np.testing.assert_allclose(fixed(ember.tensor([[0, 1], [2, 3]]), per_sample_weights=psw).numpy(),
                               np.stack([w[0] + 0.5 * w[1], 2 * w[2]]), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(ember.tensor([[0]]), ember.tensor(w), mode="mean", per_sample_weights=ember.ones(1, 1))
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(ember.tensor([[0]]), ember.tensor(w), offsets=ember.tensor([0]))


def test_embedding_bag_gradcheck():
    from ember.autograd import gradcheck
    w = ember.randn(5, 2, dtype=ember.float64, requires_grad=True)
    psw = ember.rand(6, dtype=ember.float64, requires_grad=True)
    inp, off = ember.tensor([0, 1, 4, 2, 3, 3]), ember.tensor([0, 2, 2, 5])
    assert gradcheck(lambda w, p: F.embedding_bag(inp, w, off, mode="sum", per_sample_weights=p), [w, psw])
    assert gradcheck(lambda w: F.embedding_bag(inp, w, off, mode="mean"), [w])
    assert gradcheck(lambda w: F.embedding_bag(inp, w, off, mode="max"), [w])


@pytest.mark.reference
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(mode):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((10, 3))
    inp, off = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0]), np.array([0, 4, 4, 6, 9])
    psw = rng.random(9) if mode == "sum" else None
    ours = nn.EmbeddingBag.from_pretrained(ember.tensor(w), freeze=False, mode=mode, padding_idx=4,
                                           include_last_offset=True)
    ref = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), freeze=False, mode=mode, padding_idx=4,
                                                include_last_offset=True)
    ye = ours(ember.tensor(inp), ember.tensor(off), None if psw is None else ember.tensor(psw))
    yt = ref(torch.tensor(inp), torch.tensor(off), None if psw is None else torch.tensor(psw))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(tuple(yt.shape))
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert repr(ours) == repr(ref)
