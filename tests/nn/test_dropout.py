"""Dropout layers and functionals: statistics, scaling, eval identity, the mask reaching backward,
channel-wise masks, seeding."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F


def test_dropout_zeroes_with_probability_p_and_scales_the_rest():
    ember.manual_seed(0)
    x = ember.ones(200, 100)
    y = nn.Dropout(0.3)(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)


def test_dropout_gradient_is_the_mask():
    ember.manual_seed(1)
    x = ember.randn(50, 40, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    mask = (y.detach().numpy() != 0) * 2.0
    np.testing.assert_array_equal(x.grad.numpy(), mask)


def test_eval_mode_and_edge_probabilities():
    x = ember.randn(4, 5)
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    assert F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).numpy().any()
    with pytest.raises(ValueError, match="between 0 and 1, but got -0.1"):
        F.dropout(x, -0.1)
    with pytest.raises(RuntimeError, match="dropout: expected a floating-point input"):
        F.dropout(ember.ones(3, dtype=ember.int64), 0.5)


def test_seed_reproduces_the_mask():
    x = ember.ones(10, 10)
    ember.manual_seed(3)
    a = F.dropout(x, 0.5).numpy()
    ember.manual_seed(3)
    b = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, F.dropout(x, 0.5).numpy())


def test_dropout2d_drops_whole_channels():
    ember.manual_seed(4)
    y = nn.Dropout2d(0.5)(ember.ones(8, 16, 3, 3)).numpy()
    per_channel = y.reshape(8, 16, -1)
    assert (per_channel.min(-1) == per_channel.max(-1)).all()   # each channel all-kept or all-dropped
    assert 0 < (per_channel[..., 0] == 0).mean() < 1
    y = nn.Dropout1d(0.5)(ember.ones(16, 4)).numpy()             # unbatched (C, L)
    assert (y.min(-1) == y.max(-1)).all()
    with pytest.raises(RuntimeError, match="dropout2d: expected a 3-d"):
        F.dropout2d(ember.ones(2, 2), 0.5)


def test_inplace_dropout():
    ember.manual_seed(5)
    x = ember.ones(100)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


def test_alpha_dropout_keeps_selu_statistics():
    ember.manual_seed(6)
    x = ember.randn(400, 400)
    y = nn.AlphaDropout(0.2).train()(x).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02
    assert nn.AlphaDropout(0.2).eval()(x) is x


def test_dropout_mask_is_an_output_of_the_node():
    """The mask reaches backward as a saved output of the dropout node (not a constant)."""
    from ember.ops.dropout import Dropout
    x = ember.randn(3, 3, requires_grad=True)
    y, mask = Dropout.apply(x, p=0.5)
    assert not mask.requires_grad and y.grad_fn is not None
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() * mask.numpy())
