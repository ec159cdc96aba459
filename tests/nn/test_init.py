"""nn.init: bounds and moments of every initializer, gains, fans, seeding and generators."""

import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn import init


def w(*shape):
    return ember.empty(*shape)


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


def test_uniform_normal_constant():
    ember.manual_seed(0)
    t = init.uniform_(w(200, 100), -2.0, 3.0)
    a = t.numpy()
    assert a.min() >= -2.0 and a.max() < 3.0 and abs(a.mean() - 0.5) < 0.05
    a = init.normal_(w(200, 100), 1.0, 2.0).numpy()
    assert abs(a.mean() - 1.0) < 0.05 and abs(a.std() - 2.0) < 0.05
    assert (init.constant_(w(3), 0.5).numpy() == 0.5).all()
    assert (init.ones_(w(3)).numpy() == 1).all() and (init.zeros_(w(3)).numpy() == 0).all()
    np.testing.assert_array_equal(init.eye_(w(2, 3)).numpy(), np.eye(2, 3))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(w(3))


def test_trunc_normal_within_bounds_with_right_moments():
    ember.manual_seed(0)
    a = init.trunc_normal_(w(300, 100), mean=0.5, std=1.0, a=-1.0, b=2.0).numpy()
    assert a.min() >= -1.0 and a.max() <= 2.0
    from scipy.stats import truncnorm
    dist = truncnorm(-1.5, 1.5, loc=0.5, scale=1.0)
    assert abs(a.mean() - dist.mean()) < 0.02 and abs(a.std() - dist.std()) < 0.02


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_xavier_and_kaiming_moments(shape):
    ember.manual_seed(1)
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    std = math.sqrt(2.0 / (fan_in + fan_out))
    a = init.xavier_uniform_(w(*shape)).numpy()
    assert np.abs(a).max() <= math.sqrt(3) * std and abs(a.std() - std) < 0.03 * std
    a = init.xavier_normal_(w(*shape), gain=2.0).numpy()
    assert abs(a.std() - 2 * std) < 0.03 * 2 * std
    k_std = math.sqrt(2.0) / math.sqrt(fan_in)
    a = init.kaiming_uniform_(w(*shape), nonlinearity="relu").numpy()
    assert np.abs(a).max() <= math.sqrt(3) * k_std and abs(a.std() - k_std) < 0.03 * k_std
    a = init.kaiming_normal_(w(*shape), mode="fan_out", nonlinearity="relu").numpy()
    assert abs(a.std() - math.sqrt(2.0 / fan_out)) < 0.03 * math.sqrt(2.0 / fan_out)
    # a=sqrt(5) with leaky_relu gives the PyTorch Linear/Conv default bound 1/sqrt(fan_in)
    a = init.kaiming_uniform_(w(*shape), a=math.sqrt(5)).numpy()
    assert np.abs(a).max() <= 1 / math.sqrt(fan_in) and np.abs(a).max() > 0.99 / math.sqrt(fan_in)


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(w(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(w(3, 3), mode="fan_avg")


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 2, 3)])
def test_orthogonal(shape):
    ember.manual_seed(2)
    a = init.orthogonal_(w(*shape), gain=2.0).numpy().reshape(shape[0], -1)
    if a.shape[0] <= a.shape[1]:
        np.testing.assert_allclose(a @ a.T, 4 * np.eye(a.shape[0]), atol=1e-5)
    else:
        np.testing.assert_allclose(a.T @ a, 4 * np.eye(a.shape[1]), atol=1e-5)


def test_dirac_and_sparse():
    d = init.dirac_(w(2, 2, 3)).numpy()
    x = np.random.default_rng(0).standard_normal((2, 5))
    out = np.stack([sum(np.convolve(x[i], d[o, i][::-1], mode="same") for i in range(2)) for o in range(2)])
    np.testing.assert_allclose(out, x, atol=1e-6)   # the identity convolution
    ember.manual_seed(3)
    s = init.sparse_(w(10, 6), sparsity=0.3).numpy()
    assert ((s == 0).sum(0) == 3).all()


def test_seeding_and_generators_make_init_reproducible():
    ember.manual_seed(5)
    a = nn.Linear(4, 3).weight.detach().numpy().copy()
    ember.manual_seed(5)
    b = nn.Linear(4, 3).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = ember.Generator().manual_seed(9), ember.Generator().manual_seed(9)
    np.testing.assert_array_equal(init.normal_(w(3, 3), generator=g1).numpy(),
                                  init.normal_(w(3, 3), generator=g2).numpy())
    x = init.kaiming_uniform_(w(3, 3), generator=ember.Generator().manual_seed(1)).numpy()
    y = init.kaiming_uniform_(w(3, 3), generator=ember.Generator().manual_seed(1)).numpy()
    np.testing.assert_array_equal(x, y)


def test_init_on_parameter_records_no_graph():
    p = nn.Parameter(ember.empty(3, 3))
    init.xavier_uniform_(p)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    version = p._version
    init.zeros_(p)
    assert p._version > version     # in-place writes bump the version counter


def test_empty_tensor_is_left_alone():
    t = w(0, 3)
    assert init.kaiming_uniform_(t) is t and init.orthogonal_(t) is t
