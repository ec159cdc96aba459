"""A small least-squares problem shared by the optimizer tests: the same data in ember and torch."""

import numpy as np

import ember

RNG = np.random.default_rng(0)
W0 = RNG.standard_normal((3, 4))
B0 = RNG.standard_normal(3)
X = RNG.standard_normal((8, 4))
Y = RNG.standard_normal((8, 3))


def ember_params():
    return [ember.tensor(W0.copy(), requires_grad=True), ember.tensor(B0.copy(), requires_grad=True)]


def ember_loss(params):
    w, b = params
    out = ember.tensor(X) @ w.T + b
    return ((out - ember.tensor(Y)) ** 2).mean() + (w ** 4).sum() * 0.01


def run_ember(make_opt, steps=10, params=None):
    params = params or ember_params()
    opt = make_opt(params)
    for _ in range(steps):
        opt.zero_grad()
        ember_loss(params).backward()
        opt.step()
    return params, opt
