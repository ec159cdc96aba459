"""Tracing: graph contents, traced == eager (outputs and gradients), loud failures."""

import pytest

import ember
from ember import jit
from ember.autograd.function import Function

from .helpers import MODELS, assert_close, build, model_inputs


def test_trace_function_graph_and_outputs():
    def f(x, w):
        return (ember.relu(x @ w) * 2.0 + 1.0).sum(dim=1)

    x, w = ember.randn(4, 3), ember.randn(3, 5)
    gm = jit.trace(f, (x, w))
    g = gm.graph
    assert [n.op for n in g.nodes] == ["matmul", "relu", "mul", "add", "sum"]
    assert len(g.inputs) == 2 and not g.params and not g.updates
    text = str(g)
    assert "= matmul(%0, %1)" in text and "mul(%3, 2.0)" in text and text.count("\n") == len(g.nodes) + 5
    x2, w2 = ember.randn(4, 3), ember.randn(3, 5)
    with ember.no_grad():
        assert_close(gm(x2, w2), f(x2, w2))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_traced_module_matches_eager_outputs_and_grads(name):
    model = build(name)
    if name == "mlp_bn":
        model.eval()                     # training-mode BN writes running stats: tested below
    (x,) = model_inputs(name)
    gm = jit.trace(model, x)
    assert set(gm.graph.params) == {k for k, _ in model.named_parameters()}
    (x2,) = model_inputs(name, seed=7)
    ember.manual_seed(11)                # dropout draws its mask inside the op: same seed, same mask
    eager = model(x2)
    eager.sum().backward()
    want = {k: p.grad.numpy().copy() for k, p in model.named_parameters()}
    model.zero_grad()
    for graph in (gm.graph, jit.run_passes(gm.graph)[0]):
        ember.manual_seed(11)
        out = gm.with_graph(graph)(x2)
        assert_close(out, eager)
        out.sum().backward()
        for k, p in model.named_parameters():
            assert_close(p.grad, want[k])
        model.zero_grad()
        with ember.no_grad():
            ember.manual_seed(11)
            assert_close(gm.with_graph(graph)(x2), eager)


def test_batchnorm_training_updates_running_stats_as_state():
    model = build("mlp_bn")
    model.train()
    (x,) = model_inputs("mlp_bn")
    ref = build("mlp_bn")
    ref.train()
    gm = jit.trace(model, x)
    assert {"1.running_mean", "1.running_var"} <= set(gm.graph.updates)
    (x2,) = model_inputs("mlp_bn", seed=3)
    with ember.no_grad():
        ref(x)          # the trace ran the model once on x, do the same for the reference
        want = ref(x2)
        got = gm(x2)
    assert_close(got, want)
    assert_close(model[1].running_mean, ref[1].running_mean)
    assert_close(model[1].running_var, ref[1].running_var)


def test_item_and_numpy_and_bool_fail_loudly_under_tracing():
    def uses_item(x):
        return x * x.sum().item()

    def branches(x):
        return x * 2 if x.sum() > 0 else x

    def uses_numpy(x):
        return ember.tensor((x * 2).numpy())

    for fn in (uses_item, branches, uses_numpy):
        with pytest.raises(jit.TraceError, match=r"ember\.cond.*ember\.while_loop"):
            jit.trace(fn, ember.randn(3))


def test_reading_an_outside_constant_is_allowed():
    scale = ember.tensor(3.0)

    def f(x):
        return x * scale.item()

    gm = jit.trace(f, ember.ones(2))
    with ember.no_grad():
        assert_close(gm(ember.ones(2)), ember.full((2,), 3.0))


def test_unregistered_function_fails_loudly():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

    with pytest.raises(jit.TraceError, match="custom Function .*Square"):
        jit.trace(lambda x: Square.apply(x), ember.randn(3))


def test_captured_tensor_is_constant_and_inplace_write_is_state():
    table = ember.arange(3.0)
    counter = ember.zeros(3)

    def f(x):
        counter.add_(x)
        return x + table

    gm = jit.trace(f, ember.ones(3))
    assert len(gm.graph.constants) == 1 and len(gm.graph.state) == 1 and len(gm.graph.updates) == 1
    assert_close(counter, ember.ones(3))
    with ember.no_grad():
        out = gm(ember.full((3,), 2.0))
    assert_close(out, ember.tensor([2.0, 3.0, 4.0]))
    assert_close(counter, ember.full((3,), 3.0))


def test_setitem_inside_trace_is_a_node():
    def f(x):
        y = x * 1.5
        y[1:, 0] = 0.0
        return y

    x = ember.randn(3, 2)
    gm = jit.trace(f, x)
    assert "index_put" in [n.op for n in gm.graph.nodes]
    x2 = ember.randn(3, 2)
    with ember.no_grad():
        assert_close(gm(x2), f(x2))


def test_input_shape_mismatch_is_a_clear_error():
    gm = jit.trace(lambda x: x * 2, ember.randn(3))
    with pytest.raises(ValueError, match=r"traced for shape \(3,\)"):
        gm(ember.randn(4))
