"""nn layers and losses inside traced graphs (ember.jit): values that depend on the data (the
weighted-mean divisor of cross-entropy, dropout masks) are recomputed at every run, not frozen."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

jit = pytest.importorskip("ember.jit")


def test_traced_cross_entropy_recomputes_the_weighted_mean_divisor():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.LayerNorm(8), nn.Linear(8, 3)).eval()
    w = ember.tensor([1.0, 2.0, 0.5])

    def loss_fn(x, t):
        return F.cross_entropy(model(x), t, weight=w, ignore_index=1, label_smoothing=0.1)

    x = ember.randn(6, 4)
    traced = jit.trace(loss_fn, (x, ember.tensor([0, 1, 2, 0, 1, 2])))
    for t in ([1, 1, 1, 0, 2, 2], [0, 0, 0, 0, 2, 1]):
        t = ember.tensor(t)
        np.testing.assert_allclose(traced(x, t).item(), loss_fn(x, t).item(), rtol=1e-6)
    nll = jit.trace(lambda a, t: F.nll_loss(a, t, weight=w, ignore_index=2), (x[:, :3], ember.tensor([0, 1, 2, 0, 1, 2])))
    t = ember.tensor([2, 2, 2, 2, 0, 1])
    np.testing.assert_allclose(nll(x[:, :3], t).item(), F.nll_loss(x[:, :3], t, weight=w, ignore_index=2).item(),
                               rtol=1e-6)


def test_traced_dropout_draws_a_new_mask_each_run():
    traced = jit.trace(lambda x: F.dropout(x, 0.5), (ember.ones(64),))
    a, b = traced(ember.ones(64)).numpy(), traced(ember.ones(64)).numpy()
    assert set(np.unique(a)) <= {0.0, 2.0} and set(np.unique(b)) <= {0.0, 2.0}
    assert not np.array_equal(a, b)
