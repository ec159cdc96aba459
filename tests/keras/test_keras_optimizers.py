"""Keras optimizers: update rules against NumPy, clipping, decoupled weight decay, schedules."""

import numpy as np
import pytest

import ember
from ember.keras import optimizers
from ember.keras.optimizers import schedules


def _var(v):
    return ember.tensor(np.array(v, dtype=np.float64), requires_grad=True)


def _g(v):
    return ember.tensor(np.array(v, dtype=np.float64))


def test_sgd_momentum_and_nesterov_match_keras_formulas():
    for nesterov in (False, True):
        w = _var([1.0, -1.0])
        opt = optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=nesterov)
        ref, vel = np.array([1.0, -1.0]), np.zeros(2)
        for g in ([0.5, 1.0], [0.2, -0.3], [1.0, 1.0]):
            opt.apply_gradients([(_g(g), w)])
            g = np.array(g)
            vel = 0.9 * vel - 0.1 * g                        # Keras: v = m v - lr g
            ref = ref + (0.9 * vel - 0.1 * g if nesterov else vel)
        np.testing.assert_allclose(w.detach().numpy(), ref, rtol=1e-12)
        assert opt.iterations == 3


def test_adam_first_step_is_lr_times_sign():
    w = _var([1.0, 2.0])
    opt = optimizers.Adam(learning_rate=0.01)
    opt.apply_gradients(zip([_g([3.0, -0.5])], [w]))
    np.testing.assert_allclose(w.detach().numpy(), [0.99, 2.01], rtol=1e-6)


def test_clipping():
    w = _var([0.0, 0.0])
    optimizers.SGD(1.0, clipvalue=0.5).apply_gradients([(_g([2.0, -0.1]), w)])
    np.testing.assert_allclose(w.detach().numpy(), [-0.5, 0.1])
    w = _var([0.0, 0.0])
    optimizers.SGD(1.0, clipnorm=1.0).apply_gradients([(_g([3.0, 4.0]), w)])
    np.testing.assert_allclose(w.detach().numpy(), [-0.6, -0.8])
    a, b = _var([0.0]), _var([0.0])
    optimizers.SGD(1.0, global_clipnorm=1.0).apply_gradients([(_g([3.0]), a), (_g([4.0]), b)])
    np.testing.assert_allclose([a.item(), b.item()], [-0.6, -0.8])
    with pytest.raises(ValueError, match="Only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_adamw_decoupled_decay_and_none_grads_skipped():
    w, other = _var([2.0]), _var([5.0])
    opt = optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    opt.apply_gradients([(_g([0.0]), w), (None, other)])
    # decay first (w *= 1 - lr * wd), then Adam with a zero gradient moves nothing
    np.testing.assert_allclose(w.detach().numpy(), [2.0 * (1 - 0.05)])
    assert other.item() == 5.0


def test_rmsprop_and_adagrad_build_and_step():
    for opt, expected in ((optimizers.RMSprop(learning_rate=0.01, rho=0.9), 1.0 - 0.01 / np.sqrt(0.1)),
                          (optimizers.Adagrad(learning_rate=0.1), 1.0 - 0.1 * 1.0 / np.sqrt(1.1))):
        w = _var([1.0])
        opt.apply_gradients([(_g([1.0]), w)])
        assert w.item() == pytest.approx(expected, rel=1e-5)


def test_schedules():
    e = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert e(0) == pytest.approx(0.1) and e(10) == pytest.approx(0.05) and e(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    assert schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)(15) == pytest.approx(0.05)
    p = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [p(s) for s in (0, 10, 11, 20, 21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    c = schedules.CosineDecay(1.0, decay_steps=100, alpha=0.1)
    assert c(0) == pytest.approx(1.0) and c(50) == pytest.approx(0.55) and c(200) == pytest.approx(0.1)
    w = schedules.CosineDecay(0.0, 100, warmup_target=1.0, warmup_steps=10)
    assert w(5) == pytest.approx(0.5) and w(10) == pytest.approx(1.0)
    # the optimizer reads the schedule at its iteration count
    opt = optimizers.SGD(learning_rate=p)
    v = _var([0.0])
    for _ in range(12):
        opt.apply_gradients([(_g([1.0]), v)])
    assert v.item() == pytest.approx(-(11 * 1.0 + 1 * 0.5))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.3


def test_get_and_config_round_trip():
    opt = optimizers.get("adam")
    assert isinstance(opt, optimizers.Adam) and opt.learning_rate == 0.001
    again = optimizers.deserialize(optimizers.serialize(optimizers.SGD(0.3, momentum=0.5, nesterov=True)))
    assert (again.learning_rate, again.momentum, again.nesterov) == (0.3, 0.5, True)
    with pytest.raises(ValueError, match="Unknown optimizer: 'fast'"):
        optimizers.get("fast")


def test_apply_and_variables_added_later():
    a, b = _var([1.0]), _var([1.0])
    opt = optimizers.SGD(0.5)
    opt.apply([_g([1.0])], [a])
    opt.apply_gradients([(_g([1.0]), a), (_g([2.0]), b)])      # b joins the optimizer
    assert (a.item(), b.item()) == (0.0, 0.0)
    assert len(opt.variables) == 2
