"""Random factories: shapes, dtypes, ranges, rough distributions, seeding and explicit generators."""

import numpy as np
import pytest

import ember

N = 20000


def test_shapes_dtypes_and_flags():
    ember.manual_seed(0)
    assert ember.rand(2, 3).shape == (2, 3) and ember.rand((2, 3)).dtype == np.float32
    assert ember.randn(4, dtype=ember.float64).dtype == np.float64
    assert ember.randn(3, dtype=ember.float16).dtype == np.float16
    r = ember.rand(2, requires_grad=True, device="cpu")
    assert r.requires_grad and r.is_leaf and r.device == "cpu"
    assert ember.randint(0, 5, (3, 2)).dtype == np.int64
    assert ember.randint(5, (3,), dtype=ember.int32).dtype == np.int32
    assert ember.randperm(4).dtype == np.int64
    assert ember.normal(0.0, 1.0, (2, 2)).shape == (2, 2)


def test_uniform_and_normal_statistics():
    ember.manual_seed(1)
    u = ember.rand(N).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    z = ember.randn(N).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03
    g = ember.normal(3.0, 0.5, (N,)).numpy()
    assert abs(g.mean() - 3.0) < 0.02 and abs(g.std() - 0.5) < 0.02


def test_normal_with_tensor_parameters():
    ember.manual_seed(2)
    mean = ember.tensor([[-10.0], [10.0]])
    std = ember.full((2, N // 2), 0.1)
    s = ember.normal(mean, std)
    assert s.shape == (2, N // 2) and s.dtype == np.float32
    np.testing.assert_allclose(s.numpy().mean(1), [-10.0, 10.0], atol=0.01)
    np.testing.assert_allclose(s.numpy().std(1), [0.1, 0.1], atol=0.01)
    with pytest.raises(TypeError, match="needs a size"):
        ember.normal(0.0, 1.0)


def test_randint_range_and_coverage():
    ember.manual_seed(3)
    x = ember.randint(-2, 3, (N,)).numpy()
    assert x.min() == -2 and x.max() == 2
    counts = np.bincount(x + 2)
    assert counts.min() > N / 5 * 0.9
    y = ember.randint(4, (100,)).numpy()
    assert y.min() >= 0 and y.max() <= 3
    with pytest.raises(TypeError, match="missing required argument 'size'"):
        ember.randint(5)


def test_randperm_is_a_permutation():
    ember.manual_seed(4)
    p = ember.randperm(50).numpy()
    assert sorted(p.tolist()) == list(range(50))
    assert (p != np.arange(50)).any()


def test_bernoulli():
    ember.manual_seed(5)
    probs = ember.tensor([0.0, 1.0, 0.3]).expand(N, 3)
    s = ember.bernoulli(probs)
    assert s.dtype == np.float32 and s.shape == (N, 3)
    means = s.numpy().mean(0)
    assert means[0] == 0.0 and means[1] == 1.0 and abs(means[2] - 0.3) < 0.02
    q = ember.bernoulli(ember.zeros(N, dtype=ember.float64), 0.75)
    assert q.dtype == np.float64 and abs(q.numpy().mean() - 0.75) < 0.02
    assert set(np.unique(q.numpy()).tolist()) <= {0.0, 1.0}


def test_manual_seed_reproduces_every_factory():
    def draw():
        return [ember.rand(3).numpy(), ember.randn(2, 2).numpy(), ember.randint(0, 100, (4,)).numpy(),
                ember.randperm(6).numpy(), ember.normal(1.0, 2.0, (3,)).numpy(),
                ember.bernoulli(ember.full((5,), 0.5)).numpy(), ember.empty(3).uniform_(-1, 1).numpy(),
                ember.empty(3).normal_(0, 1).numpy()]

    ember.manual_seed(123)
    a = draw()
    ember.manual_seed(123)
    b = draw()
    c = draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any((x != z).any() for x, z in zip(a, c))
    assert ember.initial_seed() == 123


def test_explicit_generator_is_independent_of_the_default():
    g1 = ember.Generator().manual_seed(7)
    g2 = ember.Generator("cpu").manual_seed(7)
    ember.manual_seed(0)
    a = ember.rand(4, generator=g1).numpy()
    ember.rand(10)                              # the default generator advancing does not matter
    b = ember.rand(4, generator=g2).numpy()
    np.testing.assert_array_equal(a, b)
    assert g1.initial_seed() == 7
    state = g1.get_state()
    x = ember.randn(3, generator=g1).numpy()
    g1.set_state(state)
    np.testing.assert_array_equal(ember.randn(3, generator=g1).numpy(), x)
    for fn in (lambda g: ember.randint(0, 9, (3,), generator=g), lambda g: ember.randperm(5, generator=g),
               lambda g: ember.normal(0.0, 1.0, (3,), generator=g)):
        g1.manual_seed(9)
        g2.manual_seed(9)
        np.testing.assert_array_equal(fn(g1).numpy(), fn(g2).numpy())


def test_like_factories():
    x = ember.zeros(2, 3, dtype=ember.float64)
    assert ember.rand_like(x).shape == (2, 3) and ember.rand_like(x).dtype == np.float64
    assert ember.randn_like(x).dtype == np.float64
    n = ember.randint_like(ember.zeros(4, dtype=ember.int32), 0, 3)
    assert n.dtype == np.int32 and n.numpy().max() < 3


def test_random_fills_refuse_leaves_that_require_grad():
    w = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="uniform_: a leaf Variable that requires grad"):
        w.uniform_()
    with ember.no_grad():
        w.uniform_(2.0, 3.0)
    assert (w.detach().numpy() >= 2.0).all()
