"""Optimizers and schedulers against PyTorch: 10 steps of every optimizer on the same problem give the
same parameters (float64, 1e-6) and the same state; every scheduler gives the same lr for 30 epochs."""


import numpy as np
import pytest

import ember
from ember import optim
from ember.optim import lr_scheduler as ls

from ._problem import B0, W0, X, Y, run_ember

pytestmark = pytest.mark.reference


@pytest.fixture
def torch64():
    torch = pytest.importorskip("torch")
    old_t, old_e = torch.get_default_dtype(), ember.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    yield torch
    torch.set_default_dtype(old_t)
    ember.set_default_dtype(old_e)


CONFIGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True, eps=1e-3)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=2.0, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
]


def run_torch(torch, name, kwargs, steps=10):
    w = torch.tensor(W0.copy(), requires_grad=True)
    b = torch.tensor(B0.copy(), requires_grad=True)
    x, y = torch.tensor(X), torch.tensor(Y)
    opt = getattr(torch.optim, name)([w, b], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((x @ w.T + b - y) ** 2).mean() + (w ** 4).sum() * 0.01
        loss.backward()
        opt.step()
    return [w, b], opt


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_ten_steps_match_pytorch(torch64, name, kwargs):
    torch = torch64
    t_params, t_opt = run_torch(torch, name, kwargs)
    e_params, e_opt = run_ember(lambda ps: getattr(optim, name)(ps, **kwargs))
    for t, e in zip(t_params, e_params):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=0, atol=1e-6)
        # far tighter in practice: same float64 arithmetic
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-12)
    t_sd, e_sd = t_opt.state_dict(), e_opt.state_dict()
    assert sorted(t_sd["state"]) == sorted(e_sd["state"])
    for idx, t_state in t_sd["state"].items():
        assert set(t_state) == set(e_sd["state"][idx])
        for key, tv in t_state.items():
            np.testing.assert_allclose(np.asarray(e_sd["state"][idx][key]), tv.detach().numpy(), rtol=1e-9, atol=1e-12)
    for tg, eg in zip(t_sd["param_groups"], e_sd["param_groups"]):
        assert tg["params"] == eg["params"]
        for key in ("lr", "weight_decay"):
            assert tg[key] == eg[key]


def _sched_pair(torch, make, make_opt=None, n_groups=2):
    t_params = [torch.zeros(1, requires_grad=True) for _ in range(n_groups)]
    e_params = [ember.zeros(1, requires_grad=True) for _ in range(n_groups)]
    make_opt = make_opt or (lambda mod, ps: mod.SGD([{"params": [ps[0]]}] + [{"params": [p], "lr": 0.05}
                                                                            for p in ps[1:]], lr=0.1, momentum=0.9))
    t_opt = make_opt(torch.optim, t_params)
    e_opt = make_opt(optim, e_params)
    return make(torch.optim.lr_scheduler, t_opt), make(ls, e_opt), t_opt, e_opt


SCHEDULERS = {
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e + 0.01 * e),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97),
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[3, 10, 10, 22], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=0.01),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=8),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=6),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=4),
                                                         m.ExponentialLR(o, gamma=0.9)]),
    "SequentialPoly": lambda m, o: m.SequentialLR(o, [m.ConstantLR(o, factor=0.5, total_iters=3),
                                                      m.PolynomialLR(o, total_iters=10)], milestones=[3]),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=31),
    "OneCycleLR3": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=40, three_phase=True,
                                             anneal_strategy="linear"),
    "SequentialLR": lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    m.CosineAnnealingLR(o, T_max=10),
                                                    m.ExponentialLR(o, gamma=0.8)], milestones=[5, 15]),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedulers_match_pytorch_for_30_epochs(torch64, name):
    torch = torch64
    t_s, e_s, t_opt, e_opt = _sched_pair(torch, SCHEDULERS[name])
    for epoch in range(30):
        assert e_s.get_last_lr() == pytest.approx(t_s.get_last_lr(), rel=1e-12, abs=1e-15), epoch
        for tg, eg in zip(t_opt.param_groups, e_opt.param_groups):
            assert eg["momentum"] == pytest.approx(tg["momentum"], rel=1e-12)
        t_opt.step()
        e_opt.step()
        t_s.step()
        e_s.step()


def test_adam_betas_cycle_with_onecycle(torch64):
    torch = torch64
    make_opt = lambda mod, ps: mod.Adam(ps, lr=0.1)  # noqa: E731
    t_s, e_s, t_opt, e_opt = _sched_pair(torch, lambda m, o: m.OneCycleLR(o, max_lr=0.3, epochs=3, steps_per_epoch=5),
                                         make_opt)
    for _ in range(14):
        t_opt.step(), e_opt.step(), t_s.step(), e_s.step()
        assert e_opt.param_groups[0]["betas"][0] == pytest.approx(t_opt.param_groups[0]["betas"][0], rel=1e-12)
        assert e_s.get_last_lr() == pytest.approx(t_s.get_last_lr(), rel=1e-12)


def test_reduce_on_plateau_matches_pytorch(torch64):
    torch = torch64
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7] + [0.7] * 17
    for kwargs in [dict(patience=2), dict(patience=1, cooldown=2, factor=0.5, min_lr=[0.01, 0.02]),
                   dict(mode="max", threshold_mode="abs", threshold=0.01, patience=0)]:
        t_s, e_s, t_opt, e_opt = _sched_pair(torch, lambda m, o: m.ReduceLROnPlateau(o, **kwargs))
        for epoch, metric in enumerate(metrics):
            t_s.step(metric)
            e_s.step(metric)
            assert e_s.get_last_lr() == pytest.approx(t_s.get_last_lr(), rel=1e-12), (kwargs, epoch)
