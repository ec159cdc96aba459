"""cond / while_loop / scan: eager, traced, saved-then-loaded, and gradients."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
import ember.optim
from ember import jit

from .helpers import assert_close


@pytest.fixture(autouse=True)
def float64_default():
    old = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    yield
    ember.set_default_dtype(old)


class Gated(nn.Module):
    """Data-dependent branch: positive-mean inputs go through ``a``, others through ``b``."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 3)
        self.b = nn.Linear(4, 3)

    def forward(self, x):
        return ember.cond(x.mean() > 0, lambda t: ember.tanh(self.a(t)), lambda t: self.b(t) * 0.5, (x,))


def _x(sign, seed=0):
    return ember.tensor(np.abs(np.random.default_rng(seed).standard_normal((5, 4))) * sign)


def test_cond_eager_is_python():
    calls = []
    out = ember.cond(ember.tensor(True), lambda: calls.append("t") or ember.ones(1),
                     lambda: calls.append("f") or ember.zeros(1))
    assert calls == ["t"] and out.item() == 1.0
    assert ember.cond(False, lambda a: a + 1, lambda a: a - 1, (ember.zeros(()),)).item() == -1.0


def test_cond_traced_and_saved_follow_the_data(tmp_path):
    ember.manual_seed(0)
    model = Gated()
    gm = jit.trace(model, _x(1))
    assert [n.op for n in gm.graph.nodes].count("cond") == 1
    assert set(gm.graph.params) == {"a.weight", "a.bias", "b.weight", "b.bias"}
    jit.save(gm, tmp_path / "gated.ember")
    loaded = jit.load(tmp_path / "gated.ember")
    for sign in (1, -1):
        x = _x(sign, seed=3)
        with ember.no_grad():
            want = model(x)
            assert_close(gm(x), want)
            assert_close(loaded(x), want)
    with ember.no_grad():
        assert not np.allclose(gm(_x(1)).numpy(), gm(-_x(1)).numpy() * -1)


@pytest.mark.parametrize("sign", [1, -1])
def test_gradients_flow_through_cond(sign):
    ember.manual_seed(0)
    model = Gated()
    gm = jit.trace(model, _x(1))
    x = _x(sign, seed=5).requires_grad_()
    model(x).pow(2).sum().backward()
    want = {k: p.grad.numpy().copy() for k, p in model.named_parameters() if p.grad is not None}
    want_x = x.grad.numpy().copy()
    model.zero_grad()
    x.grad = None
    gm(x).pow(2).sum().backward()
    for k, p in model.named_parameters():
        if k in want:
            assert_close(p.grad, want[k])
        else:
            assert p.grad is None or np.all(p.grad.numpy() == 0)
    assert_close(x.grad, want_x)


def test_cond_gradcheck():
    w = ember.randn(3, requires_grad=True)
    gm = jit.trace(lambda x: ember.cond(x.sum() > 0, lambda a: a * w, lambda a: ember.exp(a - w), (x,)),
                   ember.randn(3))
    for sign in (1.0, -1.0):
        x = (ember.rand(3) + 0.1) * sign
        assert ember.autograd.gradcheck(lambda x, w: gm(x), (x.requires_grad_(), w))


class Mixed(Gated):
    """Both branches use every parameter (a parameter used by one branch only gets a zero gradient
    from a graph but no gradient at all eagerly, which optimizers with momentum treat differently)."""

    def forward(self, x):
        return ember.cond(x.mean() > 0, lambda t: ember.tanh(self.a(t)) + 0.1 * self.b(t),
                          lambda t: self.b(t) * 0.5 - self.a(t) * self.a(t), (x,))


def test_compiled_training_step_with_cond_matches_eager():
    def make():
        ember.manual_seed(0)
        m = Mixed()
        return m, ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

    def step_of(m, o):
        def step(x, y):
            o.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            o.step()
            return loss
        return step

    (m1, o1), (m2, o2) = make(), make()
    eager, compiled = step_of(m1, o1), jit.compile(step_of(m2, o2))
    y = ember.tensor([0, 1, 2, 0, 1])
    for i in range(6):
        x = _x(1 if i % 2 else -1, seed=i)
        assert compiled(x, y).item() == pytest.approx(eager(x, y).item(), rel=1e-9)
    gm = compiled.graph_module(x, y)
    assert gm is not None and [n.op for n in gm.graph.nodes].count("cond") >= 2   # forward and backward
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert_close(b, a)


def _collatz_like(x):
    """Halve until the sum is below 1, counting steps: the trip count depends on the data."""
    def cond_fn(i, v):
        return v.sum() >= 1.0

    def body_fn(i, v):
        return i + 1, v * 0.5

    return ember.while_loop(cond_fn, body_fn, (ember.zeros(()), x))


def test_while_loop_eager_traced_saved(tmp_path):
    x = ember.tensor([3.0, 5.0])
    i, v = _collatz_like(x)
    assert i.item() == 4 and v.sum().item() < 1.0
    gm = jit.trace(_collatz_like, x)
    assert [n.op for n in gm.graph.nodes] == ["while_loop"]
    jit.save(gm, tmp_path / "loop.ember")
    loaded = jit.load(tmp_path / "loop.ember")
    for data in ([3.0, 5.0], [100.0, 28.0], [0.25, 0.25]):
        x = ember.tensor(data)
        want = _collatz_like(x)
        for fn in (gm, loaded):
            got = fn(x)
            assert_close(got[0], want[0])
            assert_close(got[1], want[1])
    assert loaded(ember.tensor([100.0, 28.0]))[0].item() == 8


def test_while_loop_node_has_no_gradient_but_bounded_loop_does():
    w = ember.tensor([3.0, 5.0], requires_grad=True)
    gm = jit.trace(lambda x: _collatz_like(x * w)[1].sum(), ember.ones(2))
    with pytest.raises(RuntimeError, match="max_iterations"):
        gm(ember.ones(2)).backward()

    def bounded(x):
        i, v = ember.while_loop(lambda i, v: v.sum() >= 1.0, lambda i, v: (i + 1, v * v * 0.5),
                                (ember.zeros(()), x * w), max_iterations=6)
        return v.sum() + i

    x = ember.ones(2)
    gm = jit.trace(bounded, x)
    assert "while_loop" not in [n.op for n in gm.graph.nodes]
    for data in ([1.0, 1.0], [0.1, 0.2], [2.0, 1.5]):
        x = ember.tensor(data)
        w.grad = None
        bounded(x).backward()
        want = w.grad.numpy().copy()
        w.grad = None
        out = gm(x)
        assert_close(out, bounded(x).detach())
        out.backward()
        assert_close(w.grad, want)


def test_while_loop_body_shape_mismatch_is_an_error():
    with pytest.raises(TypeError, match="shaped like init_vals"):
        jit.trace(lambda x: ember.while_loop(lambda v: v.sum() > 0, lambda v: (v.sum(),), (x,)), ember.ones(2))


def test_cond_branch_mismatch_is_an_error():
    with pytest.raises(TypeError, match="branches return different shapes"):
        jit.trace(lambda x: ember.cond(x.sum() > 0, lambda a: a, lambda a: a.sum(), (x,)), ember.ones(2))


def test_scan_unrolls_and_is_differentiable():
    w = ember.randn(3, 3, requires_grad=True)

    def rnn(xs):
        h, hs = ember.scan(lambda h, x: (ember.tanh(h @ w + x),) * 2, ember.zeros(3), xs)
        return hs.sum() + h.sum()

    xs = ember.randn(4, 3)
    gm = jit.trace(rnn, xs)
    assert [n.op for n in gm.graph.nodes].count("tanh") == 4
    xs2 = ember.randn(4, 3)
    rnn(xs2).backward()
    want = w.grad.numpy().copy()
    w.grad = None
    gm(xs2).backward()
    assert_close(w.grad, want)
