"""Keras losses: per-sample values and reductions against NumPy formulas (Keras semantics)."""

import numpy as np
import pytest

import ember
from ember.keras import losses

EPS = 1e-7


def _t(a):
    return ember.tensor(np.asarray(a, dtype=np.float32))


def _val(x):
    return float(x.detach().numpy()) if x.ndim == 0 else x.detach().numpy()


def test_mse_mae_huber_reduce_last_axis():
    yt = np.array([[0.0, 1.0], [1.0, 1.0]])
    yp = np.array([[1.0, 1.0], [1.0, 0.0]])
    assert _val(losses.MeanSquaredError()(_t(yt), _t(yp))) == pytest.approx(np.mean((yt - yp) ** 2))
    assert _val(losses.MeanAbsoluteError()(_t(yt), _t(yp))) == pytest.approx(np.mean(np.abs(yt - yp)))
    np.testing.assert_allclose(_val(losses.mean_squared_error(_t(yt), _t(yp))), [0.5, 0.5])
    d = np.abs(yt - 3 * yp)
    ref = np.where(d <= 1.0, 0.5 * d ** 2, d - 0.5).mean()
    assert _val(losses.Huber()(_t(yt), _t(3 * yp))) == pytest.approx(ref)
    # labels (N,) against predictions (N, 1): expanded, not broadcast to (N, N)
    assert _val(losses.MeanSquaredError()(_t([1.0, 2.0]), _t([[1.0], [4.0]]))) == pytest.approx(2.0)


def test_reductions_and_sample_weight():
    yt, yp = _t([[1.0], [2.0], [3.0]]), _t([[2.0], [2.0], [5.0]])
    per = np.array([1.0, 0.0, 4.0])
    w = np.array([1.0, 2.0, 0.5])
    assert _val(losses.MeanSquaredError()(yt, yp, sample_weight=_t(w))) == pytest.approx((per * w).sum() / 3)
    assert _val(losses.MeanSquaredError(reduction="sum")(yt, yp)) == pytest.approx(5.0)
    np.testing.assert_allclose(_val(losses.MeanSquaredError(reduction="none")(yt, yp)), per)
    with pytest.raises(ValueError, match="invalid reduction 'avg'"):
        losses.MeanSquaredError(reduction="avg")


def test_binary_crossentropy_probs_and_logits():
    yt = np.array([[1.0, 0.0], [0.0, 1.0]])
    logits = np.array([[2.0, -1.0], [0.5, 3.0]])
    p = 1 / (1 + np.exp(-logits))
    ref = -(yt * np.log(p) + (1 - yt) * np.log(1 - p)).mean()
    assert _val(losses.BinaryCrossentropy()(_t(yt), _t(p))) == pytest.approx(ref, rel=1e-5)
    assert _val(losses.BinaryCrossentropy(from_logits=True)(_t(yt), _t(logits))) == pytest.approx(ref, rel=1e-5)
    # probabilities are clipped to [eps, 1 - eps] like Keras: a certain wrong answer costs -log(eps)
    assert _val(losses.binary_crossentropy(_t([[1.0]]), _t([[0.0]]))) == pytest.approx(-np.log(EPS), rel=1e-3)
    smooth = 0.2
    yts = yt * (1 - smooth) + 0.5 * smooth
    ref_s = -(yts * np.log(p) + (1 - yts) * np.log(1 - p)).mean()
    assert _val(losses.BinaryCrossentropy(label_smoothing=smooth)(_t(yt), _t(p))) == pytest.approx(ref_s, rel=1e-5)


def test_categorical_and_sparse_crossentropy():
    logits = np.array([[2.0, 1.0, 0.1], [0.3, 0.2, 3.0]])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([0, 2])
    onehot = np.eye(3)[labels]
    ref = -np.log(p[[0, 1], labels]).mean()
    assert _val(losses.CategoricalCrossentropy()(_t(onehot), _t(p))) == pytest.approx(ref, rel=1e-5)
    assert _val(losses.CategoricalCrossentropy(from_logits=True)(_t(onehot), _t(logits))) == pytest.approx(ref, rel=1e-5)
    lab = ember.tensor(labels)
    assert _val(losses.SparseCategoricalCrossentropy()(lab, _t(p))) == pytest.approx(ref, rel=1e-5)
    assert _val(losses.SparseCategoricalCrossentropy(from_logits=True)(lab, _t(logits))) == pytest.approx(ref, rel=1e-5)
    # (N, 1) labels and unnormalized "probabilities" (Keras renormalizes)
    assert _val(losses.SparseCategoricalCrossentropy()(ember.tensor(labels[:, None]), _t(p * 3))) == \
        pytest.approx(ref, rel=1e-5)
    # sequences: (N, T) labels with (N, T, C) logits
    seq = np.stack([logits, logits[::-1]], 1)                    # (2, 2, 3)
    seq_labels = np.array([[0, 2], [2, 0]])
    ls = seq - np.log(np.exp(seq).sum(-1, keepdims=True))
    ref_seq = -np.take_along_axis(ls, seq_labels[..., None], -1).mean()
    got = losses.SparseCategoricalCrossentropy(from_logits=True)(ember.tensor(seq_labels), _t(seq))
    assert _val(got) == pytest.approx(ref_seq, rel=1e-5)
    with pytest.raises(ValueError, match="must have the same shape"):
        losses.CategoricalCrossentropy()(lab, _t(p))


def test_kl_divergence():
    yt = np.array([[0.2, 0.8], [0.5, 0.5]])
    yp = np.array([[0.4, 0.6], [0.9, 0.1]])
    ref = (yt * np.log(yt / yp)).sum(1).mean()
    assert _val(losses.KLDivergence()(_t(yt), _t(yp))) == pytest.approx(ref, rel=1e-5)


def test_get_by_name_and_function():
    assert isinstance(losses.get("sparse_categorical_crossentropy"), losses.SparseCategoricalCrossentropy)
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("kld"), losses.KLDivergence)
    custom = losses.get(lambda yt, yp: (yt - yp).abs().sum(-1))
    assert _val(custom(_t([[1.0, 2.0]]), _t([[0.0, 0.0]]))) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="Unknown loss: 'nope'"):
        losses.get("nope")


def test_gradient_flows():
    p = ember.tensor(np.array([[0.2, 0.8]], dtype=np.float64), requires_grad=True)
    loss = losses.CategoricalCrossentropy()(ember.tensor(np.array([[0.0, 1.0]])), p)
    loss.backward()
    # d/dp of -log(p1 / (p0 + p1)) at (0.2, 0.8)
    np.testing.assert_allclose(p.grad.numpy(), [[1.0, 1 - 1 / 0.8]], rtol=1e-6)
