"""Optimizers: hand-computed updates, API behaviour, state_dict round trips."""

import math

import numpy as np
import pytest

import ember
from ember import optim

from ._problem import ember_params, run_ember


def scalar_param(value):
    return ember.tensor([value], dtype=ember.float64, requires_grad=True)


def step_with_grad(opt, p, grad):
    p.grad = ember.tensor([grad], dtype=ember.float64)
    opt.step()
    return p.item()


def test_sgd_plain_and_weight_decay():
    p = scalar_param(1.0)
    opt = optim.SGD([p], lr=0.1, weight_decay=0.5)
    # g = 2 + 0.5 * 1 = 2.5 -> 1 - 0.25
    assert step_with_grad(opt, p, 2.0) == pytest.approx(0.75, abs=1e-15)


def test_sgd_momentum_by_hand():
    p = scalar_param(1.0)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    assert step_with_grad(opt, p, 2.0) == pytest.approx(1.0 - 0.1 * 2.0)          # buf = g on step 1
    # buf = 0.9 * 2 + (1 - 0.5) * 4 = 3.8
    assert step_with_grad(opt, p, 4.0) == pytest.approx(0.8 - 0.1 * 3.8)
    assert opt.state[p]["momentum_buffer"].item() == pytest.approx(3.8)


def test_sgd_nesterov_by_hand():
    p = scalar_param(1.0)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    # step 1: buf = 2, g = 2 + 0.9 * 2 = 3.8
    assert step_with_grad(opt, p, 2.0) == pytest.approx(1.0 - 0.38)
    # step 2: buf = 0.9 * 2 + 1 = 2.8, g = 1 + 0.9 * 2.8 = 3.52
    assert step_with_grad(opt, p, 1.0) == pytest.approx(0.62 - 0.352)


def test_sgd_maximize_goes_uphill():
    p = scalar_param(1.0)
    opt = optim.SGD([p], lr=0.1, maximize=True)
    assert step_with_grad(opt, p, 2.0) == pytest.approx(1.2)


def test_adam_two_steps_by_hand():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    p = scalar_param(1.0)
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    x, m, v = 1.0, 0.0, 0.0
    for t, g in [(1, 2.0), (2, -1.0)]:
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x -= lr / (1 - b1 ** t) * m / (math.sqrt(v) / math.sqrt(1 - b2 ** t) + eps)
        assert step_with_grad(opt, p, g) == pytest.approx(x, abs=1e-12)
    # step 1 of Adam moves by exactly lr (m_hat / sqrt(v_hat) = sign(g))
    assert opt.state[p]["step"].item() == 2
    assert opt.state[p]["exp_avg"].item() == pytest.approx(m)
    assert opt.state[p]["exp_avg_sq"].item() == pytest.approx(v)


def test_adam_first_step_moves_by_lr():
    p = scalar_param(3.0)
    opt = optim.Adam([p], lr=0.01)
    assert step_with_grad(opt, p, 123.0) == pytest.approx(3.0 - 0.01, abs=1e-9)


def test_adam_amsgrad_keeps_max():
    p = scalar_param(0.0)
    opt = optim.Adam([p], lr=0.1, amsgrad=True)
    step_with_grad(opt, p, 10.0)
    big = opt.state[p]["max_exp_avg_sq"].item()
    step_with_grad(opt, p, 0.0)
    assert opt.state[p]["max_exp_avg_sq"].item() == pytest.approx(big)
    assert opt.state[p]["exp_avg_sq"].item() < big


def test_adamw_decouples_weight_decay():
    p = scalar_param(2.0)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    # p *= 1 - lr * wd, then the Adam step of size lr against the gradient sign
    assert step_with_grad(opt, p, 1.0) == pytest.approx(2.0 * 0.95 - 0.1, abs=1e-8)
    assert opt.defaults["weight_decay"] == 0.5 and optim.AdamW([scalar_param(1.0)]).defaults["weight_decay"] == 1e-2


def test_adagrad_by_hand():
    p = scalar_param(1.0)
    opt = optim.Adagrad([p], lr=0.5, lr_decay=0.1, initial_accumulator_value=1.0, eps=0.0)
    x, s = 1.0, 1.0
    for t, g in [(1, 2.0), (2, 3.0)]:
        s += g * g
        x -= 0.5 / (1 + (t - 1) * 0.1) * g / math.sqrt(s)
        assert step_with_grad(opt, p, g) == pytest.approx(x, abs=1e-14)


def test_rmsprop_and_adadelta_and_adamax_by_hand():
    p = scalar_param(1.0)
    step_with_grad(optim.RMSprop([p], lr=0.01, alpha=0.9, eps=0.0), p, 2.0)
    # v = 0.1 * 4 -> p -= 0.01 * 2 / sqrt(0.4)
    assert p.item() == pytest.approx(1.0 - 0.02 / math.sqrt(0.4), abs=1e-14)

    p = scalar_param(1.0)
    step_with_grad(optim.Adadelta([p], lr=1.0, rho=0.9, eps=1e-6), p, 2.0)
    delta = math.sqrt(1e-6) / math.sqrt(0.4 + 1e-6) * 2.0
    assert p.item() == pytest.approx(1.0 - delta, abs=1e-14)

    p = scalar_param(1.0)
    opt = optim.Adamax([p], lr=0.1, eps=0.0)
    step_with_grad(opt, p, -2.0)
    # m = -0.2, u = 2 -> p -= 0.1 / 0.1 * (-0.2) / 2
    assert p.item() == pytest.approx(1.1, abs=1e-14)
    step_with_grad(opt, p, 1.0)
    assert opt.state[p]["exp_inf"].item() == pytest.approx(2 * 0.999)


def test_nadam_first_step_by_hand():
    lr, b1, b2, md = 0.1, 0.9, 0.999, 4e-3
    p = scalar_param(1.0)
    step_with_grad(optim.NAdam([p], lr=lr, eps=0.0), p, 2.0)
    mu1 = b1 * (1 - 0.5 * 0.96 ** (1 * md))
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * md))
    m, d = (1 - b1) * 2.0, math.sqrt((1 - b2) * 4 / (1 - b2))
    expect = 1.0 - lr * (1 - mu1) / (1 - mu1) * 2.0 / d - lr * mu2 / (1 - mu1 * mu2) * m / d
    assert p.item() == pytest.approx(expect, rel=1e-6)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.05),
    lambda ps: optim.AdamW(ps, lr=0.05),
    lambda ps: optim.RMSprop(ps, lr=0.01),
    lambda ps: optim.Adagrad(ps, lr=0.1),
    lambda ps: optim.Adadelta(ps, lr=50.0),
    lambda ps: optim.Adamax(ps, lr=0.05),
    lambda ps: optim.NAdam(ps, lr=0.05),
], ids=["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"])
def test_every_optimizer_reduces_the_loss(make):
    from ._problem import ember_loss
    start = ember_loss(ember_params()).item()
    params, _ = run_ember(make, steps=30)
    assert ember_loss(params).item() < 0.8 * start


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
    lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
    lambda ps: optim.NAdam(ps, lr=0.05),
], ids=["sgd", "adam", "rmsprop", "nadam"])
def test_state_dict_resume_equals_uninterrupted(make):
    full, _ = run_ember(make, steps=8)
    params, opt = run_ember(make, steps=4)
    saved = opt.state_dict()
    params2 = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    opt2 = make(params2)
    opt2.load_state_dict(saved)
    from ._problem import ember_loss
    for _ in range(4):
        opt2.zero_grad()
        ember_loss(params2).backward()
        opt2.step()
    for a, b in zip(full, params2):
        # mu_product is float32 state cast to the float64 parameter dtype on load (as PyTorch does)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=0, atol=1e-9)


def test_state_dict_format_is_pytorch_like():
    params, opt = run_ember(lambda ps: optim.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5}], lr=0.01),
                            steps=2)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.01, 0.5]
    assert sorted(sd["state"]) == [0, 1]
    assert set(sd["state"][1]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][1]["exp_avg"].shape == (3,)
    assert sd["state"][0]["step"].item() == 2


def test_load_state_dict_checks_group_sizes_and_casts():
    p32 = [ember.zeros(3, requires_grad=True)]
    _, opt = run_ember(lambda ps: optim.Adam(ps), steps=1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam(p32).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": p32}, {"params": [ember.zeros(1, requires_grad=True)]}]).load_state_dict(opt.state_dict())
    src = [ember.zeros(3, dtype=ember.float64, requires_grad=True)]
    o64 = optim.Adam(src)
    src[0].grad = ember.ones(3, dtype=ember.float64)
    o64.step()
    dst = optim.Adam(p32)
    dst.load_state_dict(o64.state_dict())
    assert dst.state[p32[0]]["exp_avg"].dtype == ember.float32
    assert dst.state[p32[0]]["exp_avg"] is not o64.state[src[0]]["exp_avg"]


def test_param_groups_options_and_add_param_group():
    a, b = ember.zeros(2, requires_grad=True), ember.zeros(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1, momentum=0.5)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 1.0
    assert opt.param_groups[1]["momentum"] == 0.5
    a.grad, b.grad = ember.ones(2), ember.ones(2)
    opt.step()
    assert a.tolist() == pytest.approx([-0.1, -0.1]) and b.tolist() == pytest.approx([-1.0, -1.0])
    c = ember.zeros(1, requires_grad=True)
    opt.add_param_group({"params": c, "lr": 2.0})
    assert opt.param_groups[2]["momentum"] == 0.5 and opt.param_groups[2]["params"] == [c]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_constructor_errors():
    p = ember.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.SGD([1.0], lr=0.1)


def test_zero_grad_modes_and_closure():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        calls.append(1)
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0) and calls == [1]
    assert p.tolist() == pytest.approx([0.8, 1.6])
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # no gradients: nothing changes
    assert p.tolist() == pytest.approx([0.8, 1.6])


def test_step_updates_in_place_without_new_arrays():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    data = p._data
    p.grad = ember.ones(2)
    opt.step()
    exp_avg = opt.state[p]["exp_avg"]._data
    opt.step()
    assert p._data is data and opt.state[p]["exp_avg"]._data is exp_avg
    assert p.dtype == ember.float32 and exp_avg.dtype == np.float32


def test_step_hooks_and_named_parameters():
    a, b = ember.zeros(2, requires_grad=True), ember.zeros(1, requires_grad=True)
    opt = optim.SGD([("layer.weight", a), ("layer.bias", b)], lr=1.0)
    assert opt.param_groups[0]["param_names"] == ["layer.weight", "layer.bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["layer.weight", "layer.bias"]
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", a.tolist())))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", a.tolist())))
    a.grad, b.grad = ember.ones(2), ember.ones(1)
    opt.step()
    assert calls == [("pre", [0.0, 0.0]), ("post", [-1.0, -1.0])]
    pre.remove()
    opt.step()
    assert [c[0] for c in calls] == ["pre", "post", "post"]
