"""Learning-rate schedulers: values computed by hand from the documented formulas (no torch)."""

import math
import warnings

import pytest

import ember
from ember import optim
from ember.optim import lr_scheduler as ls


def make_opt(lr=0.1, **kw):
    return optim.SGD([ember.zeros(1, requires_grad=True)], lr=lr, momentum=0.9, **kw)


def lrs(sched, n):
    """The lr at epochs 0..n-1 (stepping the optimizer first, as a training loop does)."""
    out = []
    for _ in range(n):
        out.append(sched.get_last_lr()[0])
        sched.optimizer.step()
        sched.step()
    return out


def test_step_multistep_exponential():
    assert lrs(ls.StepLR(make_opt(), step_size=3, gamma=0.5), 7) == pytest.approx(
        [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
    assert lrs(ls.MultiStepLR(make_opt(), milestones=[2, 4, 4], gamma=0.1), 6) == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.0001, 0.0001])
    assert lrs(ls.ExponentialLR(make_opt(), gamma=0.5), 4) == pytest.approx([0.1, 0.05, 0.025, 0.0125])


def test_lambda_and_multiplicative():
    assert lrs(ls.LambdaLR(make_opt(), lambda e: 1 / (e + 1)), 4) == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])
    assert lrs(ls.MultiplicativeLR(make_opt(), lambda e: 0.5), 3) == pytest.approx([0.1, 0.05, 0.025])
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        ls.LambdaLR(make_opt(), [lambda e: 1, lambda e: 1])


def test_cosine_annealing_formula():
    T, lo = 10, 0.01
    got = lrs(ls.CosineAnnealingLR(make_opt(), T_max=T, eta_min=lo), 25)
    want = [lo + (0.1 - lo) * (1 + math.cos(math.pi * e / T)) / 2 for e in range(25)]
    assert got == pytest.approx(want, rel=1e-10)


def test_cosine_warm_restarts():
    got = lrs(ls.CosineAnnealingWarmRestarts(make_opt(), T_0=2, T_mult=2), 8)
    # cycles of length 2, 4, ...: restart at epochs 2 and 6
    cyc = lambda t, T: 0.1 * (1 + math.cos(math.pi * t / T)) / 2  # noqa: E731
    assert got == pytest.approx([cyc(0, 2), cyc(1, 2), cyc(0, 4), cyc(1, 4), cyc(2, 4), cyc(3, 4), cyc(0, 8), cyc(1, 8)])
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        ls.CosineAnnealingWarmRestarts(make_opt(), T_0=0)


def test_linear_and_constant():
    assert lrs(ls.LinearLR(make_opt(), start_factor=0.25, total_iters=3), 5) == pytest.approx(
        [0.025, 0.05, 0.075, 0.1, 0.1])
    assert lrs(ls.ConstantLR(make_opt(), factor=0.5, total_iters=2), 4) == pytest.approx([0.05, 0.05, 0.1, 0.1])
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        ls.LinearLR(make_opt(), start_factor=0)
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between 0 and 1"):
        ls.ConstantLR(make_opt(), factor=2.0)


def test_one_cycle_endpoints_and_momentum():
    opt = make_opt()
    s = ls.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)    # max_momentum at the start
    lrs(s, 2)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.85)    # base_momentum at the lr peak
    s = ls.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3)
    got = lrs(s, 10)
    assert got[0] == pytest.approx(1.0 / 25)                   # max_lr / div_factor
    assert max(got) == pytest.approx(1.0) and got.index(max(got)) == 2   # peak at pct_start * steps - 1
    assert got[-1] == pytest.approx(1.0 / 25 / 1e4)            # initial / final_div_factor
    with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of total steps is 10"):
        s.step()
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        ls.OneCycleLR(make_opt(), max_lr=1.0)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        ls.OneCycleLR(optim.Adagrad([ember.zeros(1, requires_grad=True)]), max_lr=1.0, total_steps=5)


def test_reduce_on_plateau_patience_cooldown_min_lr():
    opt = make_opt(lr=1.0)
    s = ls.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1, min_lr=0.2)
    seen = []
    for metric in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]:
        s.step(metric)
        seen.append(s.get_last_lr()[0])
    # bad epochs: 1 (ok), 2 -> halve, cooldown epoch, 1, 2 -> halve, ...; never below 0.2
    assert seen == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25])
    s2 = ls.ReduceLROnPlateau(make_opt(lr=1.0), mode="max", patience=0)
    s2.step(1.0), s2.step(2.0), s2.step(1.5)
    assert s2.get_last_lr() == pytest.approx([0.1])
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        ls.ReduceLROnPlateau(make_opt(), factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        ls.ReduceLROnPlateau(make_opt(), mode="avg")


def test_sequential_warmup_then_decay():
    opt = make_opt()
    warm = ls.LinearLR(opt, start_factor=0.5, total_iters=2)
    decay = ls.ExponentialLR(opt, gamma=0.5)
    s = ls.SequentialLR(opt, [warm, decay], milestones=[2])
    assert lrs(s, 5) == pytest.approx([0.05, 0.075, 0.1, 0.05, 0.025])
    with pytest.raises(ValueError, match="number of milestones to be equal to 2"):
        ls.SequentialLR(opt, [warm, decay], milestones=[2, 3])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        ls.SequentialLR(opt, [warm, ls.ReduceLROnPlateau(opt)], milestones=[2])


@pytest.mark.parametrize("make", [
    lambda o: ls.StepLR(o, 3),
    lambda o: ls.MultiStepLR(o, [2, 5]),
    lambda o: ls.CosineAnnealingWarmRestarts(o, T_0=3),
    lambda o: ls.OneCycleLR(o, max_lr=1.0, total_steps=20),
    lambda o: ls.SequentialLR(o, [ls.ConstantLR(o), ls.CosineAnnealingLR(o, 6)], milestones=[4]),
], ids=["step", "multistep", "warm", "onecycle", "sequential"])
def test_state_dict_resume(make):
    a = make(make_opt())
    full = lrs(a, 12)
    b = make(make_opt())
    first = lrs(b, 5)
    state = b.state_dict()
    assert "optimizer" not in state
    opt_c = make_opt()
    c = make(opt_c)  # the usual resume order: build both, then load both
    opt_c.load_state_dict(b.optimizer.state_dict())
    c.load_state_dict(state)
    assert first + lrs(c, 7) == pytest.approx(full, rel=1e-12)


def test_warns_when_stepped_before_optimizer():
    s = ls.StepLR(make_opt(), 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    s2 = ls.StepLR(make_opt(), 2)
    s2.optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2.step()


def test_resume_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        ls.StepLR(make_opt(), 2, last_epoch=3)


def test_polynomial_and_chained():
    assert lrs(ls.PolynomialLR(make_opt(), total_iters=4, power=2.0), 6) == pytest.approx(
        [0.1 * (1 - min(e, 4) / 4) ** 2 for e in range(6)])
    opt = make_opt()
    chained = ls.ChainedScheduler([ls.ConstantLR(opt, factor=0.5, total_iters=2), ls.ExponentialLR(opt, gamma=0.5)])
    assert lrs(chained, 4) == pytest.approx([0.05, 0.025, 0.025, 0.0125])
