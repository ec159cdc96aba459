"""Metrics: values against NumPy / scikit-learn references, accumulation, weights, name resolution."""

import numpy as np
import pytest

import ember
from ember.train import metrics as M


def test_mean_weighted_accumulates():
    m = M.Mean()
    m.update_state([1.0, 2.0, 3.0])
    m.update_state([10.0], sample_weight=[2.0])
    assert m.result() == pytest.approx((1 + 2 + 3 + 20) / 5)
    m.reset_state()
    assert m.result() == 0.0


def test_accuracies_match_numpy():
    rng = np.random.default_rng(0)
    p = rng.random((50, 4)).astype(np.float32)
    labels = rng.integers(0, 4, 50)
    onehot = np.eye(4, dtype=np.float32)[labels]
    ref = (p.argmax(1) == labels).mean()
    assert M.SparseCategoricalAccuracy()(labels, p) == pytest.approx(ref)
    assert M.SparseCategoricalAccuracy()(labels[:, None], p) == pytest.approx(ref)
    assert M.CategoricalAccuracy()(onehot, p) == pytest.approx(ref)
    # tensors work too
    assert M.CategoricalAccuracy()(ember.tensor(onehot), ember.tensor(p)) == pytest.approx(ref)
    top2 = np.mean([labels[i] in np.argsort(-p[i])[:2] for i in range(50)])
    assert M.SparseTopKCategoricalAccuracy(k=2)(labels, p) == pytest.approx(top2)
    assert M.TopKCategoricalAccuracy(k=2)(onehot, p) == pytest.approx(top2)
    pb = rng.random((50, 1))
    yb = rng.integers(0, 2, (50, 1))
    assert M.BinaryAccuracy()(yb, pb) == pytest.approx(((pb > 0.5) == yb).mean())
    assert M.BinaryAccuracy(threshold=0.8)(yb, pb) == pytest.approx(((pb > 0.8) == yb).mean())
    assert M.Accuracy()([1, 2, 3, 4], [1, 2, 0, 4]) == pytest.approx(0.75)


def test_weighted_accuracy_and_regression_metrics():
    y = np.array([0, 1, 1, 2])
    p = np.eye(3)[[0, 1, 2, 2]]
    w = np.array([1.0, 1.0, 3.0, 1.0])
    assert M.SparseCategoricalAccuracy()(y, p, sample_weight=w) == pytest.approx(3 / 6)
    yt = np.array([[1.0, 2.0], [3.0, 4.0]])
    yp = np.array([[1.5, 2.0], [2.0, 6.0]])
    assert M.MeanSquaredError()(yt, yp) == pytest.approx(np.mean((yt - yp) ** 2))
    assert M.MeanAbsoluteError()(yt, yp) == pytest.approx(np.mean(np.abs(yt - yp)))


def test_precision_recall_with_weights_and_thresholds():
    y = np.array([1, 0, 1, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.4, 0.6, 0.1, 0.55])
    pred = p > 0.5
    tp, fp, fn = (pred & (y == 1)).sum(), (pred & (y == 0)).sum(), (~pred & (y == 1)).sum()
    assert M.Precision()(y, p) == pytest.approx(tp / (tp + fp))
    assert M.Recall()(y, p) == pytest.approx(tp / (tp + fn))
    assert M.Precision(thresholds=[0.3, 0.7])(y, p) == pytest.approx([3 / 5, 1 / 2])
    w = np.array([2.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert M.Precision()(y, p, sample_weight=w) == pytest.approx(3 / 5)


def test_auc_matches_sklearn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    p = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    auc = M.AUC(num_thresholds=1000)
    auc.update_state(y[:200], p[:200])
    auc.update_state(y[200:], p[200:])
    assert auc.result() == pytest.approx(sklearn_metrics.roc_auc_score(y, p), abs=2e-3)
    pr = M.AUC(curve="PR", num_thresholds=1000)(y, p)
    assert pr == pytest.approx(sklearn_metrics.average_precision_score(y, p), abs=0.02)
    logits = np.log(p + 1e-9) - np.log(1 - p + 1e-9)
    assert M.AUC(from_logits=True, num_thresholds=1000)(y, logits) == pytest.approx(auc.result(), abs=2e-3)


def test_resolve_accuracy_like_keras():
    assert isinstance(M.resolve_accuracy("sparse_categorical_crossentropy", (8,), (8, 3)),
                      M.SparseCategoricalAccuracy)
    assert isinstance(M.resolve_accuracy("categorical_crossentropy", (8, 3), (8, 3)), M.CategoricalAccuracy)
    b = M.resolve_accuracy("binary_crossentropy", (8, 1), (8, 1), from_logits=True)
    assert isinstance(b, M.BinaryAccuracy) and b.name == "accuracy"
    assert b(np.array([[1], [0]]), np.array([[0.3], [-0.2]])) == 1.0     # logits thresholded at 0
    assert isinstance(M.resolve_accuracy("mse", (8,), (8, 1)), M.BinaryAccuracy)
    assert isinstance(M.resolve_accuracy(None, (8,), (8, 5)), M.SparseCategoricalAccuracy)
    assert isinstance(M.resolve_accuracy(None, (8, 5), (8, 5)), M.CategoricalAccuracy)


def test_get_by_name_and_errors():
    assert isinstance(M.get("mae"), M.MeanAbsoluteError)
    assert isinstance(M.get("auc"), M.AUC)
    fn = M.get(lambda yt, yp: np.abs(yt - yp))
    assert fn([1.0, 2.0], [2.0, 2.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown metric 'nope'"):
        M.get("nope")
    with pytest.raises(ValueError, match="curve must be 'ROC' or 'PR'"):
        M.AUC(curve="XY")
