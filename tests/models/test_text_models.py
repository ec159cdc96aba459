"""Text classifiers on token ids: ``LSTMClassifier`` and ``TransformerClassifier`` — names, padding
invariance (a padded batch gives each sequence the logits it gets alone), errors, and small
training runs that must reach an accuracy."""

import numpy as np
import pytest

import ember
import ember.models as M
from ember import nn


def _pad(seqs, pad=0):
    L = max(len(s) for s in seqs)
    return np.array([list(s) + [pad] * (L - len(s)) for s in seqs], dtype=np.int64)


def _logits(m, ids, **kw):
    with ember.no_grad():
        return m(ember.tensor(ids), **kw).numpy()


@pytest.mark.parametrize("bidirectional, layers", [(False, 1), (True, 2)])
def test_lstm_classifier_padding_invariance(bidirectional, layers):
    ember.manual_seed(0)
    m = M.LSTMClassifier(30, 8, 12, 4, num_layers=layers, bidirectional=bidirectional).eval()
    seqs = [[5, 6, 7], [1, 2, 3, 4, 5, 6], [9]]
    batched = _logits(m, _pad(seqs))
    assert batched.shape == (3, 4)
    for i, s in enumerate(seqs):
        np.testing.assert_allclose(batched[i], _logits(m, np.array([s]))[0], rtol=1e-5, atol=1e-6)
    # explicit lengths give the same as lengths counted from padding_idx
    np.testing.assert_allclose(_logits(m, _pad(seqs), lengths=[3, 6, 1]), batched, rtol=1e-6, atol=1e-7)


def test_lstm_classifier_names_and_errors():
    m = M.LSTMClassifier(30, 8, 12, 4, num_layers=2, bidirectional=True)
    keys = list(m.state_dict())
    assert keys[0] == "embedding.weight" and "lstm.weight_ih_l1_reverse" in keys and keys[-1] == "fc.bias"
    assert tuple(m.fc.weight.shape) == (4, 24)
    with pytest.raises(ValueError, match=r"lengths must be in \[1, 3\], got min 0"):
        m(ember.tensor([[0, 0, 0], [1, 2, 3]]))
    with pytest.raises(ValueError, match="got 1 lengths for a batch of 2"):
        m(ember.tensor([[1, 2, 3], [1, 2, 3]]), lengths=[3])
    with pytest.raises(ValueError, match=r"input_ids must be \(batch, seq_len\), got \(3,\)"):
        m(ember.tensor([1, 2, 3]))


def _first_token_task(rng, n):
    """Label = whether the FIRST token is < 6; later tokens are noise; lengths 2..8 (padding 0)."""
    seqs, labels = [], []
    for _ in range(n):
        length = int(rng.integers(2, 9))
        s = rng.integers(1, 12, length)
        seqs.append(s.tolist())
        labels.append(int(s[0] < 6))
    return _pad(seqs), np.array(labels)


def _train(m, x, y, steps, lr):
    opt = ember.optim.Adam(m.parameters(), lr=lr)
    X, Y = ember.tensor(x), ember.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(X), Y)
        loss.backward()
        opt.step()
    return float(loss)


def test_lstm_classifier_learns_long_range_label():
    rng = np.random.default_rng(0)
    x, y = _first_token_task(rng, 256)
    ember.manual_seed(0)
    m = M.LSTMClassifier(12, 16, 24, 2)
    _train(m, x, y, 80, 0.03)
    xt, yt = _first_token_task(rng, 200)
    acc = (_logits(m.eval(), xt).argmax(1) == yt).mean()
    assert acc > 0.95, acc


def test_transformer_classifier_padding_invariance_and_names():
    ember.manual_seed(0)
    for pooling in ("mean", "cls"):
        m = M.TransformerClassifier(30, 3, d_model=16, nhead=2, num_layers=2, dim_feedforward=24,
                                    pooling=pooling).eval()
        seqs = [[5, 6, 7], [1, 2, 3, 4, 5, 6], [9]]
        batched = _logits(m, _pad(seqs))
        for i, s in enumerate(seqs):
            np.testing.assert_allclose(batched[i], _logits(m, np.array([s]))[0], rtol=1e-5, atol=1e-5)
    keys = list(m.state_dict())
    assert keys[:3] == ["embedding.weight", "pos_embedding.weight", "encoder.layers.0.self_attn.in_proj_weight"]
    assert "encoder.layers.1.linear2.weight" in keys and keys[-1] == "classifier.bias"
    with pytest.raises(ValueError, match="sequence length 40 exceeds max_len 32"):
        M.TransformerClassifier(30, 3, d_model=16, nhead=2, max_len=32)(ember.ones(1, 40, dtype="int64"))
    with pytest.raises(ValueError, match="pooling must be 'mean' or 'cls'"):
        M.TransformerClassifier(30, 3, pooling="max")


def test_transformer_classifier_learns_token_presence():
    """Label = whether token 3 occurs anywhere in the sequence (attention + pooling must find it)."""
    rng = np.random.default_rng(1)

    def data(n):
        seqs, labels = [], []
        for _ in range(n):
            s = rng.choice([1, 2, 4, 5, 6, 7, 8, 9], int(rng.integers(3, 10))).tolist()
            lab = int(rng.random() < 0.5)
            if lab:
                s[int(rng.integers(len(s)))] = 3
            seqs.append(s)
            labels.append(lab)
        return _pad(seqs), np.array(labels)

    x, y = data(256)
    ember.manual_seed(0)
    m = M.TransformerClassifier(10, 2, d_model=16, nhead=2, num_layers=1, dim_feedforward=32, dropout=0.0)
    _train(m, x, y, 60, 0.01)
    xt, yt = data(200)
    acc = (_logits(m.eval(), xt).argmax(1) == yt).mean()
    assert acc > 0.95, acc
