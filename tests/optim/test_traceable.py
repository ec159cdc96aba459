"""A whole training step, optimizer.step() included, traced by ember.jit.compile equals eager steps:
the update goes through ops, and step-dependent coefficients (bias corrections) stay in the graph."""

import numpy as np
import pytest

import ember
from ember import optim

jit = pytest.importorskip("ember.jit")


@pytest.fixture
def float64():
    old = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    yield
    ember.set_default_dtype(old)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.05),
    lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
    lambda ps: optim.Adamax(ps, lr=0.05),
    lambda ps: optim.NAdam(ps, lr=0.05),
], ids=["sgd", "adam", "adamw", "rmsprop", "adagrad", "adamax", "nadam"])
def test_compiled_training_step_matches_eager(float64, make):
    rng = np.random.default_rng(0)
    w0, x, y = rng.standard_normal((3, 4)), ember.tensor(rng.standard_normal((8, 4))), ember.tensor(rng.standard_normal((8, 3)))
    we, wc = ember.tensor(w0.copy(), requires_grad=True), ember.tensor(w0.copy(), requires_grad=True)
    oe, oc = make([we]), make([wc])

    def eager(x, y):
        oe.zero_grad()
        loss = ((x @ we.T - y) ** 2).mean()
        loss.backward()
        oe.step()
        return loss

    @jit.compile
    def compiled(x, y):
        oc.zero_grad()
        loss = ((x @ wc.T - y) ** 2).mean()
        loss.backward()
        oc.step()
        return loss

    for _ in range(6):
        le, lc = eager(x, y), compiled(x, y)
        assert lc.item() == pytest.approx(le.item(), rel=1e-9)
    assert compiled.graph_module(x, y) is not None     # the last steps ran the traced graph, not eager code
    np.testing.assert_allclose(wc.detach().numpy(), we.detach().numpy(), rtol=1e-9, atol=1e-12)
    if "step" in oc.state[wc]:
        assert oc.state[wc]["step"].item() == 6
